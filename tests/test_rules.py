"""Rule files: every problem reported at once with file and line; the bundled rules' own examples hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import RULES

from policywatch.extract.engine import Engine
from policywatch.rule_tests import run_rule_tests
from policywatch.rules import load_rules


def test_bundled_rules_load_compile_and_pass_their_examples(engine):
    assert engine.compile_all() == []
    outcomes = run_rule_tests(engine)
    failed = [f"{o.where} {o.rule.id}: {o.detail}" for o in outcomes if o.failed]
    assert failed == []
    # Every measure rule carries examples both ways, so a rule cannot silently stop firing or start over-firing.
    for rule in engine.ruleset.rules:
        kinds = {t.kind for t in rule.tests}
        assert {"match", "no_match"} <= kinds, rule.id


def test_bundled_rules_cover_the_main_languages(engine):
    languages = {lang for r in engine.ruleset.rules if r.kind == "measure" for lang in r.languages}
    assert {"en", "zh", "es", "pt"} <= languages
    for category in ("tariff_increase", "de_minimis", "import_tax", "import_restriction", "trade_remedy"):
        for lang in ("zh", "es", "pt"):
            assert any(r.category == category and lang in r.languages for r in engine.ruleset.rules), (category, lang)


def broken_copy(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    for name, (old, new) in edits.items():
        path = target / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_every_problem_is_reported_with_file_and_line(tmp_path):
    rules = broken_copy(
        tmp_path,
        {
            "tariffs.yaml": ("category: tariff_increase", "category: tarif_increase"),
            "sanctions.yaml": ("all: [$sanctions, $sanction_action]", "all: [$sanctions, $sanction_actions]"),
            "trade_remedies.yaml": ("severity:\n      base: low", "severity:\n      base: severe"),
            "export_controls.yaml": ("id: export-control.suspended", "id: export-control.imposed"),
        },
    )
    ruleset, problems = load_rules(rules)
    text = "\n".join(str(p) for p in problems)
    assert "tariffs.yaml:" in text and "unknown category 'tarif_increase' (did you mean 'tariff_increase'?)" in text
    assert "sanctions.yaml:" in text and "unknown lexicon $sanction_actions (did you mean 'sanction_action'?)" in text
    assert "trade_remedies.yaml:" in text and "unknown severity 'severe'" in text
    assert "export_controls.yaml:" in text and "duplicate rule id 'export-control.imposed'" in text
    assert all(p.line for p in problems)
    # The valid rules still load: one broken rule does not take the others down.
    assert len(ruleset.rules) > 20


def test_a_yaml_error_and_a_broken_token_pattern(tmp_path):
    rules = broken_copy(
        tmp_path,
        {
            "customs_procedures.yaml": ("family: customs_procedures", "family: [customs_procedures"),
            "lexicon.yaml": ('[{LIKE_NUM: true}, {LOWER: {IN: ["%", percent, per, pct]}}]',
                             '[{LIKE_NUM: true}, {LOWERCASE: {IN: ["%", percent, per, pct]}}]'),
        },
    )
    ruleset, problems = load_rules(rules)
    assert any("customs_procedures.yaml:" in str(p) and "invalid YAML" in str(p) for p in problems)
    pattern_problems = Engine(ruleset).compile_all()
    assert any("lexicon.yaml:" in str(p) and "invalid token pattern" in str(p) for p in pattern_problems)


def test_cli_rules_commands(run, tmp_path):
    listed = run("rules", "list")
    assert listed.exit_code == 0 and "tariff.additional-duty" in listed.stdout
    tested = run("rules", "test")
    assert tested.exit_code == 0 and " 0 failed" in tested.stdout
    linted = run("rules", "lint")
    assert linted.exit_code == 0 and "no problems" in linted.stdout
    broken = broken_copy(tmp_path, {"tariffs.yaml": ("direction: tighten", "direction: upward")})
    result = run("rules", "lint", "--rules", broken)
    assert result.exit_code == 2
    assert "tariffs.yaml:" in result.stderr and "direction must be tighten, loosen or absent" in result.stderr


def test_a_failing_example_fails_rules_test(run, tmp_path):
    broken = broken_copy(
        tmp_path,
        {"sanctions.yaml": ("adopted the 14th package of sanctions", "adopted the 14th package of recipes")},
    )
    result = run("rules", "test", "--rules", broken)
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "sanctions.adopted" in result.stdout


@pytest.mark.parametrize("missing", ["nope"])
def test_missing_rules_directory(run, tmp_path, missing):
    result = run("rules", "list", "--rules", tmp_path / missing)
    assert result.exit_code == 2
    assert "rules directory not found" in result.stderr
