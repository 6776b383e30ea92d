"""The page behind an item (`full_text: true`): fetched politely, decoded, and its main text extracted.

A feed item's summary is often one line while the measure is stated in the linked page. PageFetcher
fetches such pages with bounded concurrency (at most PER_HOST at once per host, WORKERS overall) and a
polite delay between two requests to one host; read_page turns a fetched page into text (trafilatura, or
the elements a content_selector picks) and never raises; combine joins a summary and its page's text.
The page cache (which pages are known, with their validators) is the pipeline's business, not this module's.

decode_html is shared with the html list parser: BOM, then the HTTP charset, a meta tag, then detection.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from policywatch.sources.base import ParseError
from policywatch.sources.fetch import Fetcher, FetchResult, Validators
from policywatch.text import collapse, html_to_text, normalize

__all__ = [
    "PER_HOST",
    "WORKERS",
    "Decoded",
    "PageFetcher",
    "PageRequest",
    "PageText",
    "combine",
    "decode_html",
    "extract_text",
    "read_page",
]

#: Requests to one host at the same time, and in all; government sites are small and easily overloaded.
PER_HOST = 2
WORKERS = 4
#: Characters of page text kept: a whole notice fits many times over; a 5 MB page of tables does not help.
MAX_TEXT = 200_000

# --- decoding ------------------------------------------------------------------------------------------

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_META = re.compile(r"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_XML_DECL = re.compile(r"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.I)
# A declared legacy charset is read with the superset browsers use: a page labelled GB2312 routinely
# holds GBK characters, one labelled Shift_JIS holds Windows (NEC/IBM) extensions, ISO-8859-1 means
# windows-1252 (WHATWG Encoding Standard).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "euc_cn": "gb18030",
    "shift_jis": "cp932",
    "cp932": "cp932",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "ascii": "cp1252",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
# Candidates for pages that declare nothing: the encodings the agencies we read actually use.
_DETECT = ["utf_8", "gb18030", "big5", "cp932", "euc_jp", "cp949", "cp1251", "cp1252", "cp1250"]
# Central European languages, for which windows-1250 is the better single-byte guess than windows-1252.
_CP1250_LANGUAGES = frozenset({"cs", "pl", "sk", "sl", "hu", "hr", "ro", "bs", "sr"})
_LANG_ATTR = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3})""", re.I)


@dataclass(frozen=True)
class Decoded:
    """A page's bytes as text, with the encoding used and where it came from."""

    text: str
    encoding: str
    source: str
    """"bom", "header" (HTTP Content-Type), "meta" (<meta charset> or XML declaration), "detected"."""
    warning: str | None = None
    """Set when a declared charset was wrong or bytes had to be replaced."""


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label (with its superset), or None for an unknown label."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name.replace("-", "_")
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTML (or text) page: BOM, then the HTTP charset, then a meta tag, then detection.

    A declaration that does not fit the bytes is passed over for the next clue (servers mislabel pages),
    and reported in Decoded.warning. Never raises: the last resort replaces undecodable bytes.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(codec, "replace"), codec, "bom")
    head = body[:4096].decode("latin-1")
    header = _CHARSET.search(content_type or "")
    meta = _META.search(head) or _XML_DECL.search(head)
    misfits: list[str] = []
    for source, match in (("header", header), ("meta", meta)):
        if match is None:
            continue
        codec = _codec(match.group(1))
        if codec is None:
            misfits.append(f"unknown charset {match.group(1)[:40]!r} ({source})")
            continue
        text = _strict(body, codec)
        if text is not None:
            return Decoded(text, codec, source, _misfit_warning(misfits, codec))
        misfits.append(f"declared {match.group(1)[:40]!r} ({source}) does not fit the bytes")
    text = _strict(body, "utf-8")
    if text is not None:
        return Decoded(text, "utf_8", "detected", _misfit_warning(misfits, "utf_8"))
    codec = _detect(body, head)
    text = _strict(body, codec)
    if text is None:
        return Decoded(body.decode(codec, "replace"), codec, "detected", "undecodable bytes replaced")
    return Decoded(text, codec, "detected", _misfit_warning(misfits, codec))


