"""HTML notice lists (`kind: html`): the notices of a list page found with CSS selectors, page after page.

Many agencies publish notices only as an HTML list (China's customs and commerce ministry, Mexico's DOF,
India's CBIC). HtmlNoticeParser reads one list page into a ParsedFeed, like a feed parser; read_list
follows `next_selector` for further pages. A selector that matches nothing is a ParseError naming the
selector and the page, never zero silent items. Pages are decoded by fulltext.decode_html (UTF-8,
GB2312/GBK, Shift_JIS, Latin-1, declared or not), as linked pages are.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from policywatch.config import HtmlSettings, is_language
from policywatch.sources.base import ParsedFeed, ParsedItem, ParseError
from policywatch.sources.fulltext import decode_html
from policywatch.text import collapse, html_to_text, normalize, strip_controls

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

    from policywatch.sources.fetch import FetchResult

__all__ = [
    "HtmlNoticeParser",
    "ListPage",
    "ListRead",
    "PageInfo",
    "read_date",
    "read_list",
]

#: Items read from one list page at most; a selector matching every <div> of a page is a mistake, not news.
MAX_ITEMS = 500
_MAX_TITLE = 500

# --- dates -----------------------------------------------------------------------------------------------

_ISO = re.compile(
    r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?"
)
_CJK = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]?")
_ERA = re.compile(r"(令和|平成|昭和)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ERA_START = {"令和": 2018, "平成": 1988, "昭和": 1925}
_DMY = re.compile(r"(?<![\d.])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)")
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan enero ene janeiro janvier janv januar jän gennaio gen",
        "february feb febrero fevereiro fev février fevrier févr fevr februar febbraio",
        "march mar marzo março marco mars märz marz maerz mär",
        "april apr abril avril aprile",
        "may mayo maio mai maggio mag",
        "june jun junio junho juin juni giugno giu",
        "july jul julio julho juillet juil juli luglio lug",
        "august aug agosto ago août aout",
        "september sep sept septiembre setiembre setembro set septembre settembre",
        "october oct octubre outubro out octobre oktober okt ottobre ott",
        "november nov noviembre novembro novembre",
        "december dec diciembre dic dezembro dez décembre decembre dezember dicembre",
    ),
    start=1,
):
    _MONTHS.update(dict.fromkeys(_names.split(), _number))
_WORD = r"([^\W\d_]{3,12})"
_DAY_MONTH_YEAR = re.compile(
    r"(?<!\d)(\d{1,2})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?" + _WORD + r"\.?,?\s+(?:de\s+)?(\d{4})"
)
_MONTH_DAY_YEAR = re.compile(_WORD + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)")
_DIRECTIVE = re.compile(r"%[-#]?(.)")
_FORMAT_PARTS = {
    "Y": r"\d{4}",
    "G": r"\d{4}",
    "y": r"\d{2}",
    "m": r"\d{1,2}",
    "d": r"\d{1,2}",
    "H": r"\d{1,2}",
    "I": r"\d{1,2}",
    "M": r"\d{2}",
    "S": r"\d{2}",
    "f": r"\d{1,6}",
    "j": r"\d{1,3}",
    "b": r"[^\W\d_]+\.?",
    "B": r"[^\W\d_]+",
    "a": r"[^\W\d_]+\.?",
    "A": r"[^\W\d_]+",
    "p": r"[AaPp]\.?[Mm]\.?",
    "z": r"(?:Z|[+-]\d{2}:?\d{2})",
    "Z": r"[A-Za-z]{1,5}",
    "%": "%",
}


def _date(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= 2200:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _from_iso(m: re.Match[str]) -> str | None:
    year, month, day, hour, minute, second, offset = m.groups()
    date = _date(int(year), int(month), int(day))
    if date is None or hour is None or offset is None:
        # A list's time without a zone is local to the agency: the date is all that can be stated in UTC terms.
        return date
    try:
        zone = dt.UTC if offset == "Z" else dt.datetime.strptime(offset.replace(":", ""), "%z").tzinfo
        when = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=zone)
    except ValueError:
        return date
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_dmy(m: re.Match[str]) -> str | None:
    first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    # Day first unless that is impossible: D/M/Y is what Mexico, India, the EU and most agencies write.
    if first <= 12 < second:
        return _date(year, first, second)
    return _date(year, second, first)


def _from_words(day: str, word: str, year: str) -> str | None:
    month = _MONTHS.get(word.lower().rstrip("."))
    return _date(int(year), month, int(day)) if month else None


def _auto_date(text: str) -> str | None:
    """The first date written in text, by position; None when there is none."""
    found: list[tuple[int, str]] = []
    for pattern, read in (
        (_ISO, _from_iso),
        (_CJK, lambda m: _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))),
        (
            _ERA,
            lambda m: _date(
                _ERA_START[m.group(1)] + (1 if m.group(2) == "元" else int(m.group(2))),
                int(m.group(3)),
                int(m.group(4)),
            ),
        ),
        (_DMY, _from_dmy),
        (_DAY_MONTH_YEAR, lambda m: _from_words(m.group(1), m.group(2), m.group(3))),
        (_MONTH_DAY_YEAR, lambda m: _from_words(m.group(2), m.group(1), m.group(3))),
    ):
        for m in pattern.finditer(text):
            value = read(m)
            if value:
                found.append((m.start(), value))
                break
    return min(found)[1] if found else None


def _format_regex(fmt: str) -> re.Pattern[str]:
    out, last = [], 0
    for m in _DIRECTIVE.finditer(fmt):
        out.append(re.escape(fmt[last : m.start()]))
        out.append(_FORMAT_PARTS.get(m.group(1), ".+?"))
        last = m.end()
    out.append(re.escape(fmt[last:]))
    return re.compile("".join(out).replace(r"\ ", r"\s+"))


def read_date(text: str, date_format: str | None = None) -> str | None:
    """The date in text as ISO 8601: "YYYY-MM-DD", or a UTC timestamp when a time zone is given.

    With date_format (strptime) the date is found by that format anywhere in the text. Without it:
    ISO (2025-03-04, 2025/3/4, with time and zone), Chinese/Japanese/Korean (2025年3月4日, 令和7年9月10日),
    numeric D/M/Y (04/03/2025 is 4 March; M/D/Y only when the day cannot be the month) and month names in
    English, Spanish, Portuguese, French, German and Italian ("4 de marzo de 2025", "March 4, 2025").
    """
    value = unicodedata.normalize("NFKC", strip_controls(text)).strip()
    if not value:
        return None
    if date_format is None:
        return _auto_date(value)
    candidates = [value, *(m.group(0) for m in _format_regex(date_format).finditer(value))]
    for candidate in candidates:
        try:
            when = dt.datetime.strptime(candidate.strip(), date_format)
        except ValueError:
            continue
        if when.tzinfo is not None:
            return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _date(when.year, when.month, when.day)
    return None


# --- list pages ------------------------------------------------------------------------------------------

_WEB = frozenset({"http", "https"})
_ELLIPSIS = ("…", "...", "..")
_FEED_ROOT = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.S)


@dataclass(frozen=True)
class ListPage:
    """One list page read: its items, and the URL of the next page when next_selector finds one."""

    feed: ParsedFeed
    next_url: str | None
    encoding: str


@dataclass(frozen=True)
class PageInfo:
    """What one list page gave, for `feeds check` and the scan's warnings."""

    url: str
    items: int
    http_status: int | None = None
    error: str | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class ListRead:
    """Every list page read for one source: the items of all pages (first occurrence kept), per-page counts."""

    feed: ParsedFeed
    pages: tuple[PageInfo, ...]


