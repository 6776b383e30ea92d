"""Queries for merchants, their sales and score snapshots (tables `merchants`, `sales`, `scores`, migration 2).

Plain functions taking a Store; every write runs in one transaction, so an import or a scoring run is
stored whole or not at all.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from policywatch.merchants import MerchantSales, SalesFile, SalesLine
from policywatch.store.core import Store
from policywatch.store.schema import utcnow
from policywatch.yamlio import FileProblems, Problem


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: merchants and rows written, and the merchant-months that replaced stored ones."""

    merchants: int
    new_merchants: int
    rows: int
    periods: int  # distinct (merchant, month) pairs in the file
    periods_replaced: int  # of those, how many already had stored rows (now replaced)
    rows_replaced: int  # stored rows deleted by the replacement


@dataclass(frozen=True)
class MerchantSummary:
    """A stored merchant with the extent of its sales history."""

    id: str
    name: str
    currency: str | None
    rows: int
    periods: int
    first_period: str | None
    last_period: str | None
    markets: tuple[str, ...]
    revenue: float  # over all stored periods
    imported_at: str | None
    source: str | None


@dataclass(frozen=True)
class ScoreSnapshot:
    """One stored score of one merchant (a row of `scores`)."""

    merchant_id: str
    score: float
    level: str
    top_driver: str | None
    details: dict[str, Any]
    scored_at: str | None = None


def import_sales(store: Store, sales: SalesFile, *, source: str) -> ImportSummary:
    """Store a validated sales file: for each merchant, the months in the file replace the stored ones.

    Months of a merchant that the file does not mention are kept, so monthly files can be imported one after
    another; importing the same file twice leaves the same rows. Raises FileProblems (nothing written) when a
    merchant's kept months are in another currency than the file's.
    """
    periods = sales.periods()
    with store.transaction():
        conflicts = list(_currency_conflicts(store, sales, periods))
        if conflicts:
            raise FileProblems(conflicts)
        known = {row[0] for row in store.conn.execute("SELECT id FROM merchants")}
        now = utcnow()
        store.conn.executemany(
            "INSERT INTO merchants (id, name, currency, imported_at, source) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, currency = coalesce(excluded.currency, currency), "
            "imported_at = excluded.imported_at, source = excluded.source",
            [(m.id, m.name, m.currency, now, source) for m in sales.merchants],
        )
        replaced_periods = rows_replaced = 0
        for merchant_id, months in periods.items():
            for start in range(0, len(months), 500):
                chunk = list(months[start : start + 500])
                marks = ",".join("?" * len(chunk))
                params = [merchant_id, *chunk]
                replaced_periods += store.conn.execute(
                    f"SELECT count(DISTINCT period) FROM sales WHERE merchant_id = ? AND period IN ({marks})", params
                ).fetchone()[0]
                rows_replaced += store.conn.execute(
                    f"DELETE FROM sales WHERE merchant_id = ? AND period IN ({marks})", params
                ).rowcount
        store.conn.executemany(
            "INSERT INTO sales (merchant_id, period, market, hs_code, origin, revenue, currency) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(r.merchant_id, r.period, r.market, r.hs_code, r.origin, r.revenue, r.currency) for r in sales.records],
        )
    return ImportSummary(
        merchants=len(sales.merchants),
        new_merchants=sum(1 for m in sales.merchants if m.id not in known),
        rows=len(sales.records),
        periods=sum(len(months) for months in periods.values()),
        periods_replaced=replaced_periods,
        rows_replaced=rows_replaced,
    )


def _currency_conflicts(store: Store, sales: SalesFile, periods: dict[str, tuple[str, ...]]) -> Iterable[Problem]:
    for merchant in sales.merchants:
        if merchant.currency is None:
            continue
        months = periods.get(merchant.id, ())
        rows = store.conn.execute(
            "SELECT DISTINCT currency FROM sales WHERE merchant_id = ? AND currency IS NOT NULL "
            f"AND currency != ? AND period NOT IN ({','.join('?' * len(months))})",
            [merchant.id, merchant.currency, *months],
        ).fetchall()
        for (other,) in rows:
            yield Problem(
                sales.path,
                None,
                f"merchant {merchant.id!r} has stored months in {other}, this file is in {merchant.currency}; "
                "one currency per merchant (re-import its whole history in one currency)",
            )


def merchant_ids(store: Store) -> list[str]:
    """Every stored merchant id, sorted."""
    return [row[0] for row in store.conn.execute("SELECT id FROM merchants ORDER BY id")]


