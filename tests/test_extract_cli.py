"""`policywatch extract` and `policywatch eval`: the contract of DESIGN, bad input, and the quality bar."""

from __future__ import annotations

import json

import pytest
from conftest import ASSETS, CORPUS, ROOT, corpus_rows

LINES = [
    {"id": "a", "title": "Additional duty of 25% on steel", "text": "From 1 May 2026 an additional duty of 25% applies "
     "to steel products originating in Canada.", "jurisdiction": "US", "language": "en", "published": "2026-04-01"},
    {"id": "b", "text": "The ACE portal will be unavailable on Sunday for scheduled maintenance."},
    {"id": 7, "text": "自2025年3月10日起，对原产于美国的鸡肉加征15%关税。"},
]


def write_lines(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_extract_prints_one_line_per_input_in_order(run, tmp_path):
    result = run("extract", write_lines(tmp_path / "in.jsonl", LINES), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "7"]
    (steel,) = rows[0]["changes"]
    assert steel["category"] == "tariff_increase"
    assert steel["new_rate_percent"] == 25
    assert steel["affected_countries"] == ["CA"]
    assert steel["effective_date"] == "2026-05-01"
    assert steel["jurisdiction"] == "US"
    assert rows[1]["changes"] == []
    assert rows[2]["changes"][0]["affected_countries"] == ["US"]
    again = run("extract", tmp_path / "in.jsonl")
    assert again.stdout == result.stdout  # deterministic


def test_extract_reports_every_bad_line(run, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "text": "ok"}\nnot json\n{"text": "no id"}\n[1, 2]\n{"id": "a", "text": "dup"}\n')
    result = run("extract", path)
    assert result.exit_code == 2
    for expected in (":2: not valid JSON", ":3: missing or non-text id", ":4: each line must be a JSON object",
                     ":5: duplicate id 'a'"):
        assert f"{path}{expected}" in result.stderr
    assert result.stdout == ""


def test_extract_missing_file(run, tmp_path):
    result = run("extract", tmp_path / "nope.jsonl")
    assert result.exit_code == 2 and "file not found" in result.stderr


@pytest.mark.corpus
def test_eval_on_the_dev_corpus_meets_the_bar(run):
    corpus_rows()  # skips where ../shared is absent
    result = run("eval", CORPUS, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    overall, baseline = report["overall"], report["keyword_baseline"]
    assert overall["f1"] >= 0.90
    assert overall["category_accuracy"] >= 0.85
    assert overall["mean_field_accuracy"] >= 0.85
    assert overall["f1"] - baseline["f1"] >= 0.10
    assert overall["category_accuracy"] - baseline["category_accuracy"] >= 0.15
    assert {"en", "zh", "es", "pt"} <= set(report["by_language"])


def test_eval_on_the_first_holdout_set_stays_above_the_bar(run):
    result = run("eval", ASSETS / "holdout.jsonl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    overall = json.loads(result.stdout)["overall"]
    assert overall["f1"] >= 0.90
    assert overall["category_accuracy"] >= 0.85


def test_eval_table_shows_the_baseline(run):
    result = run("eval", ASSETS / "holdout.jsonl")
    assert result.exit_code == 0
    assert "keyword baseline" in result.stdout and "policywatch" in result.stdout


def test_eval_needs_labels(run, tmp_path):
    result = run("eval", write_lines(tmp_path / "in.jsonl", LINES[:1]))
    assert result.exit_code == 2 and "missing 'labels' object" in result.stderr


README_SETS = {
    "holdout4 (63)": ASSETS / "holdout4.jsonl",
    "holdout3, after tuning": ASSETS / "holdout3.jsonl",
    "holdout2, after tuning": ASSETS / "holdout2.jsonl",
    "holdout1 (75), after tuning": ASSETS / "holdout.jsonl",
    "dev corpus (84)": CORPUS,
}


@pytest.mark.parametrize("label", list(README_SETS))
def test_readme_accuracy_table_is_what_eval_measures(run, label):
    """Each measured row of the README's table "How well it reads" equals `policywatch eval` today."""
    path = README_SETS[label]
    if not path.exists():
        pytest.skip(f"{path} is absent")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (row,) = [line for line in readme.splitlines() if line.replace("*", "").startswith(f"| {label}")]
    shown = [cell.strip().strip("*") for cell in row.strip("|").split("|")][1:]
    report = json.loads(run("eval", path, "--format", "json").stdout)
    overall, baseline = report["overall"], report["keyword_baseline"]
    measured = [overall["precision"], overall["recall"], overall["f1"], overall["category_accuracy"],
                overall["mean_field_accuracy"], overall["fields"]["severity"], baseline["f1"],
                baseline["category_accuracy"]]
    assert shown == [f"{value:.2f}" for value in measured]
