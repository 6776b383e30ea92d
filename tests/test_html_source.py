"""`kind: html` sources: feeds.yaml validation, the list parser (selectors, dates, encodings), pagination, scans.

The list pages under tests/assets/html/ carry real notice titles from ../shared/corpus, written in the
encodings the agencies use (GACC in GB2312, DOF in Latin-1, MOF Japan in Shift_JIS) and served on 127.0.0.1.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import ASSETS

from policywatch.config import HtmlSettings, load_feeds
from policywatch.models import FeedKind
from policywatch.sources import ParseError, parser_for
from policywatch.sources.fetch import FetchResult
from policywatch.sources.html import HtmlNoticeParser, read_date, read_list
from policywatch.yamlio import FileProblems

HTML = ASSETS / "html"
GACC = HtmlSettings(item_selector="div.conList_ul li", date_selector="span")
NOTICES = HtmlSettings(
    item_selector="div.notice", title_selector="h3", date_selector="time", next_selector="a.next", max_pages=5
)


def page(name: str) -> bytes:
    return (HTML / name).read_bytes()


def serve(httpserver, name: str, content_type: str = "text/html", path: str | None = None, **kwargs) -> str:
    """Serve an asset at /name (or path) with exactly this Content-Type; return its URL."""
    path = path or f"/{name}"
    httpserver.expect_request(path).respond_with_data(page(name), content_type=content_type, **kwargs)
    return httpserver.url_for(path)


def fetched(url: str, body: bytes, content_type: str | None = "text/html", http_status: int = 200) -> FetchResult:
    return FetchResult("ok", url, url, http_status, body, content_type, None, None, None, 1, 0.0)


def write_feeds(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(FileProblems) as caught:
        load_feeds(path)
    return [str(p) for p in caught.value.problems]


# --- feeds.yaml ------------------------------------------------------------------------------------------


def test_an_html_source_loads_with_its_selectors(tmp_path):
    path = write_feeds(
        tmp_path,
        """\
feeds:
  - name: gacc
    url: https://www.customs.gov.cn/customs/302249/302266/index.html
    kind: html
    jurisdiction: CN
    language: zh
    item_selector: "div.conList_ul li"
    title_selector: a
    link_selector: a
    date_selector: span
    date_format: "%Y-%m-%d"
    next_selector: "a.next"
    max_pages: 3
""",
    )
    feed = load_feeds(path).feeds[0]
    assert feed.kind is FeedKind.HTML
    assert feed.html == HtmlSettings(
        item_selector="div.conList_ul li",
        title_selector="a",
        link_selector="a",
        date_selector="span",
        date_format="%Y-%m-%d",
        next_selector="a.next",
        max_pages=3,
    )
    assert feed.full_text is False
    assert isinstance(parser_for(feed), HtmlNoticeParser)


def test_every_html_mistake_is_reported_with_its_line(tmp_path):
    path = write_feeds(
        tmp_path,
        """\
feeds:
  - name: a
    url: https://example.gov/list
    kind: html
    jurisdiction: CN
    language: zh
    item_selector: "li > a[href"
    date_format: "%Q"
    max_pages: 21
  - name: b
    url: https://example.gov/feed.xml
    kind: feed
    jurisdiction: US
    language: en
    item_selector: li
  - name: c
    url: https://example.gov/list
    kind: html
    jurisdiction: MX
    language: es
    title_selector: h3
    next_selector: a.next
  - name: d
    url: https://example.gov/list
    kind: html
    jurisdiction: MX
    language: es
    item_selector: tr
    date_selector: td.fecha
    max_pages: 4
