"""The history database under faults: concurrent scans, a scan killed mid-way, damaged or impossible files.

Real processes where the fault needs one (two scans at once, SIGKILL, SIGTERM), real SQLite files in tmp_path,
feeds served from 127.0.0.1. A scan holds an advisory lock beside the database (`<db>.lock`) for its whole
run: a second scan refuses at once with a clear message (exit 3) instead of interleaving feed writes, and
a killed scan's lock dies with it. The killed scan's run row stays "running" until the next scan, which
reports it, marks it "interrupted" and does the rest of the work.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def rss(feed: str, count: int) -> bytes:
    """A feed of count items; the first announces a tariff (so a scan stores a change), the rest do not."""
    tariff = (
        "<title>Additional duty of 25% on steel products of Canadian origin</title><description>From April 1, "
        "2025, steel products originating in Canada will be subject to an additional ad valorem duty of 25 "
        "percent.</description>"
    )
    items = "".join(
        f"<item><link>http://127.0.0.1/{feed}/{i}</link><guid>{feed}-{i}</guid>"
        "<pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>"
        + (
            tariff
            if i == 0
            else f"<title>{feed} notice {i}: planned outage</title>"
            f"<description>The system will not be available on day {i} for maintenance.</description>"
        )
        + "</item>"
        for i in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{feed}</title>{items}</channel></rss>'.encode()


class Feeds:
    """A threaded HTTP server on 127.0.0.1; a path in `hold` answers only once its event is set."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        self.pages = pages
        self.hold: dict[str, threading.Event] = {}
        self.asked: dict[str, threading.Event] = {path: threading.Event() for path in pages}
        self.hits: dict[str, int] = dict.fromkeys(pages, 0)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server interface)
                path = self.path
                if path not in owner.pages:
                    self.send_error(404)
                    return
                owner.hits[path] += 1
                owner.asked[path].set()
                gate = owner.hold.get(path)
                if gate is not None:
                    gate.wait(30)
                body = owner.pages[path]
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        for gate in self.hold.values():
            gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served():
    made: list[Feeds] = []

    def start(pages: dict[str, bytes]) -> Feeds:
        made.append(Feeds(pages))
        return made[-1]

    yield start
    for feeds in made:
        feeds.close()


def feeds_file(tmp_path: Path, urls: dict[str, str], name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        "fetch: {read_timeout: 20, total_timeout: 40, retries: 0}\nfeeds:\n"
        + "".join(
            f"  - {{name: {feed}, url: '{url}', kind: feed, jurisdiction: US, language: en}}\n"
            for feed, url in urls.items()
        ),
        encoding="utf-8",
    )
    return path


