"""The whole tool under network faults: `policywatch scan`, then `feeds list`, against servers on 127.0.0.1.

tests/test_fetch.py proves the Fetcher alone; here each fault is one feed of a real feeds file beside a good
feed, scanned by the CLI, and what matters is what a user sees and what the database keeps: the scan ends in
bounded time, the good feed's items are stored, the failure is on the feed's row and in `feeds list`, and the
exit code follows DESIGN (0 when some feed was read, 3 when none could be).

Also here: source health (a silent feed is flagged stale) and the last line of defence (an unexpected
exception prints report_crash's short message and exits 3, never a traceback).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import socket
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import ITEM, OUTAGE, RSS, TARIFF, RawServer, Script
from werkzeug import Request, Response

GOOD = RSS.format(items=TARIFF + OUTAGE).encode()
# Small limits so every fault resolves in seconds; max_bytes is far above the good feed and far below the bombs.
FETCH = {"read_timeout": 0.5, "total_timeout": 2, "retries": 1, "backoff": 0.01, "max_bytes": 100_000}
# No fault may keep a scan longer than this (the slowest, the drip, is stopped by the 2 s total timeout).
BOUND = 8.0


def feeds_file(tmp_path: Path, feeds: dict[str, str], fetch: dict[str, float] = FETCH) -> Path:
    """A feeds file with the given name -> url feeds and fetch limits."""
    limits = ", ".join(f"{k}: {v}" for k, v in fetch.items())
    lines = [f"fetch: {{{limits}}}", "feeds:"]
    lines += [f"  - {{name: '{n}', url: '{u}', kind: feed, jurisdiction: US, language: en}}" for n, u in feeds.items()]
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def feed_rows(db: Path) -> dict[str, dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return {r["name"]: dict(r) for r in conn.execute("SELECT * FROM feeds")}
    finally:
        conn.close()


def bulletins_of(db: Path, feed: str) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT guid FROM bulletins WHERE feed = ? ORDER BY guid", [feed])]
    finally:
        conn.close()


# --- raw socket servers, for faults an HTTP library will not produce ------------------------------------------


def _head(length: int) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def _reset_mid_body(conn: socket.socket, index: int, stop: threading.Event) -> None:
    conn.sendall(_head(len(GOOD)) + GOOD[:120])
    # SO_LINGER 0: close() sends a TCP reset instead of a clean end.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def _drip(conn: socket.socket, index: int, stop: threading.Event) -> None:
    conn.sendall(_head(90_000))  # under the size cap: only the clock can stop it
    give_up = time.monotonic() + 10  # a fetcher that ignores its budget fails the test rather than hanging it
    while not stop.is_set() and time.monotonic() < give_up:
        conn.sendall(b" ")  # each byte well inside the 0.5 s read timeout
        time.sleep(0.1)


def _stall(conn: socket.socket, index: int, stop: threading.Event) -> None:
    conn.sendall(_head(len(GOOD)) + GOOD[:200])
    stop.wait(5)


# --- the faults -----------------------------------------------------------------------------------------------




@dataclass(frozen=True)
class Fault:
    """One faulty source: how to serve it, and what the feed's row must say afterwards."""

    serve: Callable[..., str]  # (httpserver, raw, path) -> the feed url
    error: str  # expected in last_error ("" for faults that must still be read); "a|b": either

    http_status: int | None = None  # the last HTTP status seen (None when no response came)
    requests: int | None = None  # requests the server must have seen (bounded retries)
    read: bool = False  # the body is still a feed: stored, with its damage as a warning

    def said(self, error: str | None) -> bool:
        """True when the stored error is the one expected."""
        return bool(error) and any(part in error for part in self.error.split("|"))


def _status(code: int, headers: dict[str, str] | None = None) -> Callable[..., str]:
    def serve(httpserver, raw, path: str) -> str:
        httpserver.expect_request(path).respond_with_data("<h1>error</h1>", status=code, headers=headers or {})
        return httpserver.url_for(path)

    return serve


