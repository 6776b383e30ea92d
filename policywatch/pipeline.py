"""The scan: every configured feed fetched, parsed, stored and read for changes, one transaction per feed.

`run_scan` returns a RunSummary and never prints; progress goes to an optional ScanEvents listener.
A feed that fails is recorded on its row and in the summary, and the scan goes on with the next.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from policywatch.config import FeedConfig, FeedsConfig, PageSettings
from policywatch.models import Bulletin, Change, Document, Severity
from policywatch.sources import (
    Fetcher,
    FetchLimits,
    FetchResult,
    ParsedFeed,
    ParsedItem,
    ParseError,
    Validators,
    parser_for,
)
from policywatch.sources.fulltext import PageFetcher, PageRequest, PageText, combine, read_page
from policywatch.sources.html import HtmlNoticeParser, PageInfo, read_list
from policywatch.store import ChangeFilter, Store, StoredChange, utcnow
from policywatch.store.pages import cached_pages, save_page

#: Sources read ahead while earlier ones are still being extracted (bounds the memory that waits).
IN_FLIGHT = 4
#: Failed full-text pages named one by one in a feed's warnings; the rest are counted.
_NAMED_FAILURES = 5


class Extractor(Protocol):
    """What the scan needs from the rule engine: changes per document, in order."""

    def extract(self, documents: Iterable[Document]) -> Iterator[list[Change]]:
        """The changes in each document, in input order."""
        ...


class Submitted(Protocol):
    """Extraction under way: ready() says whether get() would wait."""

    def ready(self) -> bool:
        """True when the result is available."""
        ...

    def get(self) -> list[list[Change]]:
        """The changes per document, in order (waits for them)."""
        ...


@dataclass(frozen=True)
class Done:
    """Extraction already done (in this process)."""

    result: list[list[Change]]

    def ready(self) -> bool:
        """Always true."""
        return True

    def get(self) -> list[list[Change]]:
        """The result."""
        return self.result


def submit(extractor: Extractor, documents: list[Document]) -> Submitted:
    """Start extracting: in the background when the extractor can (see extract/pool.py), else at once."""
    start = getattr(extractor, "submit", None)
    if start is not None:
        return start(documents)  # type: ignore[no-any-return]
    return Done(list(extractor.extract(documents)))


@dataclass(frozen=True)
class FeedResult:
    """What happened to one feed in a scan."""

    name: str
    status: str  # "ok", "unchanged" (same bytes or 304 Not Modified) or "failed"
    http_status: int | None = None
    items: int = 0
    new_bulletins: int = 0
    revised_bulletins: int = 0
    new_changes: tuple[str, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = ()
    elapsed: float = 0.0
    list_pages: int = 0
    """For an html source: list pages read (1 up to its max_pages)."""
    pages_read: int = 0
    """Full-text pages fetched and read (HTTP 200)."""
    pages_not_modified: int = 0
    """Full-text pages revalidated with 304 Not Modified: the cached text was used."""
    pages_failed: int = 0
    """Full-text pages that could not be fetched or read: those items kept their own text."""
    pages_left: int = 0
    """Full-text pages over the scan's page_limit, left for the next scan."""


@dataclass(frozen=True)
class RunSummary:
    """The outcome of a scan."""

    run_id: int
    started_at: str
    finished_at: str
    feeds: tuple[FeedResult, ...]
    changes: Collection[StoredChange] = field(default=())
    """The new changes: a `NewChanges` view of the history after a scan (read while the store is open)."""

    @property
    def feeds_ok(self) -> int:
        """Feeds fetched and parsed, with or without new items."""
        return sum(1 for f in self.feeds if f.status == "ok")

    @property
    def feeds_unchanged(self) -> int:
        """Feeds whose content had not changed since the last scan."""
        return sum(1 for f in self.feeds if f.status == "unchanged")

    @property
    def feeds_failed(self) -> int:
        """Feeds that could not be fetched or parsed."""
        return sum(1 for f in self.feeds if f.status == "failed")

    @property
    def new_bulletins(self) -> int:
        """Bulletins stored for the first time."""
        return sum(f.new_bulletins for f in self.feeds)

    @property
    def revised_bulletins(self) -> int:
        """Stored bulletins whose text changed."""
        return sum(f.revised_bulletins for f in self.feeds)

    @property
    def all_failed(self) -> bool:
        """True when there were feeds and none could be read: an operational failure."""
        return bool(self.feeds) and self.feeds_failed == len(self.feeds)

    def by_severity(self) -> dict[str, int]:
        """New changes counted per severity, every level present."""
        counts = {s.value: 0 for s in Severity}
        if isinstance(self.changes, NewChanges):
            counts.update(self.changes.counts)
        else:
            for stored in self.changes:
                counts[stored.change.severity] = counts.get(stored.change.severity, 0) + 1
        return counts


