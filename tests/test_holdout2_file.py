"""The second, final held-out set (tests/assets/holdout2.jsonl): schema, label consistency, mix, independence.

These tests read the file only and never run the extraction engine: the set exists to report honest
generalisation figures, so nobody tunes rules on it (see tests/assets/HOLDOUT2.md). The checks are those of
every held-out set (tests/holdout_checks.py); what is particular to this set is stated in SET.
"""

from __future__ import annotations

import re

from holdout_checks import ASSETS, HS_CODE, HoldoutChecks, HoldoutSet, Mix

SET = HoldoutSet(
    path=ASSETS / "holdout2.jsonl",
    id_prefix="h2",
    mix=Mix(
        min_items=60,
        positives=(35, 45),
        negatives=(20, 28),
        english_share=(0.6, 0.7),
        single_languages=frozenset({"fr", "de", "id", "ja", "ko", "tr"}),
        min_jurisdictions=20,
    ),
    # A negative is "hard" when it uses the vocabulary of a measure in one of the set's languages.
    hard_negative_words=re.compile(
        r"tariff|dut(?:y|ies)|de minimis|export control|anti-dumping|countervailing|surtax|sanction"
        r"|关税|關稅|反补贴|反倾销|出口管制|arancel|impuesto|imposto|alíquota|derechos de importación|KC 인증|면세",
        re.IGNORECASE,
    ),
    min_hard_negatives=15,
    earlier=("holdout.jsonl",),
    # Codes may be spaced as written ("1006 30 90"); passages shared with the dev corpus (Indian and Chinese
    # letterheads) and the first set (a Mexican decree's title) are not checked, whole sentences are.
    hs_code=HS_CODE,
    no_shared_passages=False,
)


class TestHoldout2File(HoldoutChecks):
    SET = SET
