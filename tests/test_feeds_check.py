"""`policywatch feeds check NAME`: what a source yields right now, without touching the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ASSETS

HTML = ASSETS / "html"

FEEDS = """\
fetch: {{page_delay: 0, retries: 0}}
feeds:
  - name: cbsa
    url: {base}/notices-1.html
    kind: html
    jurisdiction: CA
    language: en
    item_selector: {item_selector}
    title_selector: h3
    date_selector: time
    next_selector: a.next
    max_pages: 2
  - name: csms
    url: {base}/summaries.xml
    kind: feed
    jurisdiction: US
    language: en
    full_text: true
  - name: gone
    url: {base}/gone.xml
    kind: feed
    jurisdiction: GB
    language: en
"""


@pytest.fixture
def feeds(httpserver, tmp_path, monkeypatch):
    """A feeds file over sources on 127.0.0.1; the working directory is an empty tmp_path."""
    for name in ("notices-1.html", "notices-2.html", "csms-64701128.html", "tcc-2025-02-04.html"):
        httpserver.expect_request(f"/{name}").respond_with_data((HTML / name).read_bytes(), content_type="text/html")
    httpserver.expect_request("/summaries.xml").respond_with_data(
        (HTML / "summaries.xml").read_bytes(), content_type="application/rss+xml"
    )
    httpserver.expect_request("/gone.html").respond_with_data("", status=404)
    httpserver.expect_request("/gone.xml").respond_with_data("", status=410)
    monkeypatch.chdir(tmp_path)

    def write(item_selector: str = "div.notice") -> Path:
        path = tmp_path / "feeds.yaml"
        base = httpserver.url_for("/").rstrip("/")
        path.write_text(FEEDS.format(base=base, item_selector=item_selector), encoding="utf-8")
        return path

    return write


def test_check_shows_pages_items_and_dates_of_an_html_source(run, feeds, tmp_path):
    result = run("feeds", "check", "cbsa", "--feeds", feeds())
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "List pages" in out and "First 4 of 4 items" in out
    assert "Customs Notice 25-19: amendments to the United States Surtax Remission Order" in out
    assert "2025-04-17" in out and "2023-05-26" in out
    assert "65 chars" in out  # the item's own summary text in the list
    assert not (tmp_path / "policywatch.db").exists()  # nothing stored


def test_check_as_json(run, feeds, httpserver):
    result = run("feeds", "check", "cbsa", "--feeds", feeds(), "--format", "json", "--items", "3")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["name"], data["kind"], data["status"], data["total_items"]) == ("cbsa", "html", "ok", 4)
    assert [(p["items"], p["http_status"], p["encoding"]) for p in data["list_pages"]] == [(2, 200, "utf_8")] * 2
    assert data["list_pages"][1]["url"] == httpserver.url_for("/notices-2.html")
    assert len(data["items"]) == 3
    first = data["items"][0]
    assert first["link"] == httpserver.url_for("/cn25-19-eng.html")
    assert (first["published"], first["text_chars"]) == ("2025-04-17", 65)
    assert "full_text" not in first
    assert data["warnings"] == []


def test_check_reads_the_linked_pages_of_a_full_text_source(run, feeds):
    data = json.loads(run("feeds", "check", "csms", "--feeds", feeds(), "--format", "json").stdout)
    pages = [item["full_text"] for item in data["items"]]
    assert [p["status"] for p in pages] == ["ok", "ok", "failed"]
    assert pages[0]["chars"] > 500  # the whole notice, where the item's own text has 69 characters
    assert pages[0]["start"].startswith("GUIDANCE The HTSUS classification below, with its additional ad valorem")
    assert data["items"][0]["text_chars"] == 69
    assert pages[1]["encoding"] == "gb18030"
    assert pages[2]["error"] == "HTTP 404 Not Found"
    table = run("feeds", "check", "csms", "--feeds", feeds())
    assert "Full text" in table.stdout and "failed: HTTP 404 Not Found" in table.stdout
    none = json.loads(run("feeds", "check", "csms", "--feeds", feeds(), "--format", "json", "--full-text", "0").stdout)
    assert all("full_text" not in item for item in none["items"])


def test_a_selector_that_matches_nothing_exits_3_naming_it(run, feeds, httpserver):
    result = run("feeds", "check", "cbsa", "--feeds", feeds(item_selector="div.notices"))
    assert result.exit_code == 3
    url = httpserver.url_for("/notices-1.html")
    assert f"cbsa: could not be read: item_selector 'div.notices' matched nothing on {url}" in result.stderr


def test_a_source_that_cannot_be_fetched_exits_3(run, feeds):
    result = run("feeds", "check", "gone", "--feeds", feeds(), "--format", "json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert (data["status"], data["http_status"], data["error"]) == ("fetch_failed", 410, "HTTP 410 Gone")
    assert "gone: could not be fetched: HTTP 410 Gone" in result.stderr


def test_an_unknown_name_exits_2_with_a_suggestion(run, feeds):
    result = run("feeds", "check", "cbs", "--feeds", feeds())
    assert result.exit_code == 2
    assert "no source named 'cbs'" in result.stderr and "did you mean 'cbsa'?" in result.stderr
    other = run("feeds", "check", "zzzz", "--feeds", feeds())
    assert other.exit_code == 2 and "configured: cbsa, csms, gone" in other.stderr


def test_a_broken_feeds_file_exits_2(run, tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - {name: a, url: 'x', kind: html, jurisdiction: CN, language: zh}\n", encoding="utf-8")
    result = run("feeds", "check", "a", "--feeds", path)
    assert result.exit_code == 2
    assert "kind html needs 'item_selector'" in result.stderr


def test_feed_text_reaches_the_terminal_without_escapes_or_markup(run, httpserver, tmp_path):
    body = (
        "<ul><li><a href='/n1'>[bold red]Duty[/bold red] \x1b[31mup\x1b[0m 25%</a><span>2025-03-04</span></li>"
        "<li><a href='javascript:alert(1)'>Second</a><span>2025-03-05</span></li></ul>"
    )
    httpserver.expect_request("/list").respond_with_data(body, content_type="text/html; charset=utf-8")
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"feeds:\n  - {{name: x, url: '{httpserver.url_for('/list')}', kind: html, jurisdiction: IN, language: en,"
        " item_selector: li, date_selector: span}\n",
        encoding="utf-8",
    )
    result = run("feeds", "check", "x", "--feeds", path)
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "[bold red]Duty[/bold red]" in result.stdout  # shown literally, never interpreted
    data = json.loads(run("feeds", "check", "x", "--feeds", path, "--format", "json").stdout)
    assert data["items"][1]["link"] is None


def test_check_is_documented(run):
    result = run("feeds", "check", "--help")
    assert result.exit_code == 0
    assert "Fetch one source now and show what it yields" in result.stdout
