"""Where bulletins come from: fetching over HTTP and from files, and one parser per source kind."""

from __future__ import annotations

from policywatch.sources.base import ParsedFeed, ParsedItem, ParseError, SourceParser
from policywatch.sources.feed import SyndicationParser
from policywatch.sources.fetch import Fetcher, FetchLimits, FetchResult, Validators

__all__ = [
    "FetchLimits",
    "FetchResult",
    "Fetcher",
    "ParseError",
    "ParsedFeed",
    "ParsedItem",
    "SourceParser",
    "SyndicationParser",
    "Validators",
    "parser_for",
]


def parser_for(kind: str) -> SourceParser:
    """The parser for a feed kind from feeds.yaml ("feed"); ValueError for a kind with no parser yet."""
    if str(kind) == "feed":
        return SyndicationParser()
    raise ValueError(f"no parser for source kind {str(kind)!r} (available: feed)")
