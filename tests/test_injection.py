"""Hostile text in feeds never reaches a terminal, a JSON consumer, a spreadsheet or a markdown brief unescaped.

Titles and bodies carrying rich markup, ANSI escapes (colour, cursor movement, OSC 8 hyperlinks, OSC title),
other control characters, HTML and script, table-breaking markdown and javascript:/data: links are served in
feeds, scanned, and shown by `scan`, `changes` (every format) and `feeds list`. A second layer plants the same
text straight into the database (as an older version or another tool could have written it), so the renderers
are proved safe on their own, not only because the parser cleaned the text first.
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import sqlite3
import threading
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

# Each payload once in a title and once inside the sentence a rule reads, so it reaches the evidence too.
PAYLOADS = {
    "rich-markup": "[bold red]ALERT[/bold red] [link=https://evil.example/x]click here[/link]",
    "ansi-colour": "\x1b[31;1mRED\x1b[0m",
    "ansi-cursor": "\x1b[2J\x1b[H\x1b[3A\x1b[K\x1b7\x1b8",
    "osc8-hyperlink": "\x1b]8;;https://evil.example/osc\x1b\\click\x1b]8;;\x1b\\",
    "osc-title": "\x1b]0;pwned-window-title\x07\x1b]2;pwned-again\x1b\\",
    "c1-csi": "\x9b2J\x9d0;c1-title\x9c",
    "other-controls": "bell\x07 back\x08space cr\roverwrite nul\x00 vt\x0b ff\x0c del\x7f",
    "bidi-override": "\u202eevil-reversed\u202c \u2066isolate\u2069 zero\u200bwidth",
    "html-script": "<script>alert('x')</script><img src=x onerror=alert(1)><b>bold</b>",
    "markdown-table": "pipe | cell | `code` **strong** # head <details><summary>open</summary>hid</details> ~~s~~",
    "markdown-link": "[click](javascript:alert(1)) ![img](data:image/png;base64,AAAA) <https://evil.example/auto>",
    "newlines": "line one\nline two\r\nline three\u2028line four\u2029line five\x85six",
    "formula": '=HYPERLINK("https://evil.example","x")',
    "formula-plus": "+cmd|' /C calc'!A0",
    "formula-at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "formula-minus": "-2+3+cmd|' /C calc'!A0",
    "formula-full-width": '＝HYPERLINK("https://evil.example","x")',
    "formula-after-spaces": "   =1+1",
    "invisible-marks": "\u061cmark\u2060join\ufeffbom",
}
# Links a feed may carry: only absolute http(s) survive anywhere.
LINKS = {
    "rich-markup": "javascript:alert(document.cookie)",
    "ansi-colour": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "ansi-cursor": "JaVaScRiPt:alert(1)",
    "osc8-hyperlink": " javascript:alert(1)",
    "osc-title": "vbscript:msgbox(1)",
    "c1-csi": "file:///etc/passwd",
    "other-controls": "java\tscript:alert(1)",
    "bidi-override": "https://ok.example/a\nb|c",
    "html-script": "https://ok.example/\x1b]8;;https://evil.example\x1b\\",
    "markdown-table": "https://ok.example/a b",
}
TEMPLATE = {
    # First in the title, where a spreadsheet or a markdown table cell starts.
    "title": "{p} Additional duty of 25% on steel products of Canadian origin",
    # The payload inside the sentence the rule reads; the plain sentence after it makes sure the rule fires
    # even where the payload's own punctuation ("!", newlines) splits the first one.
    "text": "From April 1, 2025, steel products originating in Canada {p} will be subject to an additional "
    "ad valorem duty of 25 percent. From April 1, 2025, steel products originating in Canada will be subject "
    "to an additional ad valorem duty of 25 percent.",
}
# What must never appear in output: escape introducers, C0/C1 controls (newline aside), bidi and zero-width marks.
_FORBIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def json_feed() -> bytes:
    """A JSON Feed: the one format where every payload, control characters included, is legal as served."""
    items = []
    for index, (name, payload) in enumerate(PAYLOADS.items()):
        items.append(
            {
                "id": f"j-{index}-{name}",
                "url": LINKS.get(name, f"https://customs.example/notices/{index}"),
                "title": TEMPLATE["title"].format(p=payload),
                "content_text": TEMPLATE["text"].format(p=payload),
                "date_published": "2025-03-03T10:00:00Z",
            }
        )
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Hostile", "items": items}).encode()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rss_feed() -> bytes:
    """RSS with the payloads escaped as XML text (raw control bytes make it ill-formed, so it is read leniently)."""
    items = []
    for index, (name, payload) in enumerate(PAYLOADS.items()):
        link = LINKS.get(name, f"https://customs.example/rss/{index}")
        items.append(
            f"<item><title>{_xml_escape(TEMPLATE['title'].format(p=payload))}</title>"
            f"<link>{_xml_escape(link)}</link><guid isPermaLink='false'>r-{index}-{name}</guid>"
            f"<pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>"
            f"<description>{_xml_escape(TEMPLATE['text'].format(p=payload))}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hostile RSS</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode("utf-8")


class _RedirectServer:
    """Answers every request with a redirect whose Location carries markup and an 8-bit escape (C1 CSI)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/feed.xml"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 302 Found\r\nLocation: gopher://evil.example/[bold red]X[/]\x9b2J\x9d0;t\x9c"
                        b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()