def _misfit_warning(misfits: list[str], codec: str) -> str | None:
    return f"{'; '.join(misfits)}: decoded as {codec}" if misfits else None


def _detect(body: bytes, head: str) -> str:
    """The likeliest encoding of an undeclared, non-UTF-8 page."""
    from charset_normalizer import from_bytes  # installed with trafilatura; only needed for unlabelled pages

    best = from_bytes(body[:200_000], cp_isolation=_DETECT).best()
    codec = _codec(best.encoding) if best is not None else None
    if codec is None or codec in ("cp1252", "cp1250"):
        # Single-byte Latin encodings cannot be told apart by their bytes; the page's language can.
        lang = _LANG_ATTR.search(head)
        return "cp1250" if lang and lang.group(1).lower()[:2] in _CP1250_LANGUAGES else "cp1252"
    return codec


# --- fetching politely ------------------------------------------------------------------------------------


class _Host:
    """The gate of one host: how many requests may run, and when the next may start."""

    def __init__(self, per_host: int) -> None:
        self.slots = threading.Semaphore(per_host)
        self.lock = threading.Lock()
        self.next_start = float("-inf")


class PageFetcher:
    """Fetches pages through one Fetcher, politely: per-host slots and a delay between a host's requests.

    Thread-safe. `sleep` and `clock` are injectable so tests can check the spacing without waiting.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        delay: float = 1.0,
        per_host: int = PER_HOST,
        workers: int = WORKERS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Wrap fetcher; delay is the seconds between the starts of two requests to one host."""
        self.fetcher = fetcher
        self.delay = max(0.0, delay)
        self.per_host = max(1, per_host)
        self.workers = max(1, workers)
        self._sleep = sleep
        self._clock = clock
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, url: str) -> _Host:
        try:
            parts = urlsplit(url)
            key = f"{(parts.hostname or '').lower()}:{parts.port or ''}"
        except ValueError:
            key = url
        with self._lock:
            return self._hosts.setdefault(key, _Host(self.per_host))

    def _reserve(self, host: _Host) -> float:
        """Book the next start time at this host; return how long to wait for it."""
        with host.lock:
            now = self._clock()
            start = max(now, host.next_start)
            host.next_start = start + self.delay
            return start - now

    def note(self, url: str) -> None:
        """Record a request to url made elsewhere (a source's first page), so the next one here waits."""
        self._reserve(self._host(url))

    def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        """Fetch url once its host has a free slot and the delay since its last request has passed."""
        host = self._host(url)
        with host.slots:
            wait = self._reserve(host)
            if wait > 0:
                self._sleep(wait)
            return self.fetcher.fetch(url, validators)

    def map(self, work: Callable[[PageRequest], PageText], requests: Sequence[PageRequest]) -> Iterator[PageText]:
        """Run work on each request in a small thread pool; yield the results as they complete."""
        if not requests:
            return
        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(requests)), thread_name_prefix="page")
        try:
            futures = [pool.submit(work, request) for request in requests]
            for future in as_completed(futures):
                yield future.result()
        finally:
            # Interrupted (Ctrl-C, SIGTERM) or abandoned: queued pages are dropped, not fetched after all.
            pool.shutdown(wait=False, cancel_futures=True)


# --- one page ------------------------------------------------------------------------------------------

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml", "text/xml"})
_MARKUP = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype|html|head|body|\?xml|meta|div|p)\b", re.I | re.S)
# What a list or feed appends to a summary it cut short: "…", "[...]", "Read more", "更多>>".
_TRAILER = re.compile(r"(?:\s*(?:\[?(?:…|\.\.\.)\]?|\bread more\b[\s>»›.]*|更多[\s>»›]*))+$", re.I)


@dataclass(frozen=True)
class PageRequest:
    """A linked page to read, with the validators of its cached copy (for a conditional GET)."""

    url: str
    validators: Validators = Validators()
    content_selector: str | None = None


