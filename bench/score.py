"""Benchmark of the exposure scoring core: N merchants against M changes, on synthetic but realistic records.

    python bench/score.py [--merchants 10000] [--changes 50000] [--seed 7]

Times `index_changes` (weighing, de-duplicating and indexing the changes) and `score_merchants` (every
merchant's score, levels, by-market parts and top driver) separately; building the records is not timed.
Not a test: the figure goes in the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policywatch.exposure import PolicyChange, index_changes, score_merchants
from policywatch.merchants import MerchantSales, SalesLine

AS_OF = dt.date(2026, 12, 1)
# Where cross-border e-commerce revenue goes, roughly: a few big markets and a long tail.
MARKETS = {
    "US": 24, "GB": 8, "DE": 8, "FR": 5, "JP": 6, "CA": 5, "AU": 4, "MX": 4, "BR": 3, "IT": 3, "ES": 3, "NL": 3,
    "KR": 2, "IN": 2, "SE": 1.5, "PL": 1.5, "BE": 1.2, "AT": 1, "CH": 1.2, "NO": 0.8, "DK": 0.8, "IE": 0.8,
    "SG": 1, "MY": 0.8, "TH": 0.8, "ID": 0.8, "PH": 0.6, "VN": 0.6, "AE": 1, "SA": 0.8, "TR": 0.8, "IL": 0.6,
    "CL": 0.6, "CO": 0.5, "AR": 0.4, "PE": 0.4, "ZA": 0.6, "NG": 0.3, "EG": 0.3, "NZ": 0.6, "CZ": 0.5, "PT": 0.5,
    "GR": 0.4, "RO": 0.4, "HU": 0.4, "FI": 0.5, "HK": 0.8, "TW": 0.8,
}  # fmt: skip
ISSUERS = {
    "US": 15, "EU": 12, "CN": 6, "GB": 5, "IN": 5, "CA": 3, "MX": 3, "BR": 3, "JP": 3, "KR": 2, "AU": 2, "TR": 2,
    "ID": 2, "TH": 2, "VN": 1.5, "ZA": 1, "CL": 1, "AR": 1.5, "SA": 1, "AE": 1, "SG": 1, "MY": 1, "PH": 1,
    "CH": 1, "NO": 0.5, "NZ": 0.5, "IL": 0.5, "EG": 0.5, "NG": 0.5, "CO": 0.5, "PE": 0.5, "TW": 1, "HK": 0.5,
    "DE": 1, "FR": 1, "IT": 0.5, "ES": 0.5, "NL": 0.5, "PL": 0.5, "PK": 0.5, "BD": 0.5, "KE": 0.5, "GH": 0.3,
    "MA": 0.4, "DZ": 0.4, "QA": 0.3, "KW": 0.3, "OM": 0.3, "BH": 0.2, "LK": 0.3, "NP": 0.2, "KH": 0.3, "MM": 0.2,
    "KZ": 0.4, "UZ": 0.3, "UA": 0.5, "RS": 0.3, "GE": 0.2, "EC": 0.3, "UY": 0.3, "PY": 0.2, "BO": 0.2, "CR": 0.3,
    "PA": 0.3, "DO": 0.3, "GT": 0.3, "JM": 0.2, "TT": 0.2, "MU": 0.2, "TZ": 0.3, "ET": 0.3, "CI": 0.2, "SN": 0.2,
}  # fmt: skip
ORIGINS = {"CN": 45, "VN": 8, "IN": 7, "TR": 5, "KR": 4, "US": 6, "DE": 4, "BD": 3, "MX": 2, "TH": 3, "ID": 3,
           "PK": 2, "IT": 2, "JP": 2, "TW": 3, "MY": 1}  # fmt: skip
CATEGORIES = {
    "tariff_increase": 18, "tariff_decrease": 8, "trade_remedy": 18, "de_minimis": 3, "import_tax": 5,
    "import_restriction": 12, "export_control": 8, "sanctions": 5, "product_requirement": 15,
    "customs_procedure": 5, "other_regulation": 3,
}  # fmt: skip
# Most changes are routine; a few a year are critical somewhere.
SEVERITIES = {"low": 45, "medium": 38, "high": 14, "critical": 3}
# How often a change of each category names the goods it covers (the rest name none).
NAMES_GOODS = {
    "tariff_increase": 0.7, "tariff_decrease": 0.7, "trade_remedy": 0.95, "de_minimis": 0.0, "import_tax": 0.0,
    "import_restriction": 0.75, "export_control": 0.85, "sanctions": 0.3, "product_requirement": 0.8,
    "customs_procedure": 0.0, "other_regulation": 0.4,
}  # fmt: skip
# Chapters that carry most parcels: apparel, footwear, electronics, machines, toys, furniture, plastics, bags...
CHAPTERS = ["61", "62", "64", "85", "84", "95", "94", "39", "42", "33", "71", "73", "69", "90", "63", "96",
            "40", "44", "48", "87", "91", "82", "83", "70", "34", "30", "21", "09", "08", "03"]  # fmt: skip


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _products(rng: random.Random, n: int) -> list[str]:
    """n distinct 8-digit tariff lines, clustered in e-commerce chapters."""
    codes = set()
    while len(codes) < n:
        chapter = CHAPTERS[min(int(rng.expovariate(0.12)), len(CHAPTERS) - 1)]
        codes.add(f"{chapter}{rng.randint(1, 20):02d}{rng.randint(1, 9)}0{rng.randint(0, 9)}0")
    return sorted(codes)


def make_changes(n: int, rng: random.Random, products: list[str]) -> list[PolicyChange]:
    """n changes issued over ten years (some announced for next year); most name their goods."""
    out = []
    for i in range(n):
        category = _pick(rng, CATEGORIES)
        hs: tuple[str, ...] = ()
        if rng.random() < NAMES_GOODS[category]:
            cuts = rng.choices([2, 4, 6, 8], weights=[10, 35, 40, 15], k=rng.randint(1, 4))
            hs = tuple(sorted({rng.choice(products)[:cut] for cut in cuts}))
        affected: tuple[str, ...] = ()
        if rng.random() < 0.35:  # most targeted measures name one country; a few name a list
            size = rng.choices([1, 2, 3, 7], weights=[75, 12, 8, 5])[0]
            affected = tuple(sorted({_pick(rng, ORIGINS) for _ in range(size)}))
        direction = "loosen" if category == "tariff_decrease" or rng.random() < 0.12 else "tighten"
        effective = AS_OF + dt.timedelta(days=rng.randint(-10 * 365, 365))
        announced = effective - dt.timedelta(days=rng.randint(0, 90))
        dated = rng.random() > 0.1
        new_rate = round(rng.uniform(1, 60), 1) if rng.random() < 0.4 else None
        old_rate = round(rng.uniform(0, new_rate), 1) if new_rate is not None and rng.random() < 0.5 else None
        out.append(
            PolicyChange(
                id=f"c{i:06d}",
                jurisdiction=_pick(rng, ISSUERS),
                category=category,
                direction=direction,
                severity=_pick(rng, SEVERITIES),
                affected_countries=affected,
                hs_codes=hs,
                new_rate_percent=new_rate,
                old_rate_percent=old_rate,
                effective_date=effective.isoformat() if dated else None,
                announced=announced.isoformat(),
            )
        )
    return out


def make_merchants(n: int, rng: random.Random, products: list[str]) -> list[MerchantSales]:
    """n merchants: 1-8 markets, 1-6 products, 1-2 origins; log-normal revenue per line."""
    out = []
    markets = list(MARKETS)
    for i in range(n):
        k = min(1 + int(rng.expovariate(0.45)), 8)
        chosen = set()
        while len(chosen) < k:
            chosen.add(rng.choices(markets, weights=list(MARKETS.values()))[0])
        items = rng.sample(products, min(1 + int(rng.expovariate(0.5)), 6))
        origins = [_pick(rng, ORIGINS)] + ([_pick(rng, ORIGINS)] if rng.random() < 0.2 else [])
        lines = {}
        for market in sorted(chosen):
            for item in items:
                if rng.random() < 0.75:
                    key = (market, item, rng.choice(origins))
                    lines[key] = lines.get(key, 0.0) + round(rng.lognormvariate(10, 1.2), 2)
        if not lines:
            lines[(sorted(chosen)[0], items[0], origins[0])] = 1000.0
        out.append(
            MerchantSales(
                f"m{i:05d}",
                f"Merchant {i}",
                tuple(SalesLine(m, h, o, r) for (m, h, o), r in sorted(lines.items())),
                "USD",
                "2025-12",
                "2026-11",
            )
        )
    return out


def run(merchants: int = 10_000, changes: int = 50_000, *, seed: int = 7) -> dict:
    """Build the records, then time indexing and scoring; return the timings and the sizes of the inputs."""
    rng = random.Random(seed)
    products = _products(rng, 2_000)
    change_records = make_changes(changes, rng, products)
    merchant_records = make_merchants(merchants, rng, products)
    started = time.perf_counter()
    index = index_changes(change_records, AS_OF)
    indexed = time.perf_counter()
    results = score_merchants(merchant_records, index)
    finished = time.perf_counter()
    levels: dict[str, int] = {}
    for result in results:
        levels[result.level.value] = levels.get(result.level.value, 0) + 1
    return {
        "merchants": merchants,
        "changes": changes,
        "sales_lines": sum(len(m.lines) for m in merchant_records),
        "changes_counted": len(index.changes),
        "filed_lists": len(index.lists),
        "index_seconds": round(indexed - started, 3),
        "score_seconds": round(finished - indexed, 3),
        "seconds": round(finished - started, 3),
        "levels": dict(sorted(levels.items())),
        "mean_score": round(sum(r.score for r in results) / max(len(results), 1), 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    figures = run(args.merchants, args.changes, seed=args.seed)
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
