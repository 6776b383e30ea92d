"""The exposure model: the README's worked example exactly, each factor, and properties of the score.

A brute-force reference (every change against every line, in plain Python, straight from the README's
formulas) checks the vectorised scorer on generated merchants and changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import random
import re
import sqlite3

import pytest
from conftest import EXAMPLES, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policywatch.exposure import (
    CHANGES_PER_LINE,
    NEXT_CHANGE_WEIGHT,
    Level,
    PolicyChange,
    change_strength,
    changes_touching,
    describe,
    domestic,
    index_changes,
    level_for,
    rate_factor,
    scope_factor,
    score_merchant,
    score_merchants,
    timing_factor,
    touches,
)
from policywatch.merchants import MerchantSales, SalesLine, load_sales
from policywatch.store import EU_MEMBERS

AS_OF = dt.date(2026, 12, 1)
#: Generated changes are cheap, but a slow CI machine must not turn that into a failure.
SLOW_OK = [HealthCheck.too_slow]


def change(id="c1", jurisdiction="US", category="tariff_increase", **fields) -> PolicyChange:
    """A tightening change with sensible defaults; override any contract field."""
    fields.setdefault("direction", "tighten")
    fields.setdefault("severity", "high")
    fields.setdefault("effective_date", "2026-12-15")
    fields.setdefault("announced", "2026-11-20")
    return PolicyChange(id=id, jurisdiction=jurisdiction, category=category, **fields)


def merchant(*lines: tuple[str, str, str, float], merchant_id="m1") -> MerchantSales:
    return MerchantSales(merchant_id, merchant_id.upper(), tuple(SalesLine(*line) for line in lines), "USD")


# --- the worked example of the README ------------------------------------------------------------------

#: The five stored changes that touch Anatolia Ceramics in the bundled example (README, worked example).
WORKED_CHANGES = [
    PolicyChange("f4fc457b99b8e61c", "US", "tariff_increase", "tighten", "critical", (), (), 10.0, None,
                 "2026-02-24", "2026-02-24"),
    PolicyChange("833234787e24c433", "US", "tariff_increase", "tighten", "high", (), (), None, None,
                 "2025-08-18", "2025-08-18"),
    PolicyChange("94ec413189ace262", "US", "product_requirement", "tighten", "medium", (), (), None, None,
                 None, "2026-12-01"),
    PolicyChange("56c7ff949543e686", "US", "import_restriction", "tighten", "medium", (), (), None, None,
                 "2022-03-14", "2022-03-14"),
    PolicyChange("56f3748b80cc4cfe", "GB", "customs_procedure", "tighten", "low", (), (), None, None,
                 "2025-04-14", "2025-03-14"),
]  # fmt: skip


def anatolia() -> MerchantSales:
    """Anatolia Ceramics' trailing 12 months (2025-12 to 2026-11) from examples/merchants.csv."""
    sales = load_sales(EXAMPLES / "merchants.csv")
    totals: dict[tuple[str, str, str], float] = {}
    for r in sales.records:
        if r.merchant_id == "anatolia-ceramics" and "2025-12" <= r.period <= "2026-11":
            key = (r.market, r.hs_code, r.origin)
            totals[key] = totals.get(key, 0.0) + r.revenue
    lines = tuple(SalesLine(*key, revenue) for key, revenue in sorted(totals.items()))
    return MerchantSales("anatolia-ceramics", "Anatolia Ceramics Atelier", lines, "USD", "2025-12", "2026-11")


