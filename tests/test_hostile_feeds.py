"""Broken and hostile feeds through the whole tool: `policywatch scan` over every file of feedparser's own test
corpus in one feeds file, and XML entity attacks (entity expansion, external entities) in a real process.

tests/test_feedparser_corpus.py holds the parser alone to the corpus; here the same files are feeds of one
scan, so storing, extraction, the run record and `feeds list` all meet them.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "feedparser-tests"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

GOOD = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Customs notices</title><link>http://127.0.0.1/</link>
<item><title>Additional duty of 25% on steel products of Canadian origin</title>
<link>http://127.0.0.1/notices/n-1</link><guid>n-1</guid><pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>
<description>From April 1, 2025, steel products originating in Canada will be subject to an additional ad valorem
duty of 25 percent.</description></item>
</channel></rss>
"""


def _feeds_yaml(feeds: dict[str, str]) -> str:
    return "feeds:\n" + "".join(
        f"  - {{name: '{name}', url: '{url}', kind: feed, jurisdiction: US, language: en}}\n"
        for name, url in feeds.items()
    )


def child_env() -> dict[str, str]:
    """The environment for a policywatch child process: this one's, the checkout first on the path, no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_") or k == "POLICYWATCH_RULES"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    return env


def _db_rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- feedparser's corpus, all in one scan -------------------------------------------------------------------


@pytest.mark.corpus
def test_the_whole_feedparser_corpus_in_one_scan(run, tmp_path):
    if not CORPUS.is_dir():
        pytest.skip(f"feedparser test corpus not found at {CORPUS}")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())  # every file, README and LICENSE included
    assert len(files) > 2000
    names = {f"f{index:04d}": path for index, path in enumerate(files)}
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(_feeds_yaml({name: path.as_uri() for name, path in names.items()}), encoding="utf-8")
    db = tmp_path / "pw.db"

    started = time.monotonic()
    result = run("scan", "--feeds", feeds, "--db", db, "--format", "json")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["feeds"] == len(files)
    assert summary["feeds_ok"] + summary["feeds_failed"] == len(files)
    # Most of the corpus is readable; a scan that rejected everything would pass the checks below.
    assert summary["feeds_ok"] > 0.75 * len(files), summary

    rows = _db_rows(db, "SELECT name, last_status, last_error FROM feeds")
    assert len(rows) == len(files)  # every feed stored or rejected: none lost
    for name, status, error in rows:
        assert status in ("ok", "failed"), (names[name], status)
        if status == "failed":
            assert error and "\n" not in error and not _CONTROL.search(error), (names[name], error)
    assert _db_rows(db, "SELECT count(*) FROM bulletins")[0][0] == summary["new_bulletins"] > 500
    for title, text, link in _db_rows(db, "SELECT title, text, link FROM bulletins"):
        assert not _CONTROL.search(title) and not _CONTROL.search(text.replace("\t", "")), (title, text[:80])
        assert link is None or re.match(r"^https?://", link), link
    assert _db_rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert _db_rows(db, "SELECT status FROM runs") == [("finished",)]

    listed = run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "json")
    health = json.loads(listed.stdout)
    assert len(health) == len(files)
    failing = {row["name"] for row in health if row["health"].startswith("failing")}
    assert failing == {name for name, status, _ in rows if status == "failed"}

    # Again: nothing doubled, every readable feed unchanged, every failure counted twice.
    again = run("scan", "--feeds", feeds, "--db", db, "--format", "json")
    assert again.exit_code == 0
    second = json.loads(again.stdout)["summary"]
    assert (second["new_bulletins"], second["feeds_unchanged"]) == (0, summary["feeds_ok"])
    assert _db_rows(db, "SELECT count(*) FROM bulletins")[0][0] == summary["new_bulletins"]
    assert _db_rows(db, "SELECT DISTINCT consecutive_failures FROM feeds WHERE last_status = 'failed'") == [(2,)]
    print(f"corpus scan: {len(files)} feeds in {elapsed:.1f} s")  # shown with -s; the figure in the report


# --- entity attacks, in a real process ----------------------------------------------------------------------

_LOL = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
    f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
)


def _rss(doctype: str, title: str, body: str = "Notice text.", head: str = "") -> str:
    return (
        f'<?xml version="1.0"?>{head}{doctype}<rss version="2.0"><channel><title>Attack</title>'
        f"<item><title>{title}</title><guid>x-1</guid><description>{body}</description></item></channel></rss>"
    )


def _attacks(secret: Path, dtd_url: str) -> dict[str, str]:
    uri = secret.as_uri()
    return {
        "billion-laughs": _rss(f"<!DOCTYPE rss [{_LOL}]>", "&j;"),
        "billion-laughs-single-quoted": _rss(f"<!DOCTYPE rss [{_LOL.replace(chr(34), chr(39))}]>", "&j;"),
        # Pushed past the parser's 64 kB look-ahead for nested entities: expat must still stop it.
        "billion-laughs-padded": _rss(f"<!DOCTYPE rss [{_LOL}]>", "&j;", head="<!--" + "p" * 70_000 + "-->"),
        "quadratic-blowup": _rss('<!DOCTYPE rss [<!ENTITY a "' + "x" * 50_000 + '">]>', "Notice", "&a;" * 20_000),
        "external-entity": _rss(f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{uri}">]>', "Leak &xxe;", "Body &xxe;"),
        "external-entity-plain-path": _rss(f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret}">]>', "&xxe;"),
        "external-parameter-entity": _rss(f'<!DOCTYPE rss [<!ENTITY % xxe SYSTEM "{uri}"> %xxe;]>', "Leak"),
        "external-dtd-file": _rss(f'<!DOCTYPE rss SYSTEM "{uri}">', "Leak"),
        "external-dtd-http": _rss(f'<!DOCTYPE rss SYSTEM "{dtd_url}">', "Leak &remote;"),
        "external-entity-http": _rss(f'<!DOCTYPE rss [<!ENTITY remote SYSTEM "{dtd_url}">]>', "Leak &remote;"),
        "xinclude": _rss(
            "",
            "Leak",
            f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{uri}" parse="text"/>',
        ),
    }


class _Counting(BaseHTTPRequestHandler):
    """Serves /good.xml and each attack; counts every other request (an entity or DTD being fetched)."""

    pages: dict[str, bytes] = {}
    stray: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server interface)
        page = self.pages.get(self.path)
        if page is None:
            self.stray.append(self.path)
            page = b'<!ENTITY remote "REMOTE-CONTENT-FETCHED">'
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml" if self.path.endswith(".xml") else "text/plain")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def counting_server():
    handler = type("Handler", (_Counting,), {"pages": {}, "stray": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# The scan runs in its own process with an address-space cap, so a runaway expansion fails the test with a
# MemoryError instead of taking the machine; its peak resident memory is reported back.
_MEASURED = r"""
import atexit, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2_000_000_000, 2_000_000_000))
peak_file = sys.argv[1]
def _report():
    # VmHWM belongs to this address space; ru_maxrss would carry over the forking parent's peak (Linux keeps
    # it across exec), so a test run in a large pytest process would be charged for pytest's memory.
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(peak_file, "w") as handle:
        handle.write(peak)