def _body(body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Callable[..., str]:
    def serve(httpserver, raw, path: str) -> str:
        httpserver.expect_request(path).respond_with_data(body, content_type=content_type, headers=headers or {})
        return httpserver.url_for(path)

    return serve


def _refused(httpserver, raw, path: str) -> str:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.xml"  # closed again: nothing listens there


def _raw(script: Script) -> Callable[..., str]:
    def serve(httpserver, raw, path: str) -> str:
        return raw(script).url

    return serve


def _redirect_loop(httpserver, raw, path: str) -> str:
    httpserver.expect_request(path).respond_with_data("", status=302, headers={"Location": path})
    return httpserver.url_for(path)


def _bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * 1_000_000
    return b"".join(packer.compress(block) for _ in range(50)) + packer.flush()  # 50 MB inflated, ~50 KB sent


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Page moved</title></head><body><p>We moved.</p></body></html>"
UTF8_FEED = RSS.format(
    items=ITEM.format(guid="z-1", title="Neue Zölle auf Stahl", body="Zölle für Stahl aus Kanada: 25 Prozent.")
).encode("utf-8")
LATIN1_FEED = UTF8_FEED.decode("utf-8").replace('encoding="utf-8"', 'encoding="iso-8859-1"').encode("latin-1")

FAULTS: dict[str, Fault] = {
    "404": Fault(_status(404), "HTTP 404 Not Found", 404, requests=1),
    "410": Fault(_status(410), "HTTP 410 Gone", 410, requests=1),
    "500": Fault(_status(500), "HTTP 500 Internal Server Error after 2 attempts", 500, requests=2),
    "429-retry-after": Fault(
        _status(429, {"Retry-After": "1"}), "HTTP 429 Too Many Requests after 2 attempts", 429, requests=2
    ),
    "503-retry-after-too-long": Fault(
        _status(503, {"Retry-After": "3600"}),
        "HTTP 503 Service Unavailable; the server asked to retry after 3600 s, more than the 30 s limit",
        503,
        requests=1,
    ),
    "connection-refused": Fault(_refused, "connection refused after 2 attempts"),
    "reset-mid-body": Fault(
        # Which one depends on whether the reset or the end of the data reaches the client first.
        _raw(_reset_mid_body),
        "connection reset while reading|connection closed by the server before the response was complete",
        200,
        requests=2,
    ),
    "stalled-body": Fault(_raw(_stall), "read timed out after 0.5 s after 2 attempts", 200, requests=2),
    "slow-drip": Fault(_raw(_drip), "total time limit of 2 s exceeded while reading the body", 200, requests=1),
    "over-size-cap": Fault(_body(b"<rss>" + b" " * 200_000, "application/rss+xml"), "body exceeds", 200),
    "gzip-bomb": Fault(
        _body(_bomb(), "application/rss+xml", {"Content-Encoding": "gzip"}), "body exceeds 100 kB limit", 200
    ),
    "redirect-loop": Fault(_redirect_loop, "too many redirects (5)", 302, requests=6),
    "html-page": Fault(_body(HTML_PAGE, "text/html; charset=utf-8"), "looks like an HTML page, not a feed", 200),
    "empty-body": Fault(_body(b"", "application/rss+xml"), "empty body", 200),
    "not-xml": Fault(_body(b"\x89PNG\r\n\x1a\n\0\0binary", "application/rss+xml"), "not XML or JSON", 200),
    "wrong-charset": Fault(_body(UTF8_FEED, "application/rss+xml; charset=iso-8859-1"), "", 200, read=True),
    "latin-1-labelled-utf-8": Fault(_body(LATIN1_FEED, "application/rss+xml; charset=utf-8"), "", 200, read=True),
    "unknown-charset": Fault(_body(UTF8_FEED, "application/rss+xml; charset=x-no-such-charset"), "", 200, read=True),
    "gzip-garbage": Fault(
        _body(GZIP_HEADER + b"\xff" * 40, "application/rss+xml", {"Content-Encoding": "gzip"}),
        "could not decompress the gzip body",
        200,
    ),
}


@pytest.fixture
def raw() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(script: Script) -> RawServer:
        server = RawServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _requests_seen(httpserver, raw_servers: list[RawServer]) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == "/bad.xml") + sum(
        s.connections for s in raw_servers
    )


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_faulty_feed_beside_a_good_one(run, httpserver, raw, tmp_path, name):
    """The scan ends in bounded time, the good feed is stored, the failure is on the row and in `feeds list`."""
    fault = FAULTS[name]
    httpserver.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    started_servers: list[RawServer] = []

    def tracked(script):
        server = raw(script)
        started_servers.append(server)
        return server

    url = fault.serve(httpserver, tracked, "/bad.xml")
    feeds = feeds_file(tmp_path, {"good": httpserver.url_for("/good.xml"), "faulty": url})
    db = tmp_path / "pw.db"

    started = time.monotonic()
    result = run("scan", "--feeds", feeds, "--db", db)
    elapsed = time.monotonic() - started

    assert elapsed < BOUND, f"{name}: the scan took {elapsed:.1f} s"
    assert result.exit_code == 0, result.stdout + result.stderr  # one feed was read
    assert "Traceback" not in result.stdout + result.stderr
    assert bulletins_of(db, "good") == ["guid:n-1", "guid:n-2"]
    rows = feed_rows(db)
    faulty = rows["faulty"]
    if fault.read:
        assert faulty["last_status"] == "ok" and faulty["last_error"] is None
        assert faulty["consecutive_failures"] == 0
        assert bulletins_of(db, "faulty") == ["guid:z-1"]
        conn = sqlite3.connect(db)
        title, text = conn.execute("SELECT title, text FROM bulletins WHERE feed = 'faulty'").fetchone()
        conn.close()
        assert (title, text) == ("Neue Zölle auf Stahl", "Zölle für Stahl aus Kanada: 25 Prozent."), "mojibake"
        assert "1 read" not in result.stdout and "2 read, 0 unchanged, 0 failed" in result.stdout
        return
    assert faulty["last_status"] == "failed"
    assert fault.said(faulty["last_error"]), faulty["last_error"]
    assert "\n" not in faulty["last_error"]
    assert faulty["consecutive_failures"] == 1
    assert faulty["last_http_status"] == fault.http_status
    assert bulletins_of(db, "faulty") == []
    assert rows["good"]["last_status"] == "ok" and rows["good"]["consecutive_failures"] == 0
    assert "1 read, 0 unchanged, 1 failed" in result.stdout
    assert f"failed: faulty: {faulty['last_error']}" in " ".join(result.stdout.split())
    if fault.requests is not None:
        assert _requests_seen(httpserver, started_servers) == fault.requests

    listed = run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "json")
    assert listed.exit_code == 0, listed.stderr
    health = {row["name"]: row for row in json.loads(listed.stdout)}
    assert health["faulty"]["health"] == "failing (1x)"
    assert fault.said(health["faulty"]["last_error"])
    assert health["faulty"]["consecutive_failures"] == 1
    assert health["good"]["health"] == "ok" and health["good"]["items"] == 2
    table = run("feeds", "list", "--feeds", feeds, "--db", db)
    assert "failing (1x)" in table.stdout
    assert faulty["last_error"].split()[0] in table.stdout  # the error column (folded, so only its start)


