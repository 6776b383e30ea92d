"""Every feed of feedparser's own test suite (../shared/corpus/feedparser-tests) through SyndicationParser.

Each must come back as a ParsedFeed or a ParseError with a one-line reason; nothing else may escape, and
what comes back must already be clean (absolute web links, ISO dates, no control characters).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policywatch.sources import ParsedFeed, ParseError, SyndicationParser

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "feedparser-tests"
FILES = sorted(CORPUS.rglob("*.xml")) if CORPUS.is_dir() else []
# How each file is served: as a local file with no Content-Type, and as a misconfigured web server
# would serve it (text/html), which changes feedparser's encoding rules.
SERVINGS = [("file", None), ("web", "text/html; charset=utf-8")]

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}Z)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not FILES, reason=f"feedparser test corpus not found at {CORPUS}"),
]


def check_clean(feed: ParsedFeed) -> None:
    assert isinstance(feed, ParsedFeed)
    assert feed.title is None or not _CONTROL.search(feed.title)
    assert feed.language is None or re.fullmatch(r"[a-z]{2}", feed.language)
    for warning in feed.warnings:
        assert warning and "\n" not in warning
    for item in feed.items:
        assert "\n" not in item.title and not _CONTROL.search(item.title)
        assert not _CONTROL.search(item.text.replace("\t", ""))
        assert item.link is None or re.match(r"^https?://[^\s/]+", item.link), item.link
        assert item.published is None or _ISO.match(item.published), item.published
        assert item.language is None or re.fullmatch(r"[a-z]{2}", item.language)
        assert item.guid is None or (item.guid == item.guid.strip() and item.guid)


@pytest.mark.parametrize(("serving", "content_type"), SERVINGS, ids=[name for name, _ in SERVINGS])
def test_every_corpus_file_parses_or_is_rejected_cleanly(serving, content_type):
    parser = SyndicationParser()
    outcomes = {"parsed": 0, "rejected": 0}
    problems: list[str] = []
    for path in FILES:
        url = path.as_uri() if serving == "file" else f"https://feeds.example.org/{path.name}"
        name = path.relative_to(CORPUS).as_posix()
        try:
            feed = parser.parse(path.read_bytes(), url=url, content_type=content_type)
        except ParseError as exc:
            outcomes["rejected"] += 1
            if not str(exc) or "\n" in str(exc):
                problems.append(f"{name}: ParseError without a one-line reason: {exc!r}")
            continue
        except Exception as exc:  # the point of the test: report every escape, not just the first
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        outcomes["parsed"] += 1
        try:
            check_clean(feed)
        except AssertionError as exc:
            problems.append(f"{name}: unclean result: {exc}")
    assert not problems, "\n".join(problems[:50])
    assert sum(outcomes.values()) == len(FILES)
    # Most of the corpus is well-formed or recoverable: a parser that rejected everything would pass the
    # loop above, so hold it to reading the bulk of it.
    assert outcomes["parsed"] > 0.75 * len(FILES), outcomes


def test_corpus_is_complete_enough_to_mean_something():
    assert len(FILES) > 2000
    assert {path.relative_to(CORPUS).parts[0] for path in FILES} >= {"wellformed", "illformed", "encoding"}
