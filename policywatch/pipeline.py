"""The scan: every configured feed fetched, parsed, stored and read for changes, one transaction per feed.

`run_scan` returns a RunSummary and never prints; progress goes to an optional ScanEvents listener.
A feed that fails is recorded on its row and in the summary, and the scan goes on with the next.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from policywatch.config import FeedConfig, FeedsConfig
from policywatch.models import Bulletin, Change, Document, Severity
from policywatch.sources import Fetcher, FetchLimits, ParsedItem, ParseError, Validators, parser_for
from policywatch.store import ChangeFilter, Store, StoredChange, utcnow

#: Items are stored and read in chunks, so a huge feed never sits in memory as bulletins and changes at once.
CHUNK = 500


class Extractor(Protocol):
    """What the scan needs from the rule engine: changes per document, in order."""

    def extract(self, documents: Iterable[Document]) -> Iterator[list[Change]]:
        """The changes in each document, in input order."""
        ...


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


@dataclass(frozen=True)
class RunSummary:
    """The outcome of a scan."""

    run_id: int
    started_at: str
    finished_at: str
    feeds: tuple[FeedResult, ...]
    changes: tuple[StoredChange, ...] = field(default=())

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
        for stored in self.changes:
            counts[stored.change.severity] = counts.get(stored.change.severity, 0) + 1
        return counts


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


class _Scan:
    def __init__(
        self, store: Store, engine: Callable[[], Extractor], fetcher: Fetcher, events: ScanEvents, run_id: int
    ):
        self.store = store
        self._engine_factory = engine
        self._engine: Extractor | None = None
        self.fetcher = fetcher
        self.events = events
        self.run_id = run_id

    @property
    def engine(self) -> Extractor:
        # Built on first need: a scan where nothing is new never loads spaCy.
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    def feed(self, feed: FeedConfig) -> FeedResult:
        started = time.monotonic()
        state = self.store.feed_state(feed.name)
        row = self.store.feed_row(feed.name)
        same_source = row is not None and row.get("url") == feed.url
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
        if state is not None and same_source and state.body_sha256 == body_hash:
            with self.store.transaction():
                self.store.save_feed(feed.name, **ok_state, last_status="unchanged")
            return FeedResult(feed.name, "unchanged", fetched.http_status, elapsed=time.monotonic() - started)
        try:
            parsed = parser_for(feed.kind.value).parse(body, url=fetched.final_url, content_type=fetched.content_type)
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
        new_ids: list[str] = []
        n_new = n_revised = 0
        seen: set[str] = set()
        with self.store.transaction():
            for start in range(0, len(items), CHUNK):
                bulletins = []
                for item in items[start : start + CHUNK]:
                    bulletin = to_bulletin(feed, item, parsed.language)
                    if bulletin.id not in seen:
                        seen.add(bulletin.id)
                        bulletins.append(bulletin)
                known = self.store.bulletin_hashes([b.id for b in bulletins])
                new = [b for b in bulletins if b.id not in known]
                revised = [b for b in bulletins if b.id in known and known[b.id][0] != b.content_hash]
                self.store.save_bulletins(new, revised, fetched_at=now)
                n_new += len(new)
                n_revised += len(revised)
                fresh = new + revised
                if fresh:
                    changes = [c for found in self.engine.extract(to_document(b) for b in fresh) for c in found]
                    new_ids.extend(self.store.save_changes(changes, run_id=self.run_id, detected_at=now))
                self.events.feed_progress(feed, min(start + CHUNK, len(items)), len(items), "extract")
            self.store.save_feed(
                feed.name,
                **ok_state,
                last_status="ok",
                body_sha256=body_hash,
                **({"last_new_item_at": now} if n_new else {}),
            )
        return FeedResult(
            feed.name,
            "ok",
            fetched.http_status,
            items=len(items),
            new_bulletins=n_new,
            revised_bulletins=n_revised,
            new_changes=tuple(new_ids),
            warnings=parsed.warnings,
            elapsed=time.monotonic() - started,
        )


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
    results: list[FeedResult] = []
    try:
        scan = _Scan(store, engine, fetcher, events, run_id)
        for index, feed in enumerate(feeds):
            events.feed_started(feed, index, len(feeds))
            result = scan.feed(feed)
            results.append(result)
            events.feed_finished(feed, result)
    finally:
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
    changes = tuple(store.query_changes(ChangeFilter(run_id=run_id)))
    return RunSummary(run_id=run_id, started_at=started_at, finished_at=utcnow(), feeds=tuple(results), changes=changes)
