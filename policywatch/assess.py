"""Scoring merchants from what the store holds: their trailing sales against every stored change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from policywatch.exposure import Exposure, index_changes, policy_change, score_merchants
from policywatch.store import Store
from policywatch.store.merchants import trailing_sales


def assess(store: Store, ids: Sequence[str] | None, as_of: dt.date, *, explain: bool | Sequence[str] = False
           ) -> list[Exposure]:
    """Exposures of the merchants named (all when ids is empty or None), timed from as_of."""
    sales = trailing_sales(store, ids=list(ids) if ids else None, end_period=as_of.isoformat()[:7])
    index = index_changes((policy_change(s) for s in store.query_changes()), as_of)
    return score_merchants(sales, index, explain=explain)