def child_env() -> dict[str, str]:
    """This environment for a policywatch child: the checkout first on the path, no colour, no stray settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_") or k == "POLICYWATCH_RULES"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    return env


def start_scan(feeds: Path, db: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "policywatch", "scan", "--feeds", str(feeds), "--db", str(db), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=feeds.parent,
    )


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def snapshot(db: Path) -> dict[str, set]:
    """What a scan leaves that must never be lost or doubled: bulletin and change ids, feed states."""
    return {
        "bulletins": set(query(db, "SELECT id, feed, guid, content_hash FROM bulletins")),
        "changes": set(query(db, "SELECT id, bulletin_id, rule_id FROM changes")),
        "feeds": set(query(db, "SELECT name, body_sha256, consecutive_failures FROM feeds")),
    }


def assert_sound(db: Path) -> None:
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT count(*), count(DISTINCT id) FROM bulletins")[0] == tuple(
        [query(db, "SELECT count(*) FROM bulletins")[0][0]] * 2
    )
    # One bulletin per (feed, guid): a duplicate would mean two scans stored the same item twice.
    assert query(db, "SELECT feed, guid FROM bulletins GROUP BY feed, guid HAVING count(*) > 1") == []


# --- two scans at once --------------------------------------------------------------------------------------


def test_two_scans_at_once_one_scans_and_the_other_refuses_cleanly(run, served, tmp_path):
    server = served({"/slow.xml": rss("slow", 5), "/fast.xml": rss("fast", 3)})
    server.hold["/slow.xml"] = threading.Event()
    feeds = feeds_file(tmp_path, {"slow": f"{server.base}/slow.xml", "fast": f"{server.base}/fast.xml"})
    db = tmp_path / "pw.db"

    first, second = start_scan(feeds, db), start_scan(feeds, db)  # started together
    try:
        assert server.asked["/slow.xml"].wait(60), "no scan reached the slow feed"
        # One scan holds the lock and waits on the slow feed; the other must give up on its own, at once.
        deadline = time.monotonic() + 60
        while first.poll() is None and second.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        refused, scanning = (first, second) if first.poll() is not None else (second, first)
        assert refused.poll() is not None, "the second scan did not refuse while the first was running"
        assert scanning.poll() is None
    finally:
        server.hold["/slow.xml"].set()
    out_scanning, err_scanning = scanning.communicate(timeout=60)
    out_refused, err_refused = refused.communicate(timeout=60)

    assert scanning.returncode == 0, err_scanning
    assert refused.returncode == 3, err_refused
    assert "another policywatch scan is running on this database (pid " in err_refused
    assert "this one did nothing" in err_refused
    for text in (out_scanning, err_scanning, out_refused, err_refused):
        assert "Traceback" not in text and "database is locked" not in text
    assert server.hits == {"/slow.xml": 1, "/fast.xml": 1}  # the refused scan fetched nothing
    assert_sound(db)
    assert query(db, "SELECT count(*) FROM bulletins") == [(8,)]
    assert query(db, "SELECT count(*) FROM changes") == [(2,)]
    assert query(db, "SELECT status FROM runs") == [("finished",)]

    # The lock went with its holder: the next scan runs, and finds nothing new.
    again = run("scan", "--feeds", feeds, "--db", db)
    assert again.exit_code == 0, again.stderr
    assert "Nothing new since the last scan" in again.stdout
    assert query(db, "SELECT count(*) FROM bulletins") == [(8,)]


def test_a_scan_refuses_while_the_lock_is_held_in_process(run, tmp_path):
    """The same refusal through the CLI in-process, holding the lock with the Store API."""
    from policywatch.store import Store

    (tmp_path / "one.xml").write_bytes(rss("one", 2))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - {name: one, url: one.xml, kind: feed, jurisdiction: US, language: en}\n")
    db = tmp_path / "pw.db"
    with Store.open(db) as holder, holder.scan_lock():
        result = run("scan", "--feeds", feeds, "--db", db)
        assert result.exit_code == 3
        assert f"pid {os.getpid()}" in result.stderr
        assert query(db, "SELECT count(*) FROM runs") == [(0,)]
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    assert (tmp_path / "pw.db.lock").read_text() == ""  # released and emptied


def test_a_write_lock_held_past_the_busy_timeout_is_a_clear_error(run, tmp_path, monkeypatch):
    """Another program holding SQLite's write lock (not a scan): a clear exit 3, never a traceback."""
    import policywatch.store.core as core

    (tmp_path / "one.xml").write_bytes(rss("one", 2))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - {name: one, url: one.xml, kind: feed, jurisdiction: US, language: en}\n")
    db = tmp_path / "pw.db"
    core.Store.open(db).close()
    monkeypatch.setattr(core, "BUSY_TIMEOUT_MS", 200)
    other = sqlite3.connect(db)
    other.execute("BEGIN IMMEDIATE")
    try:
        result = run("scan", "--feeds", feeds, "--db", db)
    finally:
        other.rollback()
        other.close()
    assert result.exit_code == 3
    assert "the database is busy (another program is writing to it); try again" in result.stderr
    assert query(db, "SELECT count(*) FROM bulletins") == [(0,)]


# --- a scan killed mid-way ----------------------------------------------------------------------------------


def _reference(run, tmp_path: Path, urls: dict[str, str]) -> dict[str, set]:
    """What one uninterrupted scan of the same feeds stores."""
    feeds = feeds_file(tmp_path, urls, "reference.yaml")
    db = tmp_path / "reference.db"
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    return snapshot(db)