@pytest.fixture
def hostile(tmp_path, httpserver):
    """A feeds file with the JSON Feed, the RSS feed (over HTTP) and a feed that fails with a hostile error."""
    httpserver.expect_request("/hostile.json").respond_with_data(json_feed(), content_type="application/feed+json")
    httpserver.expect_request("/hostile.xml").respond_with_data(rss_feed(), content_type="application/rss+xml")
    redirect = _RedirectServer()
    feeds = tmp_path / "feeds.yaml"
    urls = {
        "json": httpserver.url_for("/hostile.json"),
        "rss": httpserver.url_for("/hostile.xml"),
        "redirect": redirect.url,
    }
    feeds.write_text(
        "fetch: {retries: 0, total_timeout: 5}\nfeeds:\n"
        + "".join(
            f"  - {{name: {name}, url: '{url}', kind: feed, jurisdiction: US, language: en}}\n"
            for name, url in urls.items()
        ),
        encoding="utf-8",
    )
    yield feeds
    redirect.close()


def assert_clean(text: str, where: str) -> None:
    """No escape sequence, control character or bidi mark in text (newlines are the renderer's own)."""
    found = _FORBIDDEN.search(text)
    assert found is None, f"{where}: {found.group()!r} at {found.start()}: {text[max(0, found.start() - 60) :][:120]!r}"


def assert_record_clean(record: dict, where: str) -> None:
    for key, value in record.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str):
                assert_clean(item, f"{where}.{key}")
                assert "\n" not in item, f"{where}.{key}: {item!r}"
    link = record.get("link")
    assert link is None or re.match(r"^https?://[^\s<>\"'`]+$", link), f"{where}.link: {link!r}"


def assert_csv_safe(text: str, where: str, rows: int) -> None:
    assert_clean(text.replace("\n", ""), where)
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == rows + 1, f"{where}: {len(table)} lines for {rows} records"
    width = len(table[0])
    for line in table:
        assert len(line) == width, f"{where}: ragged row {line!r}"
        for cell in line:
            assert not cell.startswith(_FORMULA_START), f"{where}: formula cell {cell!r}"


_MD = MarkdownIt("commonmark").enable("table")


