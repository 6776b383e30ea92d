"""The Store: opening, migrating and transactions, and the queries for feeds, bulletins, changes and runs."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policywatch.models import Bulletin, Change, Severity
from policywatch.store.schema import MIGRATIONS, SCHEMA_VERSION, utcnow

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import sqlite_utils

DEFAULT_DB = "policywatch.db"
BUSY_TIMEOUT_MS = 30_000


class StoreError(Exception):
    """The database cannot be opened or used; str() is a one-line reason naming the file."""


class StoreBusy(StoreError):
    """Another policywatch holds the scan lock of this database; str() names it and when it started."""


#: SQLite's words for a file that is damaged rather than merely busy or unwritable.
_DAMAGED = ("malformed", "not a database", "corrupt", "file is encrypted")


def describe_error(path: str | None, exc: sqlite3.Error) -> str | None:
    """A one-line, user-facing reason for an sqlite3 error on the database at path (None: not a known kind)."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    lowered = reason.lower()
    where = f"{path}: " if path else ""
    if any(word in lowered for word in _DAMAGED):
        recover = f", or try `sqlite3 {path} .recover`" if path else ""
        return f"{where}the database is damaged ({reason}); restore it from a backup{recover}"
    if "locked" in lowered or "busy" in lowered:
        return f"{where}the database is busy (another program is writing to it); try again"
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return f"{where}cannot write the database: {reason}"
    if "disk i/o" in lowered or "full" in lowered:
        return f"{where}cannot write the database ({reason}); check the disk"
    return None


def check_location(path: str | os.PathLike[str]) -> None:
    """Raise StoreError when path cannot hold a policywatch database; never creates or changes anything.

    Catches what sqlite3 would only report as "unable to open database file": a directory, a missing
    parent, a parent that is a file, and a file that is not SQLite at all.
    """
    shown = str(path)
    target = Path(shown)
    parent = target.parent
    if target.is_dir():
        raise StoreError(f"{shown}: is a directory, not a database file")
    if not target.exists():
        if not parent.exists():
            raise StoreError(f"{shown}: cannot create the database: directory {str(parent)!r} does not exist")
        if not parent.is_dir():
            raise StoreError(f"{shown}: cannot create the database: {str(parent)!r} is a file, not a directory")
        return
    if target.stat().st_size > 0:
        try:
            with open(target, "rb") as handle:
                header = handle.read(16)
        except OSError as exc:
            raise StoreError(f"{shown}: cannot read the database: {exc.strerror}") from None
        if header != b"SQLite format 3\x00":
            raise StoreError(f"{shown}: not a SQLite database (left untouched)")


def rules_version_seen(path: str | os.PathLike[str], version: str) -> bool:
    """True when the database at path already holds changes found by rules of this version.

    Read-only. A missing or older file answers False; a file that is not a usable database raises
    StoreError (it is left untouched). A scan uses it to skip compiling rules up front when the same
    rules have already run on this history.
    """
    target = Path(path)
    if not target.is_file():
        return False
    try:
        conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return False
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        row = conn.execute("SELECT 1 FROM changes WHERE rules_version = ? LIMIT 1", [version]).fetchone()
    except sqlite3.OperationalError:
        return False  # no changes table yet, or busy: compile up front, which is always safe
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a usable SQLite database ({exc}); left untouched") from None
    finally:
        conn.close()
    return row is not None


# --- records read back ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedState:
    """What the database remembers about a feed between scans."""

    name: str
    etag: str | None
    last_modified: str | None
    body_sha256: str | None
    consecutive_failures: int


@dataclass(frozen=True)
class FeedHealth:
    """A feed's health as `feeds list` shows it."""

    name: str
    url: str
    kind: str
    jurisdiction: str
    language: str
    last_fetched_at: str | None
    last_success_at: str | None
    last_new_item_at: str | None
    last_status: str | None
    last_http_status: int | None
    last_error: str | None
    consecutive_failures: int
    items: int
    newest_published: str | None