def worked_numbers() -> dict[str, str]:
    """Every number the README's worked example quotes, as it prints them, computed by the model."""
    m = anatolia()
    result = score_merchant(m, WORKED_CHANGES, AS_OF)
    strengths = {c.id: change_strength(c, AS_OF) for c in WORKED_CHANGES}
    us = [c.id for c in WORKED_CHANGES if c.jurisdiction == "US"]
    hazards = sorted((-math.log1p(-strengths[i].value) for i in us), reverse=True)
    us_hazard = sum(h * NEXT_CHANGE_WEIGHT**k for k, h in enumerate(hazards))
    us_rev = sum(line.revenue for line in m.lines if line.market == "US")
    gb_rev = sum(line.revenue for line in m.lines if line.market == "GB")
    detail = result.explanation
    parts = {p.change.id: p.points for p in detail.changes}
    out = {
        "revenue": f"{m.revenue:,.2f}",
        "us_revenue": f"{us_rev:,.2f}",
        "gb_revenue": f"{gb_rev:,.2f}",
        "us_share": f"{us_rev / m.revenue:.2%}",
        "gb_share": f"{gb_rev / m.revenue:.2%}",
        "us_hazard": f"{us_hazard:.4f}",
        "us_risk": f"{-math.expm1(-us_hazard):.4f}",
        "change_exposure": f"{detail.change_exposure:.4f}",
        "concentration": f"{detail.concentration_exposure:.4f}",
        "score": f"{result.score:.1f}",
        "level": result.level.value,
        "change_points": f"{result.change_points:.1f}",
        "concentration_points": f"{result.concentration_points:.1f}",
        "us_points": f"{result.markets[0].points:.1f}",
        "gb_points": f"{result.markets[1].points:.1f}",
    }
    for c in WORKED_CHANGES:
        s = strengths[c.id]
        out[f"strength {c.id}"] = f"{s.value:.3f}"
        out[f"timing {c.id}"] = f"{s.timing:.3f}"
        out[f"points {c.id}"] = f"{parts[c.id]:.1f}"
    return out


def test_worked_example_numbers_are_exact():
    numbers = worked_numbers()
    assert numbers == {
        "revenue": "216,414.38",
        "us_revenue": "203,593.97",
        "gb_revenue": "12,820.41",
        "us_share": "94.08%",
        "gb_share": "5.92%",
        "us_hazard": "0.2597",
        "us_risk": "0.2288",
        "change_exposure": "0.2167",
        "concentration": "0.1475",
        "score": "33.2",
        "level": "medium",
        "change_points": "20.0",
        "concentration_points": "13.2",
        "us_points": "33.1",
        "gb_points": "0.1",
        "strength f4fc457b99b8e61c": "0.179",
        "timing f4fc457b99b8e61c": "0.470",
        "points f4fc457b99b8e61c": "15.1",
        "strength 833234787e24c433": "0.090",
        "timing 833234787e24c433": "0.328",
        "points 833234787e24c433": "3.6",
        "strength 94ec413189ace262": "0.060",
        "timing 94ec413189ace262": "0.800",
        "points 94ec413189ace262": "1.2",
        "strength 56c7ff949543e686": "0.002",
        "timing 56c7ff949543e686": "0.030",
        "points 56c7ff949543e686": "0.0",
        "strength 56f3748b80cc4cfe": "0.026",
        "timing 56f3748b80cc4cfe": "0.258",
        "points 56f3748b80cc4cfe": "0.1",
    }


def test_readme_quotes_the_worked_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Merchant exposure") :]
    worked = section[section.index("### Worked example") :]
    for name, value in worked_numbers().items():
        assert value in worked, f"README worked example lacks {name} = {value}"


def test_readme_states_the_model_constants():
    from policywatch import exposure

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Merchant exposure") :]
    for level, threshold in exposure.THRESHOLDS.items():
        assert f"{threshold:g}" in section and level.value in section
    for severity, share in exposure.SEVERITY_SHARE.items():
        assert f"{severity} {share:.2f}" in section
    for value in (exposure.HALF_LIFE_DAYS, exposure.IMMINENT_DAYS, exposure.VOLATILITY_HALF):
        assert re.search(rf"\b{value}\b", section)


# --- factors ---------------------------------------------------------------------------------------------


def test_rate_factor():
    assert rate_factor(change(new_rate_percent=None)) == 1.0
    assert rate_factor(change(new_rate_percent=25.0, old_rate_percent=0.0)) == 1.25
    assert rate_factor(change(new_rate_percent=3.0, old_rate_percent=2.5)) == pytest.approx(0.76)
    assert rate_factor(change(new_rate_percent=145.0)) == 1.25  # an additional duty stated alone
    assert rate_factor(change(category="import_tax", new_rate_percent=20.0)) == 1.0  # a VAT rate is not a jump


def test_timing_factor_phases():
    assert timing_factor(change(effective_date="2026-12-01"), AS_OF)[:2] == (1.0, "imminent")
    assert timing_factor(change(effective_date="2027-03-01"), AS_OF)[:2] == (1.0, "imminent")  # 90 days
    assert timing_factor(change(effective_date="2027-03-02"), AS_OF)[:2] == (0.7, "announced")
    factor, phase, days = timing_factor(change(effective_date="2025-12-01"), AS_OF)
    assert (phase, days) == ("in effect", -365) and factor == pytest.approx(0.4)
    # No effective date: in effect since it was announced.
    factor, phase, days = timing_factor(change(effective_date=None, announced="2024-12-01"), AS_OF)
    assert (phase, days) == ("in effect", -730) and factor == pytest.approx(0.2)