def _soup(text: str) -> BeautifulSoup:
    """The parsed page; html.parser always, so selectors behave the same whatever is installed."""
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning  # slow to import: only html sources pay for it

    with warnings.catch_warnings():
        # A feed configured as kind html is reported by the selector error, not by a warning on stderr.
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(text, "html.parser")


def _element_text(tag: Tag) -> str:
    return collapse(normalize(tag.get_text(" ")))


def _base_url(soup: BeautifulSoup, url: str) -> str:
    """The page's <base href> when it is a usable absolute URL, else the page URL."""
    base = soup.find("base", href=True)
    if base is not None:
        href = str(base.get("href") or "").strip()
        resolved = urljoin(url, href)
        if urlsplit(resolved).scheme.lower() in (*_WEB, urlsplit(url).scheme.lower()):
            return resolved
    return url


def _resolve(href: Any, base: str, schemes: frozenset[str] = _WEB) -> str | None:
    """href made absolute against base, without its fragment, when its scheme is allowed; else None."""
    if not isinstance(href, str):
        return None
    href = re.sub(r"\s", "%20", strip_controls(href).strip())
    if not href or href.startswith("#"):
        return None
    try:
        parts = urlsplit(urljoin(base, href))
    except ValueError:
        return None
    if parts.scheme.lower() not in schemes or (parts.scheme.lower() in _WEB and not parts.hostname):
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path, parts.query, ""))


def _href_of(tag: Tag) -> Any:
    """The link a matched element stands for: its own href, else that of the first link inside it."""
    if tag.get("href"):
        return tag.get("href")
    inner = tag.find(["a", "area"], href=True)
    return inner.get("href") if inner is not None else None


def _title_of(tag: Tag) -> str:
    text = _element_text(tag)
    full = collapse(normalize(str(tag.get("title") or "")))
    # Lists shorten long titles ("关于…") and keep the whole one in the title attribute.
    if full and (not text or (text.endswith(_ELLIPSIS) and len(full) > len(text.rstrip(".… ")))):
        return full
    return text