""",
    )
    found = problems_of(path)
    shown = str(path)
    assert f"{shown}:7: item_selector 'li > a[href' is not a valid CSS selector: Malformed attribute selector" in (
        "\n".join(found)
    )
    assert any(p.startswith(f"{shown}:8: date_format '%Q' is not a usable strptime format") for p in found)
    assert any(p.startswith(f"{shown}:8: date_format needs date_selector") for p in found)
    assert f"{shown}:9: max_pages must be a whole number from 1 to 20" in found
    assert f"{shown}:15: item_selector only applies to kind: html sources (this one is kind: feed)" in found
    assert f"{shown}:16: feed c: kind html needs 'item_selector' (the CSS selector of one notice)" in found
    assert f"{shown}:22: next_selector needs max_pages (2 to 20 pages to follow)" in found
    assert f"{shown}:30: max_pages needs next_selector (the link to the next page)" in found
    assert len(found) == 8, found


def test_a_pseudo_element_selector_is_refused(tmp_path):
    path = write_feeds(
        tmp_path,
        "feeds:\n  - {name: a, url: 'https://x.gov/', kind: html, jurisdiction: IN, language: en,"
        " item_selector: 'li::before'}\n",
    )
    (problem,) = problems_of(path)
    assert "item_selector 'li::before' is not a valid CSS selector" in problem


def test_parser_for_needs_the_feed_config_for_html():
    with pytest.raises(ValueError, match="no parser for source kind 'html' without its selectors"):
        parser_for("html")


# --- dates -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04", "2025-03-04"),
        ("[2025/3/4]", "2025-03-04"),
        ("2025.03.04 15:42", "2025-03-04"),  # a local time without a zone: the date is what is known
        ("Published 2025-03-04T10:00:00+08:00", "2025-03-04T02:00:00Z"),
        ("2025年3月4日", "2025-03-04"),
        ("发布时间：２０２５年０３月０４日", "2025-03-04"),  # full-width digits
        ("令和7年9月10日", "2025-09-10"),
        ("平成元年1月8日", "1989-01-08"),
        ("2025년 3월 4일", "2025-03-04"),
        ("04/03/2025", "2025-03-04"),  # day first, as DOF, CBIC and EU sites write
        ("12/25/2025", "2025-12-25"),  # the month first only when the day cannot be a month
        ("04.03.2025", "2025-03-04"),
        ("March 4, 2025", "2025-03-04"),
        ("4 March 2025", "2025-03-04"),
        ("Lunes 29 de Junio de 2020", "2020-06-29"),
        ("4 de março de 2025", "2025-03-04"),
        ("4. März 2025", "2025-03-04"),
        ("4 févr. 2025", "2025-02-04"),
        ("2025-02-30", None),
        ("No. 103", None),
        ("", None),
    ],
)
def test_dates_without_a_format(text, expected):
    assert read_date(text) == expected


def test_dates_with_a_format_are_found_inside_the_text():
    assert read_date("Publicado: 28/08/2025", "%d/%m/%Y") == "2025-08-28"
    assert read_date("04/03/2025", "%m/%d/%Y") == "2025-04-03"
    assert read_date("2025-03-04 10:00 +0100", "%Y-%m-%d %H:%M %z") == "2025-03-04T09:00:00Z"
    assert read_date("yesterday", "%d/%m/%Y") is None


# --- the list parser -------------------------------------------------------------------------------------


def test_gacc_list_in_gb2312_declared_in_a_meta_tag():
    listed = HtmlNoticeParser(GACC).parse_page(
        page("gacc-list.html"), url="http://127.0.0.1/publish/index.html", content_type="text/html"
    )
    assert listed.encoding == "gb18030"  # GB2312 read as its superset
    items = listed.feed.items
    assert [i.title for i in items] == [
        # The list shortens the title; the title attribute has it whole (NFKC folds the full-width brackets).
        "海关总署公告2023年第103号(关于全面暂停进口日本水产品的公告)",
        "关于对部分中重稀土相关物项实施出口管制的决定(商务部 海关总署公告2025年第18号)",
        "国务院关税税则委员会公告:对部分美国原产进口商品加征关税",
    ]
    assert [i.link for i in items] == [
        "http://127.0.0.1/publish/gacc-2023-103.html",
        "http://127.0.0.1/publish/gacc-2025-18.html",
        "http://127.0.0.1/publish/tcc-2025-02-04.html",
    ]
    assert [i.guid for i in items] == [i.link for i in items]
    assert [i.published for i in items] == ["2023-08-24", "2025-04-04", "2025-02-04"]
    assert all(i.text == "" for i in items)  # a bare list: no summary beyond the title and the date
    assert listed.feed.title == "海关总署 公告"
    assert listed.feed.warnings == ()


@pytest.mark.parametrize("content_type", ["text/html; charset=ISO-8859-1", "text/html"])
def test_dof_list_in_latin1_declared_in_the_header_or_not_at_all(content_type):
    settings = HtmlSettings(
        item_selector="tr.nota", title_selector="td.titulo", date_selector="td.fecha", date_format="%d/%m/%Y"
    )
    feed = HtmlNoticeParser(settings).parse(page("dof-list.html"), url="https://dof.gob.mx/", content_type=content_type)
    titles = [i.title for i in feed.items]
    assert titles[0] == "Publica Economía en el DOF decreto que prohíbe importar temporalmente calzado terminado"
    assert titles[2] == "Índice de la edición matutina"
    assert feed.items[0].link == "https://dof.gob.mx/nota_detalle.php?codigo=5766012&fecha=28/08/2025"
    assert [i.published for i in feed.items] == ["2025-08-28", "2020-06-29", "2025-03-04"]
    # A javascript: link is no link; the item is still kept, identified by its title and date.
    third = feed.items[2]
    assert third.link is None and third.guid.startswith("sha256:")
    again = HtmlNoticeParser(settings).parse(
        page("dof-list.html"), url="https://dof.gob.mx/", content_type=content_type
    )
    assert again.items[2].guid == third.guid


def test_japanese_list_in_shift_jis_declared_nowhere():
    settings = HtmlSettings(item_selector="ul.list li", date_selector="span.date")
    listed = HtmlNoticeParser(settings).parse_page(page("mof-list-sjis.html"), url="https://www.mof.go.jp/wg/")
    assert listed.encoding == "cp932"
    first, second = listed.feed.items
    assert first.title == "急増する少額輸入貨物への対応に関するワーキンググループ 第2回会合(令和7年9月10日)の議事要旨"
    assert first.link == "https://www.mof.go.jp/wg/wg20250910.html"
    assert (first.published, second.published) == ("2025-09-10", "2025-08-01")
    assert listed.feed.language == "ja"


def test_without_a_date_selector_the_first_date_in_the_item_is_used():
    settings = HtmlSettings(item_selector="ul.list li")
    feed = HtmlNoticeParser(settings).parse(page("mof-list-sjis.html"), url="https://www.mof.go.jp/wg/")
    assert [i.published for i in feed.items] == ["2025-09-10", "2025-08-01"]


def test_item_text_is_what_the_list_says_besides_title_and_date():
    feed = HtmlNoticeParser(NOTICES).parse(page("notices-1.html"), url="https://www.cbsa-asfc.gc.ca/cn/")
    first = feed.items[0]
    assert first.title == "Customs Notice 25-19: amendments to the United States Surtax Remission Order (2025)"
    assert first.published == "2025-04-17"  # from <time datetime>
    assert first.text == "Customs Notice 25-19: United States Surtax Remission Order (2025)"


def test_an_item_selector_that_matches_nothing_is_an_error():
    parser = HtmlNoticeParser(HtmlSettings(item_selector="div.notice"))
    with pytest.raises(ParseError) as caught:
        parser.parse(page("gacc-list.html"), url="http://127.0.0.1/list.html")
    assert str(caught.value) == "item_selector 'div.notice' matched nothing on http://127.0.0.1/list.html"


def test_an_item_selector_on_a_feed_says_to_use_kind_feed():
    with pytest.raises(ParseError, match=r"the page is an RSS/Atom feed: use kind: feed"):
        HtmlNoticeParser(HtmlSettings(item_selector="li")).parse(page("summaries.xml"), url="http://127.0.0.1/f")


def test_a_field_selector_matching_in_no_item_is_an_error_and_in_some_a_warning():
    none = HtmlSettings(item_selector="div.conList_ul li", date_selector="em.date")
    with pytest.raises(ParseError) as caught:
        HtmlNoticeParser(none).parse(page("gacc-list.html"), url="http://127.0.0.1/l")
    assert str(caught.value) == (
        "date_selector 'em.date' matched nothing in the 3 item(s) of item_selector 'div.conList_ul li' on "
        "http://127.0.0.1/l"
    )
    body = b"<ul><li><a href='/a'>A</a><b>2025-01-02</b></li><li><a href='/b'>B</a></li></ul>"
    feed = HtmlNoticeParser(HtmlSettings(item_selector="li", date_selector="b")).parse(body, url="http://x.gov/")
    assert [i.published for i in feed.items] == ["2025-01-02", None]
    assert feed.warnings == ("date_selector 'b' matched nothing in 1 of 2 items",)


def test_unreadable_dates_are_a_warning_with_an_example():
    body = b"<ul><li><a href='/a'>A</a><i>yesterday</i></li><li><a href='/b'>B</a><i>2025-1-2</i></li></ul>"
    feed = HtmlNoticeParser(HtmlSettings(item_selector="li", date_selector="i")).parse(body, url="http://x.gov/")
    assert [i.published for i in feed.items] == [None, "2025-01-02"]
    assert feed.warnings == ("1 date(s) could not be read, e.g. 'yesterday' (set date_format)",)


def test_links_are_resolved_against_base_href_and_only_web_links_kept():
    body = (
        b"<html><head><base href='https://customs.gov.example/notices/'></head><body><ul>"
        b"<li><a href='n1.html#top'>One</a></li><li><a href='file:///etc/passwd'>Two</a></li>"
        b"<li><a href='data:text/html,x'>Three</a></li></ul></body></html>"
    )
    feed = HtmlNoticeParser(HtmlSettings(item_selector="li")).parse(body, url="https://customs.gov.example/")
    assert [i.link for i in feed.items] == ["https://customs.gov.example/notices/n1.html", None, None]


def test_an_empty_page_is_an_error():
    with pytest.raises(ParseError, match="empty page"):
        HtmlNoticeParser(GACC).parse(b"  \n", url="http://127.0.0.1/")


# --- pagination ------------------------------------------------------------------------------------------


@pytest.fixture
def notices(httpserver):
    """Three list pages; the third links back to the first."""
    for number in (1, 2, 3):
        serve(httpserver, f"notices-{number}.html", "text/html; charset=utf-8")
    return httpserver


def _read(httpserver, settings: HtmlSettings):
    from policywatch.sources import Fetcher

    url = httpserver.url_for("/notices-1.html")
    with Fetcher() as fetcher:
        return read_list(HtmlNoticeParser(settings), fetcher.fetch(url), fetcher.fetch)


def test_pagination_stops_at_max_pages(notices):
    settings = HtmlSettings(**{**NOTICES.__dict__, "max_pages": 2})
    listed = _read(notices, settings)
    assert [p.items for p in listed.pages] == [2, 2]
    assert len(listed.feed.items) == 4
    assert listed.feed.warnings == ()
    assert not any(request.path == "/notices-3.html" for request, _ in notices.log)


def test_pagination_stops_on_a_page_already_read(notices):
    listed = _read(notices, NOTICES)
    assert [p.items for p in listed.pages] == [2, 2, 1]
    assert listed.pages[2].url.endswith("/notices-3.html?from=2")
    assert [i.published for i in listed.feed.items] == [
        "2025-04-17",
        "2024-10-18",
        "2025-03-14",
        "2023-05-26",
        "2018-06-29",
    ]
    assert listed.feed.warnings == (
        f"next_selector led back to {notices.url_for('/notices-1.html')}; stopped after 3 page(s)",
    )
    assert sum(1 for request, _ in notices.log if request.path == "/notices-1.html") == 1


def test_a_later_page_that_fails_keeps_what_was_read(httpserver):
    serve(httpserver, "notices-1.html")
    httpserver.expect_request("/notices-2.html").respond_with_data("gone", status=404)
    listed = _read(httpserver, NOTICES)
    assert len(listed.feed.items) == 2
    assert listed.pages[1].error == "HTTP 404 Not Found"
    assert listed.feed.warnings == (
        f"list page 2 ({httpserver.url_for('/notices-2.html')}) could not be read: HTTP 404 Not Found",
    )


def test_a_web_page_never_pages_to_a_file():
    body = b"<div class='notice'><h3><a href='/a'>A</a></h3><time>2025-01-01</time></div><a class='next' href='file:///etc/passwd'>n</a>"
    listed = HtmlNoticeParser(NOTICES).parse_page(body, url="http://127.0.0.1/list")
    assert listed.next_url is None


def test_duplicates_across_pages_are_read_once():
    def body(number: int) -> bytes:
        return (
            "<div class='notice'><h3><a href='/a'>A</a></h3><time>2025-01-01</time></div>"
            f"<a class='next' href='p{number + 1}'>next</a>"
        ).encode()

    first = fetched("http://127.0.0.1/p1", body(1))
    listed = read_list(HtmlNoticeParser(NOTICES), first, lambda url: fetched(url, body(int(url.rsplit("p", 1)[1]))))
    assert [p.url.rsplit("/", 1)[1] for p in listed.pages] == ["p1", "p2", "p3", "p4", "p5"]  # max_pages 5
    assert [i.link for i in listed.feed.items] == ["http://127.0.0.1/a"]
    assert listed.feed.warnings == ()


# --- scans -----------------------------------------------------------------------------------------------

FEEDS = """\
fetch: {{page_delay: 0, retries: 0}}
feeds:
  - name: gacc
    url: {gacc}
    kind: html
    jurisdiction: CN
    language: zh
    item_selector: div.conList_ul li
    date_selector: {date_selector}
  - name: cbsa
    url: {cbsa}
    kind: html
    jurisdiction: CA
    language: en
    item_selector: {item_selector}
