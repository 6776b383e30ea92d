"""`full_text: true`: decoding and reading linked pages, polite fetching, the page cache, and scans that use them.

Pages are real notices from ../shared/corpus (CBP CSMS, China's tariff commission and GACC, Mexico's DOF, Japan's
MOF) written as HTML under tests/assets/html/ and served on 127.0.0.1.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from conftest import ASSETS

from policywatch.config import PageSettings, load_feeds
from policywatch.sources import Fetcher, FetchLimits, ParseError
from policywatch.sources.fetch import FetchResult, Validators
from policywatch.sources.fulltext import PageFetcher, PageRequest, combine, decode_html, extract_text, read_page
from policywatch.store import Store
from policywatch.store.pages import cached_pages, save_page
from policywatch.yamlio import FileProblems

HTML = ASSETS / "html"


def page(name: str) -> bytes:
    return (HTML / name).read_bytes()


def serve(
    httpserver, name: str, content_type: str = "text/html", path: str | None = None, query: str | None = None, **kwargs
) -> str:
    """Serve an asset at /name (or path, optionally only for one query string) with exactly this Content-Type."""
    path = path or f"/{name}"
    httpserver.expect_request(path, query_string=query).respond_with_data(
        page(name), content_type=content_type, **kwargs
    )
    return httpserver.url_for(path)


def requests_to(httpserver, path: str) -> list:
    return [request for request, _ in httpserver.log if request.path == path]


def scan(run, feeds: Path, db: Path) -> dict:
    result = run("scan", "--feeds", feeds, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --- feeds.yaml ------------------------------------------------------------------------------------------


def test_full_text_keys_and_page_settings_load(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(
        """\
fetch: {retries: 1, page_delay: 0, page_limit: 7}
feeds:
  - {name: a, url: 'https://x.gov/f.xml', kind: feed, jurisdiction: US, language: en, full_text: true}
  - {name: b, url: 'https://x.gov/f.xml', kind: feed, jurisdiction: US, language: en, full_text: true,
     content_selector: 'div.article'}
""",
        encoding="utf-8",
    )
    config = load_feeds(path)
    assert config.pages == PageSettings(delay=0.0, limit=7)
    assert config.fetch == {"retries": 1}
    FetchLimits(**config.fetch)  # page settings never leak into the fetch limits
    assert [(f.full_text, f.content_selector) for f in config.feeds] == [(True, None), (True, "div.article")]
    assert load_feeds(path).feeds[0].html is None


def test_full_text_mistakes_are_reported_with_their_lines(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(
        """\
fetch:
  page_delay: -1
  page_limit: 0.5
feeds:
  - name: a
    url: https://x.gov/f.xml
    kind: feed
    jurisdiction: US
    language: en
    full_text: "yes"
    content_selector: "div["
  - name: b
    url: https://x.gov/f.xml
    kind: feed
    jurisdiction: US
    language: en
    content_selector: div.article
