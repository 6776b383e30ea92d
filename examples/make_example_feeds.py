"""Build the offline example feeds under examples/feeds/ and examples/feeds.yaml from the labelled corpus.

    python examples/make_example_feeds.py [CORPUS.jsonl] [--out DIR]

CORPUS defaults to ../shared/corpus/bulletins-dev.jsonl beside the project root; DIR defaults to the folder
this script lives in. Every corpus bulletin goes into exactly one per-agency feed (one language per file),
RSS 2.0 or Atom as the real agency publishes. Same input, byte-identical output: nothing here reads the
clock, the locale or the order of a dict it did not build.

Only the standard library is used, so the script runs before policywatch is installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import html
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "bulletins-dev.jsonl"
FEEDS_DIR = "feeds"
# Atom ids must be URIs; the corpus id stays recoverable by stripping this prefix.
ATOM_ID_PREFIX = "urn:policywatch-example:"
GENERATOR = "policywatch examples/make_example_feeds.py"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class FeedSpec:
    """One example feed: who publishes it, in which format and language, and which bulletins it carries.

    A bulletin belongs to the first spec whose jurisdiction and language equal its own and whose
    `source` pattern is found in its `source` field (an empty pattern takes the rest).
    """

    name: str
    title: str
    home: str
    jurisdiction: str
    language: str
    format: str = "rss"  # "rss" or "atom"
    body: str = "description"  # RSS only: "description" (escaped HTML) or "content" (content:encoded CDATA)
    source: str = ""

    def matches(self, row: dict) -> bool:
        """True when this feed is where the corpus row belongs."""
        return (
            row["jurisdiction"] == self.jurisdiction
            and row["language"] == self.language
            and re.search(self.source, row["source"]) is not None
        )


# Order matters only within one (jurisdiction, language): narrower patterns first.
FEEDS: tuple[FeedSpec, ...] = (
    FeedSpec("us-cbp-csms", "U.S. Customs and Border Protection - Cargo Systems Messaging Service (CSMS)",
             "https://www.cbp.gov/trade/automated/cargo-systems-messaging-service", "US", "en",
             source=r"Customs and Border Protection \(CSMS"),
    FeedSpec("us-cbp-newsroom", "U.S. Customs and Border Protection - Trade media releases",
             "https://www.cbp.gov/newsroom/media-releases/trade", "US", "en",
             source=r"Customs and Border Protection"),
    FeedSpec("us-federal-register", "Federal Register - Department of Commerce documents (BIS, ITA)",
             "https://www.federalregister.gov/", "US", "en",
             source=r"Bureau of Industry and Security|International Trade Administration"),
    FeedSpec("us-ustr", "Office of the United States Trade Representative - Press releases",
             "https://ustr.gov/", "US", "en", source=r"Trade Representative"),
    FeedSpec("cn-tariff-commission-en", "Customs Tariff Commission of the State Council - Announcements",
             "http://gss.mof.gov.cn/", "CN", "en", source=r"Customs Tariff Commission"),
    FeedSpec("cn-mofcom-en", "Ministry of Commerce of the People's Republic of China (MOFCOM) - News and announcements",
             "http://english.mofcom.gov.cn/", "CN", "en", source=r"Ministry of Commerce|MOFCOM"),
    FeedSpec("cn-mofcom-zh", "中华人民共和国商务部 - 公告与新闻", "http://www.mofcom.gov.cn/", "CN", "zh",
             body="content", source=r"商务部|商務部"),
    FeedSpec("cn-gacc-zh", "中华人民共和国海关总署 - 公告与新闻发布", "http://www.customs.gov.cn/", "CN", "zh",
             body="content", source=r"海关总署|海關總署"),
    FeedSpec("cn-tariff-commission-zh", "国务院关税税则委员会 - 公告", "http://gss.mof.gov.cn/", "CN", "zh",
             body="content", source=r"关税税则委员会"),
    FeedSpec("eu-council", "Council of the European Union - Press releases",
             "https://www.consilium.europa.eu/en/press/press-releases/", "EU", "en",
             source=r"Council of the European Union"),
    FeedSpec("eu-commission", "European Commission - Trade, customs and trade defence news",
             "https://commission.europa.eu/", "EU", "en", source=r"European Commission"),
    FeedSpec("eu-eurlex-de", "EUR-Lex - Amtsblatt der Europäischen Union (Deutsch)",
             "https://eur-lex.europa.eu/homepage.html?locale=de", "EU", "de"),
    FeedSpec("uk-govuk-atom",
             "GOV.UK - HM Revenue & Customs, Department for Business and Trade, Trade Remedies Authority",
             "https://www.gov.uk/", "GB", "en", format="atom"),
    FeedSpec("ca-cbsa-atom", "Canada Border Services Agency - What's new", "https://www.cbsa-asfc.gc.ca/", "CA", "en",
             format="atom"),
    FeedSpec("in-dgft", "Directorate General of Foreign Trade, Government of India - Notifications and notices",
             "https://www.dgft.gov.in/", "IN", "en", source=r"DGFT|Directorate General of Foreign Trade"),
    FeedSpec("in-dpiit", "Department for Promotion of Industry and Internal Trade, India - Quality control orders",
             "https://dpiit.gov.in/", "IN", "en", source=r"Promotion of Industry"),
    FeedSpec("mx-dof-es", "Diario Oficial de la Federación - Secretaría de Economía", "https://www.dof.gob.mx/",
             "MX", "es", body="content"),
    FeedSpec("br-receita-pt", "Receita Federal do Brasil e Ministério da Fazenda - Notícias",
             "https://www.gov.br/receitafederal/pt-br", "BR", "pt", body="content"),
    FeedSpec("cl-aduana-es", "Servicio Nacional de Aduanas de Chile - Noticias", "https://www.aduana.cl/", "CL", "es"),
    FeedSpec("wto-tbt", "World Trade Organization - Technical Barriers to Trade notifications and committee documents",
             "https://www.wto.org/english/tratop_e/tbt_e/tbt_e.htm", "WTO", "en", source=r"TBT|Technical Barriers"),
    FeedSpec("wto-news", "World Trade Organization - News", "https://www.wto.org/", "WTO", "en"),
    FeedSpec("wto-tbt-zh", "WTO/TBT 通报 (中文摘要)", "https://www.wto.org/english/tratop_e/tbt_e/tbt_e.htm",
             "WTO", "zh", body="content"),
    FeedSpec("au-abf", "Australian Border Force - News", "https://www.abf.gov.au/", "AU", "en"),
    FeedSpec("dk-toldstyrelsen", "Toldstyrelsen (Danish Customs Agency) - System notices", "https://toldst.dk/",
             "DK", "en"),
    FeedSpec("fr-douane-fr", "Douane française - Actualités", "https://www.douane.gouv.fr/", "FR", "fr"),
    FeedSpec("hk-tid", "Trade and Industry Department, HKSAR Government - Trade circulars", "https://www.tid.gov.hk/",
             "HK", "en"),
    FeedSpec("id-kemendag-id", "Kementerian Perdagangan Republik Indonesia - Berita", "https://www.kemendag.go.id/",
             "ID", "id"),
    FeedSpec("id-kemendag-en", "Ministry of Trade of the Republic of Indonesia - News", "https://www.kemendag.go.id/",
             "ID", "en"),
    FeedSpec("jp-customs-en", "Japan Customs - News and trade statistics", "https://www.customs.go.jp/english/",
             "JP", "en"),
    FeedSpec("jp-mof-ja", "財務省 関税・外国為替等審議会", "https://www.mof.go.jp/", "JP", "ja"),
    FeedSpec("kr-customs", "Korea Customs Service - Notices", "https://www.customs.go.kr/english/", "KR", "en"),
    FeedSpec("sg-iras", "Inland Revenue Authority of Singapore - GST news", "https://www.iras.gov.sg/", "SG", "en"),
    FeedSpec("th-customs", "Thai Customs Department - Announcements", "https://www.customs.go.th/", "TH", "en",
             source=r"Customs"),
    FeedSpec("th-government", "Royal Thai Government - Useful information", "https://www.thailand.go.th/", "TH", "en"),
    FeedSpec("tr-resmigazete-tr", "T.C. Resmî Gazete - Cumhurbaşkanı kararları", "https://www.resmigazete.gov.tr/",
             "TR", "tr"),
    FeedSpec("tr-trade-en", "Republic of Türkiye Ministry of Trade - News", "https://ticaret.gov.tr/", "TR", "en"),
    FeedSpec("vn-customs", "Viet Nam Customs - News", "https://www.customs.gov.vn/", "VN", "en", source=r"Customs"),
    FeedSpec("vn-government", "Government of Viet Nam - Legal documents", "https://chinhphu.vn/", "VN", "en"),
    FeedSpec("za-sars", "South African Revenue Service - Customs and excise", "https://www.sars.gov.za/", "ZA", "en"),
)


# --- corpus ----------------------------------------------------------------------------------------------


def load_corpus(path: Path) -> list[dict]:
    """Read the JSONL corpus: one bulletin object per non-blank line."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def assign(rows: Iterable[dict], specs: Sequence[FeedSpec] = FEEDS) -> dict[str, list[dict]]:
    """Group rows by feed name, newest first (undated last, then by id); ValueError names any unplaced row."""
    groups: dict[str, list[dict]] = {spec.name: [] for spec in specs}
    unplaced: list[str] = []
    for row in rows:
        spec = next((s for s in specs if s.matches(row)), None)
        if spec is None:
            unplaced.append(f"{row['id']} ({row['jurisdiction']}/{row['language']}: {row['source']})")
        else:
            groups[spec.name].append(row)
    if unplaced:
        raise ValueError("no example feed takes these bulletins; add a FeedSpec:\n  " + "\n  ".join(unplaced))
    for items in groups.values():
        items.sort(key=lambda r: r["id"])
        # Stable second sort: dated items newest first, undated after them in id order.
        items.sort(key=lambda r: r["published"] or "", reverse=True)
    return groups