"""


def test_scan_reads_html_sources_and_a_second_scan_finds_nothing_new(run, httpserver, tmp_path):
    urls = {
        "gacc": serve(httpserver, "gacc-list.html", path="/publish/index.html"),
        "cbsa": serve(httpserver, "notices-1.html", "text/html; charset=utf-8"),
    }
    feeds = write_feeds(tmp_path, FEEDS.format(**urls, date_selector="span", item_selector="div.notice"))
    db = tmp_path / "pw.db"
    first = run("scan", "--feeds", feeds, "--db", db, "--format", "json")
    assert first.exit_code == 0, first.stderr
    results = {f["name"]: f for f in json.loads(first.stdout)["feeds"]}
    assert results["gacc"]["status"] == "ok" and results["gacc"]["new_bulletins"] == 3
    assert results["gacc"]["list_pages"] == 1
    assert results["cbsa"]["new_bulletins"] == 2
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT guid, title, published FROM bulletins WHERE feed = 'gacc' ORDER BY published"
    ).fetchall()
    conn.close()
    assert rows[0] == (
        f"guid:{httpserver.url_for('/publish/gacc-2023-103.html')}",
        "海关总署公告2023年第103号(关于全面暂停进口日本水产品的公告)",
        "2023-08-24",
    )
    data = json.loads(first.stdout)
    assert any(c["category"] == "import_restriction" and c["jurisdiction"] == "CN" for c in data["changes"])

    second = run("scan", "--feeds", feeds, "--db", db, "--format", "json")
    assert [f["status"] for f in json.loads(second.stdout)["feeds"]] == ["unchanged", "unchanged"]

    # A changed selector reads the same bytes again (a 304 or the same hash must not hide the new reading).
    feeds.write_text(FEEDS.format(**urls, date_selector="'li > span'", item_selector="div.notice"), encoding="utf-8")
    third = json.loads(run("scan", "--feeds", feeds, "--db", db, "--format", "json").stdout)
    gacc = next(f for f in third["feeds"] if f["name"] == "gacc")
    assert (gacc["status"], gacc["items"], gacc["new_bulletins"]) == ("ok", 3, 0)  # same ids: nothing duplicated


def test_an_html_source_whose_selector_matches_nothing_fails_alone(run, httpserver, tmp_path):
    urls = {
        "gacc": serve(httpserver, "gacc-list.html"),
        "cbsa": serve(httpserver, "notices-1.html", "text/html; charset=utf-8"),
    }
    feeds = write_feeds(tmp_path, FEEDS.format(**urls, date_selector="span", item_selector="div.notices"))
    db = tmp_path / "pw.db"
    result = run("scan", "--feeds", feeds, "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "2 feeds in" in result.stdout and "1 read, 0 unchanged, 1 failed" in result.stdout
    assert f"failed: cbsa: item_selector 'div.notices' matched nothing on {urls['cbsa']}" in result.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT last_status, last_error FROM feeds WHERE name = 'cbsa'").fetchone() == (
        "failed",
        f"item_selector 'div.notices' matched nothing on {urls['cbsa']}",
    )
    conn.close()


def test_a_paginated_source_in_a_scan(run, notices, tmp_path):
    feeds = write_feeds(
        tmp_path,
        f"""\
fetch: {{page_delay: 0}}
feeds:
  - name: cbsa
    url: {notices.url_for("/notices-1.html")}
    kind: html
    jurisdiction: CA
    language: en
    item_selector: div.notice
    title_selector: h3
    date_selector: time
    next_selector: a.next
    max_pages: 20
""",
    )
    result = json.loads(run("scan", "--feeds", feeds, "--db", tmp_path / "pw.db", "--format", "json").stdout)
    (cbsa,) = result["feeds"]
    assert (cbsa["list_pages"], cbsa["items"], cbsa["new_bulletins"]) == (3, 5, 5)
    assert cbsa["warnings"] == [
        f"next_selector led back to {notices.url_for('/notices-1.html')}; stopped after 3 page(s)"
    ]