def test_sigkill_while_a_feed_stalls_then_a_rerun_completes_the_work(run, served, tmp_path):
    names = ("a", "b", "stall", "d", "e")
    server = served({f"/{n}.xml": rss(n, 4) for n in names})
    urls = {n: f"{server.base}/{n}.xml" for n in names}
    feeds = feeds_file(tmp_path, urls)
    db = tmp_path / "pw.db"
    server.hold["/stall.xml"] = threading.Event()

    scan = start_scan(feeds, db)
    assert server.asked["/stall.xml"].wait(60), scan.communicate(timeout=5)
    scan.send_signal(signal.SIGKILL)
    scan.wait(timeout=30)
    assert scan.returncode == -signal.SIGKILL

    assert_sound(db)
    assert query(db, "SELECT id, status, finished_at FROM runs") == [(1, "running", None)]
    assert {f for (f,) in query(db, "SELECT DISTINCT feed FROM bulletins")} == {"a", "b"}
    assert query(db, "SELECT count(*) FROM bulletins") == [(8,)]

    server.hold["/stall.xml"].set()
    rerun = run("scan", "--feeds", feeds, "--db", db)
    assert rerun.exit_code == 0, rerun.stderr
    assert "(run 1) did not finish; what it stored is kept and this scan does the rest" in rerun.stderr
    assert "3 read, 2 unchanged, 0 failed" in rerun.stdout
    assert query(db, "SELECT id, status FROM runs ORDER BY id") == [(1, "interrupted"), (2, "finished")]
    assert_sound(db)
    assert query(db, "SELECT count(*) FROM changes") == [(5,)]  # one per feed
    assert snapshot(db) == _reference(run, tmp_path, urls)  # nothing lost, nothing doubled

    # Reported once: the next scan has nothing to recover.
    third = run("scan", "--feeds", feeds, "--db", db, "--format", "json")
    assert "did not finish" not in third.stderr
    assert '"interrupted_runs": []' in third.stdout


def test_sigkill_during_a_large_feed_set_leaves_whole_feeds_only(run, tmp_path):
    """Killed at an arbitrary point of a long scan: every feed is stored whole or not at all."""
    count, items = 60, 30
    urls = {}
    for index in range(count):
        path = tmp_path / "feeds" / f"f{index:02d}.xml"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(rss(f"f{index:02d}", items))
        urls[f"f{index:02d}"] = path.as_uri()
    feeds = feeds_file(tmp_path, urls)
    db = tmp_path / "pw.db"

    scan = start_scan(feeds, db)
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and scan.poll() is None:
        if db.exists():
            try:
                done = query(db, "SELECT count(*) FROM feeds")[0][0]
            except sqlite3.OperationalError:
                done = 0  # not migrated yet
            if done >= 5:
                break
        time.sleep(0.02)
    assert scan.poll() is None, "the scan finished before it could be killed; make the feed set larger"
    scan.send_signal(signal.SIGKILL)
    scan.wait(timeout=30)

    assert_sound(db)
    stored = dict(query(db, "SELECT feed, count(*) FROM bulletins GROUP BY feed"))
    assert stored and len(stored) < count
    assert set(stored.values()) == {items}, stored  # one transaction per feed: never half a feed
    ok = {name for (name,) in query(db, "SELECT name FROM feeds WHERE last_status = 'ok'")}
    assert ok == set(stored)  # the feed row is written in the same transaction as its items

    rerun = run("scan", "--feeds", feeds, "--db", db)
    assert rerun.exit_code == 0, rerun.stderr
    assert "did not finish" in rerun.stderr
    assert_sound(db)
    assert snapshot(db) == _reference(run, tmp_path, urls)


def test_sigterm_stops_a_scan_in_order(served, tmp_path):
    """A time limit's SIGTERM: the feed in progress is rolled back, the run is recorded as interrupted."""
    names = ("a", "stall", "c")
    server = served({f"/{n}.xml": rss(n, 3) for n in names})
    feeds = feeds_file(tmp_path, {n: f"{server.base}/{n}.xml" for n in names})
    db = tmp_path / "pw.db"
    server.hold["/stall.xml"] = threading.Event()
    scan = start_scan(feeds, db)
    assert server.asked["/stall.xml"].wait(60)
    scan.send_signal(signal.SIGTERM)
    out, err = scan.communicate(timeout=30)
    server.hold["/stall.xml"].set()
    assert scan.returncode == 143, err
    assert "interrupted by SIGTERM: the feeds finished so far are stored" in err and "Traceback" not in err
    assert_sound(db)
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]
    assert {f for (f,) in query(db, "SELECT DISTINCT feed FROM bulletins")} == {"a"}


# --- files that are not usable databases ----------------------------------------------------------------------


def _real_db(tmp_path: Path) -> Path:
    from policywatch.store import Store

    db = tmp_path / "real.db"
    with Store.open(db) as store, store.transaction():
        store.db["bulletins"].insert_all(
            {"id": f"b{i}", "feed": "x", "guid": f"g{i}", "title": "t" * 200, "text": "x" * 3000} for i in range(400)
        )
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to damage
    conn.close()
    return db


