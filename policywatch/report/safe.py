"""Escaping of text that came from feeds, for each place it can end up.

Feed text is untrusted: a title can carry rich markup ("[bold red]"), ANSI escapes that repaint the
terminal, markdown or HTML that breaks a brief, or a javascript: link. Every renderer goes through here.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from policywatch.text import collapse, strip_controls

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~>])")
# Invisible format characters that strip_controls keeps but a display has no use for (the Arabic letter
# mark is a bidi control; the others are invisible joiners and deprecated shaping controls).
_INVISIBLE = re.compile(r"[\u061c\u180e\u2060-\u2064\u206a-\u206f]")
# What a link never legitimately carries: whitespace and control characters of every kind, quotes, <>.
_NOT_IN_URL = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff<>\"'`]")


def plain(text: object, limit: int | None = None) -> str:
    """One line of text with control characters and escape sequences removed, optionally shortened."""
    value = collapse(_INVISIBLE.sub("", strip_controls(str(text if text is not None else ""))))
    if limit is not None and len(value) > limit:
        value = value[: max(1, limit - 1)].rstrip() + "…"
    return value


def terminal(text: object, limit: int | None = None):  # -> rich.text.Text
    """Text for a rich table or console: markup is never interpreted, controls are stripped."""
    from rich.text import Text

    return Text(plain(text, limit))


def safe_link(url: object) -> str | None:
    """The URL if it is an absolute http(s) link, else None (javascript:, data:, relative ... are dropped).

    A URL carrying whitespace, a control or escape character, a quote or <> inside it is dropped rather
    than repaired: no real link has one, and a cleaned-up version would point somewhere else.
    """
    if not isinstance(url, str):
        return None
    value = url.strip()
    if _NOT_IN_URL.search(value):
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


def markdown_text(text: object, limit: int | None = None) -> str:
    """Inline markdown text: every markdown and HTML special character escaped, one line."""
    value = plain(text, limit)
    return _MD_SPECIAL.sub(r"\\\1", html.escape(value, quote=False))


def markdown_cell(text: object, limit: int | None = None) -> str:
    """Text for a markdown table cell: like markdown_text (pipes included), never empty."""
    return markdown_text(text, limit) or " "


def markdown_link(label: object, url: object) -> str:
    """A markdown link when the URL is a safe http(s) link, else just the escaped label."""
    link = safe_link(url)
    text = markdown_text(label) or "link"
    if link is None:
        return text
    return f"[{text}](<{link.replace('>', '%3E').replace('<', '%3C')}>)"