def test_scope_factor_for_changes_that_name_no_goods():
    assert scope_factor(change(hs_codes=("8517.62",))) == 1.0
    assert scope_factor(change(category="de_minimis")) == 1.0
    assert scope_factor(change(affected_countries=("CN",))) == 1.0  # a country-wide tariff
    assert scope_factor(change(hs_codes=("9903.01.63",))) == 1.0  # a chapter 99 surcharge heading
    assert scope_factor(change(category="trade_remedy", affected_countries=("CN",))) == 0.25
    assert scope_factor(change()) == 0.5


def test_loosening_counts_zero():
    assert change_strength(change(direction="loosen"), AS_OF).value == 0
    assert change_strength(change(category="tariff_decrease", direction=None), AS_OF).value == 0
    assert change_strength(change(category="product_requirement", direction=None), AS_OF).value > 0


def test_strength_is_capped():
    strong = change(severity="critical", new_rate_percent=50.0, hs_codes=("85",), effective_date="2026-12-10")
    assert change_strength(strong, AS_OF).value == 0.95


def test_levels():
    assert [level_for(s) for s in (0, 24.9, 25, 49.9, 50, 74.9, 75, 100)] == [
        Level.LOW, Level.LOW, Level.MEDIUM, Level.MEDIUM, Level.HIGH, Level.HIGH, Level.CRITICAL, Level.CRITICAL,
    ]  # fmt: skip
    assert Level.parse(" High ") is Level.HIGH
    with pytest.raises(ValueError, match="unknown level"):
        Level.parse("severe")


# --- relevance --------------------------------------------------------------------------------------------


def test_touches():
    eu = change(jurisdiction="EU", category="de_minimis")
    assert touches(eu, "DE", "851830", "CN") and touches(eu, "FR", "61", "VN")
    assert not touches(eu, "GB", "851830", "CN")
    assert not touches(eu, "DE", "851830", "FR")  # inside the single market
    assert not touches(change(), "US", "851830", "US")  # domestic
    coded = change(hs_codes=("8518.30",))
    assert touches(coded, "US", "85183000", "CN") and touches(coded, "US", "85", "CN")
    assert not touches(coded, "US", "851762", "CN")
    assert touches(change(hs_codes=("9903.01.63",)), "US", "691200", "TR")
    targeted = change(affected_countries=("CN", "HK"))
    assert touches(targeted, "US", "6912", "CN") and not touches(targeted, "US", "6912", "TR")
    assert touches(change(affected_countries=("EU",)), "US", "6912", "IT")
    export = change(jurisdiction="CN", category="export_control", affected_countries=("US",))
    assert touches(export, "US", "8541", "CN") and not touches(export, "MX", "8541", "CN")
    assert not touches(export, "CN", "8541", "US")
    assert not touches(change(jurisdiction=None), "US", "8541", "CN")


COUNTRIES = ["US", "DE", "FR", "CN", "VN", "GB", "MX", "EU"]
CODES = ["85", "8517", "851762", "85176200", "8518", "851830", "61", "6109", "9903.01.63", "6912.00"]

changes_strategy = st.lists(
    st.builds(
        PolicyChange,
        id=st.text("abcdef0123456789", min_size=4, max_size=8),
        jurisdiction=st.sampled_from(COUNTRIES + [None]),
        category=st.sampled_from(["tariff_increase", "trade_remedy", "de_minimis", "export_control", "sanctions"]),
        direction=st.sampled_from(["tighten", "tighten", "loosen", None]),
        severity=st.sampled_from(["low", "medium", "high", "critical"]),
        affected_countries=st.lists(st.sampled_from(COUNTRIES), max_size=2).map(tuple),
        hs_codes=st.lists(st.sampled_from(CODES), max_size=3).map(tuple),
        new_rate_percent=st.none() | st.floats(0, 200),
        old_rate_percent=st.none() | st.floats(0, 50),
        effective_date=st.none() | st.dates(dt.date(2021, 1, 1), dt.date(2028, 1, 1)).map(dt.date.isoformat),
        announced=st.none() | st.dates(dt.date(2021, 1, 1), dt.date(2027, 1, 1)).map(dt.date.isoformat),
    ),
    max_size=25,
    unique_by=lambda c: c.id,
)
lines_strategy = st.lists(
    st.tuples(
        st.sampled_from(["US", "DE", "FR", "GB", "MX"]),
        st.sampled_from(["85", "8517", "85176200", "851830", "6109", "610910"]),
        st.sampled_from(["CN", "VN", "DE", "US"]),
        st.floats(0, 1e6),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda line: line[:3],
)


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_OK)
@given(changes=changes_strategy, line=lines_strategy.map(lambda lines: lines[0][:3]))
def test_index_finds_exactly_the_changes_that_touch(changes, line):
    index = index_changes(changes, AS_OF)
    found = {index.changes[i].id for i in changes_touching(index, *line)}
    assert found == {c.id for c in index.changes if touches(c, *line)}


