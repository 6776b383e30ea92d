"""The fourth held-out set (tests/assets/holdout4.jsonl), checked as a file: schema, labels, mix, independence.

The extraction engine is neither imported nor run: these tests only prove that the set is well formed and
that it was written apart from the dev corpus and the three earlier held-out sets, so that the figures it
gives (see tests/assets/HOLDOUT4.md) measure generalisation. The checks are those of every held-out set
(tests/holdout_checks.py); what is particular to this set is stated in SET.
"""

from __future__ import annotations

import re

from holdout_checks import ASSETS, CJK, RUN_CJK, HoldoutChecks, HoldoutSet, Mix, sentences, shared_with, years_in

SET = HoldoutSet(
    path=ASSETS / "holdout4.jsonl",
    id_prefix="h4",
    mix=Mix(
        min_items=60,
        positives=(35, 42),
        negatives=(20, 26),
        english_share=(0.6, 0.7),
        single_languages=frozenset({"fr", "de", "it", "id", "ja", "ko", "tr", "vi"}),
        min_jurisdictions=18,
        min_positive_jurisdictions=12,
        min_simplified_chinese=4,  # most Chinese items should be Simplified
    ),
    # Measure vocabulary in the languages of the set: a negative that uses it is a hard negative.
    hard_negative_words=re.compile(
        r"tariff|dut(?:y|ies)|surtax|anti-?dumping|countervailing|safeguard|sanction|export control|de minimis"
        r"|\bVAT\b|\bGST\b|关税|關稅|加征|反倾销|出口管制|arancel|impuesto|derechos de aduana|\bIVA\b|imposto|tarifa"
        r"|alíquota|gümrük vergisi|thuế|관세|関税|droits? de douane|Zoll|dazi",
        re.IGNORECASE,
    ),
    min_hard_negatives=18,
    earlier=("holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl"),
    # Notices from Japan and Taiwan often date by era (平成26年 = 2014) or Minguo year (111年 = 2022).
    read_era_years=True,
)


class TestHoldout4File(HoldoutChecks):
    SET = SET

    def test_the_sharing_check_catches_a_copied_sentence_and_passage(self, records: tuple[dict, ...]) -> None:
        # If these did not fire, the independence tests would pass vacuously.
        source = next(r for r in records if r["language"] == "en")
        sentence = max(sentences(source["text"]), key=len)
        planted = {"id": "h4-xx-planted", "url": "https://example.org/planted", "title": "planted", "text": sentence}
        assert shared_with([planted], [source])
        other = {"id": "x", "url": "https://example.org/x", "title": "x", "text": "Unrelated words. " + sentence}
        assert any("shared sentence" in p for p in shared_with([planted], [other]))
        chinese = next(r for r in records if r["language"] == "zh")
        run = "".join(CJK.findall(chinese["text"]))[:RUN_CJK]
        assert any("shared passage" in p for p in shared_with([dict(planted, text=run)], [chinese]))
        assert not shared_with([planted], [dict(other, text="Something else entirely, written afresh here.")])


def test_era_and_minguo_years_are_read_as_calendar_years() -> None:
    # The year check leans on this reading for the Japanese and Taiwanese items.
    assert 2014 in years_in({"text": "平成26年3月10日から", "jurisdiction": "JP"})
    assert 2025 in years_in({"text": "令和7年9月10日", "jurisdiction": "JP"})
    assert 2022 in years_in({"text": "自111年2月21日起", "jurisdiction": "TW"})
    assert 2022 not in years_in({"text": "自111年2月21日起", "jurisdiction": "CN"})
    assert years_in({"text": "tariff item 22082000, 12019 units", "jurisdiction": "CN"}) == set()
