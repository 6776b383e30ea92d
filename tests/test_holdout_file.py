"""The held-out labelled set (tests/assets/holdout.jsonl): schema, label consistency, mix, independence.

These tests check the file only; they never run the extraction engine. The set measures whether the rules
generalise, so nobody tunes rules on it (see tests/assets/HOLDOUT.md). The checks are those of every
held-out set (tests/holdout_checks.py); what is particular to this first set is stated in SET.
"""

from __future__ import annotations

import re

from holdout_checks import ASSETS, HoldoutChecks, HoldoutSet, Mix

SET = HoldoutSet(
    path=ASSETS / "holdout.jsonl",
    id_prefix="ho",
    mix=Mix(
        min_items=70,
        positives=(40, 55),
        negatives=(20, 30),
        english_share=(0.6, 0.8),
        single_languages=frozenset({"fr", "de", "id", "ja"}),
        min_per_category=1,
        traditional_chinese=(1, None),
    ),
    hard_negative_words=re.compile(
        r"tariff|dut(?:y|ies)|de minimis|export control|anti-dumping|反倾销|免稅|imposto", re.IGNORECASE
    ),
    min_hard_negatives=10,
    # This set writes hs codes as the notices do ("ex 8703 80 10"), and its MOFCOM items share the
    # ministry's sign-off and quote the dev corpus's Indian letterhead, so the later sets' checks of code
    # shape, repeated sentences and shared passages are not made here.
    hs_code=None,
    no_shared_passages=False,
)


class TestHoldoutFile(HoldoutChecks):
    SET = SET
    test_no_sentence_is_repeated_inside_the_set = None  # not a check for this set (see SET)