# --- the scorer against a brute-force reference -------------------------------------------------------------


def reference(m: MerchantSales, changes: list[PolicyChange], as_of: dt.date) -> tuple[float, float]:
    """(change exposure, concentration) straight from the README's words: every change against every line."""
    index = index_changes(changes, as_of)  # for the counted measures (one per measure) and volatility
    total = sum(line.revenue for line in m.lines)
    if total <= 0:
        return 0.0, 0.0
    exposure = 0.0
    imported: dict[str, float] = {}
    for line in m.lines:
        hazards = sorted(
            (
                -math.log1p(-s.value)
                for c, s in zip(index.changes, index.strengths, strict=True)
                if touches(c, line.market, line.hs_code, line.origin)
            ),
            reverse=True,
        )[:CHANGES_PER_LINE]
        hazard = sum(h * NEXT_CHANGE_WEIGHT**k for k, h in enumerate(hazards))
        exposure += line.revenue / total * -math.expm1(-hazard)
        if not domestic(line.market, line.origin):
            imported[line.market] = imported.get(line.market, 0.0) + line.revenue / total
    volatility = {m: v.value for m, v in index.volatility.items()}
    concentration = 0.5 * sum(s * s * volatility.get(market, 0.0) for market, s in imported.items())
    return exposure, concentration


def combined(exposure: float, concentration: float) -> float:
    return 100 * (1 - (1 - exposure) * (1 - concentration))


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW_OK)
@given(changes=changes_strategy, lines=lines_strategy)
def test_scorer_matches_the_reference(changes, lines):
    m = merchant(*lines)
    result = score_merchant(m, changes, AS_OF)
    exposure, concentration = reference(m, changes, AS_OF)
    assert result.explanation.change_exposure == pytest.approx(exposure, abs=1e-9)
    assert result.explanation.concentration_exposure == pytest.approx(concentration, abs=1e-9)
    assert abs(result.score - combined(exposure, concentration)) <= 0.05 + 1e-6
    assert 0 <= result.score <= 100