def assert_markdown_safe(text: str, where: str, rows: int, columns: int) -> None:
    """The table parses as one table of rows x columns with no HTML, code spans, links or images."""
    tokens = _MD.parse(text)
    assert [t.type for t in tokens].count("table_open") == 1, where
    assert sum(1 for t in tokens if t.type == "tr_open") == rows + 1, f"{where}: rows"
    cells = [t for t in tokens if t.type in ("td_open", "th_open")]
    assert len(cells) == (rows + 1) * columns, f"{where}: a cell was split or merged"
    kinds = {t.type for t in tokens} | {child.type for t in tokens for child in (t.children or [])}
    for bad in ("html_inline", "html_block", "link_open", "image", "code_inline", "fence", "heading_open"):
        assert bad not in kinds, f"{where}: markdown rendered {bad}"
    assert "<script" not in _MD.render(text).lower()


def _changes_count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    finally:
        conn.close()


def check_every_output(run, feeds: Path, db: Path, expected_changes: int) -> None:
    """`changes` in every format and `feeds list` in every format: clean, well-formed, links safe."""
    table = run("changes", "--db", db)
    assert table.exit_code == 0, table.stderr
    assert_clean(table.stdout.replace("\n", ""), "changes table")
    forced = run("changes", "--db", db, env={"FORCE_COLOR": "1", "COLUMNS": "200"})
    assert "\x1b[" in forced.stdout  # colour is on, so the checks below mean something
    for leak in ("\x1b]8", "\x1b]0", "\x1b]2", "\x1b[2J", "\x1b[H", "\x1b[3A", "\x1b7", "\x1b[31;1m"):
        assert leak not in forced.stdout, f"changes table on a colour terminal: {leak!r}"

    records = json.loads(run("changes", "--db", db, "--format", "json").stdout)
    assert len(records) == expected_changes
    for index, record in enumerate(records):
        assert_record_clean(record, f"changes json[{index}]")
    jsonl = run("changes", "--db", db, "--format", "jsonl").stdout
    assert_clean(jsonl.replace("\n", ""), "changes jsonl (raw)")
    lines = jsonl.splitlines()
    assert len(lines) == expected_changes
    for index, line in enumerate(lines):
        assert_record_clean(json.loads(line), f"changes jsonl[{index}]")
    assert_csv_safe(run("changes", "--db", db, "--format", "csv").stdout, "changes csv", expected_changes)
    markdown = run("changes", "--db", db, "--format", "markdown").stdout
    assert_markdown_safe(markdown, "changes markdown", expected_changes, 6)
    out_file = db.parent / "changes.md"
    assert run("changes", "--db", db, "--format", "markdown", "--output", out_file).exit_code == 0
    assert out_file.read_text(encoding="utf-8") == markdown

    listed = run("feeds", "list", "--feeds", feeds, "--db", db)
    assert_clean(listed.stdout.replace("\n", ""), "feeds list table")
    rows = json.loads(run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "json").stdout)
    for row in rows:
        assert_record_clean(row, f"feeds list json {row['name']}")
    feeds_csv = run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "csv").stdout
    assert_csv_safe(feeds_csv, "feeds list csv", len(rows))
    feeds_md = run("feeds", "list", "--feeds", feeds, "--db", db, "--format", "markdown").stdout
    assert_markdown_safe(feeds_md, "feeds list markdown", len(rows), 8)