def test_when_every_feed_fails_the_scan_exits_3(run, httpserver, raw, tmp_path):
    """Every failing fault in one feeds file: the scan is bounded, exits 3, and records each failure."""
    failing = {name: fault for name, fault in FAULTS.items() if not fault.read}
    urls = {name: fault.serve(httpserver, raw, f"/bad-{name}.xml") for name, fault in failing.items()}
    feeds = feeds_file(tmp_path, urls)
    db = tmp_path / "pw.db"
    started = time.monotonic()
    result = run("scan", "--feeds", feeds, "--db", db)
    elapsed = time.monotonic() - started
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "no feed could be read" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # Each fault is bounded by the 2 s total timeout and most fail at once.
    assert elapsed < 2.5 * len(failing), elapsed
    rows = feed_rows(db)
    assert set(rows) == set(failing)
    for name, fault in failing.items():
        assert rows[name]["last_status"] == "failed", name
        assert fault.said(rows[name]["last_error"]), (name, rows[name]["last_error"])
        assert rows[name]["consecutive_failures"] == 1, name
    listed = run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "json")
    assert {row["health"] for row in json.loads(listed.stdout)} == {"failing (1x)"}


def test_a_feed_that_recovers_resets_its_failure_count(run, httpserver, tmp_path):
    state = {"up": False}

    def handler(request: Request) -> Response:
        if state["up"]:
            return Response(GOOD, content_type="application/rss+xml")
        return Response("down", status=503)

    httpserver.expect_request("/flaky.xml").respond_with_handler(handler)
    feeds = feeds_file(tmp_path, {"flaky": httpserver.url_for("/flaky.xml")})
    db = tmp_path / "pw.db"
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 3
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 3
    assert feed_rows(db)["flaky"]["consecutive_failures"] == 2
    state["up"] = True
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    row = feed_rows(db)["flaky"]
    assert (row["last_status"], row["last_error"], row["consecutive_failures"]) == ("ok", None, 0)
    assert bulletins_of(db, "flaky") == ["guid:n-1", "guid:n-2"]