@dataclass(frozen=True)
class PageText:
    """What reading one linked page gave. On "not_modified" the cached text stands (text is None)."""

    url: str
    status: Literal["ok", "not_modified", "failed"]
    text: str | None
    http_status: int | None
    etag: str | None
    last_modified: str | None
    error: str | None = None
    encoding: str | None = None

    @property
    def content_hash(self) -> str | None:
        """A short hash of the text, to tell a changed page from a re-sent one."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16] if self.text else None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def extract_text(body: bytes, *, url: str, content_type: str | None = None, content_selector: str | None = None) -> str:
    """The main text of a fetched page, one paragraph per block; ParseError when there is none to read.

    With content_selector, the text of every element it matches (in page order); without, trafilatura
    finds the main content, leaving navigation, headers and footers out.
    """
    return _extract(body, url, content_type, content_selector)[0]


def _extract(body: bytes, url: str, content_type: str | None, content_selector: str | None) -> tuple[str, str]:
    mime = _media_type(content_type)
    if mime and mime != "text/plain" and mime not in _HTML_TYPES and not _MARKUP.match(body[:1024]):
        raise ParseError(f"the linked page is {mime}, not HTML; its text is not read")
    decoded = decode_html(body, content_type)
    if mime == "text/plain":
        text = normalize(decoded.text)
    elif content_selector is not None:
        from bs4 import BeautifulSoup

        matched = BeautifulSoup(decoded.text, "html.parser").select(content_selector)
        if not matched:
            raise ParseError(f"content_selector {content_selector!r} matched nothing on {url}")
        text = "\n\n".join(t for t in (html_to_text(str(tag)) for tag in matched) if t)
    else:
        text = _main_text(decoded.text, url)
    if not text.strip():
        raise ParseError(f"no text found in the linked page {url}")
    return text[:MAX_TEXT], decoded.encoding


def _main_text(html: str, url: str) -> str:
    import trafilatura  # ~0.2 s to import: only scans with full-text sources pay for it

    try:
        found = trafilatura.extract(
            html, url=url, include_comments=False, include_tables=True, favor_recall=True, deduplicate=False
        )
    except Exception:  # a bug in a third-party extractor must cost this page, not the scan
        found = None
    if found and found.strip():
        return normalize(found)
    # Too little for trafilatura's thresholds (a short notice): the page's main area, else its body.
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["nav", "header", "footer", "aside", "form", "script", "style"]):
        tag.decompose()
    area = soup.find("main") or soup.find("article") or soup.find("body") or soup
    return html_to_text(str(area))


def read_page(pages: PageFetcher, request: PageRequest) -> PageText:
    """Fetch (conditionally, given validators) and read one linked page; every failure is data."""
    fetched = pages.fetch(request.url, request.validators)
    if fetched.status == "not_modified":
        return PageText(request.url, "not_modified", None, fetched.http_status, fetched.etag, fetched.last_modified)
    if fetched.status == "failed":
        return PageText(
            request.url, "failed", None, fetched.http_status, fetched.etag, fetched.last_modified, fetched.error
        )
    try:
        text, encoding = _extract(
            fetched.body or b"", fetched.final_url, fetched.content_type, request.content_selector
        )
    except ParseError as exc:
        return PageText(request.url, "failed", None, fetched.http_status, fetched.etag, fetched.last_modified, str(exc))
    return PageText(
        request.url,
        "ok",
        text,
        fetched.http_status,
        fetched.etag,
        fetched.last_modified,
        encoding=encoding,
    )


def _key(text: str) -> str:
    """A text reduced for containment tests: one line, case-folded, a trailing "…"/"read more" dropped."""
    return _TRAILER.sub("", collapse(normalize(text))).casefold()


def combine(summary: str, page: str | None) -> str:
    """The bulletin text from an item's own text and its page's text.

    The page alone when it contains the summary (the usual case: the summary is its first lines, perhaps
    cut short with "…"); the summary alone when the page says nothing the summary does not; else the
    summary, a blank line, and the page, so neither loses what only it states.
    """
    if not page or not page.strip():
        return summary
    if not summary.strip():
        return page
    short, long = _key(summary), _key(page)
    if short in long:
        return page
    if long in short:
        return summary
    return f"{summary}\n\n{page}"