_HEALTH_FIELDS = tuple(FeedHealth.__dataclass_fields__)


@dataclass(frozen=True)
class StoredChange:
    """A change as stored, with the bulletin it came from."""

    change: Change
    detected_at: str
    run_id: int | None
    feed: str | None
    title: str | None
    link: str | None
    published: str | None

    def record(self) -> dict[str, Any]:
        """The contract record plus where it came from, for JSON and CSV output."""
        out = self.change.contract()
        out.update(
            detected_at=self.detected_at,
            feed=self.feed,
            title=self.title,
            link=self.link,
            published=self.published,
        )
        return out


@dataclass(frozen=True)
class ChangeFilter:
    """Which stored changes to list; every field narrows, None means any."""

    markets: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    severity_min: Severity | None = None
    since: str | None = None  # ISO timestamp: detected at or after
    run_id: int | None = None
    ids: tuple[str, ...] = ()


#: EU member states: a change issued by the EU applies to each of these markets.
EU_MEMBERS = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE HU".split())


def _dumps(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _loads(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    try:
        loaded = json.loads(value)
    except json.JSONDecodeError:
        return ()
    return tuple(str(v) for v in loaded) if isinstance(loaded, list) else ()


def change_from_row(row: dict[str, Any]) -> Change:
    """Rebuild a Change from a `changes` row."""
    return Change(
        id=row["id"],
        bulletin_id=row["bulletin_id"],
        rule_id=row["rule_id"],
        rules_version=row["rules_version"] or "",
        category=row["category"],
        direction=row["direction"],
        severity=row["severity"],
        jurisdiction=row["jurisdiction"],
        affected_countries=_loads(row["affected_countries"]),
        hs_codes=_loads(row["hs_codes"]),
        new_rate_percent=row["new_rate_percent"],
        old_rate_percent=row["old_rate_percent"],
        effective_date=row["effective_date"],
        evidence=row["evidence"] or "",
    )


# --- the store --------------------------------------------------------------------------------------


class Store:
    """An open policywatch database. Use `Store.open(path)`; close it (or use it as a context manager).

    Reads go straight through sqlite3; sqlite-utils (slow to import) is loaded on the first write, so
    read-only commands start fast.
    """

    def __init__(self, conn: sqlite3.Connection, path: str):
        self.conn = conn
        self.path = path
        self._db: sqlite_utils.Database | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils view of the connection, for writes and schema changes."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return list(self._iter_rows(sql, params))

    def _iter_rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        cursor = self.conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        while batch := cursor.fetchmany(500):
            for row in batch:
                yield dict(zip(names, row, strict=True))

    # opening -----------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, verify: bool = False, reader: bool = False) -> Store:
        """Open (creating and migrating as needed) the database at path.

        Raises StoreError, leaving the file untouched, when it is not a SQLite database, is corrupt, or cannot
        be created. With verify, SQLite's quick_check reads every page first, so damage deep in the file is
        found before a writer adds to it (a scan opens this way; readers do not pay for it). A reader leaves
        the journal mode as it is (a writer turns on WAL), so a file it can read is not changed by reading.
        """
        shown = str(path or DEFAULT_DB)
        check_location(shown)
        try:
            conn = sqlite3.connect(shown, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{shown}: cannot open the database: {exc}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Reading the schema first detects a corrupt file before anything is written to it.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if verify:
                verdict = [" ".join(str(row[0]).split()) for row in conn.execute("PRAGMA quick_check(3)")]
                if verdict != ["ok"]:
                    conn.close()
                    found = "; ".join(v.replace("*** in database main ***", "").strip() for v in verdict)[:160]
                    raise StoreError(
                        f"{shown}: the database is damaged (SQLite's check found: {found}); left untouched; "
                        f"restore it from a backup, or try `sqlite3 {shown} .recover`"
                    )
            store = cls(conn, shown)
            if not reader and conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            store._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            known = describe_error(shown, exc)
            if known is not None and "damaged" not in known:
                raise StoreError(known) from None
            raise StoreError(f"{shown}: not a usable SQLite database ({exc}); left untouched") from None
        return store

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_migrations" in tables:
            done = {r[0] for r in self.conn.execute("SELECT version FROM schema_migrations")}
            if done >= {version for version, _, _ in MIGRATIONS} and max(done) <= SCHEMA_VERSION:
                return  # up to date: no write, no sqlite-utils
        db = self.db
        if "schema_migrations" not in tables:
            with self.transaction():
                db["schema_migrations"].create(
                    {"version": int, "name": str, "applied_at": str}, pk="version", if_not_exists=True
                )
        done = {row["version"] for row in db["schema_migrations"].rows}
        newest = max(done, default=0)
        if newest > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: made by a newer policywatch (schema {newest}, this one knows {SCHEMA_VERSION}); upgrade"
            )
        for version, name, apply in MIGRATIONS:
            if version in done:
                continue
            with self.transaction():
                # Another process may have migrated while we waited for the write lock.
                if db.execute("SELECT 1 FROM schema_migrations WHERE version = ?", [version]).fetchone():
                    continue
                apply(db)
                db["schema_migrations"].insert({"version": version, "name": name, "applied_at": utcnow()})

    @property
    def schema_version(self) -> int:
        """The newest migration applied to this file."""
        row = self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; takes the write lock at once (BEGIN IMMEDIATE) so writers queue cleanly."""
        conn = self.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            # Past the busy timeout: someone else has held the write lock for that long.
            raise StoreError(describe_error(self.path, exc) or f"{self.path}: {exc}") from None
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # feeds -------------------------------------------------------------------------------------------

    def feed_state(self, name: str) -> FeedState | None:
        """What was remembered about a feed at its last fetch."""
        row = self.conn.execute(
            "SELECT name, etag, last_modified, body_sha256, consecutive_failures FROM feeds WHERE name = ?", [name]
        ).fetchone()
        if row is None:
            return None
        return FeedState(
            name=row[0], etag=row[1], last_modified=row[2], body_sha256=row[3], consecutive_failures=int(row[4] or 0)
        )

    def feed_row(self, name: str) -> dict[str, Any] | None:
        """The stored row of a feed, as a dict."""
        rows = self._rows("SELECT * FROM feeds WHERE name = ?", [name])
        return rows[0] if rows else None

    def save_feed(self, name: str, **fields: Any) -> None:
        """Insert or update a feed's row with the given columns."""
        self.db["feeds"].upsert({"name": name, **fields}, pk="name")

    def feeds_health(self, names: Iterable[str] | None = None) -> list[FeedHealth]:
        """Every stored feed (or those named) with its health and item count, ordered by name."""
        sql = """
            SELECT f.*, count(b.id) AS items, max(b.published) AS newest_published
            FROM feeds f LEFT JOIN bulletins b ON b.feed = f.name
            GROUP BY f.name ORDER BY f.name
        """
        wanted = set(names) if names is not None else None
        out = []
        for row in self._rows(sql):
            if wanted is not None and row["name"] not in wanted:
                continue
            row["consecutive_failures"] = int(row["consecutive_failures"] or 0)
            row["items"] = int(row["items"])
            out.append(FeedHealth(**{name: row[name] for name in _HEALTH_FIELDS}))
        return out

    # bulletins ---------------------------------------------------------------------------------------

    def bulletin_hashes(self, ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """For the given bulletin ids already stored: id -> (content_hash, revision)."""
        out: dict[str, tuple[str, int]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT id, content_hash, revision FROM bulletins WHERE id IN ({marks})", chunk
            ):
                out[row[0]] = (row[1], int(row[2] or 1))
        return out

    def save_bulletins(self, new: Sequence[Bulletin], revised: Sequence[Bulletin], fetched_at: str) -> None:
        """Store new bulletins, and revised ones with their previous text kept in bulletin_revisions."""
        if new:
            self.db["bulletins"].insert_all(
                ({**_bulletin_row(b), "fetched_at": fetched_at, "updated_at": fetched_at, "revision": 1} for b in new),
                pk="id",
                ignore=True,
            )
        for bulletin in revised:
            old = self.conn.execute(
                "SELECT title, text, content_hash, fetched_at, revision, updated_at FROM bulletins WHERE id = ?",
                [bulletin.id],
            ).fetchone()
            if old is None:
                continue
            revision = int(old[4] or 1)
            self.db["bulletin_revisions"].insert(
                {
                    "bulletin_id": bulletin.id,
                    "revision": revision,
                    "title": old[0],
                    "text": old[1],
                    "content_hash": old[2],
                    "fetched_at": old[5] or old[3],
                },
                pk=("bulletin_id", "revision"),
                replace=True,
            )
            self.db["bulletins"].update(
                bulletin.id, {**_bulletin_row(bulletin), "updated_at": fetched_at, "revision": revision + 1}
            )

    def count(self, table: str) -> int:
        """Rows in a table (0 when it does not exist)."""
        exists = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()
        if not exists:
            return 0
        return int(self.conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0])

    # changes -----------------------------------------------------------------------------------------

    def save_changes(self, changes: Sequence[Change], *, run_id: int | None, detected_at: str) -> list[str]:
        """Store changes not seen before (by id); return the ids that were new."""
        if not changes:
            return []
        ids = [c.id for c in changes]
        known: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(r[0] for r in self.conn.execute(f"SELECT id FROM changes WHERE id IN ({marks})", chunk))
        fresh = []
        seen: set[str] = set()
        for change in changes:
            if change.id in known or change.id in seen:
                continue
            seen.add(change.id)
            fresh.append(change)
        if fresh:
            self.db["changes"].insert_all(
                (
                    {
                        **change.contract(),
                        "affected_countries": _dumps(change.affected_countries),
                        "hs_codes": _dumps(change.hs_codes),
                        "severity_rank": Severity.parse(change.severity).rank,
                        "detected_at": detected_at,
                        "run_id": run_id,
                    }
                    for change in fresh
                ),
                pk="id",
                ignore=True,
            )
        return [c.id for c in fresh]

    def query_changes(self, flt: ChangeFilter = ChangeFilter(), *, limit: int | None = None) -> list[StoredChange]:
        """Stored changes matching the filter, most severe and newest first."""
        return list(self.iter_changes(flt, limit=limit))

    def iter_changes(self, flt: ChangeFilter = ChangeFilter(), *, limit: int | None = None) -> Iterator[StoredChange]:
        """`query_changes`, read from the database as it is iterated (a long history is never held whole)."""
        where: list[str] = []
        params: list[Any] = []
        if flt.markets:
            markets = {m.upper() for m in flt.markets}
            if markets & EU_MEMBERS:
                markets.add("EU")
            where.append(f"c.jurisdiction IN ({','.join('?' * len(markets))})")
            params.extend(sorted(markets))
        if flt.categories:
            where.append(f"c.category IN ({','.join('?' * len(flt.categories))})")
            params.extend(flt.categories)
        if flt.severity_min is not None:
            where.append("c.severity_rank >= ?")
            params.append(flt.severity_min.rank)
        if flt.since:
            where.append("c.detected_at >= ?")
            params.append(flt.since)
        if flt.run_id is not None:
            where.append("c.run_id = ?")
            params.append(flt.run_id)
        if flt.ids:
            where.append(f"c.id IN ({','.join('?' * len(flt.ids))})")
            params.extend(flt.ids)
        sql = (
            "SELECT c.*, b.feed AS b_feed, b.title AS b_title, b.link AS b_link, b.published AS b_published "
            "FROM changes c LEFT JOIN bulletins b ON b.id = c.bulletin_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY c.severity_rank DESC, coalesce(c.effective_date, b.published, c.detected_at) DESC, c.id"
            + (f" LIMIT {int(limit)}" if limit else "")
        )
        for row in self._iter_rows(sql, params):
            yield StoredChange(
                change=change_from_row(row),
                detected_at=row["detected_at"],
                run_id=row["run_id"],
                feed=row["b_feed"],
                title=row["b_title"],
                link=row["b_link"],
                published=row["b_published"],
            )

    def run_changes_by_severity(self, run_id: int) -> dict[str, int]:
        """How many changes a scan stored, per severity (levels it stored none of are absent)."""
        rows = self.conn.execute("SELECT severity, count(*) FROM changes WHERE run_id = ? GROUP BY severity", [run_id])
        return dict(rows.fetchall())

    # runs --------------------------------------------------------------------------------------------

    def start_run(self, feeds_file: str) -> int:
        """Record the start of a scan; return its run id."""
        with self.transaction():
            table = self.db["runs"].insert({"started_at": utcnow(), "feeds_file": feeds_file, "status": "running"})
        return int(table.last_pk)

    def finish_run(self, run_id: int, **counts: Any) -> None:
        """Record a scan's end and its counts."""
        with self.transaction():
            self.db["runs"].update(run_id, {"finished_at": utcnow(), **counts})

    def last_runs(self, n: int = 10) -> list[dict[str, Any]]:
        """The newest runs, newest first."""
        return self._rows("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [n])

    @contextlib.contextmanager
    def scan_lock(self) -> Iterator[None]:
        """Hold the scan lock of this database for the block; raise StoreBusy at once if another scan has it.

        The lock is an OS advisory lock (flock) on `<db>.lock` beside the database, so the kernel releases
        it when its holder exits, however it exits (SIGKILL included): a dead scan never blocks the next
        one. The file stays (empty) between scans; removing it while a scan runs would defeat the lock.
        Where flock does not exist (Windows) scans are not serialised; SQLite still keeps each write whole.
        """
        lock_path = f"{self.path}.lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"{lock_path}: cannot create the scan lock: {exc.strerror}") from None
        try:
            if not _try_lock(fd):
                who = _holder(fd)
                raise StoreBusy(
                    f"{self.path}: another policywatch scan is running on this database{who}; "
                    "this one did nothing; try again when it has finished"
                )
            # Who holds it, for the message a second scan prints.
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()} {utcnow()}\n".encode())
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # releases the lock

    def close_abandoned_runs(self) -> list[dict[str, Any]]:
        """Mark runs still "running" as "interrupted" and return them (id, started_at, feeds_file).

        Call it holding the scan lock: then no live scan owns such a run, so its process was killed or
        crashed. What it committed (one transaction per feed) is kept; the next scan does the rest.
        """
        stale = self._rows("SELECT id, started_at, feeds_file FROM runs WHERE status = 'running' ORDER BY id")
        if stale:
            with self.transaction():
                self.conn.executemany(
                    "UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'",
                    [[row["id"]] for row in stale],
                )
        return stale


def _holder(fd: int) -> str:
    """ " (pid N, started T)" from a held lock file, or "" when it cannot be read."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        words = os.read(fd, 200).decode("utf-8", "replace").split()
    except OSError:
        return ""
    return f" (pid {words[0]}, started {words[1]})" if len(words) >= 2 else ""


def _try_lock(fd: int) -> bool:
    """Take the advisory lock on fd without waiting; closing fd (or dying) releases it."""
    if fcntl is None:  # Windows: no flock; scans there are not serialised (see scan_lock)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _bulletin_row(b: Bulletin) -> dict[str, Any]:
    return {
        "id": b.id,
        "feed": b.feed,
        "guid": b.guid,
        "title": b.title,
        "link": b.link,
        "published": b.published,
        "text": b.text,
        "content_hash": b.content_hash,
        "language": b.language,
        "jurisdiction": b.jurisdiction,
    }
