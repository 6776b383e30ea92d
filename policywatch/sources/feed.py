"""Syndication feeds: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.0/1.1 through json.

Government feeds are often malformed, mislabelled or replaced by an HTML page after a site redesign.
Whatever the body, parse() returns a ParsedFeed or raises ParseError with a one-line reason; a damaged
feed that still yields items is read, with the damage reported in ParsedFeed.warnings.
"""

from __future__ import annotations

import calendar
import datetime as dt
import email.utils
import io
import json
import re
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import pycountry

from policywatch.sources.base import ParsedFeed, ParsedItem, ParseError
from policywatch.text import collapse, html_to_text, normalize, strip_controls

__all__ = ["SyndicationParser"]

_JSON_TYPES = frozenset({"application/feed+json", "application/json"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
# Any element feedparser builds a feed or an entry from. A body without one cannot yield anything, and
# sending it to feedparser's lenient SGML fallback costs seconds per megabyte of garbage.
_FEED_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:rss|feed|rdf|channel|item|entry)[\s/>]", re.I)
_ROOT_ELEMENT = re.compile(r"<([A-Za-z_][\w.:-]*)")
_FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
# Judged by the root element, not the doctype: feeds exist that carry an XHTML doctype over <rss>.
_HTML_ROOTS = frozenset({"html", "head", "body"})
# Each alternative consumes its construct one way only, so a hostile head cannot make the regex backtrack.
_PROLOG = re.compile(r"\s*(?:(?:<\?[^>]*>|<!--(?:[^-]|-(?!->))*-->|<!DOCTYPE[^\[>]*(?:\[[^\]]*\])?\s*>)\s*)*", re.I)
# An entity whose value refers to another entity is how "billion laughs" multiplies; feeds have no use
# for one. Character references (&#160;) are fine.
_NESTED_ENTITY = re.compile(
    r"""<!ENTITY\s+(?:%\s*)?[^\s"'>]+\s+(?:"[^"]*[&%][A-Za-z_:][^"]*"|'[^']*[&%][A-Za-z_:][^']*')"""
)
_DATE_ONLY = re.compile(r"^\s*\d{4}-?\d{2}-?\d{2}\s*$")
_RFC3339 = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?\s*$"
)
_LANGUAGE_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")
_SPACE_IN_URL = re.compile(r"\s")
_WEB_SCHEMES = frozenset({"http", "https"})
# feedparser flags these although the document itself parsed fine: a feed served as text/html or with a
# charset header that disagrees with its declaration is still a feed.
_SOFT_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_MAX_REASON = 200