# --- dates and HTML --------------------------------------------------------------------------------------


def _as_datetime(published: str) -> dt.datetime:
    # The corpus records dates only; midnight UTC keeps the calendar date whatever a reader does with it.
    parsed = dt.datetime.fromisoformat(published)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def rfc822(published: str) -> str:
    """An ISO date or datetime as an RSS pubDate, e.g. 'Thu, 24 Aug 2023 00:00:00 GMT'."""
    return email.utils.format_datetime(_as_datetime(published), usegmt=True)


def rfc3339(published: str) -> str:
    """An ISO date or datetime as an Atom date, e.g. '2023-08-24T00:00:00Z'."""
    return _as_datetime(published).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_to_html(text: str) -> str:
    """One <p> per non-blank line of the corpus text, HTML-escaped (a line break is a paragraph break)."""
    lines = (line.strip() for line in _LINE_BREAK.split(text))
    return "\n".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines if line)


def _cdata(value: str) -> str:
    # "]]>" cannot appear inside CDATA; split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _newest(items: Sequence[dict], fallback: str) -> str:
    dates = [r["published"] for r in items if r["published"]]
    return max(dates) if dates else fallback


# --- rendering -------------------------------------------------------------------------------------------


def render_rss(spec: FeedSpec, items: Sequence[dict], built: str) -> str:
    """The RSS 2.0 document for one feed; `built` is the ISO date used for lastBuildDate."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "  <channel>",
        f"    <title>{escape(spec.title)}</title>",
        f"    <link>{escape(spec.home)}</link>",
        f"    <description>{escape(_channel_description(spec))}</description>",
        f"    <language>{spec.language}</language>",
        f"    <lastBuildDate>{rfc822(built)}</lastBuildDate>",
        f"    <generator>{escape(GENERATOR)}</generator>",
    ]
    for row in items:
        out.append("    <item>")
        out.append(f"      <title>{escape(row['title'])}</title>")
        out.append(f"      <link>{escape(row['url'])}</link>")
        out.append(f'      <guid isPermaLink="false">{escape(row["id"])}</guid>')
        if row["published"]:
            out.append(f"      <pubDate>{rfc822(row['published'])}</pubDate>")
        out.append(f"      <dc:creator>{escape(row['source'])}</dc:creator>")
        body = text_to_html(row["text"])
        if spec.body == "content":
            out.append(f"      <content:encoded>{_cdata(body)}</content:encoded>")
        else:
            out.append(f"      <description>{escape(body)}</description>")
        out.append("    </item>")
    out += ["  </channel>", "</rss>", ""]
    return "\n".join(out)


def render_atom(spec: FeedSpec, items: Sequence[dict], built: str) -> str:
    """The Atom 1.0 document for one feed; `built` is the ISO date used for the feed's <updated>."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{spec.language}">',
        f"  <id>{ATOM_ID_PREFIX}feed:{spec.name}</id>",
        f"  <title>{escape(spec.title)}</title>",
        f"  <subtitle>{escape(_channel_description(spec))}</subtitle>",
        f'  <link rel="alternate" type="text/html" href={quoteattr(spec.home)}/>',
        f"  <updated>{rfc3339(built)}</updated>",
        f"  <author><name>{escape(spec.title.split(' - ')[0])}</name></author>",
        f"  <generator>{escape(GENERATOR)}</generator>",
    ]
    for row in items:
        out.append("  <entry>")
        out.append(f"    <id>{escape(ATOM_ID_PREFIX + row['id'])}</id>")
        out.append(f"    <title>{escape(row['title'])}</title>")
        out.append(f'    <link rel="alternate" type="text/html" href={quoteattr(row["url"])}/>')
        if row["published"]:
            out.append(f"    <published>{rfc3339(row['published'])}</published>")
            out.append(f"    <updated>{rfc3339(row['published'])}</updated>")
        out.append(f"    <author><name>{escape(row['source'])}</name></author>")
        out.append(f'    <content type="html">{escape(text_to_html(row["text"]))}</content>')
        out.append("  </entry>")
    out += ["</feed>", ""]
    return "\n".join(out)