def explained_total(result) -> float:
    detail = result.explanation
    return combined(detail.change_exposure, detail.concentration_exposure)


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW_OK)
@given(changes=changes_strategy, lines=lines_strategy, data=st.data())
def test_a_relevant_tightening_change_never_lowers_the_score(changes, lines, data):
    m = merchant(*lines)
    market, hs_code, origin, _ = data.draw(st.sampled_from(lines))
    if domestic(market, origin):
        return
    extra = PolicyChange(
        id="zz-new",
        jurisdiction=data.draw(st.sampled_from([market, "EU"] if market in EU_MEMBERS else [market])),
        category=data.draw(st.sampled_from(["tariff_increase", "de_minimis", "trade_remedy", "sanctions"])),
        direction="tighten",
        severity=data.draw(st.sampled_from(["low", "medium", "high", "critical"])),
        hs_codes=data.draw(st.sampled_from([(), (hs_code,), (hs_code[:2],)])),
        affected_countries=data.draw(st.sampled_from([(), (origin,)])),
        effective_date=data.draw(st.dates(dt.date(2022, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat)),
        announced="2026-06-01",
    )
    assert touches(extra, market, hs_code, origin)
    before = score_merchant(m, changes, AS_OF)
    after = score_merchant(m, [*changes, extra], AS_OF)
    assert explained_total(after) >= explained_total(before) - 1e-9
    assert after.score >= before.score


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW_OK)
@given(changes=changes_strategy, lines=lines_strategy, data=st.data())
def test_changes_elsewhere_do_not_move_the_score(changes, lines, data):
    m = merchant(*lines)
    # Neither a market nor an origin of the merchant (nor the EU, when it sells in or from a member state).
    touched = {line[0] for line in lines} | {line[2] for line in lines}
    elsewhere = [c for c in ("JP", "BR", "IN", "CA", "AU") if c not in touched]
    extra = data.draw(
        st.lists(
            st.builds(
                change,
                id=st.text("ghijkl", min_size=3, max_size=6).map(lambda s: "x" + s),
                jurisdiction=st.sampled_from(elsewhere),
                category=st.sampled_from(["tariff_increase", "de_minimis", "export_control", "import_tax"]),
                severity=st.sampled_from(["high", "critical"]),
                hs_codes=st.sampled_from([(), ("85",), ("6109",)]),
            ),
            max_size=5,
            unique_by=lambda c: c.id,
        )
    )
    before = score_merchant(m, changes, AS_OF)
    after = score_merchant(m, [*changes, *extra], AS_OF)
    assert after.score == before.score
    assert after.explanation.change_exposure == before.explanation.change_exposure
    assert after.explanation.concentration_exposure == before.explanation.concentration_exposure


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW_OK)
@given(changes=changes_strategy, lines=lines_strategy, seed=st.integers(0, 1000))
def test_deterministic_whatever_the_order(changes, lines, seed):
    m = merchant(*lines)
    shuffled_changes, shuffled_lines = list(changes), list(m.lines)
    random.Random(seed).shuffle(shuffled_changes)
    random.Random(seed).shuffle(shuffled_lines)
    first = score_merchant(m, changes, AS_OF)
    again = score_merchant(m, changes, AS_OF)
    reordered = score_merchant(dataclasses.replace(m, lines=tuple(shuffled_lines)), shuffled_changes, AS_OF)
    assert first == again
    assert reordered.score == first.score and reordered.top_driver == first.top_driver
    assert {p.change.id: p.points for p in reordered.explanation.changes} == {
        p.change.id: p.points for p in first.explanation.changes
    }


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_OK)
@given(changes=changes_strategy, lines=lines_strategy)
def test_the_parts_add_up_to_the_score(changes, lines):
    result = score_merchant(merchant(*lines), changes, AS_OF)
    tenths = round(result.score * 10)
    assert sum(round(m.points * 10) for m in result.markets) == tenths
    assert round(result.change_points * 10) + round(result.concentration_points * 10) == tenths
    detail = result.explanation
    assert sum(round(p.points * 10) for p in detail.changes) == round(result.change_points * 10)
    for m in result.markets:
        assert round(m.points * 10) == round(m.change_points * 10) + round(m.concentration_points * 10)
        in_market = sum(round(dict(p.markets).get(m.market, 0) * 10) for p in detail.changes)
        assert in_market == round(m.change_points * 10)
    for p in detail.changes:
        assert sum(round(points * 10) for _, points in p.markets) == round(p.points * 10)
    if result.top_driver is not None and result.top_driver.kind == "change":
        assert detail.changes[0].change.id == result.top_driver.change_id