class SyndicationParser:
    """Parses RSS, Atom and JSON Feed bodies into ParsedFeed (the SourceParser for kind "feed")."""

    def parse(self, body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
        """Parse one fetched body; url is the base for relative links, content_type the HTTP header.

        Raises ParseError when the body is empty, an HTML page, not XML or JSON, or XML/JSON that is
        not a feed. Never raises anything else for a bad body.
        """
        if not body or not body.strip():
            raise ParseError("empty body")
        head = _head_text(body)
        lead = head.lstrip()
        mime = _media_type(content_type)
        if lead.startswith("{") or (mime in _JSON_TYPES and not lead.startswith("<")):
            return _parse_json_feed(body, url)
        if _root_name(head).lower() in _HTML_ROOTS:
            raise ParseError("looks like an HTML page, not a feed")
        if _ascii_compatible(body) and not _FEED_ELEMENT.search(body):
            raise ParseError(_not_a_feed_reason(head, mime))
        if _declares_nested_entities(body):
            # expat (2.4+) would stop the expansion too, but only after megabytes of work; refuse up front.
            raise ParseError("declares nested XML entities (an entity-expansion attack), refused")
        return _parse_xml_feed(body, url, content_type)


# --- sniffing ---------------------------------------------------------------------------------------


def _head_text(body: bytes, size: int = 4096) -> str:
    """The first bytes of body as text, decoded just well enough to recognise markup or JSON."""
    chunk = body[:size]
    for bom, encoding in _BOMS:
        if chunk.startswith(bom):
            return chunk[len(bom) :].decode(encoding, "replace")
    if chunk.startswith(b"\x00\x00\x00<"):
        return chunk.decode("utf-32-be", "replace")
    if chunk.startswith(b"<\x00\x00\x00"):
        return chunk.decode("utf-32-le", "replace")
    if chunk.startswith(b"\x00<"):
        return chunk.decode("utf-16-be", "replace")
    if chunk.startswith(b"<\x00"):
        return chunk.decode("utf-16-le", "replace")
    # Latin-1 maps every byte, so ASCII markup is visible whatever the real encoding is.
    return chunk.decode("latin-1")


def _ascii_compatible(body: bytes) -> bool:
    """True when markup in body would appear as ASCII bytes (not UTF-16/32, not EBCDIC)."""
    head = body[:1024]
    return b"<" in head and b"\x00" not in head


def _declares_nested_entities(body: bytes) -> bool:
    """True when the internal DTD subset declares an entity whose value references other entities."""
    head = _head_text(body, 65536)
    start = head.find("<!DOCTYPE")
    if start < 0:
        return False
    end = head.find("]>", start)
    return bool(_NESTED_ENTITY.search(head, start, end if end > 0 else len(head)))


def _media_type(content_type: str | None) -> str:
    """The lower-cased media type of a Content-Type header, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _not_a_feed_reason(head: str, mime: str) -> str:
    """Why a body that yielded no feed is not one, for a user reading a scan report."""
    name = _root_name(head)
    local = name.rsplit(":", 1)[-1].lower()
    if local in _FEED_ROOTS:
        return f"feed with no readable channel or items (root element <{name}>)"
    if local in _HTML_ROOTS or mime in _HTML_TYPES:
        return "looks like an HTML page, not a feed"
    if name:
        return f"XML document with no RSS channel or Atom feed (root element <{name}>)"
    if head[_PROLOG.match(head).end() :].strip() or not head.strip():
        return "not XML or JSON"
    return "XML document with no elements"


def _root_name(head: str) -> str:
    """The name of the first element after the XML declaration, doctype and comments ("" when none)."""
    root = _ROOT_ELEMENT.match(head[_PROLOG.match(head).end() :])
    return root.group(1)[:60] if root else ""


def _one_line(exc: BaseException, line_shift: int | None = 0) -> str:
    """An exception as a short single line; an XML error's line number is corrected by line_shift.

    line_shift None drops the line number, for when it cannot be trusted.
    """
    message = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)  # SAXParseException
    line = exc.getLineNumber() if hasattr(exc, "getLineNumber") else None
    text = collapse(strip_controls(str(message))) or type(exc).__name__
    if isinstance(line, int) and line_shift is not None and line - line_shift > 0:
        text = f"{text} at line {line - line_shift}"
    return text[:_MAX_REASON]


def _xml_line_shift(head: str) -> int | None:
    """How far expat's line numbers are off from the served document, as feedparser rewrites it first.

    feedparser puts an XML declaration on a line of its own when there was none, and rewrites the
    DOCTYPE (dropping entity declarations), after which no line number is reliable.
    """
    if "<!DOCTYPE" in head.upper():
        return None
    return 0 if head.startswith("<?xml") else 1


# --- RSS and Atom -----------------------------------------------------------------------------------


def _parse_xml_feed(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    # Without a Content-Type (a file) feedparser flags the feed as bozo and applies HTTP's ISO-8859-1
    # default; application/xml lets the BOM, the declaration or UTF-8 decide, as XML intends.
    # No Content-Location either: given a base, feedparser rewrites an RSS guid such as "n-17" into
    # "https://host/feeds/n-17", so ids would change with the feed URL. Links are resolved against url
    # here instead (feedparser still applies xml:base).
    headers = {"content-type": content_type or "application/xml"}
    try:
        # A BytesIO, not the bytes themselves: feedparser treats a bytes argument that names an existing
        # file as a path and reads that file.
        result = feedparser.parse(
            io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False, response_headers=headers
        )
    except Exception as exc:  # a bug in a third-party parser must fail this feed, not the scan
        raise ParseError(f"feed could not be parsed ({type(exc).__name__}: {_one_line(exc)})") from exc
    entries = result.get("entries") or []
    channel = result.get("feed") or {}
    problem = result.get("bozo_exception") if result.get("bozo") else None
    head = _head_text(body)
    shift = _xml_line_shift(head)
    if not entries:
        if not result.get("version"):
            reason = _not_a_feed_reason(head, _media_type(content_type))
            if problem is not None and not isinstance(problem, _SOFT_BOZO) and reason == "not XML or JSON":
                reason = f"not XML or JSON ({_one_line(problem, shift)})"
            raise ParseError(reason)
        if problem is not None and not isinstance(problem, _SOFT_BOZO):
            raise ParseError(f"malformed feed with no readable items: {_one_line(problem, shift)}")
    warnings = [_bozo_warning(problem, shift)] if problem is not None else []
    feed_base = _safe_base(url)
    items = [_xml_item(entry, feed_base) for entry in entries]
    return _finish(
        items,
        _clean_title(channel.get("title"), _detail_type(channel.get("title_detail"))),
        _language(channel.get("language")),
        warnings,
    )


def _bozo_warning(problem: BaseException, line_shift: int | None) -> str:
    """The warning for a feed feedparser flagged but still read."""
    if isinstance(problem, feedparser.NonXMLContentType):
        return f"served with a non-XML content type ({_one_line(problem)})"
    if isinstance(problem, (feedparser.CharacterEncodingOverride, feedparser.CharacterEncodingUnknown)):
        return f"character encoding problem: {_one_line(problem)}"
    return f"malformed feed read leniently: {_one_line(problem, line_shift)}"


def _detail_type(detail: Any) -> str:
    """The MIME type feedparser recorded for a text construct ("" when unknown)."""
    if isinstance(detail, Mapping):
        return str(detail.get("type") or "")
    return ""


def _xml_item(entry: Mapping[str, Any], feed_base: str | None) -> ParsedItem:
    """One feedparser entry as a ParsedItem."""
    title_detail = entry.get("title_detail")
    body, body_detail = _entry_body(entry)
    return ParsedItem(
        guid=_clean_id(entry.get("id")),
        title=_clean_title(entry.get("title"), _detail_type(title_detail)),
        link=_entry_link(entry, feed_base),
        published=_entry_published(entry),
        text=_clean_body(body, _detail_type(body_detail)),
        language=_language(
            entry.get("language"),
            *(d.get("language") for d in (body_detail, title_detail) if isinstance(d, Mapping)),
        ),
    )


def _entry_body(entry: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | None]:
    """The entry's full content when it has any, else its summary/description, with its detail record."""
    for content in entry.get("content") or ():
        if isinstance(content, Mapping) and str(content.get("value") or "").strip():
            return str(content["value"]), content
    summary = entry.get("summary")
    if isinstance(summary, str) and summary.strip():
        detail = entry.get("summary_detail")
        return summary, detail if isinstance(detail, Mapping) else None
    return "", None


def _entry_link(entry: Mapping[str, Any], feed_base: str | None) -> str | None:
    """The entry's main link, else its first usable alternate link, made absolute against the feed URL.

    feedparser has already applied any xml:base to these hrefs.
    """
    link = entry.get("link")
    if link is not None and link == entry.get("id"):
        # No <link>: feedparser copied the RSS guid, which is a permalink only if it is a full URL;
        # "notice-17" resolved against the feed URL would be a made-up address.
        return _safe_link(link, None)
    link = _safe_link(link, feed_base)
    if link:
        return link
    for candidate in entry.get("links") or ():
        if isinstance(candidate, Mapping) and candidate.get("rel", "alternate") == "alternate":
            link = _safe_link(candidate.get("href"), feed_base)
            if link:
                return link
    return None


def _entry_published(entry: Mapping[str, Any]) -> str | None:
    """The entry's publication date (else its update or creation date) as ISO 8601 UTC."""
    for key in ("published", "updated", "created"):
        iso = _iso_from_struct(entry.get(f"{key}_parsed"), entry.get(key))
        if iso:
            return iso
    return None


def _iso_from_struct(parsed: Any, raw: Any) -> str | None:
    """feedparser's UTC struct_time as ISO 8601; only the date when the feed gave only a date."""
    if not isinstance(parsed, time.struct_time):
        return None
    try:
        # Through a datetime so impossible values (day 0, hour 25) are rejected rather than printed.
        when = dt.datetime(*parsed[:6], tzinfo=dt.UTC)
    except (ValueError, TypeError, OverflowError):
        return None
    if isinstance(raw, str) and _DATE_ONLY.match(raw):
        return when.date().isoformat()
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- JSON Feed ----------------------------------------------------------------------------------------


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    warnings: list[str] = []
    try:
        doc = json.loads(body)
    except UnicodeDecodeError:
        # JSON Feed must be UTF-8; a server that sends Latin-1 still deserves its items read.
        warnings.append("JSON Feed is not valid UTF-8; undecodable bytes replaced")
        doc = _loads_text(body.decode("utf-8", "replace"))
    except RecursionError:
        raise ParseError("JSON nested too deeply to be a feed") from None
    except ValueError as exc:
        raise ParseError(f"not valid JSON ({_one_line(exc)})") from None
    if not isinstance(doc, dict):
        raise ParseError("JSON but not a JSON Feed (the top level is not an object)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError('JSON but not a JSON Feed (no "items" list)')
    version = doc.get("version")
    if not (isinstance(version, str) and version.startswith("https://jsonfeed.org/version/")):
        warnings.append('JSON Feed without a jsonfeed.org "version"; read as JSON Feed 1.1')
    url_base = _safe_base(url)
    base = _safe_link(doc.get("home_page_url"), url_base) or _safe_link(doc.get("feed_url"), url_base) or url_base
    parsed: list[ParsedItem] = []
    malformed = 0
    for raw in items:
        if isinstance(raw, dict):
            parsed.append(_json_item(raw, base))
        else:
            malformed += 1
    if malformed:
        warnings.append(f"{malformed} JSON Feed item(s) are not objects and were skipped")
    return _finish(parsed, _clean_title(_str(doc.get("title")), "text/html"), _language(doc.get("language")), warnings)


def _loads_text(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ParseError("JSON nested too deeply to be a feed") from None
    except ValueError as exc:
        raise ParseError(f"not valid JSON ({_one_line(exc)})") from None


def _json_item(raw: Mapping[str, Any], base: str | None) -> ParsedItem:
    """One JSON Feed item as a ParsedItem (content_html > content_text > summary)."""
    if _str(raw.get("content_html")).strip():
        text = html_to_text(_str(raw["content_html"]))
    elif _str(raw.get("content_text")).strip():
        text = normalize(_str(raw["content_text"]))
    else:
        text = _clean_body(_str(raw.get("summary")), "text/html")
    item_id = raw.get("id")
    return ParsedItem(
        # JSON Feed 1.0 allowed numbers as ids, and feeds still use them.
        guid=_clean_id(
            str(item_id) if isinstance(item_id, (int, float)) and not isinstance(item_id, bool) else item_id
        ),
        title=_clean_title(_str(raw.get("title")), "text/html"),
        link=_safe_link(raw.get("url"), base) or _safe_link(raw.get("external_url"), base),
        published=_iso_from_rfc3339(raw.get("date_published")) or _iso_from_rfc3339(raw.get("date_modified")),
        text=text,
        language=_language(raw.get("language")),
    )


def _str(value: Any) -> str:
    """value when it is a string, else "" (JSON Feeds put anything anywhere)."""
    return value if isinstance(value, str) else ""


def _iso_from_rfc3339(value: Any) -> str | None:
    """An RFC 3339 (or, leniently, RFC 822) date as ISO 8601 UTC; None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    m = _RFC3339.match(value)
    if m is None:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    year, month, day, hour, minute, second, offset = m.groups()
    try:
        if hour is None:
            return dt.date(int(year), int(month), int(day)).isoformat()
        naive = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return None
    # An offset-less time is not RFC 3339; reading it as UTC is the least surprising guess.
    shift = _offset_seconds(offset)
    stamp = calendar.timegm(naive.timetuple()) - shift
    try:
        return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return None


def _offset_seconds(offset: str | None) -> int:
    """Seconds east of UTC for "Z", "+05:30", "-0800" or "+02"."""
    if not offset or offset in ("Z", "z"):
        return 0
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return sign * (hours * 3600 + minutes * 60)


# --- shared cleaning -----------------------------------------------------------------------------------


def _finish(items: list[ParsedItem], title: str, language: str | None, warnings: list[str]) -> ParsedFeed:
    """Drop items with nothing in them and assemble the ParsedFeed."""
    kept = tuple(item for item in items if item.title or item.text or item.link)
    if len(items) > len(kept):
        warnings.append(f"{len(items) - len(kept)} item(s) with no title, text or link were skipped")
    return ParsedFeed(items=kept, title=title or None, language=language, warnings=tuple(warnings))


def _clean_title(value: Any, mime: str) -> str:
    """A title as one clean line of text."""
    if not isinstance(value, str):
        return ""
    return collapse(html_to_text(value) if "html" in mime else normalize(value))


def _clean_body(value: str, mime: str) -> str:
    """A body as clean text, one paragraph per HTML block."""
    if not value:
        return ""
    # feedparser reports RSS descriptions as text/html and Atom type="text" as text/plain; only markup
    # goes through the HTML parser, so "rates < 5%" in plain text survives.
    return html_to_text(value) if "html" in mime or not mime else normalize(value)


def _clean_id(value: Any) -> str | None:
    """A feed-provided id with control characters and surrounding space removed; None when empty."""
    if not isinstance(value, str):
        return None
    return strip_controls(value).strip() or None


def _safe_base(url: str) -> str | None:
    """url when it can serve as a base for relative links (http, https or file), else None."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https", "file") else None


def _safe_link(href: Any, base: str | None) -> str | None:
    """href made absolute against base, when the result is an http(s) URL with a host; else None.

    javascript:, data:, mailto: and file: links, and relative links without a usable base, are dropped:
    a link is shown to staff and opened in a browser, so only the web is allowed.
    """
    if not isinstance(href, str):
        return None
    href = _SPACE_IN_URL.sub("%20", strip_controls(href).strip())
    if not href:
        return None
    try:
        absolute = urljoin(base, href) if base else href
        parts = urlsplit(absolute)
        if parts.scheme.lower() not in _WEB_SCHEMES or not parts.hostname:
            return None
    except ValueError:
        return None
    return parts.scheme.lower() + absolute[len(parts.scheme) :]


def _language(*values: Any) -> str | None:
    """The first value that names a language, as an ISO 639-1 code ("en-US" -> "en", "fre" -> "fr")."""
    for value in values:
        if isinstance(value, str) and value.strip():
            code = _language_code(value.strip()[:64])
            if code:
                return code
    return None


@lru_cache(maxsize=512)
def _language_code(value: str) -> str | None:
    m = _LANGUAGE_TAG.match(value)
    primary = m.group(1).lower() if m else value
    try:
        if len(primary) == 2:
            record = pycountry.languages.get(alpha_2=primary)
        else:
            record = pycountry.languages.lookup(primary)  # alpha-3, bibliographic code or English name
    except LookupError:
        return None
    code = getattr(record, "alpha_2", None) if record is not None else None
    return code.lower() if isinstance(code, str) else None