""",
        encoding="utf-8",
    )
    with pytest.raises(FileProblems) as caught:
        load_feeds(path)
    found = [str(p) for p in caught.value.problems]
    shown = str(path)
    assert f"{shown}:2: fetch.page_delay must be a non-negative number" in found
    assert f"{shown}:3: fetch.page_limit must be a whole number" in found
    assert f"{shown}:10: full_text must be true or false" in found
    assert any(p.startswith(f"{shown}:11: content_selector 'div[' is not a valid CSS selector") for p in found)
    assert f"{shown}:17: content_selector only applies with full_text: true" in found
    assert len(found) == 5, found


# --- decoding --------------------------------------------------------------------------------------------

ZH = "海关总署公告2023年第103号:全面暂停进口日本水产品"
JA = "急増する少額輸入貨物への対応に関するワーキンググループ 議事要旨"
ES = "Publica Economía en el DOF decreto que prohíbe importar temporalmente calzado terminado"


@pytest.mark.parametrize(
    ("body", "content_type", "text", "source"),
    [
        (f"<p>{ZH}</p>".encode("gb2312"), "text/html; charset=GB2312", ZH, "header"),
        (f'<meta charset="gbk"><p>{ZH}</p>'.encode("gbk"), "text/html", ZH, "meta"),
        (f"<html><body><p>{ZH}。{ZH}</p></body></html>".encode("gb2312"), None, ZH, "detected"),
        (f"<p>{JA}</p>".encode("shift_jis"), "text/html; charset=Shift_JIS", JA, "header"),
        (f"<html><body><p>{JA}</p></body></html>".encode("shift_jis"), "text/html", JA, "detected"),
        (f"<p>{ES}</p>".encode("latin-1"), "text/html; charset=iso-8859-1", ES, "header"),
        (f"<html lang='es'><body><p>{ES}</p></body></html>".encode("latin-1"), "text/html", ES, "detected"),
        (f"<p>{ES}</p>".encode(), "text/html", ES, "detected"),
        (b"\xef\xbb\xbf" + f"<p>{ZH}</p>".encode(), "text/html; charset=gbk", ZH, "bom"),
    ],
)
def test_pages_are_decoded_whatever_declares_their_charset(body, content_type, text, source):
    decoded = decode_html(body, content_type)
    assert text in decoded.text
    assert decoded.source == source
    assert decoded.warning is None


def test_a_wrong_declaration_gives_way_to_the_next_clue_with_a_warning():
    body = f'<meta charset="gb2312"><p>{ZH}</p>'.encode("gb2312")
    decoded = decode_html(body, "text/html; charset=utf-8")  # a server default that does not fit the bytes
    assert ZH in decoded.text
    assert decoded.source == "meta"
    assert decoded.warning == "declared 'utf-8' (header) does not fit the bytes: decoded as gb18030"


def test_windows_1252_punctuation_in_a_page_labelled_latin1():
    body = "<p>Aranceles \u2014 hasta 50% \u201cdesde 2026\u201d</p>".encode("cp1252")
    assert "\u2014 hasta 50% \u201cdesde 2026\u201d" in decode_html(body, "text/html; charset=ISO-8859-1").text


# --- main text -------------------------------------------------------------------------------------------


def test_the_main_text_leaves_navigation_and_footer_out():
    text = extract_text(page("csms-64701128.html"), url="http://127.0.0.1/csms", content_type="text/html")
    assert "additional ad valorem rate of duty of 125%" in text
    assert "Contact CBP" not in text and "Copyright" not in text


def test_a_content_selector_reads_only_what_it_matches():
    text = extract_text(
        page("gacc-2023-103.html"),
        url="http://127.0.0.1/n",
        content_type="text/html",
        content_selector="div.TRS_Editor",
    )
    assert "决定从2023年8月24日(含当日)开始,全面暂停日本原产水产品" in text
    assert "首页" not in text and "联系我们" not in text
    with pytest.raises(ParseError) as caught:
        extract_text(page("gacc-2023-103.html"), url="http://127.0.0.1/n", content_selector="div.content")
    assert str(caught.value) == "content_selector 'div.content' matched nothing on http://127.0.0.1/n"


def test_a_pdf_is_not_read_as_html():
    with pytest.raises(ParseError, match=r"the linked page is application/pdf, not HTML"):
        extract_text(b"%PDF-1.7\n...", url="http://127.0.0.1/n.pdf", content_type="application/pdf")


@pytest.mark.parametrize(
    ("summary", "page_text", "expected"),
    [
        (
            "Duty of 25% on steel.",
            "Notice 12\n\nDuty of 25% on steel. From 1 April.",
            "Notice 12\n\nDuty of 25% on steel. From 1 April.",
        ),
        (
            "Duty of 25% on steel from…",
            "Duty of 25% on steel from Canada, from 1 April.",
            "Duty of 25% on steel from Canada, from 1 April.",
        ),
        ("Duty of 25% on steel [...]", "duty of 25%   on steel imports", "duty of 25%   on steel imports"),
        (
            "CSMS # 1: updated guidance.",
            "GUIDANCE\nA duty of 125% applies.",
            "CSMS # 1: updated guidance.\n\nGUIDANCE\nA duty of 125% applies.",
        ),
        ("A long summary that says everything.", "says everything", "A long summary that says everything."),
        (
            "The rate rises to 30%. Read more »",
            "Notice 7\n\nThe rate rises to 30%. From May.",
            "Notice 7\n\nThe rate rises to 30%. From May.",
        ),
        (
            "Rates rise furthermore",
            "Rates rise further. From May.",
            "Rates rise furthermore\n\nRates rise further. From May.",
        ),
        ("", "Page only.", "Page only."),
        ("Summary only.", "", "Summary only."),
        ("Summary only.", None, "Summary only."),
    ],
)
def test_combine(summary, page_text, expected):
    assert combine(summary, page_text) == expected


# --- polite fetching -------------------------------------------------------------------------------------


class FakeClock:
    """A clock that moves only when slept on, recording each sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class FakeFetcher:
    """Answers every URL with a small page; with `blocked`, each request waits for `go` (counting who runs)."""

    def __init__(self, blocked: bool = False) -> None:
        self.blocked = blocked
        self.go = threading.Event()
        self.lock = threading.Condition()
        self.running = 0

    def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        with self.lock:
            self.running += 1
            self.lock.notify_all()
        if self.blocked:
            self.go.wait(timeout=5)
        with self.lock:
            self.running -= 1
        body = f"<html><body><article><p>Page {url}</p></article></body></html>".encode()
        return FetchResult("ok", url, url, 200, body, "text/html", None, None, None, 1, 0.0)