def test_hostile_feeds_are_shown_safely_everywhere(run, hostile, tmp_path):
    db = tmp_path / "pw.db"
    scanned = run("scan", "--feeds", hostile, "--db", db)
    assert scanned.exit_code == 0, scanned.stderr
    assert "2 read, 0 unchanged, 1 failed" in scanned.stdout
    assert_clean(scanned.stdout.replace("\n", ""), "scan table")
    assert_clean(scanned.stderr.replace("\n", ""), "scan stderr")
    # Rich markup in feed text is shown as text, never interpreted (the table may wrap it at its spaces).
    assert "red]ALERT[/bold" in scanned.stdout
    changes = _changes_count(db)
    # Every payload rode on a sentence the tariff rule reads, in both feeds.
    assert changes == 2 * len(PAYLOADS), changes

    as_json = run("scan", "--feeds", hostile, "--db", tmp_path / "second.db", "--format", "json")
    assert as_json.exit_code == 0
    assert_clean(as_json.stdout.replace("\n", ""), "scan json (raw)")
    summary = json.loads(as_json.stdout)
    for feed in summary["feeds"]:
        assert_record_clean({"error": feed["error"], "warnings": feed["warnings"]}, f"scan json feed {feed['name']}")
    for index, record in enumerate(summary["changes"]):
        assert_record_clean(record, f"scan json changes[{index}]")

    forced = run("scan", "--feeds", hostile, "--db", tmp_path / "third.db", env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout
    for leak in ("\x1b]8", "\x1b]0", "\x1b]2", "\x1b[2J", "\x1b[H", "\x1b[31;1m"):
        assert leak not in forced.stdout + forced.stderr, f"scan on a colour terminal: {leak!r}"

    check_every_output(run, hostile, db, changes)
    error = json.loads(run("feeds", "list", "--feeds", hostile, "--db", db, "--format", "json").stdout)
    redirect = next(row for row in error if row["name"] == "redirect")
    assert redirect["last_error"].startswith("HTTP 302 redirect to an unsupported URL")


def test_renderers_are_safe_even_when_the_database_holds_raw_hostile_text(run, hostile, tmp_path):
    """Text planted in the tables as is (the parser never saw it): every renderer still escapes it."""
    db = tmp_path / "pw.db"
    assert run("scan", "--feeds", hostile, "--db", db).exit_code == 0
    conn = sqlite3.connect(db)
    with conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM bulletins ORDER BY id")]
        for index, bulletin_id in enumerate(ids):
            name, payload = list(PAYLOADS.items())[index % len(PAYLOADS)]
            link = LINKS.get(name, "https://customs.example/ok")
            conn.execute(
                "UPDATE bulletins SET title = ?, link = ? WHERE id = ?",
                [f"{payload} raw title", link, bulletin_id],
            )
            conn.execute(
                "UPDATE changes SET evidence = ? WHERE bulletin_id = ?", [f"{payload} raw evidence", bulletin_id]
            )
        conn.execute(
            "UPDATE feeds SET last_error = ?, last_status = 'failed'",
            ["[bold red]boom[/] \x1b[31mred\x1b]0;title\x07 =cmd|' /C calc'!A0 | `x` <script>"],
        )
    conn.close()
    check_every_output(run, hostile, db, _changes_count(db))


def test_safe_helpers_directly():
    """The escaping primitives, one property each (the end-to-end tests above are the real proof)."""
    from policywatch.report.safe import markdown_cell, markdown_link, plain, safe_link, terminal

    assert plain("\x1b]8;;https://e\x1b\\x\x1b]8;;\x1b\\ \x9b2J a\nb") == "x 2J a b"
    assert terminal("[bold]x[/bold]").plain == "[bold]x[/bold]"
    assert safe_link("javascript:alert(1)") is None
    assert safe_link(" https://ok.example/a ") == "https://ok.example/a"
    assert safe_link("https://ok.example/\x1b[31m") is None  # dropped, not repaired into another address
    assert safe_link("https://ok.example/a\nb") is None
    assert "|" not in markdown_cell("a | b").replace("\\|", "")
    assert markdown_link("x", "data:text/html,hi") == "x"
    assert markdown_link("x]y", "https://ok.example/a)b") == "[x\\]y](<https://ok.example/a)b>)"
    assert plain("a\u061cb\u2060c") == "abc"


@pytest.mark.parametrize("cell", ["=1+1", " =1+1", "+1", "-1+1", "@SUM(A1)", "＝1+1", "＋1", "\t=1", "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(cell):
    from policywatch.report.formats import to_csv

    rows = list(csv.reader(io.StringIO(to_csv([{"title": cell, "next": "x"}], ["title", "next"]), newline="")))
    assert len(rows) == 2 and len(rows[1]) == 2, rows  # a CR inside a cell never starts a row of its own
    assert rows[1][0].startswith("'") and rows[1][0][1:].replace("\n", "\r") == cell