def _channel_description(spec: FeedSpec) -> str:
    return (
        f"Offline policywatch example feed for {spec.title.split(' - ')[0]}: real bulletins from the labelled "
        "corpus (some reposted by the third party named in each item's author field)."
    )


def render_feeds_yaml(specs: Sequence[FeedSpec]) -> str:
    """examples/feeds.yaml for the given feeds, with paths relative to the YAML file."""
    out = [
        "# Offline example sources for `policywatch scan --feeds examples/feeds.yaml`.",
        "# Each file under feeds/ is an RSS 2.0 or Atom feed built by make_example_feeds.py from the labelled",
        "# corpus (real bulletins, one agency and one language per file), so a first scan needs no network.",
        "# Paths are relative to this file. Regenerate with: python examples/make_example_feeds.py",
        "feeds:",
    ]
    for spec in specs:
        out += [
            f"  # {spec.title} ({'Atom' if spec.format == 'atom' else 'RSS 2.0'})",
            f"  - name: {spec.name}",
            f"    url: {FEEDS_DIR}/{spec.name}.xml",
            "    kind: feed",
            f"    jurisdiction: {spec.jurisdiction}",
            f"    language: {spec.language}",
        ]
    out.append("")
    return "\n".join(out)


# --- driver ----------------------------------------------------------------------------------------------


