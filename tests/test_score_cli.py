"""`policywatch score` through the CLI: formats, --explain, --fail-on, trends across runs, unknown merchants."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from policywatch.cli.score import CSV_COLUMNS
from policywatch.models import Change
from policywatch.report.formats import OutputFormat
from policywatch.store import Store

SALES = """merchant_id,merchant_name,period,market,hs_code,origin,revenue,currency
acme,Acme Audio,2026-10,US,8518.30,CN,800,USD
acme,Acme Audio,2026-10,DE,8518.30,CN,200,USD
calm,Calm Cotton,2026-10,JP,6109.10,VN,500,USD
"""
AS_OF = ("--as-of", "2026-12-01")


def stored_change(id: str, **fields) -> Change:
    fields.setdefault("direction", "tighten")
    fields.setdefault("severity", "high")
    fields.setdefault("effective_date", "2026-12-20")
    return Change(id=id, bulletin_id="b-" + id, rule_id="test", rules_version="1", **fields)


US_HEADPHONES = stored_change(
    "us-8518", category="tariff_increase", jurisdiction="US", hs_codes=("8518",), affected_countries=("CN",)
)
EU_PARCELS = stored_change("eu-parcels", category="de_minimis", jurisdiction="EU", effective_date="2026-12-10")


def add_changes(db, *changes: Change) -> None:
    with Store.open(db) as store, store.transaction():
        store.save_changes(list(changes), run_id=None, detected_at="2026-11-30T00:00:00Z")


@pytest.fixture
def db(run, tmp_path):
    path = tmp_path / "pw.db"
    sales = tmp_path / "sales.csv"
    sales.write_text(SALES, encoding="utf-8")
    assert run("merchants", "import", sales, "--db", path).exit_code == 0
    add_changes(path, US_HEADPHONES, EU_PARCELS)
    return path


def score_json(run, db, *args: str) -> list[dict]:
    result = run("score", *args, "--db", db, *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def snapshots(db) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM scores").fetchone()[0]
    finally:
        conn.close()


def test_json_lists_every_merchant_most_exposed_first(run, db):
    records = score_json(run, db)
    assert [r["merchant_id"] for r in records] == ["acme", "calm"]
    acme, calm = records
    # US line: 0.55 (high, imminent, HS named); DE line: EU de minimis 0.55; concentration 0.5 x (0.8^2 + 0.2^2) x 0.2
    # = 0.068; 100 x (1 - 0.45 x 0.932) = 58.06. The parts, 53.13 and 4.93 unrounded, get their tenths through the
    # markets (US 47.2, DE 10.9), so they show as 53.2 and 4.9: still exactly the score.
    assert (acme["score"], acme["level"], acme["change_points"], acme["concentration_points"]) == (
        58.1, "high", 53.2, 4.9,
    )  # fmt: skip
    assert acme["top_driver"] == "US tariff_increase on HS 8518 from CN, effective 2026-12-20"
    assert (acme["top_driver_kind"], acme["top_driver_change_id"], acme["trend"]) == ("change", "us-8518", None)
    assert (calm["score"], calm["level"], calm["top_driver"]) == (0.0, "low", None)
    assert (acme["period_start"], acme["period_end"], acme["revenue"], acme["currency"]) == (
        "2025-11", "2026-10", 1000.0, "USD",
    )  # fmt: skip
    assert "explanation" not in acme
    assert snapshots(db) == 2


def test_table_has_the_issue_columns(run, db):
    result = run("score", "--db", db, *AS_OF)
    assert result.exit_code == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "Merchant" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == [
        "Merchant",
        "Score",
        "Level",
        "Trend",
        "Top driver",
    ]
    acme_line = next(line for line in result.stdout.splitlines() if "acme" in line)
    assert "58.1" in acme_line and "high" in acme_line and "new" in acme_line and "US tariff_increase" in acme_line


def test_csv_and_markdown(run, db):
    result = run("score", "--db", db, *AS_OF, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [(r["merchant_id"], r["score"], r["level"]) for r in rows] == [
        ("acme", "58.1", "high"),
        ("calm", "0.0", "low"),
    ]
    markdown = run("score", "--db", db, *AS_OF, "--format", "markdown").stdout
    assert markdown.startswith("| merchant\\_id | name | score | level | trend |")


def test_explain_accounts_for_every_point(run, db):
    (acme,) = score_json(run, db, "acme", "--explain")
    detail = acme["explanation"]
    assert detail["score"] == acme["score"]
    assert round(sum(m["points"] for m in detail["markets"]), 1) == acme["score"]
    assert [(m["market"], m["points"], m["change_points"], m["concentration_points"]) for m in detail["markets"]] == [
        ("US", 47.2, 42.6, 4.6),
        ("DE", 10.9, 10.6, 0.3),
    ]
    changes = {c["change_id"]: c for c in detail["changes"]}
    assert set(changes) == {"us-8518", "eu-parcels"}
    assert changes["us-8518"]["markets"] == {"US": 42.6} and changes["eu-parcels"]["markets"] == {"DE": 10.6}
    assert changes["us-8518"]["factors"] == {
        "severity": 0.55, "rate": 1.0, "timing": 1.0, "scope": 1.0, "phase": "imminent", "days_to_effect": 19,
    }  # fmt: skip
    assert round(sum(c["points"] for c in detail["changes"]) + acme["concentration_points"], 1) == acme["score"]
    assert snapshots(db) == 1  # only the merchant asked for


def test_explain_table(run, db):
    result = run("score", "acme", "--explain", "--db", db, *AS_OF)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "acme (Acme Audio): 58.1 high = 53.2 from changes + 4.9 from concentration" in out
    assert "By market" in out and "By change" in out
    assert "0.550 = 0.55 x 1.00 x 1.00 (imminent) x 1.00" in out
    assert "[us-8518]" in out and "[eu-parcels]" in out


@pytest.mark.parametrize(
    ("level", "code"), [("low", 1), ("medium", 1), ("high", 1), ("HIGH", 1), ("critical", 0)]
)  # fmt: skip
def test_fail_on(run, db, level, code):
    result = run("score", "--db", db, *AS_OF, "--fail-on", level)
    assert result.exit_code == code, result.stderr
    if code:
        assert "at or above" in result.stderr


def test_fail_on_counts_only_the_merchants_scored(run, db):
    assert run("score", "calm", "--db", db, *AS_OF, "--fail-on", "medium").exit_code == 0
    assert run("score", "acme", "--db", db, *AS_OF, "--fail-on", "medium").exit_code == 1


def test_trend_since_the_last_snapshot(run, db):
    first = {r["merchant_id"]: r for r in score_json(run, db)}
    second = {r["merchant_id"]: r for r in score_json(run, db)}
    assert first["acme"]["trend"] is None and second["acme"]["trend"] == 0.0
    assert second["acme"]["previous_score"] == first["acme"]["score"]
    table = run("score", "--db", db, *AS_OF).stdout
    assert "=" in next(line for line in table.splitlines() if "acme" in line)
    add_changes(db, stored_change("us-parcels", category="de_minimis", jurisdiction="US", severity="critical"))
    third = {r["merchant_id"]: r for r in score_json(run, db)}
    assert third["acme"]["trend"] == round(third["acme"]["score"] - second["acme"]["score"], 1) > 0
    assert third["calm"]["trend"] == 0.0
    assert snapshots(db) == 8  # two merchants, four runs


def test_unknown_merchant_exits_2(run, db):
    result = run("score", "acme", "acmee", "--db", db, *AS_OF)
    assert result.exit_code == 2
    assert "unknown merchant 'acmee' (did you mean 'acme'?); stored merchants: acme, calm" in result.stderr
    assert snapshots(db) == 0


def test_usage_errors(run, db):
    assert run("score", "--db", db, "--fail-on", "severe").exit_code == 2
    bad_day = run("score", "--db", db, "--as-of", "01/12/2026")
    assert bad_day.exit_code == 2 and "--as-of '01/12/2026'" in bad_day.stderr


def test_without_a_database(run, tmp_path):
    missing = tmp_path / "none.db"
    empty = run("score", "--db", missing, "--format", "json")
    assert (empty.exit_code, json.loads(empty.stdout)) == (0, [])
    assert "No merchants stored yet" in empty.stderr
    named = run("score", "acme", "--db", missing)
    assert named.exit_code == 2 and "unknown merchant 'acme'" in named.stderr
    assert not missing.exists()


def test_feed_text_never_reaches_the_terminal_raw(run, db):
    with Store.open(db) as store, store.transaction():
        store.db["bulletins"].insert(
            {
                "id": "b-us-8518",
                "feed": "x",
                "guid": "g",
                "title": "[bold red]Tariff[/] \x1b[31mred\x1b[0m",
                "text": "t",
            }
        )
    out = run("score", "acme", "--explain", "--db", db, *AS_OF).stdout
    assert "[bold red]Tariff[/] red" in out and "\x1b" not in out


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_output_format(run, db, fmt):
    for args in (("score", *AS_OF), ("merchants", "list")):
        result = run(*args, "--db", db, "--format", fmt.value)
        assert result.exit_code == 0, (args, fmt, result.stderr)
        assert "acme" in result.stdout and "calm" in result.stdout