@pytest.mark.parametrize(
    ("name", "status"),
    [("over-size-cap", 200), ("gzip-bomb", 200), ("stalled-body", 200), ("redirect-loop", 302)],
)
def test_a_failure_after_the_status_line_keeps_the_http_status(run, httpserver, raw, tmp_path, name, status):
    url = FAULTS[name].serve(httpserver, raw, "/bad.xml")
    feeds = feeds_file(tmp_path, {"faulty": url})
    run("scan", "--feeds", feeds, "--db", tmp_path / "pw.db")
    assert feed_rows(tmp_path / "pw.db")["faulty"]["last_http_status"] == status


def test_a_gzip_body_cut_short_is_a_failure_not_half_a_feed(run, httpserver, tmp_path):
    packed = gzip.compress(RSS.format(items=TARIFF + OUTAGE + TARIFF.replace("n-1", "n-3")).encode())
    httpserver.expect_request("/cut.xml").respond_with_data(
        packed[: len(packed) * 2 // 3], content_type="application/rss+xml", headers={"Content-Encoding": "gzip"}
    )
    feeds = feeds_file(tmp_path, {"cut": httpserver.url_for("/cut.xml")})
    result = run("scan", "--feeds", feeds, "--db", tmp_path / "pw.db")
    assert result.exit_code == 3
    assert "cut short" in feed_rows(tmp_path / "pw.db")["cut"]["last_error"]


def test_a_gzip_encoded_good_feed_is_read(run, httpserver, tmp_path):
    """The counterpart of the bomb: a normal gzip body within the cap is stored."""
    httpserver.expect_request("/gz.xml").respond_with_data(
        gzip.compress(GOOD), content_type="application/rss+xml", headers={"Content-Encoding": "gzip"}
    )
    feeds = feeds_file(tmp_path, {"gz": httpserver.url_for("/gz.xml")})
    result = run("scan", "--feeds", feeds, "--db", tmp_path / "pw.db")
    assert result.exit_code == 0, result.stderr
    assert bulletins_of(tmp_path / "pw.db", "gz") == ["guid:n-1", "guid:n-2"]


# --- source health ----------------------------------------------------------------------------------------------


def test_a_feed_silent_past_its_stale_after_days_is_flagged_stale(run, tmp_path):
    for name in ("quiet", "lively", "unbounded"):
        (tmp_path / f"{name}.xml").write_bytes(
            RSS.format(items=ITEM.format(guid=f"{name}-1", title=f"Notice {name}", body="Text.")).encode()
        )
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n"
        "  - {name: quiet, url: quiet.xml, kind: feed, jurisdiction: US, language: en, stale_after_days: 7}\n"
        "  - {name: lively, url: lively.xml, kind: feed, jurisdiction: US, language: en, stale_after_days: 7}\n"
        "  - {name: unbounded, url: unbounded.xml, kind: feed, jurisdiction: US, language: en}\n",
        encoding="utf-8",
    )
    db = tmp_path / "pw.db"
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE feeds SET last_new_item_at = ? WHERE name IN ('quiet', 'unbounded')", [long_ago])
        conn.execute("UPDATE feeds SET last_new_item_at = ? WHERE name = 'lively'", [recent])
    conn.close()

    listed = run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "json")
    health = {row["name"]: row["health"] for row in json.loads(listed.stdout)}
    assert health == {"quiet": "stale (nothing new for 30 d)", "lively": "ok", "unbounded": "ok"}
    table = run("feeds", "list", "--feeds", feeds, "--db", db)
    assert "stale (nothing new for 30 d)" in " ".join(table.stdout.replace("│", " ").split())

    # A scan that still finds nothing new keeps it stale; the flag is about new items, not fetches.
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    listed = run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "json")
    assert {row["name"]: row["health"] for row in json.loads(listed.stdout)}["quiet"].startswith("stale")

    # A new item ends it.
    (tmp_path / "quiet.xml").write_bytes(
        RSS.format(items=ITEM.format(guid="quiet-2", title="Notice quiet again", body="More text.")).encode()
    )
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    listed = run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "json")
    assert {row["name"]: row["health"] for row in json.loads(listed.stdout)}["quiet"] == "ok"