def build(corpus: Path, out_dir: Path) -> list[Path]:
    """Write <out_dir>/feeds/*.xml and <out_dir>/feeds.yaml from the corpus; return the paths written.

    Feeds that receive no bulletin are left out, and stale .xml files in feeds/ are removed, so the
    YAML and the folder always agree.
    """
    rows = load_corpus(corpus)
    groups = assign(rows)
    fallback = max((r["published"] for r in rows if r["published"]), default="2000-01-01")
    feeds_dir = out_dir / FEEDS_DIR
    feeds_dir.mkdir(parents=True, exist_ok=True)
    used = [spec for spec in FEEDS if groups[spec.name]]
    written: list[Path] = []
    for spec in used:
        items = groups[spec.name]
        render = render_atom if spec.format == "atom" else render_rss
        path = feeds_dir / f"{spec.name}.xml"
        path.write_bytes(render(spec, items, _newest(items, fallback)).encode("utf-8"))
        written.append(path)
    for stale in sorted(set(feeds_dir.glob("*.xml")) - set(written)):
        stale.unlink()
    yaml_path = out_dir / "feeds.yaml"
    yaml_path.write_bytes(render_feeds_yaml(used).encode("utf-8"))
    written.append(yaml_path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS, help="bulletins JSONL file")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for feeds.yaml and feeds/ (default: examples/)")
    args = parser.parse_args(argv)
    if not args.corpus.is_file():
        parser.error(f"corpus not found: {args.corpus}")
    try:
        written = build(args.corpus, args.out)
    except (ValueError, KeyError) as exc:
        print(f"make_example_feeds: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(written) - 1} feeds and {written[-1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