class NewChanges(Collection[StoredChange]):
    """The changes one scan stored, read back from the history each time they are iterated (most severe
    first), so the summary of a first scan over a long history never holds them all. Iterate it while the
    store is open."""

    def __init__(self, store: Store, run_id: int):
        self._store = store
        self.run_id = run_id
        self.counts = store.run_changes_by_severity(run_id)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def __iter__(self) -> Iterator[StoredChange]:
        return self._store.iter_changes(ChangeFilter(run_id=self.run_id))

    def __contains__(self, item: object) -> bool:
        return isinstance(item, StoredChange) and any(stored == item for stored in self)


class ScanEvents:
    """Progress callbacks; the default does nothing. The CLI subclasses it to draw progress bars."""

    def feed_started(self, feed: FeedConfig, index: int, total: int) -> None:
        """A feed is about to be fetched."""

    def feed_progress(self, feed: FeedConfig, done: int, total: int, stage: str) -> None:
        """Items of a feed processed so far, in a stage ("fetch", "store", "extract")."""

    def feed_finished(self, feed: FeedConfig, result: FeedResult) -> None:
        """A feed is done (whatever the outcome)."""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def source_identity(feed: FeedConfig, item: ParsedItem) -> str:
    """What identifies an item across scans and databases: its guid, else its link, else title and date."""
    if item.guid:
        return f"guid:{item.guid}"
    if item.link:
        return f"link:{item.link}"
    return f"feed:{feed.name}:{item.title}:{item.published or ''}"


def to_bulletin(feed: FeedConfig, item: ParsedItem, feed_language: str | None = None) -> Bulletin:
    """A parsed item as a bulletin with its stable id (feed + source identity) and content hash."""
    identity = source_identity(feed, item)
    return Bulletin(
        id=_digest(feed.name, identity)[:16],
        feed=feed.name,
        guid=identity,
        title=item.title,
        link=item.link,
        published=item.published,
        text=item.text,
        language=item.language or feed.language or feed_language or "en",
        jurisdiction=feed.jurisdiction,
        content_hash=_digest(item.title, item.text)[:16],
    )


def to_document(bulletin: Bulletin) -> Document:
    """The extraction input for a bulletin; its source identity keys the change ids."""
    return Document(
        id=bulletin.id,
        text=bulletin.text,
        title=bulletin.title,
        language=bulletin.language,
        jurisdiction=bulletin.jurisdiction,
        published=bulletin.published,
        extra={"identity": bulletin.guid},
    )


def settings_key(feed: FeedConfig) -> str:
    """A short digest of the settings a source's body is read with ("" for a plain feed).

    Stored as a prefix of the feed's body_sha256 ("<key>:<sha256>"), so that changing a selector or
    turning full_text on makes the next scan read the source again even when its bytes did not change
    (and skips the conditional GET, which would answer 304).
    """
    if feed.html is None and not feed.full_text:
        return ""
    settings = repr((feed.html, feed.full_text, feed.content_selector))
    return hashlib.sha256(settings.encode("utf-8")).hexdigest()[:12]


def _same_settings(stored: str | None, key: str) -> bool:
    if stored is None:
        return True  # nothing recorded yet (or a first read still incomplete): validators are all there is
    prefix = stored.split(":", 1)[0] if ":" in stored else ""
    return prefix == key


@dataclass(frozen=True)
class _FullText:
    """The outcome of reading the linked pages of one source's items, before anything is stored."""

    texts: dict[str, str]  # bulletin id -> its text with the page's
    completed: frozenset[str]  # stored, unchanged bulletins whose page was read only now
    pages: tuple[PageText, ...]
    left: int
    warnings: tuple[str, ...]


@dataclass
class _Pending:
    """A source read and compared with the history, waiting for its changes to be stored with it."""

    feed: FeedConfig
    started: float
    now: str
    http_status: int | None
    ok_state: dict[str, object]
    body_hash: str
    first_read: bool
    items: int
    warnings: tuple[str, ...]
    list_pages: int
    full: _FullText | None
    new: list[Bulletin]
    revised: list[Bulletin]
    completed: list[Bulletin]
    work: Submitted


