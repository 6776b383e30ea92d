"""SyndicationParser over small feeds written for these tests (tests/assets/feeds/) and generated bodies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policywatch.models import FeedKind
from policywatch.sources import ParsedFeed, ParseError, SyndicationParser, parser_for

FEEDS = Path(__file__).parent / "assets" / "feeds"
RSS_URL = "https://customs.example.gov/feeds/rss.xml"
ATOM_URL = "https://douane.example.eu/avis/atom.xml"
JSON_URL = "https://trade.example.gov.uk/feed.json"


def parse(name: str, url: str, content_type: str | None = None) -> ParsedFeed:
    return SyndicationParser().parse((FEEDS / name).read_bytes(), url=url, content_type=content_type)


def by_guid(feed: ParsedFeed) -> dict:
    return {item.guid: item for item in feed.items}


# --- RSS 2.0 -------------------------------------------------------------------------------------------


def test_rss_channel_fields():
    feed = parse("rss2.xml", RSS_URL, "application/rss+xml; charset=utf-8")
    assert feed.title == "Customs & Border Notices"
    assert feed.language == "en"
    assert feed.warnings == ()
    assert len(feed.items) == 4


def test_rss_relative_link_is_resolved_against_the_feed_url():
    item = by_guid(parse("rss2.xml", RSS_URL))["notice-2024-017"]
    assert item.link == "https://customs.example.gov/notices/2024/steel-tariff"


def test_rss_javascript_and_data_links_are_dropped():
    feed = parse("rss2.xml", RSS_URL)
    assert by_guid(feed)["notice-2024-018"].link is None
    data_item = next(item for item in feed.items if item.title == "Data link")
    assert data_item.link is None


def test_rss_html_title_and_cdata_description_become_clean_text():
    item = by_guid(parse("rss2.xml", RSS_URL))["notice-2024-017"]
    assert item.title == "Tariff increase on steel products"
    # Paragraphs stay separate; the script inside the CDATA is dropped, not turned into text.
    assert item.text == "The duty on HS 7208 rises to 25% from 1 April 2024.\n\nImporters must file form C-12."


def test_rss_escaped_html_description_is_stripped():
    item = by_guid(parse("rss2.xml", RSS_URL))["notice-2024-018"]
    assert item.text == "Join us.\n\nDate: 12 March\n\nTime: 10:00"
    assert "<" not in item.text


def test_rss_content_encoded_wins_over_description():
    item = by_guid(parse("rss2.xml", RSS_URL))["https://customs.example.gov/notices/2024/de-minimis"]
    assert item.text == "De minimis\n\nThe threshold falls from $800 to $0."


def test_rss_dates_become_iso_utc():
    items = by_guid(parse("rss2.xml", RSS_URL))
    assert items["notice-2024-017"].published == "2024-03-05T09:00:00Z"  # +0100 shifted to UTC
    assert items["https://customs.example.gov/notices/2024/de-minimis"].published == "2024-03-08T04:30:00Z"
    assert items["notice-2024-018"].published == "2024-03-06"  # dc:date gave only a date


def test_rss_item_without_date_or_guid():
    item = next(item for item in parse("rss2.xml", RSS_URL).items if item.title == "Data link")
    assert item.published is None
    assert item.guid is None
    assert "\t" not in item.text


def test_relative_link_with_a_file_url_base_is_dropped():
    item = by_guid(parse("rss2.xml", (FEEDS / "rss2.xml").resolve().as_uri()))["notice-2024-017"]
    assert item.link is None


# --- Atom -----------------------------------------------------------------------------------------------


def test_atom_languages_from_xml_lang():
    feed = parse("atom.xml", ATOM_URL, "application/atom+xml")
    assert feed.language == "fr"
    first, second = feed.items
    assert first.language == "de"  # the entry's own xml:lang
    assert second.language == "fr"  # inherited from the feed element


def test_atom_html_content_and_title():
    first = parse("atom.xml", ATOM_URL).items[0]
    assert first.title == "Neue Zölle auf Fahrräder"
    assert first.text == "Der Zollsatz steigt auf 15 %.\n\nGilt ab 1. März 2024."  # content, not summary


def test_atom_plain_text_is_not_treated_as_markup():
    second = parse("atom.xml", ATOM_URL).items[1]
    assert second.title == "Taux < 5 % pour les jouets"
    assert second.text == "Le taux passe sous 5 % & reste stable."


def test_atom_links_resolve_against_xml_base():
    first, second = parse("atom.xml", ATOM_URL).items
    assert first.link == "https://douane.example.eu/avis/2024/fahrraeder.html"
    assert second.link == "https://douane.example.eu/avis/2024/jouets.html"


def test_atom_dates_prefer_published_and_keep_date_only():
    first, second = parse("atom.xml", ATOM_URL).items
    assert first.published == "2024-01-31T20:15:30Z"  # published (-02:00), not updated
    assert second.published == "2024-01-15"
    assert first.guid == "urn:uuid:7d1c0a46-0000-4000-8000-000000000002"


# --- JSON Feed ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/feed+json", "application/json", None])
def test_json_feed_detected_by_type_or_body(content_type):
    feed = parse("jsonfeed.json", JSON_URL, content_type)
    assert feed.title == "Trade Remedies Bulletin"
    assert feed.language == "en"
    assert [item.guid for item in feed.items] == ["tr-2024-001", "42", "tr-2024-003"]
    assert feed.warnings == ("1 JSON Feed item(s) are not objects and were skipped",)


def test_json_feed_item_fields():
    first, second, third = parse("jsonfeed.json", JSON_URL).items
    assert first.title == "Anti-dumping duty on aluminium foil"
    assert first.link == "https://trade.example.gov.uk/bulletins/tr-2024-001"
    assert first.published == "2024-03-10T07:30:00Z"
    assert first.text == "A provisional duty of 30.5% applies.\n\nEffective 2 April 2024."
    assert first.language == "en"
    assert second.link == "https://elsewhere.example.org/story"  # external_url when url is absent
    assert second.published == "2024-03-11"  # date_modified when date_published is absent
    assert second.text == "A short summary."
    assert third.link is None  # javascript:
    assert third.published is None  # "not a date"
    assert third.text == "Plain text body.\n\nSecond paragraph."


def test_json_but_not_a_json_feed():
    with pytest.raises(ParseError, match="not a JSON Feed"):
        SyndicationParser().parse(b'{"hello": "world"}', url=JSON_URL, content_type="application/json")
    with pytest.raises(ParseError, match="not a JSON Feed"):
        SyndicationParser().parse(b"[1, 2, 3]", url=JSON_URL, content_type="application/json")


def test_invalid_json():
    with pytest.raises(ParseError, match="not valid JSON"):
        SyndicationParser().parse(b'{"version": "https://jsonfeed.org/version/1.1", "items": [', url=JSON_URL)


def test_deeply_nested_json_is_rejected_not_crashing():
    body = b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ParseError):
        SyndicationParser().parse(body, url=JSON_URL)


def test_json_feed_in_latin1_is_read_with_a_warning():
    doc = {"version": "https://jsonfeed.org/version/1", "items": [{"id": "1", "content_text": "Zoll für Räder"}]}
    body = json.dumps(doc, ensure_ascii=False).encode("latin-1")
    feed = SyndicationParser().parse(body, url=JSON_URL)
    assert feed.items[0].text.startswith("Zoll f")
    assert any("UTF-8" in warning for warning in feed.warnings)


# --- not feeds ------------------------------------------------------------------------------------------


def test_html_page_is_rejected():
    with pytest.raises(ParseError, match="looks like an HTML page, not a feed"):
        parse("html_page.html", "https://customs.example.gov/feed", "text/html; charset=utf-8")
    # Served with a feed content type, it is still recognised as a page.
    with pytest.raises(ParseError, match="looks like an HTML page, not a feed"):
        parse("html_page.html", "https://customs.example.gov/feed", "application/rss+xml")


@pytest.mark.parametrize("body", [b"", b"   \n\t  "])
def test_empty_body_is_rejected(body):
    with pytest.raises(ParseError, match="empty body"):
        SyndicationParser().parse(body, url=RSS_URL)


@pytest.mark.parametrize(
    "body",
    [
        bytes(range(256)) * 8,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\xff" * 100,
        b"Service temporarily unavailable",
        b"<" * 10_000,
    ],
)
def test_garbage_is_rejected(body):
    with pytest.raises(ParseError) as info:
        SyndicationParser().parse(body, url=RSS_URL, content_type="application/rss+xml")
    assert "\n" not in str(info.value)


def test_xml_that_is_not_a_feed_is_rejected():
    with pytest.raises(ParseError, match=r"no RSS channel or Atom feed \(root element <catalog>\)"):
        SyndicationParser().parse(b'<?xml version="1.0"?><catalog><book id="1"/></catalog>', url=RSS_URL)


def test_broken_feed_with_no_items_is_rejected():
    body = b'<?xml version="1.0"?>\n<rss version="2.0">\n<channel><title>Broken &bogus; title'
    with pytest.raises(ParseError, match="^malformed feed with no readable items: undefined entity at line 3$"):
        SyndicationParser().parse(body, url=RSS_URL)


def test_empty_but_valid_feed_has_no_items():
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = SyndicationParser().parse(body, url=RSS_URL, content_type="text/xml")
    assert feed.items == ()
    assert feed.title == "Quiet"


def test_malformed_feed_with_items_is_read_with_a_warning():
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>Duties & taxes</title><link>https://e.example.gov/1</link></item></channel></rss>"
    )
    feed = SyndicationParser().parse(body, url=RSS_URL)
    assert [item.title for item in feed.items] == ["Duties & taxes"]
    assert len(feed.warnings) == 1
    assert feed.warnings[0].startswith("malformed feed read leniently")


def test_a_body_naming_a_local_file_is_not_read_as_that_file(tmp_path):
    # feedparser treats a bytes argument naming an existing file as a path; the parser must not.
    path = tmp_path / "feed.xml"
    path.write_bytes((FEEDS / "rss2.xml").read_bytes())
    with pytest.raises(ParseError):
        SyndicationParser().parse(str(path).encode(), url=RSS_URL)


# --- encodings ------------------------------------------------------------------------------------------


def test_gb2312_declared_feed_decodes():
    feed = parse("gb2312.xml", "http://www.customs.example.cn/rss.xml")
    assert feed.title == "海关总署公告"
    assert feed.language == "zh"
    assert feed.items[0].title == "关于调整部分商品进口关税的公告"
    assert "进口暂定税率" in feed.items[0].text


def test_windows_1252_declared_feed_decodes():
    feed = parse("windows1252.xml", "https://douane.example.fr/rss.xml", "application/rss+xml")
    assert feed.items[0].title == "Droits « anti-dumping » sur l’acier – 25 €"
    assert "à 25 € par tonne" in feed.items[0].text


def test_charset_from_the_http_header_is_honoured():
    body = '<rss version="2.0"><channel><title>Zölle</title><item><title>Räder</title></item></channel></rss>'
    feed = SyndicationParser().parse(
        body.encode("cp1252"), url=RSS_URL, content_type="application/rss+xml; charset=windows-1252"
    )
    assert feed.title == "Zölle"
    assert feed.items[0].title == "Räder"


def test_undeclared_utf8_without_content_type_is_utf8():
    body = '<rss version="2.0"><channel><title>Zölle</title><item><title>Räder</title></item></channel></rss>'
    feed = SyndicationParser().parse(body.encode("utf-8"), url=RSS_URL)
    assert feed.items[0].title == "Räder"
    assert feed.warnings == ()


def test_undeclared_windows_1252_falls_back_with_a_warning():
    body = '<rss version="2.0"><channel><item><title>Zölle – 25 €</title></item></channel></rss>'
    feed = SyndicationParser().parse(body.encode("cp1252"), url=RSS_URL)
    assert feed.items[0].title == "Zölle – 25 €"
    assert feed.warnings and feed.warnings[0].startswith("character encoding problem")


def test_utf16_feed_with_bom_decodes():
    body = (
        '<?xml version="1.0" encoding="utf-16"?>'
        '<rss version="2.0"><channel><item><title>Räder</title></item></channel></rss>'
    )
    feed = SyndicationParser().parse(body.encode("utf-16"), url=RSS_URL)
    assert feed.items[0].title == "Räder"


# --- hostile XML ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["billion_laughs.xml", "billion_laughs_inline.xml"])
def test_billion_laughs_is_not_expanded(name):
    try:
        feed = parse(name, RSS_URL)
    except ParseError:
        return  # rejecting it is as good as reading it unexpanded
    for item in feed.items:
        assert len(item.title) < 1000
        assert len(item.text) < 1000
    assert len(feed.title or "") < 1000


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_nested_entity_declarations_are_refused_up_front(encoding):
    body = (FEEDS / "billion_laughs_inline.xml").read_text().encode(encoding)
    with pytest.raises(ParseError, match="nested XML entities"):
        SyndicationParser().parse(body, url=RSS_URL)


def test_plain_entity_declarations_are_still_allowed():
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY copy "&#169;">\n<!ENTITY agency "Customs Agency">\n]>\n'
        b'<rss version="2.0"><channel><item><title>&agency; &copy; 2024</title></item></channel></rss>'
    )
    feed = SyndicationParser().parse(body, url=RSS_URL)
    assert feed.items[0].title == "Customs Agency © 2024"


@pytest.mark.parametrize("layout", ["multiline", "inline", "parameter"])
def test_external_entity_does_not_read_local_files(tmp_path, layout):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MERCHANT-DATA")
    uri = secret.as_uri()
    doctype = {
        "multiline": f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{uri}">\n]>\n',
        "inline": f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{uri}">]>',
        "parameter": f'<!DOCTYPE rss [\n<!ENTITY % xxe SYSTEM "{uri}">\n%xxe;\n]>\n',
    }[layout]
    body = (
        f'<?xml version="1.0"?>\n{doctype}<rss version="2.0"><channel><title>t &xxe;</title>'
        f"<item><title>x &xxe;</title><description>d &xxe;</description></item></channel></rss>"
    ).encode()
    try:
        feed = SyndicationParser().parse(body, url=RSS_URL)
    except ParseError as exc:
        assert "TOP-SECRET" not in str(exc)
        return
    assert "TOP-SECRET" not in repr(feed)


# --- scale and plumbing ---------------------------------------------------------------------------------


def test_feed_with_20000_items():
    items = "".join(
        f"<item><title>Notice {i}</title><link>/n/{i}</link><guid>n-{i}</guid>"
        f"<description>Body of notice {i}.</description><pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>"
        for i in range(20_000)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'
    feed = SyndicationParser().parse(body.encode(), url=RSS_URL, content_type="application/rss+xml")
    assert len(feed.items) == 20_000
    last = feed.items[-1]
    assert (last.guid, last.title, last.text) == ("n-19999", "Notice 19999", "Body of notice 19999.")
    assert last.link == "https://customs.example.gov/n/19999"
    assert last.published == "2024-03-05T10:00:00Z"


def test_items_with_nothing_in_them_are_skipped():
    body = (
        b'<rss version="2.0"><channel><title>T</title><item><guid>only-a-guid</guid></item>'
        b"<item><title>Kept</title></item></channel></rss>"
    )
    feed = SyndicationParser().parse(body, url=RSS_URL)
    assert [item.title for item in feed.items] == ["Kept"]
    assert feed.warnings == ("1 item(s) with no title, text or link were skipped",)


def test_control_characters_are_removed_from_titles():
    body = '<rss version="2.0"><channel><item><title>Rate\u202e up\u200b \x1b[31mnow</title></item></channel></rss>'
    feed = SyndicationParser().parse(body.encode(), url=RSS_URL)
    title = feed.items[0].title
    assert "\u202e" not in title and "\u200b" not in title and "\x1b" not in title
    assert title.startswith("Rate up")


def test_parser_for():
    assert isinstance(parser_for("feed"), SyndicationParser)
    assert isinstance(parser_for(FeedKind.FEED), SyndicationParser)
    with pytest.raises(ValueError, match="no parser for source kind 'html'"):
        parser_for("html")
    with pytest.raises(ValueError):
        parser_for("ftp")
