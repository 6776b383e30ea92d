"""Merchant sales files: reading CSV, JSON and YAML, every kind of bad row with its line, and the import."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import EXAMPLES

from policywatch.merchants import load_sales, parse_revenue
from policywatch.store import Store
from policywatch.store.merchants import import_sales, list_merchants, trailing_sales
from policywatch.yamlio import FileProblems

HEADER = "merchant_id,merchant_name,period,market,hs_code,origin,revenue,currency\n"
GOOD = HEADER + (
    "acme,Acme Imports,2026-01,US,8518.30,CN,1200.50,USD\n"
    'acme,Acme Imports,2026-01,DE,8518.30,CN,"1,000",USD\n'
    "acme,Acme Imports,2026-02,US,8518.30,CN,900,\n"
    "beta,Beta Ltd,2026-02,gb,6912,tr,50,gbp\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(FileProblems) as caught:
        load_sales(path)
    return [str(p) for p in caught.value.problems]


def rows(
    db: Path, sql: str = "SELECT merchant_id, period, market, hs_code, origin, revenue FROM sales ORDER BY 1,2,3,4"
):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- reading ----------------------------------------------------------------------------------------


def test_good_csv(tmp_path):
    sales = load_sales(write(tmp_path, "sales.csv", GOOD))
    assert [(m.id, m.name, m.currency) for m in sales.merchants] == [
        ("acme", "Acme Imports", "USD"),
        ("beta", "Beta Ltd", "GBP"),
    ]
    first, second, third, fourth = sales.records
    assert (first.hs_code, first.revenue, first.line) == ("851830", 1200.5, 2)
    assert (second.market, second.revenue) == ("DE", 1000.0)
    assert third.currency == "USD"  # a row without a currency takes its merchant's
    assert (fourth.market, fourth.origin, fourth.currency) == ("GB", "TR", "GBP")
    assert sales.periods() == {"acme": ("2026-01", "2026-02"), "beta": ("2026-02",)}


def test_the_example_file_is_valid():
    sales = load_sales(EXAMPLES / "merchants.csv")
    assert {m.id for m in sales.merchants} == {
        "shenzhen-volt", "saigon-thread", "anatolia-ceramics", "seoul-glow", "cascade-outdoor",
    }  # fmt: skip
    periods = {r.period for r in sales.records}
    assert max(periods) == "2026-11" and len(periods) >= 12
    shenzhen = {r.market for r in sales.records if r.merchant_id == "shenzhen-volt"}
    assert {"US", "DE", "FR", "GB", "MX"} <= shenzhen
    assert {r.market for r in sales.records if r.merchant_id == "saigon-thread"} == {"US", "JP"}


def test_every_kind_of_bad_row_is_reported_with_its_line(tmp_path):
    text = HEADER + "\n".join(
        [
            "acme,Acme,2026-01,US,8518.30,CN,100,USD",  # 2: good
            "acme,Acme,2026/01,US,8518.30,CN,100,USD",  # 3
            "acme,Acme,2026-13,US,8518.30,CN,100,USD",  # 4
            "acme,Acme,2026-02,UK,8518.30,CN,100,USD",  # 5
            "acme,Acme,2026-02,EU,8518.30,CN,100,USD",  # 6
            "acme,Acme,2026-02,US,8518.30,CHN,100,USD",  # 7
            "acme,Acme,2026-02,US,8,CN,100,USD",  # 8
            "acme,Acme,2026-02,US,85A8,CN,100,USD",  # 9
            "acme,Acme,2026-03,US,8518.30,CN,-5,USD",  # 10
            'acme,Acme,2026-03,DE,8518.30,CN,"1.234,50",USD',  # 11
            "acme,Acme,2026-03,FR,8518.30,CN,$40,USD",  # 12
            "acme,Acme,2026-03,IT,8518.30,CN,,USD",  # 13
            "acme,Acme,2026-03,ES,8518.30,CN,10,XYZ",  # 14
            "acme,Acme Corp,2026-04,US,8518.30,CN,10,USD",  # 15
            "acme,Acme,2026-04,DE,8518.30,CN,10,EUR",  # 16
            "acme,Acme,2026-01,US,851830,CN,7,USD",  # 17: same as line 2
            "acme,Acme,2026-05,US,8518.30,CN,10",  # 18: a field short
            "ac me,Acme,2026-05,US,8518.30,CN,10,USD",  # 19
            "",  # 20: blank lines are skipped
            "acme,Acme,2026-05,US,8518.30,EU,10,USD",  # 21
        ]
    )
    found = problems(write(tmp_path, "bad.csv", text))
    expected = {
        3: "period '2026/01' must be YYYY-MM",
        4: "period '2026-13' has no month 13",
        5: "market 'UK' is not an ISO 3166-1 alpha-2 country code (did you mean GB?)",
        6: "market 'EU' is not a country: give each member state",
        7: "origin 'CHN' is not an ISO 3166-1 alpha-2 country code (did you mean CN?)",
        8: "hs_code '8' must be 2 to 10 digits",
        9: "hs_code '85A8' must be 2 to 10 digits",
        10: "revenue -5 is negative",
        11: "revenue '1.234,50': use a dot for decimals",
        12: "revenue '$40' is not a number",
        13: "revenue is empty",
        14: "currency 'XYZ' is not an ISO 4217 code",
        15: "merchant 'acme' is named 'Acme' at line 2, here 'Acme Corp'",
        16: "merchant 'acme' reports USD at line 2, here EUR",
        17: "same merchant, period, market, hs_code and origin as line 2",
        18: "7 fields, but the header has 8",
        19: "merchant_id 'ac me' must be",
        21: "origin 'EU' is not a country of origin",
    }
    assert len(found) == len(expected), "\n".join(found)
    for line, message in expected.items():
        assert any(p.startswith(f"{tmp_path / 'bad.csv'}:{line}: {message}") for p in found), (line, found)


def test_header_problems(tmp_path):
    assert problems(write(tmp_path, "h.csv", "merchant_id,merchant_name,period,market,hscode,origin,revenue\n")) == [
        f"{tmp_path / 'h.csv'}:1: unknown column 'hscode' (did you mean 'hs_code'?)",
        f"{tmp_path / 'h.csv'}:1: missing column: hs_code",
    ]
    assert problems(write(tmp_path, "empty.csv", "")) == [
        f"{tmp_path / 'empty.csv'}:1: empty file: expected a header row "
        "(merchant_id, merchant_name, period, market, hs_code, origin, revenue)"
    ]
    assert problems(write(tmp_path, "only.csv", HEADER)) == [f"{tmp_path / 'only.csv'}: no sales records"]
    assert problems(write(tmp_path, "x.txt", GOOD)) == [
        f"{tmp_path / 'x.txt'}: unknown file type: use .csv, .json, .yaml or .yml"
    ]
    assert problems(tmp_path / "missing.csv") == [f"{tmp_path / 'missing.csv'}: file not found"]


def test_quoted_newlines_keep_line_numbers(tmp_path):
    text = (
        HEADER + 'acme,"Acme\nImports",2026-01,US,8518.30,CN,1,USD\nacme,"Acme\nImports",2026-13,US,8518.30,CN,1,USD\n'
    )
    assert problems(write(tmp_path, "q.csv", text)) == [
        f"{tmp_path / 'q.csv'}:4: period '2026-13' has no month 13 (use 01-12)"
    ]


def test_revenue_forms():
    assert parse_revenue("1,234.50") == 1234.5
    assert parse_revenue("1234") == 1234.0
    assert parse_revenue(0) == 0.0
    for bad in ("1,23", "12,3456", "1e5", "nan", True, "-0.5", "1 000"):
        with pytest.raises(ValueError):
            parse_revenue(bad)


def test_json_list_and_wrapped(tmp_path):
    record = {"merchant_id": "acme", "merchant_name": "Acme", "period": "2026-01", "market": "US",
              "hs_code": "8518.30", "origin": "CN", "revenue": 10}  # fmt: skip
    listed = load_sales(write(tmp_path, "a.json", json.dumps([record])))
    wrapped = load_sales(write(tmp_path, "b.json", json.dumps({"sales": [record]})))
    assert listed.records == wrapped.records and listed.records[0].hs_code == "851830"


def test_json_bad_records_name_their_line(tmp_path):
    text = """{
  "sales": [
    {"merchant_id": "acme", "merchant_name": "Acme", "period": "2026-01", "market": "US",
     "hs_code": "8518.30", "origin": "CN", "revenue": 10},
    {"merchant_id": "acme", "merchant_name": "Acme", "period": "2026-01", "market": "US",
     "hs_code": 851830, "origin": "CN", "revenue": 10, "colour": "red"},
    "not a record"
  ]
}"""
    shown = str(tmp_path / "bad.json")
    assert problems(write(tmp_path, "bad.json", text)) == [
        f"{shown}:5: unknown field 'colour' (expected: merchant_id, merchant_name, period, market, hs_code, origin, "
        "revenue, currency)",
        f"{shown}:5: hs_code must be text, not a number (quote it: a number drops leading zeros, 0901 -> 901)",
        f"{shown}:7: a record must be an object",
    ]
    assert problems(write(tmp_path, "syntax.json", '[\n  {"merchant_id": "a",}\n]')) == [
        f"{tmp_path / 'syntax.json'}:2: invalid JSON: Expecting property name enclosed in double quotes (column 23)"
    ]
    assert problems(write(tmp_path, "obj.json", '{"rows": []}')) == [
        f"{tmp_path / 'obj.json'}:1: expected a JSON list of sales records, or a mapping with a 'sales' list"
    ]


def test_yaml_records_and_field_lines(tmp_path):
    good = """sales:
  - merchant_id: acme
    merchant_name: Acme
    period: 2026-01
    market: us
    hs_code: "0901.21"
    origin: CO
    revenue: 120.5