class _Scan:
    def __init__(
        self,
        store: Store,
        engine: Callable[[], Extractor],
        fetcher: Fetcher,
        events: ScanEvents,
        run_id: int,
        pages: PageFetcher,
        page_settings: PageSettings,
    ):
        self.store = store
        self._engine_factory = engine
        self._engine: Extractor | None = None
        self.fetcher = fetcher
        self.events = events
        self.run_id = run_id
        self.pages = pages
        self.page_settings = page_settings

    @property
    def engine(self) -> Extractor:
        # Built on first need: a scan where nothing is new never loads spaCy.
        if self._engine is None:
            self._engine = pooled(self._engine_factory())
        return self._engine

    def close(self) -> None:
        """Stop the extraction workers, if any were started."""
        close = getattr(self._engine, "close", None)
        if close is not None:
            close()

    def _parse(self, feed: FeedConfig, fetched: FetchResult) -> tuple[ParsedFeed, int]:
        """The source's items (following list pages for html) and how many list pages were read."""
        parser = parser_for(feed)
        if isinstance(parser, HtmlNoticeParser):
            listed = read_list(parser, fetched, self.pages.fetch)
            return listed.feed, len(listed.pages)
        return parser.parse(fetched.body or b"", url=fetched.final_url, content_type=fetched.content_type), 0

    def feed(self, feed: FeedConfig) -> FeedResult:
        """Read, extract and store one source at once (read() and commit() in one go)."""
        read = self.read(feed)
        return read if isinstance(read, FeedResult) else self.commit(read)

    def read(self, feed: FeedConfig) -> FeedResult | _Pending:
        """Fetch, parse and compare one source with the history, and start extracting what is new.

        A source that failed or did not change is recorded at once and gives its FeedResult; otherwise the
        returned _Pending holds everything commit() writes, in one transaction, once extraction is done.
        """
        started = time.monotonic()
        state = self.store.feed_state(feed.name)
        row = self.store.feed_row(feed.name)
        key = settings_key(feed)
        same_source = (
            row is not None and row.get("url") == feed.url and _same_settings(state.body_sha256 if state else None, key)
        )
        validators = Validators(
            etag=state.etag if state and same_source else None,
            last_modified=state.last_modified if state and same_source else None,
        )
        config = {
            "url": feed.url,
            "kind": feed.kind.value,
            "jurisdiction": feed.jurisdiction,
            "language": feed.language,
        }
        now = utcnow()
        fetched = self.fetcher.fetch(feed.url, validators)
        self.pages.note(fetched.final_url)  # the next request to this host (a list page, a linked page) waits
        self.events.feed_progress(feed, 0, 0, "fetch")
        failures = (state.consecutive_failures if state else 0) + 1
        if fetched.status == "failed":
            with self.store.transaction():
                self.store.save_feed(
                    feed.name,
                    **config,
                    last_fetched_at=now,
                    last_status="failed",
                    last_http_status=fetched.http_status,
                    last_error=fetched.error,
                    consecutive_failures=failures,
                )
            return FeedResult(
                feed.name, "failed", fetched.http_status, error=fetched.error, elapsed=time.monotonic() - started
            )
        ok_state = {
            **config,
            "last_fetched_at": now,
            "last_success_at": now,
            "last_http_status": fetched.http_status,
            "last_error": None,
            "consecutive_failures": 0,
            "etag": fetched.etag if fetched.etag is not None else validators.etag,
            "last_modified": fetched.last_modified if fetched.last_modified is not None else validators.last_modified,
        }
        if fetched.status == "not_modified":
            with self.store.transaction():
                self.store.save_feed(feed.name, **ok_state, last_status="not_modified")
            return FeedResult(feed.name, "unchanged", fetched.http_status, elapsed=time.monotonic() - started)
        body = fetched.body or b""
        body_hash = hashlib.sha256(body).hexdigest()
        if key:
            body_hash = f"{key}:{body_hash}"
        if state is not None and same_source and state.body_sha256 == body_hash:
            with self.store.transaction():
                self.store.save_feed(feed.name, **ok_state, last_status="unchanged")
            return FeedResult(feed.name, "unchanged", fetched.http_status, elapsed=time.monotonic() - started)
        try:
            parsed, list_pages = self._parse(feed, fetched)
        except ParseError as exc:
            with self.store.transaction():
                self.store.save_feed(
                    feed.name,
                    **config,
                    last_fetched_at=now,
                    last_status="failed",
                    last_http_status=fetched.http_status,
                    last_error=str(exc),
                    consecutive_failures=failures,
                )
            return FeedResult(
                feed.name, "failed", fetched.http_status, error=str(exc), elapsed=time.monotonic() - started
            )
        items = parsed.items
        bulletins: list[Bulletin] = []
        seen: set[str] = set()
        for item in items:
            bulletin = to_bulletin(feed, item, parsed.language)
            if bulletin.id not in seen:
                seen.add(bulletin.id)
                bulletins.append(bulletin)
        # Linked pages are fetched before the write transaction: the database is never locked over the network.
        full = self._full_text(feed, bulletins) if feed.full_text else None
        if full is not None:
            bulletins = [dataclasses.replace(b, text=full.texts[b.id]) if b.id in full.texts else b for b in bulletins]
        known = self.store.bulletin_hashes([b.id for b in bulletins])
        new = [b for b in bulletins if b.id not in known]
        revised = [b for b in bulletins if b.id in known and known[b.id][0] != b.content_hash]
        completed = (
            [b for b in bulletins if b.id in full.completed and b.id in known and known[b.id][0] == b.content_hash]
            if full is not None
            else []
        )
        fresh = new + revised + completed
        work = submit(self.engine, [to_document(b) for b in fresh]) if fresh else Done([])
        self.events.feed_progress(feed, 0, len(bulletins), "extract")
        return _Pending(
            feed=feed, started=started, now=now, http_status=fetched.http_status, ok_state=ok_state,
            body_hash=body_hash, first_read=row is None or not row.get("last_success_at"), items=len(items),
            warnings=parsed.warnings, list_pages=list_pages, full=full, new=new, revised=revised,
            completed=completed, work=work,
        )

    def commit(self, p: _Pending) -> FeedResult:
        """Store one read source and its changes in one transaction."""
        changes = [c for found in p.work.get() for c in found]
        with self.store.transaction():
            if p.full is not None:
                self._save_pages(p.full, p.now)
            self.store.save_bulletins(p.new, p.revised + p.completed, fetched_at=p.now)
            new_ids = self.store.save_changes(changes, run_id=self.run_id, detected_at=p.now)
            saved = {**p.ok_state, "last_status": "ok", "body_sha256": p.body_hash}
            if p.full is not None and p.full.left:
                # Pages left over: the source is not marked as read, so the next scan reads it and goes on.
                saved.update(body_sha256=None, etag=None, last_modified=None)
            if p.new or p.first_read:
                # First read: a feed that never has an item still needs a date to go stale from.
                saved["last_new_item_at"] = p.now
            self.store.save_feed(p.feed.name, **saved)
        self.events.feed_progress(p.feed, p.items, p.items, "extract")
        pages = p.full.pages if p.full is not None else ()
        return FeedResult(
            p.feed.name,
            "ok",
            p.http_status,
            items=p.items,
            new_bulletins=len(p.new),
            revised_bulletins=len(p.revised),
            new_changes=tuple(new_ids),
            warnings=p.warnings + (p.full.warnings if p.full is not None else ()),
            elapsed=time.monotonic() - p.started,
            list_pages=p.list_pages,
            pages_read=sum(1 for page in pages if page.status == "ok"),
            pages_not_modified=sum(1 for page in pages if page.status == "not_modified"),
            pages_failed=sum(1 for page in pages if page.status == "failed"),
            pages_left=p.full.left if p.full is not None else 0,
        )

    def _full_text(self, feed: FeedConfig, bulletins: Sequence[Bulletin]) -> _FullText:
        """Read the linked pages of new and revised items (and of stored items still waiting for theirs).

        An unchanged item is never refetched; a page already cached is revalidated (If-None-Match /
        If-Modified-Since), so it costs a 304. Pages over page_limit wait for the next scan.
        """
        linked = [b for b in bulletins if b.link]
        known = self.store.bulletin_hashes([b.id for b in linked])
        cache = cached_pages(self.store, [b.link for b in linked if b.link])
        fresh = [b for b in linked if b.id not in known or known[b.id][0] != b.content_hash]
        waiting: list[Bulletin] = []  # stored without their page: over an earlier limit, or a retryable failure
        retry: list[Bulletin] = []
        for b in linked:
            if b.id in known and known[b.id][0] == b.content_hash:
                row = cache.get(b.link or "")
                if row is None:
                    waiting.append(b)
                elif row.retryable and not row.text:
                    retry.append(b)
        urls: list[str] = []
        for b in (*fresh, *waiting, *retry):
            if b.link not in urls:
                urls.append(b.link or "")
        limit = self.page_settings.limit
        chosen, over = urls[:limit], urls[limit:]
        retrying = {b.link for b in retry}
        left = sum(1 for url in over if url not in retrying)
        requests = []
        for url in chosen:
            row = cache.get(url)
            # Validators only with a text to fall back on: a 304 for a page we hold no text of tells nothing.
            validators = Validators(row.etag, row.last_modified) if row is not None and row.text else Validators()
            requests.append(PageRequest(url, validators, feed.content_selector))
        results: dict[str, PageText] = {}
        for done, page in enumerate(self.pages.map(lambda r: read_page(self.pages, r), requests), start=1):
            results[page.url] = page
            self.events.feed_progress(feed, done, len(requests), "pages")
        page_text: dict[str, str] = {}
        failures: list[PageText] = []
        for url, page in results.items():
            row = cache.get(url)
            text = page.text if page.status == "ok" else (row.text if row is not None else None)
            if page.status == "failed":
                failures.append(page)
            if text:
                page_text[url] = text
        texts: dict[str, str] = {}
        completed: set[str] = set()
        waiting_ids = {b.id for b in (*waiting, *retry)}
        for b in linked:
            if b.link not in results or b.link not in page_text:
                continue
            combined = combine(b.text, page_text[b.link])
            if b.id in waiting_ids:
                if combined == b.text:
                    continue  # the page adds nothing: the stored text stands
                completed.add(b.id)
            texts[b.id] = combined
        warnings = [
            f"full text of {page.url} not read ({page.error or 'no text'}); the item keeps its own text"
            for page in failures[:_NAMED_FAILURES]
        ]
        if len(failures) > _NAMED_FAILURES:
            warnings.append(f"full text of {len(failures) - _NAMED_FAILURES} more page(s) not read")
        if left:
            warnings.append(f"full text: {left} linked page(s) left for the next scan (page_limit {limit})")
        return _FullText(
            texts=texts,
            completed=frozenset(completed),
            pages=tuple(results[url] for url in chosen if url in results),
            left=left,
            warnings=tuple(warnings),
        )

    def _save_pages(self, full: _FullText, now: str) -> None:
        for page in full.pages:
            save_page(
                self.store,
                page.url,
                fetched_at=now,
                status="failed" if page.status == "failed" else "ok",
                http_status=page.http_status,
                etag=page.etag,
                last_modified=page.last_modified,
                text=page.text if page.status == "ok" else None,
                content_hash=page.content_hash if page.status == "ok" else None,
                error=page.error if page.status == "failed" else None,
            )