def _language_of(soup: BeautifulSoup) -> str | None:
    root = soup.find("html")
    lang = str(root.get("lang") or root.get("xml:lang") or "") if root is not None else ""
    code = re.split(r"[-_]", lang.strip().lower(), maxsplit=1)[0]
    return code if code and is_language(code) else None


class HtmlNoticeParser:
    """Reads a list page of notices with the CSS selectors of a `kind: html` source (the SourceParser for html)."""

    def __init__(self, settings: HtmlSettings) -> None:
        """Compile the selectors once (config has validated them)."""
        import soupsieve

        self.settings = settings
        self._item = soupsieve.compile(settings.item_selector)
        self._title = soupsieve.compile(settings.title_selector) if settings.title_selector else None
        self._link = soupsieve.compile(settings.link_selector) if settings.link_selector else None
        self._date = soupsieve.compile(settings.date_selector) if settings.date_selector else None
        self._next = soupsieve.compile(settings.next_selector) if settings.next_selector else None

    def parse(self, body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
        """The notices of one list page; ParseError when the page is empty or a selector matches nothing."""
        return self.parse_page(body, url=url, content_type=content_type).feed

    def parse_page(self, body: bytes, *, url: str, content_type: str | None = None) -> ListPage:
        """Like parse, with the next page's URL (next_selector) and the encoding the page was read in."""
        if not body or not body.strip():
            raise ParseError(f"empty page at {url}")
        decoded = decode_html(body, content_type)
        soup = _soup(decoded.text)
        warnings = [f"character encoding: {decoded.warning}"] if decoded.warning else []
        elements = self._item.select(soup)
        if not elements:
            hint = " (the page is an RSS/Atom feed: use kind: feed)" if _FEED_ROOT.match(decoded.text) else ""
            raise ParseError(f"item_selector {self.settings.item_selector!r} matched nothing on {url}{hint}")
        if len(elements) > MAX_ITEMS:
            warnings.append(f"item_selector matched {len(elements)} elements; only the first {MAX_ITEMS} were read")
            elements = elements[:MAX_ITEMS]
        base = _base_url(soup, url)
        misses = {"title_selector": 0, "link_selector": 0, "date_selector": 0}
        unreadable: list[str] = []
        items: list[ParsedItem] = []
        empty = 0
        for element in elements:
            item = self._item_of(element, base, misses, unreadable)
            if item is None:
                empty += 1
            else:
                items.append(item)
        self._check_misses(misses, len(elements), url, warnings)
        if unreadable:
            hint = "" if self.settings.date_format else " (set date_format)"
            warnings.append(f"{len(unreadable)} date(s) could not be read, e.g. {unreadable[0][:60]!r}{hint}")
        if empty:
            warnings.append(f"{empty} item(s) with no title or link were skipped")
        title_tag = soup.find("title")
        feed = ParsedFeed(
            items=tuple(items),
            title=(_element_text(title_tag) if title_tag is not None else "") or None,
            language=_language_of(soup),
            warnings=tuple(warnings),
        )
        return ListPage(feed=feed, next_url=self._next_url(soup, base, url), encoding=decoded.encoding)

    def _check_misses(self, misses: dict[str, int], total: int, url: str, warnings: list[str]) -> None:
        for key, missed in misses.items():
            selector = getattr(self.settings, key)
            if not missed or selector is None:
                continue
            if missed == total:
                raise ParseError(
                    f"{key} {selector!r} matched nothing in the {total} item(s) of item_selector "
                    f"{self.settings.item_selector!r} on {url}"
                )
            warnings.append(f"{key} {selector!r} matched nothing in {missed} of {total} items")

    def _item_of(self, element: Tag, base: str, misses: dict[str, int], unreadable: list[str]) -> ParsedItem | None:
        """One list entry as a ParsedItem; None when it has neither a title nor a link."""
        link_tag: Tag | None
        if self._link is not None:
            link_tag = self._link.select_one(element)
            if link_tag is None:
                misses["link_selector"] += 1
        else:
            link_tag = element if element.get("href") else element.find(["a", "area"], href=True)
        link = _resolve(_href_of(link_tag), base) if link_tag is not None else None

        title_tag: Tag | None = None
        if self._title is not None:
            title_tag = self._title.select_one(element)
            if title_tag is None:
                misses["title_selector"] += 1
        elif link_tag is not None and _element_text(link_tag):
            title_tag = link_tag
        title = _title_of(title_tag) if title_tag is not None else ""

        date_tag: Tag | None = None
        if self._date is not None:
            date_tag = self._date.select_one(element)
            if date_tag is None:
                misses["date_selector"] += 1
        published = self._published(element, date_tag, unreadable)

        text = self._own_text(element, title_tag, date_tag)
        if not title:
            title = collapse(text)[:_MAX_TITLE]
            text = ""
        if not title and not link:
            return None
        guid = link or "sha256:" + hashlib.sha256(f"{title}\x1f{published or ''}".encode()).hexdigest()[:32]
        return ParsedItem(guid=guid, title=title[:_MAX_TITLE], link=link, published=published, text=text, language=None)

    def _published(self, element: Tag, date_tag: Tag | None, unreadable: list[str]) -> str | None:
        if self._date is None:
            return read_date(_element_text(element))
        if date_tag is None:
            return None
        # <time datetime="..."> and microdata (content="...") carry a machine-readable date.
        timed = date_tag if date_tag.get("datetime") else date_tag.find(attrs={"datetime": True})
        for attr_value in (timed.get("datetime") if timed is not None else None, date_tag.get("content")):
            if isinstance(attr_value, str) and (value := read_date(attr_value)):
                return value
        raw = _element_text(date_tag)
        value = read_date(raw, self.settings.date_format)
        if value is None and raw:
            unreadable.append(raw)
        return value

    @staticmethod
    def _own_text(element: Tag, title_tag: Tag | None, date_tag: Tag | None) -> str:
        """The item's text in the list without its title and date: a summary, when the list gives one."""
        if title_tag is element:
            return ""
        clone = copy.copy(element)
        # The copy has the same structure, so the n-th descendant of the original is the n-th of the copy.
        originals = list(element.descendants)
        copies = list(clone.descendants)
        for tag in (title_tag, date_tag):
            if tag is None or tag is element:
                continue
            index = next((i for i, node in enumerate(originals) if node is tag), None)
            if index is not None:
                copies[index].extract()
        return html_to_text(str(clone))

    def _next_url(self, soup: BeautifulSoup, base: str, url: str) -> str | None:
        if self._next is None:
            return None
        tag = self._next.select_one(soup)
        if tag is None:
            return None
        # A local list may page to local files; a web page may only page to the web.
        scheme = urlsplit(url).scheme.lower()
        return _resolve(_href_of(tag), base, _WEB | {"file"} if scheme == "file" else _WEB)


def read_list(parser: HtmlNoticeParser, first: FetchResult, fetch: Callable[[str], FetchResult]) -> ListRead:
    """Read the first list page (already fetched) and follow next_selector up to max_pages.

    ParseError only for the first page; a later page that fails or matches nothing ends the walk with a
    warning, keeping what was read. A next link back to a page already read also ends it.
    """
    page = parser.parse_page(first.body or b"", url=first.final_url, content_type=first.content_type)
    title, language = page.feed.title, page.feed.language
    pages = [PageInfo(first.final_url, len(page.feed.items), first.http_status, encoding=page.encoding)]
    items = list(page.feed.items)
    warnings = list(page.feed.warnings)
    seen = {first.url, first.final_url}
    next_url = page.next_url
    while next_url and len(pages) < parser.settings.max_pages:
        number = len(pages) + 1
        if next_url in seen:
            warnings.append(f"next_selector led back to {next_url}; stopped after {len(pages)} page(s)")
            break
        seen.add(next_url)
        fetched = fetch(next_url)
        if fetched.status != "ok":
            error = fetched.error or f"HTTP {fetched.http_status}"
            pages.append(PageInfo(next_url, 0, fetched.http_status, error))
            warnings.append(f"list page {number} ({next_url}) could not be read: {error}")
            break
        seen.add(fetched.final_url)
        try:
            page = parser.parse_page(fetched.body or b"", url=fetched.final_url, content_type=fetched.content_type)
        except ParseError as exc:
            pages.append(PageInfo(fetched.final_url, 0, fetched.http_status, str(exc)))
            warnings.append(f"list page {number}: {exc}")
            break
        pages.append(PageInfo(fetched.final_url, len(page.feed.items), fetched.http_status, encoding=page.encoding))
        items.extend(page.feed.items)
        warnings.extend(f"list page {number}: {w}" for w in page.feed.warnings)
        next_url = page.next_url
    unique: dict[str, ParsedItem] = {}
    shared = 0
    for item in items:
        # A notice published between two page fetches pushes the last of one page to the top of the next.
        kept = unique.setdefault(item.guid or item.title, item)
        shared += kept is not item and kept.title != item.title
    if shared:
        # Different notices with one link is a link_selector picking a "more" or index link, not news.
        warnings.append(f"{shared} item(s) share their link with another item and were dropped (check link_selector)")
    return ListRead(
        feed=ParsedFeed(items=tuple(unique.values()), title=title, language=language, warnings=tuple(warnings)),
        pages=tuple(pages),
    )
