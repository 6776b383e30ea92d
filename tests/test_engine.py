"""Engine mechanics, each on a tiny rule set written for the test."""

from __future__ import annotations

from pathlib import Path

from policywatch.extract.engine import Engine
from policywatch.models import Document
from policywatch.rules import load_rules

BASE = """
lexicon:
  duty:
    en: [duty, tariff]
    zh: [关税]
  up:
    en: [impose, increase, "additional * duty"]
    zh: [加征]
  down:
    en: [cut, lower]
  maintenance:
    en: ["maintenance window"]
rules:
  - id: up
    category: tariff_increase
    direction: tighten
    severity: {base: high, adjust: [{if: {new_rate_at_least: 50}, then: critical}]}
    languages: [en, zh]
    all: [$duty, $up]
    within: 5
    unless_near: [$down]
    near: 6
  - id: gap
    category: tariff_increase
    severity: high
    languages: [en]
    any: ["additional * duty"]
  - id: quiet
    kind: exclude
    scope: title
    languages: [en]
    any: $maintenance
    weight: 3
"""


def engine_for(tmp_path: Path, text: str = BASE) -> Engine:
    (tmp_path / "r.yaml").write_text(text, encoding="utf-8")
    ruleset, problems = load_rules(tmp_path)
    assert problems == []
    return Engine(ruleset)


def analyze(engine: Engine, text: str, title: str = "", language: str = "en"):
    return next(iter(engine.analyze([Document(id="d", text=text, title=title, language=language)])))


def test_groups_must_cooccur_within_the_window(tmp_path):
    engine = engine_for(tmp_path)
    assert analyze(engine, "The government will impose a duty of 30% on steel.").fired("up")
    far_apart = "The government will impose new rules on labels, paperwork, licensing and a duty."
    assert not analyze(engine, far_apart).fired("up")
    assert not analyze(engine, "The duty is explained. Officials impose nothing.").fired("up")  # two sentences


def test_a_word_cannot_serve_two_groups(tmp_path):
    text = BASE.replace("en: [impose, increase, \"additional * duty\"]", "en: [impose, increase, duty]")
    engine = engine_for(tmp_path, text)
    assert not analyze(engine, "The duty applies.").fired("up")


def test_gap_phrases_skip_a_few_words(tmp_path):
    engine = engine_for(tmp_path)
    assert analyze(engine, "Cars become subject to an additional 25 percent ad valorem duty.").fired("gap")
    assert not analyze(engine, "Cars pay an additional fee and, separately, from next year a duty.").fired("gap")


def test_unless_near_blocks_only_nearby(tmp_path):
    engine = engine_for(tmp_path)
    assert not analyze(engine, "The additional duty imposed last year will be cut to 10%.").fired("up")
    far = "The increase of the duty stands; in a separate and unrelated decision officials agreed to cut paperwork."
    assert analyze(engine, far).fired("up")


def test_title_vetoes_cancel_and_subtract(tmp_path):
    engine = engine_for(tmp_path)
    vetoed = analyze(engine, "A duty increase of 5% is shown as an example.", title="Maintenance window on Sunday")
    assert vetoed.best() is None
    assert analyze(engine, "A duty increase of 5% applies.", title="Steel").best()[0] == "tariff_increase"


def test_chinese_windows_count_characters(tmp_path):
    engine = engine_for(tmp_path)
    # 对 ... 加征: the groups are 9 characters apart, inside the widened window for a character-tokenised language.
    assert analyze(engine, "决定对原产于美国的部分进口商品的关税实行加征。", language="zh").fired("up")
    text = "决定关税" + "的" * 20 + "加征。"
    assert not analyze(engine, text, language="zh").fired("up")


def test_traditional_chinese_reads_like_simplified(tmp_path):
    engine = engine_for(tmp_path)
    assert analyze(engine, "決定對部分商品加征關稅。", language="zh").fired("up")


def test_extract_yields_one_change_with_severity_from_the_rate(tmp_path):
    engine = engine_for(tmp_path)
    text = "From 1 May the government will impose a duty of 60% on cars."
    (change,) = next(engine.extract([Document(id="d", text=text)]))
    assert change.category == "tariff_increase"
    assert change.new_rate_percent == 60
    assert change.severity == "critical"
    assert change.rule_id == "up"
    assert change.evidence == "From 1 May the government will impose a duty of 60% on cars."
    again = next(engine.extract([Document(id="d", text=text)]))
    assert again[0].id == change.id  # stable ids


def test_rates_decide_the_direction_of_a_tariff(tmp_path):
    engine = engine_for(tmp_path)
    text = "The government will increase the duty: it goes from 34% to 10%."
    (change,) = next(engine.extract([Document(id="d", text=text)]))
    assert change.category == "tariff_decrease"
    assert change.direction == "loosen"