"""
    sales = load_sales(write(tmp_path, "s.yaml", good))
    assert (sales.records[0].hs_code, sales.records[0].market, sales.records[0].line) == ("090121", "US", 2)
    listed = load_sales(
        write(tmp_path, "l.yml", good.replace("sales:\n", "").replace("\n  ", "\n")[2:].replace("  - ", "- "))
    )
    assert listed.records == sales.records
    bad = (
        good
        + """  - merchant_id: acme
    merchant_name: Acme
    period: 2026-02-01
    market: US
    hs_code: 901
    origin: CO
    revenue: -1
"""
    )
    shown = str(tmp_path / "bad.yaml")
    assert problems(write(tmp_path, "bad.yaml", bad)) == [
        f"{shown}:11: period 2026-02-01 is a day; give the month as YYYY-MM, e.g. 2026-02",
        f"{shown}:13: hs_code must be text, not a number (quote it: a number drops leading zeros, 0901 -> 901)",
        f"{shown}:15: revenue -1 is negative; give net revenue of at least 0",
    ]
    assert problems(write(tmp_path, "broken.yaml", "sales:\n  - [unclosed\n")) == [
        f"{tmp_path / 'broken.yaml'}:3: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


# --- importing -------------------------------------------------------------------------------------------


def test_import_and_reimport_replace_the_months_in_the_file(tmp_path):
    db = tmp_path / "pw.db"
    january_to_march = HEADER + "".join(
        f"acme,Acme,2026-0{month},US,8518.30,CN,{100 * month},USD\n" for month in (1, 2, 3)
    )
    with Store.open(db) as store:
        first = import_sales(store, load_sales(write(tmp_path, "q1.csv", january_to_march)), source="q1.csv")
        assert (first.merchants, first.new_merchants, first.rows, first.periods, first.periods_replaced) == (
            1, 1, 3, 3, 0,
        )  # fmt: skip
        again = import_sales(store, load_sales(tmp_path / "q1.csv"), source="q1.csv")
        assert (again.new_merchants, again.periods_replaced, again.rows_replaced) == (0, 3, 3)
        march_april = HEADER + (
            "acme,Acme Imports,2026-03,US,8518.30,CN,333,USD\n"
            "acme,Acme Imports,2026-03,DE,8518.30,CN,30,USD\n"
            "acme,Acme Imports,2026-04,US,8518.30,CN,400,USD\n"
        )
        update = import_sales(store, load_sales(write(tmp_path, "q2.csv", march_april)), source="q2.csv")
        assert (update.periods, update.periods_replaced, update.rows_replaced) == (2, 1, 1)
        (summary,) = list_merchants(store)
    assert rows(db) == [
        ("acme", "2026-01", "US", "851830", "CN", 100.0),
        ("acme", "2026-02", "US", "851830", "CN", 200.0),
        ("acme", "2026-03", "DE", "851830", "CN", 30.0),
        ("acme", "2026-03", "US", "851830", "CN", 333.0),
        ("acme", "2026-04", "US", "851830", "CN", 400.0),
    ]
    assert (summary.name, summary.periods, summary.first_period, summary.last_period) == (
        "Acme Imports", 4, "2026-01", "2026-04",
    )  # fmt: skip
    assert (summary.markets, summary.rows, summary.revenue, summary.source) == (("DE", "US"), 5, 1063.0, "q2.csv")


def test_a_merchant_keeps_one_currency_across_imports(tmp_path):
    db = tmp_path / "pw.db"
    with Store.open(db) as store:
        import_sales(store, load_sales(write(tmp_path, "usd.csv", GOOD)), source="usd.csv")
        before = rows(db)
        eur = HEADER + "acme,Acme Imports,2026-03,US,8518.30,CN,10,EUR\nnewco,New,2026-03,US,61,VN,5,USD\n"
        with pytest.raises(FileProblems) as caught:
            import_sales(store, load_sales(write(tmp_path, "eur.csv", eur)), source="eur.csv")
        assert "has stored months in USD, this file is in EUR" in str(caught.value)
        assert [m.id for m in list_merchants(store)] == ["acme", "beta"]  # newco was not half-imported
    assert rows(db) == before


def test_trailing_sales_window(tmp_path):
    db = tmp_path / "pw.db"
    text = (
        HEADER
        + "".join(
            f"acme,Acme,{year}-{month:02d},US,8518.30,CN,{month},USD\n"
            for year in (2025, 2026)
            for month in range(1, 13)
        )
        + "idle,Idle,2027-01,US,61,VN,5,USD\n"
    )
    with Store.open(db) as store:
        import_sales(store, load_sales(write(tmp_path, "s.csv", text)), source="s.csv")
        acme, idle = trailing_sales(store, end_period="2026-11")
        assert (acme.period_start, acme.period_end, acme.revenue) == ("2025-12", "2026-11", 12 + sum(range(1, 12)))
        assert (idle.lines, idle.period_start) == ((), None)  # nothing on or before the end
        (whole,) = trailing_sales(store, ids=["acme"])
        assert (whole.period_start, whole.period_end, whole.revenue) == ("2026-01", "2026-12", sum(range(1, 13)))
        assert whole.lines[0].hs_code == "851830" and whole.currency == "USD"


# --- the commands ----------------------------------------------------------------------------------------


def test_cli_import_list_and_nothing_half_imported(run, tmp_path):
    db = tmp_path / "pw.db"
    result = run("merchants", "import", EXAMPLES / "merchants.csv", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        f"Imported 5 merchants (5 new), 675 sales rows, 75 merchant-months from {EXAMPLES / 'merchants.csv'}; "
        "none replaced stored months."
    )
    again = run("merchants", "import", EXAMPLES / "merchants.csv", "--db", db)
    assert "0 new" in again.stdout and "75 of them replaced stored months (675 rows)" in again.stdout
    assert rows(db, "SELECT count(*) FROM sales") == [(675,)]

    bad = write(tmp_path, "bad.csv", GOOD + "gamma,Gamma,2026-14,US,61,VN,5,USD\n")
    failed = run("merchants", "import", bad, "--db", tmp_path / "other.db")
    assert failed.exit_code == 2
    assert f"{bad}:6: period '2026-14' has no month 14 (use 01-12)" in failed.stderr
    assert "1 sales file problem; nothing was changed" in failed.stderr
    assert not (tmp_path / "other.db").exists()

    listed = json.loads(run("merchants", "list", "--db", db, "--format", "json").stdout)
    by_id = {m["id"]: m for m in listed}
    assert by_id["saigon-thread"]["markets"] == ["JP", "US"]
    assert (by_id["seoul-glow"]["currency"], by_id["seoul-glow"]["periods"]) == ("KRW", 15)
    table = run("merchants", "list", "--db", db).stdout
    assert "anatolia-ceramics" in table and "2025-09 to 2026-11 (15)" in table
    csv_out = run("merchants", "list", "--db", db, "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("id,name,currency,first_period,last_period") and len(csv_out) == 6


def test_cli_list_without_a_database(run, tmp_path):
    result = run("merchants", "list", "--db", tmp_path / "none.db")
    assert result.exit_code == 0 and "No merchants stored yet" in result.stdout
    assert json.loads(run("merchants", "list", "--db", tmp_path / "none.db", "--format", "json").stdout) == []
    assert not (tmp_path / "none.db").exists()


def test_cli_import_reports_yaml_problems(run, tmp_path):
    path = write(tmp_path, "s.yaml", "- merchant_id: a\n  merchant_name: A\n  period: 2026-01\n")
    result = run("merchants", "import", path, "--db", tmp_path / "pw.db")
    assert result.exit_code == 2
    for column in ("market", "hs_code", "origin", "revenue"):
        assert f"{path}:1: missing field {column!r}" in result.stderr
