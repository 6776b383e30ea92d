"""Where bulletins come from: fetching over HTTP and from files, and one parser per source kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from policywatch.sources.base import ParsedFeed, ParsedItem, ParseError, SourceParser
from policywatch.sources.feed import SyndicationParser
from policywatch.sources.fetch import Fetcher, FetchLimits, FetchResult, Validators

if TYPE_CHECKING:
    from policywatch.config import FeedConfig
    from policywatch.models import FeedKind

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


def parser_for(source: FeedConfig | FeedKind | str) -> SourceParser:
    """The parser for a configured source, or for a bare kind ("feed").

    An html source is read with its own selectors, so it needs the FeedConfig; ValueError for a bare
    "html" and for a kind with no parser.
    """
    kind = str(getattr(source, "kind", source))
    if kind == "feed":
        return SyndicationParser()
    if kind == "html":
        settings = getattr(source, "html", None)
        if settings is None:
            raise ValueError("no parser for source kind 'html' without its selectors (pass the source's FeedConfig)")
        from policywatch.sources.html import HtmlNoticeParser  # bs4 and soupsieve load only for html sources

        return HtmlNoticeParser(settings)
    raise ValueError(f"no parser for source kind {kind!r} (available: feed, html)")