atexit.register(_report)
sys.argv = ["policywatch", *sys.argv[2:]]
from policywatch.cli import main
main()
"""


def test_entity_attacks_are_bounded_and_read_no_local_file(counting_server, tmp_path):
    server, handler, base = counting_server
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a9c", encoding="utf-8")
    attacks = _attacks(secret, f"{base}/evil.dtd")
    feeds: dict[str, str] = {}
    for name, body in attacks.items():
        # Each attack both as a local file and served over HTTP (where feedparser's rules differ).
        (tmp_path / f"{name}.xml").write_text(body, encoding="utf-8")
        feeds[f"file-{name}"] = (tmp_path / f"{name}.xml").as_uri()
        handler.pages[f"/{name}.xml"] = body.encode()
        feeds[f"http-{name}"] = f"{base}/{name}.xml"
    handler.pages["/good.xml"] = GOOD.encode()
    feeds["good"] = f"{base}/good.xml"
    feeds_path = tmp_path / "feeds.yaml"
    feeds_path.write_text(_feeds_yaml(feeds), encoding="utf-8")
    db = tmp_path / "pw.db"
    peak_file = tmp_path / "peak.txt"

    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(peak_file), "scan", "--feeds", str(feeds_path), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=child_env(),
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    peak_kb = int(peak_file.read_text())
    assert peak_kb < 600_000, f"peak resident memory {peak_kb / 1000:.0f} MB"
    assert elapsed < 60, elapsed
    assert handler.stray == [], "an entity or DTD was fetched over HTTP"

    statuses = dict(_db_rows(db, "SELECT name, last_status FROM feeds"))
    assert len(statuses) == len(feeds)
    assert statuses["good"] == "ok"
    errors = dict(_db_rows(db, "SELECT name, last_error FROM feeds WHERE last_status = 'failed'"))
    for transport in ("file", "http"):
        assert "entity-expansion" in errors[f"{transport}-billion-laughs"]
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("pw.db*"))
    for leaked in (b"TOP-SECRET-7f3a9c", b"REMOTE-CONTENT-FETCHED"):
        assert leaked not in stored
        assert leaked.decode() not in proc.stdout + proc.stderr
    longest = _db_rows(db, "SELECT max(length(title)), max(length(text)) FROM bulletins")[0]
    assert longest[0] < 1000 and longest[1] < 2_000_000, longest  # nothing expanded beyond the served bytes
    print(f"entity attacks: {len(feeds)} feeds in {elapsed:.1f} s, peak RSS {peak_kb / 1000:.0f} MB")