def test_score_many_equals_score_one_by_one():
    rng = random.Random(3)
    markets, origins, codes = ["US", "DE", "GB", "MX", "JP"], ["CN", "VN", "TR"], ["851830", "6109", "6912", "85"]
    changes = [
        change(
            id=f"c{i:03d}",
            jurisdiction=rng.choice(markets + ["EU", "CN"]),
            category=rng.choice(["tariff_increase", "de_minimis", "trade_remedy", "export_control"]),
            severity=rng.choice(["low", "medium", "high", "critical"]),
            hs_codes=rng.choice([(), ("85",), ("6109.10",), ("6912",)]),
            affected_countries=rng.choice([(), ("CN",), ("VN", "TR")]),
            effective_date=f"202{rng.randint(3, 7)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        )
        for i in range(120)
    ]
    merchants = [
        merchant(
            *{(rng.choice(markets), rng.choice(codes), rng.choice(origins), rng.uniform(10, 1e5)) for _ in range(6)},
            merchant_id=f"m{j}",
        )
        for j in range(40)
    ]
    index = index_changes(changes, AS_OF)
    together = score_merchants(merchants, index, explain=True)
    for m, result in zip(merchants, together, strict=True):
        assert result == score_merchants([m], index, explain=True)[0]
    plain = score_merchants(merchants, index)
    assert [r.score for r in plain] == [r.score for r in together]
    assert all(r.explanation is None for r in plain)
    assert [r.explanation is not None for r in score_merchants(merchants, index, explain={"m3"})] == [
        j == 3 for j in range(40)
    ]


# --- counting -----------------------------------------------------------------------------------------------


def test_the_same_measure_reported_twice_counts_once():
    one = change(id="en", severity="high")
    twice = [one, dataclasses.replace(one, id="zh", severity="medium")]
    index = index_changes(twice, AS_OF)
    assert [c.id for c in index.changes] == ["en"] and index.duplicates == {"zh": "en"}
    m = merchant(("US", "851830", "CN", 100.0))
    assert score_merchant(m, twice, AS_OF).score == score_merchant(m, [one], AS_OF).score


def test_a_pile_of_weak_changes_stays_below_two_strong_ones():
    m = merchant(("US", "851830", "CN", 100.0))
    weak = [change(id=f"w{i}", severity="low") for i in range(60)]
    strongest = change_strength(weak[0], AS_OF).value
    assert score_merchant(m, weak, AS_OF).explanation.change_exposure <= 1 - (1 - strongest) ** 2 + 1e-12


def test_volatility_counts_tightening_import_measures_of_the_past_year():
    changes = [
        change(id="a", announced="2026-01-10"),
        change(id="b", announced="2025-11-30", effective_date="2025-12-30"),  # announced over a year ago
        change(id="c", direction="loosen"),
        change(id="d", category="export_control"),
        change(id="e", jurisdiction="EU", category="de_minimis", announced="2026-06-01"),
    ]
    index = index_changes(changes, AS_OF)
    assert index.volatility["US"].tightening == 1
    assert index.volatility["DE"].tightening == 1 and index.volatility["DE"].value == pytest.approx(0.2)
    assert "GB" not in index.volatility


def test_one_market_seller_carries_concentration_before_any_change_touches_it():
    # Twelve distinct furniture measures (not ceramics) announced for the US this year.
    elsewhere = [change(id=f"v{i}", hs_codes=("9401",), announced=f"2026-{i + 1:02d}-01") for i in range(12)]
    vertical = score_merchant(merchant(("US", "691200", "TR", 100.0)), elsewhere, AS_OF)
    spread = score_merchant(
        merchant(("US", "691200", "TR", 25.0), ("GB", "691200", "TR", 25.0), ("JP", "691200", "TR", 25.0),
                 ("CA", "691200", "TR", 25.0)),
        elsewhere,
        AS_OF,
    )  # fmt: skip
    assert vertical.change_points == 0 and vertical.concentration_points == pytest.approx(37.5)
    assert vertical.top_driver.kind == "concentration" and vertical.top_driver.market == "US"
    assert spread.score < vertical.score / 10
    domestic_seller = score_merchant(merchant(("US", "691200", "US", 100.0)), elsewhere, AS_OF)
    assert domestic_seller.score == 0 and domestic_seller.top_driver is None


def test_a_merchant_without_sales_scores_zero():
    result = score_merchant(MerchantSales("empty", "Empty", ()), [change()], AS_OF)
    assert (result.score, result.level, result.markets, result.top_driver) == (0.0, Level.LOW, (), None)


def test_describe_uses_contract_fields_only():
    text = describe(change(hs_codes=("8518.30", "8517"), affected_countries=("CN",)), change_strength(change(), AS_OF))
    assert text == "US tariff_increase on HS 8517, 8518.30 from CN, effective 2026-12-15"


def test_example_history_gives_non_trivial_scores(run, tmp_path):
    """The bundled feeds and merchants, end to end: the README's example is not all zeros."""
    db = tmp_path / "pw.db"
    assert run("scan", "--feeds", EXAMPLES / "feeds.yaml", "--db", db).exit_code == 0
    assert run("merchants", "import", EXAMPLES / "merchants.csv", "--db", db).exit_code == 0
    result = run("score", "--db", db, "--as-of", "2026-12-01", "--format", "json")
    assert result.exit_code == 0, result.stderr
    scores = {r["merchant_id"]: r for r in json.loads(result.stdout)}
    assert set(scores) == {"shenzhen-volt", "saigon-thread", "anatolia-ceramics", "seoul-glow", "cascade-outdoor"}
    assert max(r["score"] for r in scores.values()) >= 25
    assert all(r["top_driver"] for r in scores.values())
    # The README's transcript of this run shows these very scores and levels.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    transcript = readme[readme.index("$ policywatch score --as-of 2026-12-01") :].split("```")[0]
    shown = {m[1]: (float(m[2]), m[3]) for m in re.finditer(r"│ ([a-z-]+) \(.*?│\s+([\d.]+) │ (\w+)", transcript)}
    assert shown == {mid: (r["score"], r["level"]) for mid, r in scores.items()}
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM scores").fetchone()[0] == 5
    conn.close()
