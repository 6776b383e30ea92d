"""Markdown risk briefs: valid GFM, deterministic (golden file), and safe with hostile feed text."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from conftest import ASSETS, EXAMPLES
from markdown_it import MarkdownIt

from policywatch.assess import assess
from policywatch.merchants import load_sales
from policywatch.models import Bulletin, Change
from policywatch.report.brief import build_brief, render_brief
from policywatch.store import Store
from policywatch.store.merchants import import_sales

GOLDEN = ASSETS / "golden" / "brief-acme.md"
AS_OF = dt.date(2026, 12, 1)
HOSTILE_TITLE = "Tariff [click](javascript:alert(1)) <script>alert(2)</script> | pipes | **bold** \x1b[31mred"
SALES = """merchant_id,merchant_name,period,market,hs_code,origin,revenue,currency
acme,Acme <Goods> & Co,2026-09,US,8504.40,CN,60000,USD
acme,Acme <Goods> & Co,2026-10,US,8504.40,CN,60000,USD
acme,Acme <Goods> & Co,2026-10,DE,9503,CN,30000,USD
acme,Acme <Goods> & Co,2026-11,GB,9503,VN,10000,USD
"""


def bulletin(i: int, title: str, link: str) -> Bulletin:
    return Bulletin(id=f"b{i}", feed="test", guid=f"g{i}", title=title, link=link, published="2026-11-20",
                    text="text", language="en", jurisdiction="US", content_hash=f"h{i}")


def change(i: int, **fields) -> Change:
    base = {"id": hashlib.sha256(str(i).encode()).hexdigest()[:16], "bulletin_id": f"b{i}", "rule_id": "test",
                "rules_version": "v", "direction": "tighten", "severity": "high", "jurisdiction": "US"}
    base.update(fields)
    return Change(**base)


@pytest.fixture
def store(tmp_path):
    (tmp_path / "sales.csv").write_text(SALES, encoding="utf-8")
    store = Store.open(tmp_path / "h.db")
    with store.transaction():
        store.save_bulletins(
            [bulletin(1, HOSTILE_TITLE, "javascript:alert(3)"),
             bulletin(2, "Small parcels lose duty relief", "https://example.org/eu/parcels")],
            [], fetched_at="2026-11-20T00:00:00Z",
        )
        store.save_changes(
            [
                change(1, category="tariff_increase", severity="critical", affected_countries=("CN",),
                       hs_codes=("8504.40",), new_rate_percent=25.0, old_rate_percent=7.5,
                       effective_date="2026-12-15", evidence="An additional duty of 25% applies | from 15 December."),
                change(2, bulletin_id="b2", category="de_minimis", jurisdiction="EU", severity="critical",
                       effective_date="2026-07-01", evidence="The EUR 150 relief is abolished; a EUR 3 duty applies."),
            ],
            run_id=None, detected_at="2026-11-20T00:00:00Z",
        )
    import_sales(store, load_sales(tmp_path / "sales.csv"), source="sales.csv")
    yield store
    store.close()


def brief_for(store) -> str:
    (exposure,) = assess(store, ["acme"], AS_OF, explain=True)
    return render_brief(build_brief(store, exposure, AS_OF))


def test_the_brief_matches_the_golden_file(store):
    text = brief_for(store)
    if not GOLDEN.exists():  # first run writes it; review it, then commit it
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert brief_for(store) == text  # deterministic


def test_the_brief_is_valid_markdown_with_no_live_html_or_unsafe_links(store):
    text = brief_for(store)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    types = {t.type for t in tokens}
    assert "table_open" in types and "blockquote_open" in types
    inline = [child for t in tokens if t.children for child in t.children]
    assert not [t for t in inline if t.type in ("html_inline",)], "feed HTML must not reach the brief"
    assert not [t for t in tokens if t.type == "html_block"]
    hrefs = [c.attrs.get("href") for c in inline if c.type == "link_open"]
    assert hrefs == ["https://example.org/eu/parcels"]
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "\x1b" not in text
    # Every table row keeps its column count: a "|" in feed text is escaped, not a new cell.
    for table in [t for t in tokens if t.type == "table_open"]:
        assert table.map is not None
    rows = [line for line in text.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert all(line.replace("\\|", "").count("|") == 9 for line in rows)


def test_the_cli_writes_one_brief_and_all_briefs(run, tmp_path):
    db = tmp_path / "pw.db"
    assert run("scan", "--feeds", EXAMPLES / "feeds.yaml", "--db", db).exit_code == 0
    assert run("merchants", "import", EXAMPLES / "merchants.csv", "--db", db).exit_code == 0
    one = run("brief", "anatolia-ceramics", "--as-of", "2026-12-01", "--db", db)
    assert one.exit_code == 0, one.stderr
    assert one.stdout.startswith("# Policy risk brief: Anatolia Ceramics")
    assert "## The changes that matter most" in one.stdout and "## Method" in one.stdout
    MarkdownIt("commonmark").enable("table").parse(one.stdout)
    out = tmp_path / "briefs"
    every = run("brief", "--all", "--out-dir", out, "--as-of", "2026-12-01", "--db", db)
    assert every.exit_code == 0, every.stderr
    assert len(list(out.glob("*.md"))) == 5
    assert run("brief", "nobody", "--db", db).exit_code == 2
    assert run("brief", "--db", db).exit_code == 2
    assert run("brief", "--all", "--out", tmp_path / "x.md", "--db", db).exit_code == 2