def test_requests_to_one_host_are_spaced_by_the_delay_and_other_hosts_do_not_wait():
    clock = FakeClock()
    pages = PageFetcher(FakeFetcher(), delay=1.5, sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    pages.note("https://www.customs.gov.cn/list.html")  # the source's own list page, fetched elsewhere
    pages.fetch("https://www.customs.gov.cn/a.html")
    pages.fetch("https://www.customs.gov.cn/b.html")
    pages.fetch("https://www.dof.gob.mx/nota.php")
    assert clock.sleeps == [1.5, 1.5]  # none for the first request to dof.gob.mx
    clock.now += 10  # a long pause: the next request to that host needs no wait
    pages.fetch("https://www.customs.gov.cn/c.html")
    assert clock.sleeps == [1.5, 1.5]


@pytest.mark.parametrize(
    ("hosts", "allowed"),
    [
        (["a.gov"] * 6, 2),  # one host: two at a time
        ([f"h{n}.gov" for n in range(6)], 4),  # six hosts: four at a time in all
    ],
)
def test_concurrency_is_bounded_per_host_and_overall(hosts, allowed):
    fake = FakeFetcher(blocked=True)
    pages = PageFetcher(fake, delay=0)  # type: ignore[arg-type]
    requests = [PageRequest(f"https://{host}/{n}") for n, host in enumerate(hosts)]
    results: list = []
    worker = threading.Thread(target=lambda: results.extend(pages.map(lambda r: read_page(pages, r), requests)))
    worker.start()
    try:
        with fake.lock:
            assert fake.lock.wait_for(lambda: fake.running >= allowed, timeout=5)
            # Nothing more may start while these are held (a broken gate would let the rest in at once).
            assert not fake.lock.wait_for(lambda: fake.running > allowed, timeout=0.2)
    finally:
        fake.go.set()
        worker.join(timeout=5)
    assert sorted(r.url for r in results) == sorted(r.url for r in requests)
    assert all(r.status == "ok" and r.text.startswith("Page https://") for r in results)


def test_read_page_turns_every_outcome_into_data(httpserver):
    serve(httpserver, "csms-64701128.html", headers={"ETag": '"c1"'})
    httpserver.expect_request("/x.html").respond_with_data("", status=500)
    with Fetcher(FetchLimits(retries=0)) as fetcher:
        pages = PageFetcher(fetcher, delay=0)
        ok = read_page(pages, PageRequest(httpserver.url_for("/csms-64701128.html")))
        failed = read_page(pages, PageRequest(httpserver.url_for("/x.html")))
    assert (ok.status, ok.etag, ok.encoding) == ("ok", '"c1"', "utf_8")
    assert "125%" in ok.text and ok.content_hash
    assert (failed.status, failed.http_status, failed.error, failed.text) == (
        "failed",
        500,
        "HTTP 500 Internal Server Error",
        None,
    )


# --- the page cache --------------------------------------------------------------------------------------


def test_the_page_cache_keeps_text_through_failures(tmp_path):
    with Store.open(tmp_path / "pw.db") as store:
        with store.transaction():
            save_page(store, "https://x.gov/n", fetched_at="t1", status="ok", http_status=200, etag='"e"',
                      text="Notice text", content_hash="h1")  # fmt: skip
            save_page(store, "https://x.gov/n", fetched_at="t2", status="failed", http_status=503, error="HTTP 503")
        page_row = cached_pages(store, ["https://x.gov/n", "https://x.gov/other"])
    assert list(page_row) == ["https://x.gov/n"]
    row = page_row["https://x.gov/n"]
    assert (row.status, row.text, row.etag, row.error, row.fetched_at) == (
        "failed",
        "Notice text",
        '"e"',
        "HTTP 503",
        "t2",
    )
    assert row.retryable


# --- scans -----------------------------------------------------------------------------------------------

FEEDS = """\
fetch: {{page_delay: 0, retries: 0{extra}}}
feeds:
  - name: csms
    url: {url}
    kind: feed
    jurisdiction: US
    language: en
    full_text: {full_text}
"""


@pytest.fixture
def summaries(httpserver, tmp_path):
    """A feed of one-line summaries, two linked pages (one with an ETag) and one linked page that is gone."""
    serve(httpserver, "summaries.xml", "application/rss+xml")
    httpserver.expect_request("/csms-64701128.html", headers={"If-None-Match": '"csms-1"'}).respond_with_data(
        "", status=304
    )
    serve(httpserver, "csms-64701128.html", "text/html; charset=utf-8", headers={"ETag": '"csms-1"'})
    serve(httpserver, "tcc-2025-02-04.html")
    httpserver.expect_request("/gone.html").respond_with_data("not here", status=404)

    def write(full_text: str = "true", extra: str = "") -> Path:
        path = tmp_path / "feeds.yaml"
        path.write_text(
            FEEDS.format(url=httpserver.url_for("/summaries.xml"), full_text=full_text, extra=extra), encoding="utf-8"
        )
        return path

    return write


def test_full_text_feeds_extraction_and_a_failed_page_keeps_the_summary(run, httpserver, summaries, tmp_path):
    db = tmp_path / "pw.db"
    data = scan(run, summaries(), db)
    (csms,) = data["feeds"]
    assert (csms["pages_read"], csms["pages_failed"], csms["pages_left"]) == (2, 1, 0)
    assert csms["warnings"] == [
        f"full text of {httpserver.url_for('/gone.html')} not read (HTTP 404 Not Found); the item keeps its own text"
    ]
    texts = dict(rows(db, "SELECT guid, text FROM bulletins"))
    # The one-line summary differs from the page, so both are kept; the measure is stated only in the page.
    assert texts["guid:csms-64701128"].startswith(
        "CSMS # 64701128: updated guidance on the reciprocal tariff for China.\n\n"
    )
    assert "additional ad valorem rate of duty of 125%" in texts["guid:csms-64701128"]
    # The Chinese summary is the page's first sentence: the page alone, decoded from GB2312.
    assert texts["guid:tcc-2025-02-04"].startswith(
        "国务院关税税则委员会于2月4日发布公告,决定对部分原产于美国的进口商品"
    )
    assert "一、煤炭、液化天然气,加征关税15%。" in texts["guid:tcc-2025-02-04"]
    assert texts["guid:csms-gone"] == "ACE will be unavailable on Saturday for scheduled maintenance."
    rates = {c["new_rate_percent"] for c in data["changes"] if c["jurisdiction"] == "US"}
    assert 125.0 in rates  # read from the page: the summary has no rate at all
    pages = {
        url.rsplit("/", 1)[1]: rest
        for url, *rest in rows(db, "SELECT url, status, http_status, etag, error FROM pages")
    }
    assert pages == {
        "csms-64701128.html": ["ok", 200, '"csms-1"', None],
        "tcc-2025-02-04.html": ["ok", 200, None, None],
        "gone.html": ["failed", 404, None, "HTTP 404 Not Found"],
    }


def test_an_unchanged_feed_fetches_no_page_and_a_revised_item_costs_a_304(run, httpserver, summaries, tmp_path):
    db = tmp_path / "pw.db"
    scan(run, summaries(), db)
    assert len(requests_to(httpserver, "/csms-64701128.html")) == 1

    second = scan(run, summaries(), db)
    assert second["feeds"][0]["status"] == "unchanged"
    assert len(requests_to(httpserver, "/csms-64701128.html")) == 1  # no request at all
    assert len(requests_to(httpserver, "/gone.html")) == 1  # a 404 is not retried for an unchanged item

    # The feed now says more about the CSMS item: it is revised, and its page is revalidated, not refetched.
    httpserver.clear()
    revised = page("summaries.xml").replace(
        b"updated guidance on the reciprocal tariff", b"revised guidance on the tariff"
    )
    httpserver.expect_request("/summaries.xml").respond_with_data(revised, content_type="application/rss+xml")
    httpserver.expect_request("/csms-64701128.html", headers={"If-None-Match": '"csms-1"'}).respond_with_data(
        "", status=304, headers={"ETag": '"csms-1"'}
    )
    third = scan(run, summaries(), db)
    (csms,) = third["feeds"]
    assert (csms["revised_bulletins"], csms["pages_not_modified"], csms["pages_read"]) == (1, 1, 0)
    assert [r.path for r, _ in httpserver.log] == ["/summaries.xml", "/csms-64701128.html"]
    (text,) = rows(db, "SELECT text FROM bulletins WHERE guid = 'guid:csms-64701128'")[0]
    assert text.startswith("CSMS # 64701128: revised guidance on the tariff for China.")
    assert "additional ad valorem rate of duty of 125%" in text  # the cached page text
    assert rows(db, "SELECT http_status FROM pages WHERE url LIKE '%csms%'") == [(304,)]


def test_pages_over_the_limit_wait_for_the_next_scan(run, httpserver, summaries, tmp_path):
    db = tmp_path / "pw.db"
    feeds = summaries(extra=", page_limit: 1")
    first = scan(run, feeds, db)["feeds"][0]
    assert (first["new_bulletins"], first["pages_read"], first["pages_left"]) == (3, 1, 2)
    assert "full text: 2 linked page(s) left for the next scan (page_limit 1)" in first["warnings"]

    second = scan(run, feeds, db)["feeds"][0]  # the same bytes, but the source was not marked as read
    assert (second["status"], second["new_bulletins"], second["pages_read"], second["pages_left"]) == ("ok", 0, 1, 1)
    third = scan(run, feeds, db)["feeds"][0]
    assert (third["pages_failed"], third["pages_left"]) == (1, 0)  # gone.html: tried once, and kept as failed
    assert scan(run, feeds, db)["feeds"][0]["status"] == "unchanged"
    texts = dict(rows(db, "SELECT guid, text FROM bulletins"))
    assert "一、煤炭、液化天然气,加征关税15%。" in texts["guid:tcc-2025-02-04"]  # completed on a later scan
    assert "125%" in texts["guid:csms-64701128"]
    assert rows(db, "SELECT max(revision) FROM bulletins") == [(2,)]  # the summary-only text kept as a revision


def test_turning_full_text_on_reads_the_pages_of_stored_items(run, httpserver, summaries, tmp_path):
    db = tmp_path / "pw.db"
    scan(run, summaries(full_text="false"), db)
    assert not requests_to(httpserver, "/csms-64701128.html")
    assert not any(c["new_rate_percent"] == 125.0 for c in stored_changes(run, db))
    after = scan(run, summaries(full_text="true"), db)["feeds"][0]
    assert (after["status"], after["new_bulletins"], after["pages_read"]) == ("ok", 0, 2)
    assert any(c["new_rate_percent"] == 125.0 for c in stored_changes(run, db))


def stored_changes(run, db: Path) -> list[dict]:
    return json.loads(run("changes", "--db", db, "--format", "json").stdout)


def test_a_server_error_is_retried_when_the_feed_is_read_again(run, httpserver, tmp_path):
    rss = page("summaries.xml")
    httpserver.expect_oneshot_request("/summaries.xml").respond_with_data(rss, content_type="application/rss+xml")
    httpserver.expect_oneshot_request("/csms-64701128.html").respond_with_data("busy", status=503)
    serve(httpserver, "tcc-2025-02-04.html")
    httpserver.expect_request("/gone.html").respond_with_data("not here", status=404)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        FEEDS.format(url=httpserver.url_for("/summaries.xml"), full_text="true", extra=""), encoding="utf-8"
    )
    db = tmp_path / "pw.db"
    first = scan(run, feeds, db)["feeds"][0]
    assert first["pages_failed"] == 2
    # The feed changes (a new first line in the channel); the 503 page is tried again, the 404 is not.
    httpserver.expect_oneshot_request("/summaries.xml").respond_with_data(
        rss.replace(b"<title>CSMS messages</title>", b"<title>CSMS messages (updated)</title>"),
        content_type="application/rss+xml",
    )
    serve(httpserver, "csms-64701128.html")
    second = scan(run, feeds, db)["feeds"][0]
    assert (second["pages_read"], second["pages_failed"]) == (1, 0)
    assert len(requests_to(httpserver, "/gone.html")) == 1
    (text,) = rows(db, "SELECT text FROM bulletins WHERE guid = 'guid:csms-64701128'")[0]
    assert "125%" in text


