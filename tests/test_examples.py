"""The bundled offline example feeds, their generator, and the real-world feeds.yaml."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pycountry
import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXAMPLES_YAML = EXAMPLES / "feeds.yaml"
REAL_YAML = ROOT / "feeds.yaml"
GENERATOR = EXAMPLES / "make_example_feeds.py"
CORPUS = ROOT.parent / "shared" / "corpus" / "bulletins-dev.jsonl"
ATOM_ID_PREFIX = "urn:policywatch-example:"
CORPUS_SIZE = 84

FEED_KEYS = {"name", "url", "kind", "jurisdiction", "language"}
NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
REMOTE = re.compile(r"(?:https?|file)://")

needs_corpus = pytest.mark.skipif(not CORPUS.is_file(), reason="../shared/corpus is not present")


def _load(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["feeds"]


def _example_feeds() -> list[dict]:
    return _load(EXAMPLES_YAML)


def _entry_id(entry) -> str:
    """The corpus id behind an entry: RSS guids carry it as is, Atom ids behind a URN prefix."""
    return entry.id.removeprefix(ATOM_ID_PREFIX)


def _entry_text(entry) -> str:
    """The entry body with HTML stripped and whitespace collapsed (content:encoded wins over description)."""
    body = entry.content[0].value if "content" in entry else entry.summary
    return _squash(BeautifulSoup(body, "html.parser").get_text(" "))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _run_generator(corpus: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), str(corpus), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- both YAML files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [EXAMPLES_YAML, REAL_YAML], ids=["examples", "real"])
def test_feeds_yaml_schema(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(data) == ["feeds"], "feeds: is the only top-level key"
    feeds = data["feeds"]
    assert feeds, "at least one feed"
    for feed in feeds:
        assert set(feed) == FEED_KEYS, feed
        assert all(isinstance(value, str) for value in feed.values()), feed
        assert NAME.fullmatch(feed["name"]), feed["name"]
        assert feed["kind"] == "feed", feed
        code = feed["jurisdiction"]
        assert code in {"EU", "WTO"} or (code.isupper() and pycountry.countries.get(alpha_2=code)), code
        lang = feed["language"]
        assert len(lang) == 2 and lang.islower() and pycountry.languages.get(alpha_2=lang), lang
    names = [feed["name"] for feed in feeds]
    assert len(names) == len(set(names)), "feed names are unique"
    urls = [feed["url"] for feed in feeds]
    assert len(urls) == len(set(urls)), "feed urls are unique"


def test_real_feeds_are_official_https_sources() -> None:
    feeds = _load(REAL_YAML)
    assert len(feeds) >= 14
    for feed in feeds:
        assert feed["url"].startswith("https://"), feed["url"]
    # Every top-level feed carries a comment saying what it covers.
    lines = REAL_YAML.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("- name:"):
            assert lines[i - 1].lstrip().startswith("#"), f"feeds.yaml:{i + 1}: no comment above {line.strip()}"


def test_real_federal_register_feeds_use_encoded_brackets() -> None:
    fr = [f["url"] for f in _load(REAL_YAML) if "federalregister.gov" in f["url"]]
    assert len(fr) >= 5
    for url in fr:
        assert "[" not in url and "]" not in url, url
        assert url.startswith("https://www.federalregister.gov/api/v1/documents.rss?conditions%5B"), url


# --- the example feed files ------------------------------------------------------------------------------


def test_example_urls_are_relative_paths_to_existing_files() -> None:
    for feed in _example_feeds():
        assert not REMOTE.match(feed["url"]) and not Path(feed["url"]).is_absolute(), feed["url"]
        assert (EXAMPLES / feed["url"]).is_file(), feed["url"]
    listed = {(EXAMPLES / f["url"]).resolve() for f in _example_feeds()}
    on_disk = {p.resolve() for p in (EXAMPLES / "feeds").glob("*.xml")}
    assert listed == on_disk, "every feed file is listed and every listed file exists"


@pytest.mark.parametrize("feed", _example_feeds(), ids=lambda f: f["name"])
def test_example_feed_parses_cleanly(feed: dict) -> None:
    parsed = feedparser.parse(str(EXAMPLES / feed["url"]))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version in {"rss20", "atom10"}
    assert parsed.feed.get("language") == feed["language"]
    assert parsed.feed.title and parsed.feed.link.startswith(("https://", "http://"))
    assert parsed.feed.get("updated_parsed"), "lastBuildDate / updated"
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.title and entry.link.startswith(("https://", "http://")) and entry.id
        assert _entry_text(entry)
        if parsed.version == "atom10":
            assert entry.id.startswith(ATOM_ID_PREFIX), entry.id


def test_example_feeds_mix_formats_and_body_styles() -> None:
    texts = [(EXAMPLES / f["url"]).read_text(encoding="utf-8") for f in _example_feeds()]
    assert any("<feed xmlns=\"http://www.w3.org/2005/Atom\"" in t for t in texts)
    assert any("<rss version=\"2.0\"" in t for t in texts)
    assert any("<content:encoded><![CDATA[" in t for t in texts)
    assert any("<description>&lt;p&gt;" in t for t in texts)


def test_example_feeds_hold_every_corpus_id_once() -> None:
    ids = [
        _entry_id(entry)
        for feed in _example_feeds()
        for entry in feedparser.parse(str(EXAMPLES / feed["url"])).entries
    ]
    assert len(ids) == CORPUS_SIZE
    assert len(set(ids)) == CORPUS_SIZE


@needs_corpus
@pytest.mark.corpus
def test_example_feeds_match_the_corpus() -> None:
    rows = {row["id"]: row for row in map(json.loads, CORPUS.read_text(encoding="utf-8").splitlines())}
    seen: set[str] = set()
    for feed in _example_feeds():
        for entry in feedparser.parse(str(EXAMPLES / feed["url"])).entries:
            row = rows[_entry_id(entry)]
            seen.add(row["id"])
            assert entry.title == row["title"]
            assert entry.link == row["url"]
            assert _entry_text(entry) == _squash(row["text"]), row["id"]
            assert (feed["jurisdiction"], feed["language"]) == (row["jurisdiction"], row["language"]), row["id"]
            if row["published"]:
                assert time.strftime("%Y-%m-%d", entry.published_parsed) == row["published"], row["id"]
            else:
                assert "published" not in entry, row["id"]
    assert seen == set(rows)


# --- the generator ---------------------------------------------------------------------------------------

_TINY = [
    {
        "id": "us-a", "url": "https://example.gov/a?x=1&y=2", "source": "U.S. Customs and Border Protection (CSMS)",
        "jurisdiction": "US", "language": "en", "published": "2024-05-01", "title": "Duties <up> & away",
        "text": "First line with <b>tags</b> & ampersands.\r\n\n  Second line.\rThird line.",
    },
    {
        "id": "us-b", "url": "https://example.gov/b", "source": "U.S. Customs and Border Protection (CSMS)",
        "jurisdiction": "US", "language": "en", "published": None, "title": "Undated", "text": "No date here.",
    },
    {
        "id": "cn-a", "url": "https://example.cn/a", "source": "商务部 (MOFCOM)", "jurisdiction": "CN",
        "language": "zh", "published": "2025-01-02", "title": "公告", "text": "CDATA end ]]> inside.\n第二段。",
    },
    {
        "id": "gb-a", "url": "https://example.uk/a", "source": "HM Revenue & Customs", "jurisdiction": "GB",
        "language": "en", "published": "2023-03-13", "title": "CDS notice", "text": "Atom <entry> text.",
    },
]


def _write_corpus(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_generator_is_deterministic(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "tiny.jsonl", _TINY)
    first, second = tmp_path / "one", tmp_path / "two"
    assert _run_generator(corpus, first).returncode == 0
    assert _run_generator(corpus, second).returncode == 0
    assert _tree(first) == _tree(second)
    assert sorted(_tree(first)) == [
        "feeds.yaml", "feeds/cn-mofcom-zh.xml", "feeds/uk-govuk-atom.xml", "feeds/us-cbp-csms.xml",
    ]


def test_generator_output_round_trips(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "tiny.jsonl", _TINY)
    out = tmp_path / "out"
    assert _run_generator(corpus, out).returncode == 0
    by_id = {row["id"]: row for row in _TINY}
    found = set()
    for feed in _load(out / "feeds.yaml"):
        parsed = feedparser.parse(str(out / feed["url"]))
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        for entry in parsed.entries:
            row = by_id[_entry_id(entry)]
            found.add(row["id"])
            assert entry.title == row["title"]
            assert entry.link == row["url"]
            assert _entry_text(entry) == _squash(row["text"])
    assert found == set(by_id)
    csms = (out / "feeds" / "us-cbp-csms.xml").read_text(encoding="utf-8")
    # One paragraph per corpus line, whatever the line ending; the undated item has no pubDate.
    assert csms.count("&lt;p&gt;") == 4
    assert csms.count("<pubDate>") == 1 and "Wed, 01 May 2024 00:00:00 GMT" in csms


def test_generator_rejects_a_bulletin_no_feed_takes(tmp_path: Path) -> None:
    stray = dict(_TINY[0], id="xx-a", jurisdiction="AQ")
    corpus = _write_corpus(tmp_path / "stray.jsonl", [*_TINY, stray])
    result = _run_generator(corpus, tmp_path / "out")
    assert result.returncode == 2
    assert "xx-a" in result.stderr


def test_generator_removes_stale_feed_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "feeds").mkdir(parents=True)
    (out / "feeds" / "gone.xml").write_text("<rss/>", encoding="utf-8")
    assert _run_generator(_write_corpus(tmp_path / "tiny.jsonl", _TINY), out).returncode == 0
    assert not (out / "feeds" / "gone.xml").exists()


@needs_corpus
@pytest.mark.corpus
def test_committed_examples_are_the_generator_output(tmp_path: Path) -> None:
    result = _run_generator(CORPUS, tmp_path)
    assert result.returncode == 0, result.stderr
    committed = {
        name: data
        for name, data in _tree(EXAMPLES).items()
        if name == "feeds.yaml" or name.startswith("feeds/")
    }
    assert _tree(tmp_path) == committed