def _damaged(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.db"
    if kind == "text":
        path.write_text("name,url\nthis is a CSV, not a database\n")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 40)
    elif kind == "sqlite-header-garbage":
        path.write_bytes(b"SQLite format 3\x00" + b"\xa5" * 8192)
    elif kind == "truncated":
        data = _real_db(tmp_path).read_bytes()
        path.write_bytes(data[: len(data) // 3 + 100])
    elif kind == "damaged-pages":  # every page but the first scribbled over: no table is readable
        data = bytearray(_real_db(tmp_path).read_bytes())
        data[4096:] = b"\x5a" * (len(data) - 4096)
        path.write_bytes(bytes(data))
    elif kind == "damaged-data-pages":  # only the last pages (bulletin rows): the schema still reads fine
        data = bytearray(_real_db(tmp_path).read_bytes())
        start = len(data) - (len(data) // 4096 // 3) * 4096
        data[start:] = b"\x5a" * (len(data) - start)
        path.write_bytes(bytes(data))
    return path


DAMAGE = ("text", "binary", "sqlite-header-garbage", "truncated", "damaged-pages", "damaged-data-pages")


def _main(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """policywatch.cli.main() as the console script runs it (its crash handler included)."""
    from policywatch.cli import main
    from policywatch.cli.common import reset_consoles

    monkeypatch.setattr(sys, "argv", ["policywatch", *map(str, args)])
    monkeypatch.delenv("POLICYWATCH_DEBUG", raising=False)
    reset_consoles()
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    reset_consoles()
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("kind", DAMAGE)
@pytest.mark.parametrize("command", ["scan", "changes", "feeds list"])
def test_a_damaged_or_foreign_db_file_is_refused_and_left_untouched(monkeypatch, capsys, tmp_path, kind, command):
    (tmp_path / "one.xml").write_bytes(rss("one", 2))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - {name: one, url: one.xml, kind: feed, jurisdiction: US, language: en}\n")
    db = _damaged(tmp_path, kind)
    before = db.read_bytes()
    siblings = sorted(p.name for p in tmp_path.iterdir())
    args = {
        "scan": ["scan", "--feeds", feeds],
        "changes": ["changes"],
        "feeds list": ["feeds", "list", "--feeds", feeds],
    }
    code, out, err = _main(monkeypatch, capsys, *args[command], "--db", db)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings  # no -wal, -shm or .lock left beside it
    if kind == "damaged-data-pages" and command != "scan" and code == 0:
        # A reader whose query never touches the damaged pages answers from the intact ones; a scan (a
        # writer) checks every page first and refuses.
        return
    assert code == 3, out + err
    assert "Traceback" not in out + err and "bug in policywatch" not in err
    assert str(db) in err
    assert any(
        words in err for words in ("not a SQLite database", "not a usable SQLite database", "the database is damaged")
    ), err


@pytest.mark.parametrize("command", ["scan", "changes", "feeds list"])
def test_a_db_path_under_a_regular_file_is_a_clear_error(run, tmp_path, command):
    (tmp_path / "one.xml").write_bytes(rss("one", 2))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - {name: one, url: one.xml, kind: feed, jurisdiction: US, language: en}\n")
    (tmp_path / "somefile.txt").write_text("not a directory")
    db = tmp_path / "somefile.txt" / "x.db"
    args = {
        "scan": ["scan", "--feeds", feeds],
        "changes": ["changes"],
        "feeds list": ["feeds", "list", "--feeds", feeds],
    }
    result = run(*args[command], "--db", db)
    assert result.exit_code == 3
    assert "is a file, not a directory" in result.stderr
    missing = run(*args[command], "--db", tmp_path / "no-such-dir" / "x.db")
    assert missing.exit_code == 3
    assert "does not exist" in missing.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_a_read_only_directory_is_a_clear_error(run, tmp_path):
    (tmp_path / "one.xml").write_bytes(rss("one", 2))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - {name: one, url: one.xml, kind: feed, jurisdiction: US, language: en}\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run("scan", "--feeds", feeds, "--db", locked / "x.db")
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 3
    assert "cannot" in result.stderr


def test_a_database_error_mid_command_is_reported_plainly(monkeypatch, capsys, tmp_path):
    """sqlite3 failing under a command (disk full, damage found late) is exit 3 with its reason, not 'a bug'."""
    import policywatch.store.core as core

    db = tmp_path / "pw.db"
    core.Store.open(db).close()

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(core.Store, "feeds_health", full)
    code, out, err = _main(monkeypatch, capsys, "feeds", "list", "--db", db)
    assert code == 3
    assert "error: cannot write the database (database or disk is full); check the disk" in err
    assert "bug" not in err and "Traceback" not in err