HTML_FEEDS = """\
fetch: {{page_delay: 0, retries: 0}}
feeds:
  - name: gacc
    url: {gacc}
    kind: html
    jurisdiction: CN
    language: zh
    item_selector: div.conList_ul li
    date_selector: span
    full_text: true
    content_selector: div.TRS_Editor
  - name: dof
    url: {dof}
    kind: html
    jurisdiction: MX
    language: es
    item_selector: tr.nota
    date_selector: td.fecha
    full_text: true
  - name: mof
    url: {mof}
    kind: html
    jurisdiction: JP
    language: ja
    item_selector: ul.list li
    date_selector: span.date
    full_text: true
"""


def test_html_sources_with_full_text_in_gb2312_latin1_and_shift_jis(run, httpserver, tmp_path):
    urls = {
        "gacc": serve(httpserver, "gacc-list.html"),
        "dof": serve(httpserver, "dof-list.html", "text/html; charset=ISO-8859-1"),
        "mof": serve(httpserver, "mof-list-sjis.html"),
    }
    for name in ("gacc-2023-103.html", "gacc-2025-18.html", "tcc-2025-02-04.html"):
        serve(httpserver, name)
    # The DOF and MOF pages declare no charset anywhere: Latin-1 and Shift_JIS are detected.
    serve(httpserver, "dof-nota-immex.html", path="/nota_detalle.php", query="codigo=5766012&fecha=28/08/2025")
    httpserver.expect_request("/nota_detalle.php").respond_with_data("", status=404)
    serve(httpserver, "mof-wg20250910-sjis.html", path="/wg20250910.html")
    httpserver.expect_request("/wg20250801.html").respond_with_data("", status=404)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(HTML_FEEDS.format(**urls), encoding="utf-8")
    db = tmp_path / "pw.db"
    data = scan(run, feeds, db)
    counts = {f["name"]: (f["new_bulletins"], f["pages_read"], f["pages_failed"]) for f in data["feeds"]}
    assert counts == {"gacc": (3, 3, 0), "dof": (3, 1, 1), "mof": (2, 1, 1)}
    texts = dict(rows(db, "SELECT title, text FROM bulletins"))
    gacc = texts["海关总署公告2023年第103号(关于全面暂停进口日本水产品的公告)"]
    assert "全面暂停日本原产水产品(包括食用水生动物)的进口" in gacc and "联系我们" not in gacc
    dof = texts["Publica Economía en el DOF decreto que prohíbe importar temporalmente calzado terminado"]
    assert "queda prohibido importar de manera temporal calzado terminado" in dof
    mof = texts["急増する少額輸入貨物への対応に関するワーキンググループ 第2回会合(令和7年9月10日)の議事要旨"]
    assert "財務省第3特別会議室" in mof
    categories = {(c["jurisdiction"], c["category"]) for c in data["changes"]}
    assert ("CN", "import_restriction") in categories
    assert ("MX", "import_restriction") in categories
