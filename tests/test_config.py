"""feeds.yaml loading: valid files, and every kind of mistake reported at once with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from policywatch.config import load_feeds, resolve_url
from policywatch.yamlio import FileProblems

GOOD = """\
feeds:
  - name: cbp
    url: https://www.federalregister.gov/api/v1/documents.rss
    kind: feed
    jurisdiction: US
    language: en
  - name: local
    url: data/local.xml
    kind: feed
    jurisdiction: EU
    language: de
    stale_after_days: 14
"""


def write(tmp_path: Path, text: str, name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(FileProblems) as caught:
        load_feeds(path)
    return [str(p) for p in caught.value.problems]


def test_a_valid_file_loads_with_urls_made_absolute(tmp_path):
    config = load_feeds(write(tmp_path, GOOD))
    assert [f.name for f in config.feeds] == ["cbp", "local"]
    assert config.feeds[0].url.startswith("https://")
    # A plain path is relative to the feeds file, not to the working directory.
    assert config.feeds[1].url == (tmp_path / "data" / "local.xml").resolve().as_uri()
    assert config.feeds[1].stale_after_days == 14
    assert config.get("cbp").jurisdiction == "US"


def test_url_forms(tmp_path):
    assert resolve_url("file:///srv/x.xml", tmp_path) == "file:///srv/x.xml"
    assert resolve_url("/srv/x.xml", tmp_path) == "file:///srv/x.xml"
    assert resolve_url("sub/x.xml", tmp_path) == (tmp_path / "sub/x.xml").as_uri()
    assert resolve_url("http://example.org/feed", tmp_path) == "http://example.org/feed"
    with pytest.raises(ValueError, match="not supported"):
        resolve_url("ftp://example.org/feed", tmp_path)
    with pytest.raises(ValueError, match="no host"):
        resolve_url("https:///feed", tmp_path)


def test_every_problem_is_reported_at_once_with_its_line(tmp_path):
    path = write(
        tmp_path,
        """\
feeds:
  - name: a
    url: a.xml
    kind: feed
    jurisdiction: ZZ
    language: en
    colour: red
  - name: b
    kind: feed
    jurisdiction: us
    language: english
  - name: a
    url: c.xml
    kind: fed
    jurisdiction: CN
    language: zh
""",
    )
    problems = problems_of(path)
    text = "\n".join(problems)
    assert f"{path}:5: jurisdiction 'ZZ'" in text
    assert f"{path}:7: unknown key 'colour'" in text
    assert f"{path}:8: feed b: missing 'url'" in text
    assert "jurisdiction 'us' is not ISO 3166-1 alpha-2, EU or WTO (codes are upper case)" in text
    assert f"{path}:11: language 'english'" in text
    assert f"{path}:12: duplicate feed name 'a' (first at line 2)" in text
    assert "unknown kind 'fed' (did you mean 'feed'?)" in text
    assert len(problems) == 7


def test_broken_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "feeds:\n  - {name: a, url: 'x.xml'}\n  - [oops\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:4: invalid YAML")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "expected a mapping with a 'feeds' list"),
        ("feeds: 3\n", "'feeds' must be a list"),
        ("feed: []\n", "unknown top-level key 'feed' (did you mean 'feeds'?)"),
        ("feeds:\n  - just-a-string\n", "each feed must be a mapping"),
        ("feeds:\n  - {name: a, url: 3, kind: feed, jurisdiction: US, language: en}\n", "url must be text, not int"),
        ("feeds:\n  - {name: 'a b', url: x, kind: feed, jurisdiction: US, language: en}\n", "must be letters"),
        ("feeds:\n  - {name: a, url: x, kind: feed, jurisdiction: US, language: en, stale_after_days: -1}\n",
         "stale_after_days must be a positive number"),
        ("feeds:\n  - {name: a, url: x, kind: feed, jurisdiction: US, language: en}\n"
         "  - {name: a, url: y, kind: feed, jurisdiction: US, language: en}\n", "duplicate feed name 'a'"),
    ],
)
def test_each_mistake_has_a_clear_message(tmp_path, text, expected):
    assert any(expected in p for p in problems_of(write(tmp_path, text)))


def test_fetch_limits(tmp_path):
    config = load_feeds(write(tmp_path, "fetch:\n  retries: 0\n  read_timeout: 5\n" + GOOD))
    assert config.fetch == {"retries": 0, "read_timeout": 5.0}
    problems = problems_of(write(tmp_path, "fetch:\n  retry: 1\n  max_bytes: -3\n  max_redirects: 2.5\n" + GOOD))
    assert problems == [
        f"{tmp_path / 'feeds.yaml'}:2: unknown fetch setting 'retry' (did you mean 'retries'?)",
        f"{tmp_path / 'feeds.yaml'}:3: fetch.max_bytes must be a positive number",
        f"{tmp_path / 'feeds.yaml'}:4: fetch.max_redirects must be a whole number",
    ]


def test_missing_file(tmp_path):
    (problem,) = problems_of(tmp_path / "nope.yaml")
    assert problem == f"{tmp_path / 'nope.yaml'}: file not found"


def test_cli_reports_config_errors_with_exit_2_and_no_traceback(run, tmp_path):
    broken = "feeds:\n  - {name: a, url: 'x.xml', kind: feed, jurisdiction: ZZZ}\n  - [oops\n"
    path = write(tmp_path, broken, "bad.yaml")
    result = run("scan", "--feeds", path, "--db", tmp_path / "a.db")
    assert result.exit_code == 2
    assert "bad.yaml:4: invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # The configuration is checked before anything is written.
    assert not (tmp_path / "a.db").exists()
