"""The records a source parser returns, and the interface every parser implements.

A parser turns the bytes of one fetched source into items. It never raises for a body that is merely
damaged (that becomes a warning); only a body that is not a source of its kind at all raises ParseError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ParsedItem:
    """One entry of a feed, cleaned: plain text, an absolute http(s) link, an ISO date."""

    guid: str | None
    """Feed-provided id (RSS guid, Atom id, JSON Feed id); None when the feed gives none."""
    title: str
    """Clean one-line text (HTML stripped, control characters removed); "" when the feed gives none."""
    link: str | None
    """Absolute http(s) URL; None when absent, relative and unresolvable, or another scheme."""
    published: str | None
    """ISO 8601 in UTC: "YYYY-MM-DDTHH:MM:SSZ", or "YYYY-MM-DD" when the feed gives only a date."""
    text: str
    """Clean text of the body (content, else summary/description), one paragraph per block."""
    language: str | None
    """Item-level ISO 639-1 code when the feed states one (xml:lang, JSON Feed "language")."""


@dataclass(frozen=True)
class ParsedFeed:
    """Everything read from one feed body."""

    items: tuple[ParsedItem, ...]
    """The entries, in feed order."""
    title: str | None
    """The channel/feed title as clean one-line text."""
    language: str | None
    """The channel language as an ISO 639-1 code."""
    warnings: tuple[str, ...]
    """Recoverable problems, one line each (e.g. malformed XML that was still read leniently)."""


class ParseError(Exception):
    """A body that is not a feed at all; str() is a one-line reason for users."""


class SourceParser(Protocol):
    """Turns the bytes of one fetched source into a ParsedFeed."""

    def parse(self, body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
        """Parse body fetched from url (used as the base for relative links); raise ParseError if not a feed."""
        ...