def pooled(extractor: Extractor) -> Extractor:
    """The rule engine spread over worker processes where that pays (two cores, big feeds), else as it is."""
    from policywatch.extract.engine import Engine
    from policywatch.extract.pool import PooledExtractor, workers_available

    workers = workers_available()
    if isinstance(extractor, Engine) and workers > 0:
        return PooledExtractor(extractor, workers)
    return extractor


def run_scan(
    config: FeedsConfig,
    store: Store,
    engine: Callable[[], Extractor],
    *,
    fetcher: Fetcher | None = None,
    events: ScanEvents | None = None,
    only: Sequence[str] | None = None,
) -> RunSummary:
    """Scan the configured feeds (or those named in `only`) into the store; return what happened.

    `engine` is a factory so that the rule engine (and spaCy) load only when a feed has something new.
    """
    events = events or ScanEvents()
    feeds = [f for f in config.feeds if not only or f.name in only]
    started_at = utcnow()
    run_id = store.start_run(str(config.path))
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(FetchLimits(**config.fetch))  # type: ignore[arg-type]
    pages = PageFetcher(fetcher, delay=config.pages.delay)
    results: list[FeedResult] = []
    scan: _Scan | None = None
    try:
        scan = _Scan(store, engine, fetcher, events, run_id, pages, config.pages)
        # Sources are read one after another while their extraction runs on the workers (when there are
        # any); each is committed, in order, as soon as its changes are in.
        inflight: deque[_Pending] = deque()

        def finish(result: FeedResult, feed: FeedConfig) -> None:
            results.append(result)
            events.feed_finished(feed, result)

        for index, feed in enumerate(feeds):
            events.feed_started(feed, index, len(feeds))
            read = scan.read(feed)
            if isinstance(read, FeedResult):
                finish(read, feed)
            else:
                inflight.append(read)
            while inflight and (len(inflight) > IN_FLIGHT or inflight[0].work.ready()):
                pending = inflight.popleft()
                finish(scan.commit(pending), pending.feed)
        while inflight:
            pending = inflight.popleft()
            finish(scan.commit(pending), pending.feed)
    finally:
        if scan is not None:
            scan.close()
        if own_fetcher:
            fetcher.close()
        summary_counts = {
            "feeds_ok": sum(1 for r in results if r.status == "ok"),
            "feeds_unchanged": sum(1 for r in results if r.status == "unchanged"),
            "feeds_failed": sum(1 for r in results if r.status == "failed"),
            "new_bulletins": sum(r.new_bulletins for r in results),
            "revised_bulletins": sum(r.revised_bulletins for r in results),
            "new_changes": sum(len(r.new_changes) for r in results),
            "status": "finished" if len(results) == len(feeds) else "interrupted",
        }
        store.finish_run(run_id, **summary_counts)
    changes = NewChanges(store, run_id)
    order = {feed.name: index for index, feed in enumerate(feeds)}
    results.sort(key=lambda r: order.get(r.name, len(order)))
    return RunSummary(run_id=run_id, started_at=started_at, finished_at=utcnow(), feeds=tuple(results), changes=changes)