def list_merchants(store: Store, ids: Sequence[str] | None = None) -> list[MerchantSummary]:
    """Stored merchants (all, or those named) with their sales history, ordered by id."""
    rows = store._rows(
        """
        SELECT m.id, m.name, m.currency, m.imported_at, m.source,
               count(s.merchant_id) AS rows, count(DISTINCT s.period) AS periods,
               min(s.period) AS first_period, max(s.period) AS last_period,
               group_concat(DISTINCT s.market) AS markets, coalesce(sum(s.revenue), 0) AS revenue
        FROM merchants m LEFT JOIN sales s ON s.merchant_id = m.id
        GROUP BY m.id ORDER BY m.id
        """
    )
    wanted = set(ids) if ids is not None else None
    return [
        MerchantSummary(
            id=row["id"],
            name=row["name"],
            currency=row["currency"],
            rows=int(row["rows"]),
            periods=int(row["periods"]),
            first_period=row["first_period"],
            last_period=row["last_period"],
            markets=tuple(sorted(set((row["markets"] or "").split(",")) - {""})),
            revenue=float(row["revenue"]),
            imported_at=row["imported_at"],
            source=row["source"],
        )
        for row in rows
        if wanted is None or row["id"] in wanted
    ]


def trailing_sales(
    store: Store, *, ids: Sequence[str] | None = None, end_period: str | None = None, months: int = 12
) -> list[MerchantSales]:
    """Each merchant's sales over the `months` ending with its latest month on or before `end_period`.

    Lines are summed per (market, HS code, origin) in SQL. A merchant with no month on or before
    `end_period` has no lines (and scores 0).
    """
    end = end_period or "9999-12"
    back = f"-{int(months) - 1} months"
    sql = """
        WITH last AS (
            SELECT merchant_id, max(period) AS last_period,
                   substr(date(max(period) || '-01', ?), 1, 7) AS first_period
            FROM sales WHERE period <= ? GROUP BY merchant_id
        )
        SELECT s.merchant_id, s.market, s.hs_code, s.origin, sum(s.revenue) AS revenue
        FROM sales s JOIN last l ON l.merchant_id = s.merchant_id
        WHERE s.period BETWEEN l.first_period AND l.last_period
        GROUP BY s.merchant_id, s.market, s.hs_code, s.origin
        ORDER BY s.merchant_id, s.market, s.hs_code, s.origin
    """
    with _read(store):  # one snapshot for all three queries, whatever an import does meanwhile
        lines: dict[str, list[SalesLine]] = {}
        for merchant_id, market, hs_code, origin, revenue in store.conn.execute(sql, [back, end]):
            lines.setdefault(merchant_id, []).append(SalesLine(market, hs_code, origin, float(revenue)))
        windows = {
            row[0]: (row[1], row[2])
            for row in store.conn.execute(
                "SELECT merchant_id, substr(date(max(period) || '-01', ?), 1, 7), max(period) FROM sales "
                "WHERE period <= ? GROUP BY merchant_id",
                [back, end],
            )
        }
        merchants = store.conn.execute("SELECT id, name, currency FROM merchants ORDER BY id").fetchall()
    wanted = set(ids) if ids is not None else None
    out = []
    for merchant_id, name, currency in merchants:
        if wanted is not None and merchant_id not in wanted:
            continue
        start, last = windows.get(merchant_id, (None, None))
        out.append(MerchantSales(merchant_id, name, tuple(lines.get(merchant_id, ())), currency, start, last))
    return out


@contextlib.contextmanager
def _read(store: Store) -> Iterator[None]:
    """A read transaction (a consistent snapshot in WAL mode) unless one is already open."""
    if store.conn.in_transaction:
        yield
        return
    store.conn.execute("BEGIN")
    try:
        yield
    finally:
        store.conn.execute("COMMIT")


def save_scores(store: Store, snapshots: Sequence[ScoreSnapshot], *, scored_at: str | None = None) -> str:
    """Store one snapshot per merchant scored, all stamped with the same time; return that time."""
    stamp = scored_at or utcnow()
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO scores (merchant_id, scored_at, score, level, top_driver, details) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (s.merchant_id, stamp, s.score, s.level, s.top_driver, json.dumps(s.details, ensure_ascii=False))
                for s in snapshots
            ],
        )
    return stamp


def latest_scores(store: Store, ids: Sequence[str] | None = None) -> dict[str, ScoreSnapshot]:
    """The newest stored snapshot of each merchant (all, or those named): what a new score's trend compares to."""
    rows = store._rows(
        """
        SELECT s.* FROM scores s
        JOIN (SELECT merchant_id, max(id) AS id FROM scores GROUP BY merchant_id) newest ON newest.id = s.id
        """
    )
    wanted = set(ids) if ids is not None else None
    out = {}
    for row in rows:
        if wanted is not None and row["merchant_id"] not in wanted:
            continue
        try:
            details = json.loads(row["details"] or "{}")
        except json.JSONDecodeError:
            details = {}
        out[row["merchant_id"]] = ScoreSnapshot(
            row["merchant_id"], float(row["score"]), row["level"], row["top_driver"], details, row["scored_at"]
        )
    return out


def score_history(store: Store, merchant_id: str, *, limit: int = 20) -> list[ScoreSnapshot]:
    """A merchant's snapshots, newest first."""
    rows = store._rows("SELECT * FROM scores WHERE merchant_id = ? ORDER BY id DESC LIMIT ?", [merchant_id, int(limit)])
    return [
        ScoreSnapshot(r["merchant_id"], float(r["score"]), r["level"], r["top_driver"], {}, r["scored_at"])
        for r in rows
    ]