def test_a_feed_that_never_had_an_item_goes_stale_too(run, tmp_path):
    (tmp_path / "empty.xml").write_bytes(RSS.format(items="").encode())
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n  - {name: empty, url: empty.xml, kind: feed, jurisdiction: US, language: en, stale_after_days: 7}\n"
    )
    db = tmp_path / "pw.db"
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = sqlite3.connect(db)
    with conn:  # as if the first scan had been 30 days ago
        conn.execute(
            "UPDATE feeds SET last_fetched_at = ?1, last_success_at = ?1,"
            " last_new_item_at = CASE WHEN last_new_item_at IS NULL THEN NULL ELSE ?1 END",
            [long_ago],
        )
        conn.execute("UPDATE runs SET started_at = ?, finished_at = ?", [long_ago, long_ago])
    conn.close()
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    listed = run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "json")
    assert json.loads(listed.stdout)[0]["health"].startswith("stale")


# --- the last line of defence -----------------------------------------------------------------------------------


def _main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run policywatch.cli.main() as the console script does; return (exit code, stdout, stderr)."""
    import sys

    from policywatch.cli import main
    from policywatch.cli.common import reset_consoles

    monkeypatch.setattr(sys, "argv", ["policywatch", *map(str, args)])
    monkeypatch.delenv("POLICYWATCH_DEBUG", raising=False)
    reset_consoles()
    with pytest.raises(SystemExit) as exited:
        main()
    reset_consoles()
    captured = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), captured.out, captured.err


@pytest.mark.parametrize(
    ("command", "target"),
    [
        (("changes",), "policywatch.store.core.Store.query_changes"),
        (("feeds", "list"), "policywatch.store.core.Store.feeds_health"),
        (("scan",), "policywatch.pipeline.run_scan"),
    ],
)
def test_an_unexpected_exception_prints_the_short_message_and_exits_3(monkeypatch, capsys, tmp_path, command, target):
    (tmp_path / "one.xml").write_bytes(GOOD)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - {name: one, url: one.xml, kind: feed, jurisdiction: US, language: en}\n")
    db = tmp_path / "pw.db"
    from policywatch.store import Store

    Store.open(db).close()  # so reading commands get as far as the query

    def boom(*args, **kwargs):
        raise RuntimeError("simulated failure deep in the core")

    monkeypatch.setattr(target, boom)
    extra = ["--feeds", feeds] if command[0] in ("scan", "feeds") else []
    code, stdout, stderr = _main(monkeypatch, capsys, *command, *extra, "--db", db)
    assert code == 3
    assert "Traceback" not in stdout + stderr
    assert "error: unexpected RuntimeError: simulated failure deep in the core" in stderr
    assert "POLICYWATCH_DEBUG=1" in stderr
    assert stdout == ""