@dataclass(frozen=True)
class SourceCheck:
    """What one source yields right now, read without touching the database (`feeds check`)."""

    name: str
    url: str
    kind: str
    status: str  # "ok", "fetch_failed" or "parse_failed"
    http_status: int | None
    error: str | None
    total_items: int
    items: tuple[ParsedItem, ...]
    """The first items, in source order."""
    list_pages: tuple[PageInfo, ...] = ()
    """Per list page: URL, items, HTTP status, error, encoding (one entry for a feed)."""
    pages: tuple[PageText | None, ...] = ()
    """Full text of the shown items' linked pages, where read (None where not tried)."""
    warnings: tuple[str, ...] = ()
    elapsed: float = 0.0


def check_source(
    config: FeedsConfig,
    feed: FeedConfig,
    *,
    items: int = 10,
    full_text: int | None = None,
    fetcher: Fetcher | None = None,
) -> SourceCheck:
    """Fetch and parse a source now (following list pages) and read up to full_text linked pages.

    full_text None reads 3 pages for a source with `full_text: true` and none otherwise. Nothing is cached
    or stored: every request is a plain GET.
    """
    started = time.monotonic()
    own = fetcher is None
    fetcher = fetcher or Fetcher(FetchLimits(**config.fetch))  # type: ignore[arg-type]
    pages = PageFetcher(fetcher, delay=config.pages.delay)
    base = {"name": feed.name, "url": feed.url, "kind": feed.kind.value}
    try:
        fetched = fetcher.fetch(feed.url)
        pages.note(fetched.final_url)
        if fetched.status != "ok":
            return SourceCheck(
                **base,
                status="fetch_failed",
                http_status=fetched.http_status,
                error=fetched.error,
                total_items=0,
                items=(),
                elapsed=time.monotonic() - started,
            )
        try:
            parser = parser_for(feed)
            listed: tuple[PageInfo, ...]
            if isinstance(parser, HtmlNoticeParser):
                read = read_list(parser, fetched, pages.fetch)
                parsed, listed = read.feed, read.pages
            else:
                parsed = parser.parse(fetched.body or b"", url=fetched.final_url, content_type=fetched.content_type)
                listed = (PageInfo(fetched.final_url, len(parsed.items), fetched.http_status),)
        except ParseError as exc:
            return SourceCheck(
                **base,
                status="parse_failed",
                http_status=fetched.http_status,
                error=str(exc),
                total_items=0,
                items=(),
                elapsed=time.monotonic() - started,
            )
        shown = parsed.items[: max(0, items)]
        wanted = (3 if feed.full_text else 0) if full_text is None else max(0, full_text)
        requests = [PageRequest(i.link, Validators(), feed.content_selector) for i in shown if i.link][:wanted]
        read_pages = {p.url: p for p in pages.map(lambda r: read_page(pages, r), requests)}
        return SourceCheck(
            **base,
            status="ok",
            http_status=fetched.http_status,
            error=None,
            total_items=len(parsed.items),
            items=shown,
            list_pages=listed,
            pages=tuple(read_pages.get(i.link or "") for i in shown),
            warnings=parsed.warnings,
            elapsed=time.monotonic() - started,
        )
    finally:
        if own:
            fetcher.close()
