"""The third, final held-out set (tests/assets/holdout3.jsonl): schema, label consistency, mix, independence.

Only the file is read; the extraction engine is never imported or run. The set exists to give honest
generalisation figures after the rules were tuned on the dev corpus and both earlier held-out sets, so
nobody tunes on it (see tests/assets/HOLDOUT3.md). The checks are those of every held-out set
(tests/holdout_checks.py); what is particular to this set is stated in SET.
"""

from __future__ import annotations

import re

import pytest
from holdout_checks import ASSETS, HoldoutChecks, HoldoutSet, Mix, fail_on, shared_with

SET = HoldoutSet(
    path=ASSETS / "holdout3.jsonl",
    id_prefix="h3",
    mix=Mix(
        min_items=60,
        positives=(35, 44),
        negatives=(20, 27),
        english_share=(0.6, 0.7),
        single_languages=frozenset({"fr", "de", "it", "id", "ja", "ko", "tr", "vi"}),
        min_jurisdictions=25,
        min_positive_jurisdictions=18,
    ),
    # A negative is "hard" when it speaks the vocabulary of a measure, in any language of the set.
    hard_negative_words=re.compile(
        r"tariff|dut(?:y|ies)|de minimis|export control|anti-dumping|countervailing|surtax|sanction|\bVAT\b|\bGST\b"
        r"|关税|關稅|反倾销|反補貼|出口管制|应课税|應課稅|arancel|impuesto|tributos|derechos de aduana|imposto|alíquota"
        r"|tarifa|gümrük vergisi|chống bán phá giá|thuế|関税|관세",
        re.IGNORECASE,
    ),
    min_hard_negatives=18,
    earlier=("holdout.jsonl", "holdout2.jsonl"),
)


class TestHoldout3File(HoldoutChecks):
    SET = SET

    def test_the_disjointness_check_can_fail(self, records: tuple[dict, ...]) -> None:
        # A copied item must be caught, or the independence tests prove nothing.
        copied = dict(records[0], id="h3-xx-copy", url="https://example.org/copy", title="copy")
        original = records[0] | {"id": "x", "url": "https://example.org/x", "title": "x"}
        with pytest.raises(AssertionError):
            fail_on(shared_with([copied], [original]))
