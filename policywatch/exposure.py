"""Merchant exposure: how much of a merchant's trailing-12-month revenue the stored changes put at risk.

Pure functions over records: `index_changes(changes, as_of)` weighs and indexes the changes once;
`score_merchants(merchants, index)` scores any number of merchants, vectorised (numpy) over all their sales
lines, and breaks every point down by market and by change for those asked to be explained. The model
(README, "Merchant exposure"):

- A change touches a sales line (market, HS code, origin) when it is issued for the line's market (EU changes
  for every member), its HS codes share a prefix with the line's either way (or it names none), and it targets
  the line's origin (or names none). Export controls are issued by the country the goods leave: they touch lines
  of that origin (to the markets they name, if any). Domestic sales (origin = market, or both in the EU) are
  touched by neither.
- Its strength, the share of the touched sales it puts at risk on its own, is severity x rate x timing x scope
  (each factor below), capped at 0.95; loosening changes count zero.
- On one line the strongest change counts in full, the next half, the next a quarter ... (ten at most):
  risk = 1 - exp(-sum of 0.5^k x -ln(1 - strength_k)). Change exposure = revenue-weighted mean line risk.
- Concentration = 0.5 x sum over markets of (share of revenue imported there)^2 x volatility, volatility =
  n / (n + 4) for n tightening import measures issued for the market in the past year.
- Score = 100 x (1 - (1 - change exposure)(1 - concentration)); the overlap is split evenly (Shapley), and the
  parts are split by market and change in proportion to what they contribute, rounded so they add up exactly.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from policywatch.merchants import MerchantSales
from policywatch.models import Category, Direction, StrEnum
from policywatch.store.core import EU_MEMBERS

if TYPE_CHECKING:
    from policywatch.store import StoredChange


class Level(StrEnum):
    """An exposure level, in increasing order."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical."""
        return list(Level).index(self)

    @classmethod
    def parse(cls, value: str) -> Level:
        """The level named by value, case-insensitively; ValueError otherwise."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise ValueError(f"unknown level {value!r} (choose from low, medium, high, critical)") from None


#: The lowest score of each level above low.
THRESHOLDS = {Level.MEDIUM: 25.0, Level.HIGH: 50.0, Level.CRITICAL: 75.0}
#: Share of the touched sales a change puts at risk, by severity, before rate, timing and scope.
SEVERITY_SHARE = {"low": 0.10, "medium": 0.30, "high": 0.55, "critical": 0.80}
RATE_MIN, RATE_MAX, RATE_FULL_POINTS = 0.75, 1.25, 25.0
IMMINENT_DAYS = 90  # takes effect within this many days: weighs most
LATER_WEIGHT = 0.7  # announced, takes effect later than that
IN_EFFECT_WEIGHT = 0.8  # already in effect: the business has started to adapt ...
HALF_LIFE_DAYS = 365  # ... and it weighs half as much again each year
UNKNOWN_SCOPE = 0.5  # names no goods, and the category does not say how wide it is
PRODUCT_SPECIFIC_SCOPE = 0.25  # a product-specific measure whose goods were not named
STRENGTH_CAP = 0.95  # no single change is certain to cost the sales it touches
NEXT_CHANGE_WEIGHT = 0.5  # on one line, each further change counts this much of the one before it
CHANGES_PER_LINE = 10  # the strongest changes on a line that count
CONCENTRATION_WEIGHT = 0.5
VOLATILITY_HALF = 4  # tightening measures a year at which a market's volatility is 0.5
VOLATILITY_DAYS = 365
ALL_GOODS = frozenset({Category.DE_MINIMIS, Category.IMPORT_TAX, Category.CUSTOMS_PROCEDURE})
COUNTRY_WIDE = frozenset({Category.TARIFF_INCREASE, Category.SANCTIONS})
PRODUCT_SPECIFIC = frozenset(
    {Category.TRADE_REMEDY, Category.PRODUCT_REQUIREMENT, Category.IMPORT_RESTRICTION, Category.EXPORT_CONTROL}
)
_NOT_DIGIT = re.compile(r"\D")


def level_for(score: float) -> Level:
    """The level of a score (0-100)."""
    for level in (Level.CRITICAL, Level.HIGH, Level.MEDIUM):
        if score >= THRESHOLDS[level]:
            return level
    return Level.LOW


# --- one change -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyChange:
    """A stored change as the model reads it: the contract fields, its dates, title and link."""

    id: str
    jurisdiction: str | None
    category: str
    direction: str | None
    severity: str
    affected_countries: tuple[str, ...] = ()
    hs_codes: tuple[str, ...] = ()
    new_rate_percent: float | None = None
    old_rate_percent: float | None = None
    effective_date: str | None = None  # YYYY-MM-DD
    announced: str | None = None  # YYYY-MM-DD: bulletin date, else effective date, else first seen
    title: str = field(default="", compare=False)
    link: str | None = field(default=None, compare=False)


def policy_change(stored: StoredChange) -> PolicyChange:
    """The model's view of a stored change."""
    change = stored.change
    announced = stored.published or change.effective_date or stored.detected_at
    return PolicyChange(
        id=change.id,
        jurisdiction=change.jurisdiction,
        category=change.category,
        direction=change.direction,
        severity=change.severity,
        affected_countries=tuple(change.affected_countries),
        hs_codes=tuple(change.hs_codes),
        new_rate_percent=change.new_rate_percent,
        old_rate_percent=change.old_rate_percent,
        effective_date=change.effective_date,
        announced=announced[:10] if announced else None,
        title=stored.title or change.evidence[:200],
        link=stored.link,
    )


@functools.lru_cache(maxsize=8192)
def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Strength:
    """Why a change weighs what it does: each factor, and their product (the share of touched sales at risk)."""

    tightening: bool
    severity: float
    rate: float
    timing: float
    scope: float
    phase: str  # imminent | announced | in effect | loosening
    days: int | None  # from as_of to the effective date (or announcement); negative once in effect
    value: float


def is_tightening(change: PolicyChange) -> bool:
    """Loosening changes count zero; an undirected change counts as tightening unless it is a tariff decrease."""
    if change.direction:
        return change.direction == Direction.TIGHTEN
    return change.category != Category.TARIFF_DECREASE


def goods_codes(change: PolicyChange) -> tuple[tuple[str, ...], bool]:
    """The change's HS codes as digits, minimal (none extends another), and whether it named a chapter 99 code."""
    return _goods(change.hs_codes)


@functools.lru_cache(maxsize=65536)
def _goods(hs_codes: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    digits = {code for code in (c if c.isdigit() else _NOT_DIGIT.sub("", c) for c in hs_codes) if len(code) >= 2}
    surcharge = any(code.startswith("99") for code in digits)
    goods = sorted(code for code in digits if not code.startswith("99"))
    return tuple(c for c in goods if not any(o != c and c.startswith(o) for o in goods)), surcharge


def rate_factor(change: PolicyChange) -> float:
    """0.75 for a rate change under a point up to 1.25 for 25 points or more; 1.0 when the size is unknown.

    The size is |new - old|; with only a new rate, a tariff increase or trade remedy is taken as that much on
    top of the previous duty (additional duties are stated that way); anything else is unknown.
    """
    new, old = change.new_rate_percent, change.old_rate_percent
    if new is not None and old is not None:
        delta = abs(new - old)
    elif new is not None and change.category in (Category.TARIFF_INCREASE, Category.TRADE_REMEDY):
        delta = abs(new)
    else:
        return 1.0
    return RATE_MIN + (RATE_MAX - RATE_MIN) * min(delta, RATE_FULL_POINTS) / RATE_FULL_POINTS


def timing_factor(change: PolicyChange, as_of: dt.date) -> tuple[float, str, int | None]:
    """(factor, phase, days to the effective date): 1.0 within 90 days, 0.7 later, 0.8 halving yearly once in effect.

    Without an effective date the change is taken to be in effect since it was announced.
    """
    effective = _date(change.effective_date)
    if effective is None:
        announced = _date(change.announced)
        days = min(0, (announced - as_of).days) if announced else None
        return IN_EFFECT_WEIGHT * 0.5 ** (-(days or 0) / HALF_LIFE_DAYS), "in effect", days
    days = (effective - as_of).days
    if days > IMMINENT_DAYS:
        return LATER_WEIGHT, "announced", days
    if days >= 0:
        return 1.0, "imminent", days
    return IN_EFFECT_WEIGHT * 0.5 ** (-days / HALF_LIFE_DAYS), "in effect", days


def scope_factor(change: PolicyChange) -> float:
    """1 when the change names its goods (or needs none); otherwise how likely it is to cover a given product.

    Full: HS codes named (the line must match them), a chapter 99 surcharge heading, a parcel-level category
    (de_minimis, import_tax, customs_procedure), or a tariff increase or sanctions naming the origins targeted
    (country-wide measures). A product-specific measure naming no goods (trade remedy, product requirement,
    import restriction, export control) covers goods we cannot tell: a quarter. Anything else: half.
    """
    codes, surcharge = goods_codes(change)
    if codes or surcharge or change.category in ALL_GOODS:
        return 1.0
    if change.affected_countries and change.category in COUNTRY_WIDE:
        return 1.0
    return PRODUCT_SPECIFIC_SCOPE if change.category in PRODUCT_SPECIFIC else UNKNOWN_SCOPE


def change_strength(change: PolicyChange, as_of: dt.date) -> Strength:
    """The strength of one change as of a date, with every factor that makes it."""
    timing, phase, days = timing_factor(change, as_of)
    severity = SEVERITY_SHARE.get(change.severity, SEVERITY_SHARE["medium"])
    rate, scope = rate_factor(change), scope_factor(change)
    if not is_tightening(change):
        return Strength(False, severity, rate, timing, scope, "loosening", days, 0.0)
    return Strength(
        True, severity, rate, timing, scope, phase, days, min(STRENGTH_CAP, severity * rate * timing * scope)
    )


def _member(code: str, country: str) -> bool:
    return code == country or (code == "EU" and country in EU_MEMBERS)


def domestic(market: str, origin: str) -> bool:
    """Sales that cross no customs border: the same country, or both inside the EU single market."""
    return market == origin or (market in EU_MEMBERS and origin in EU_MEMBERS)


def touches(change: PolicyChange, market: str, hs_code: str, origin: str) -> bool:
    """Whether a change applies to a sales line (the reference definition; the index agrees with it)."""
    if change.jurisdiction is None or domestic(market, origin):
        return False
    export = change.category == Category.EXPORT_CONTROL
    issuer_side, other_side = (origin, market) if export else (market, origin)
    if not _member(change.jurisdiction, issuer_side):
        return False
    targets = change.affected_countries
    if targets and not any(_member(t.upper(), other_side) for t in targets):
        return False
    codes, _ = goods_codes(change)
    return not codes or any(hs_code.startswith(c) or c.startswith(hs_code) for c in codes)


# --- the index of changes ---------------------------------------------------------------------------


@dataclass
class _Bucket:
    """Changes filed under one place, split by the country they target so lookups never filter."""

    anyone: list[int] = field(default_factory=list)
    targeted: dict[str, list[int]] = field(default_factory=dict)  # EU expanded to its members
    anyone_id: int = -1  # the id of the anyone list
    ids: dict[str, int] = field(default_factory=dict)  # the id of each country's list

    def add(self, i: int, targets: frozenset[str]) -> None:
        """File change i (the strongest are filed first), under each country it targets or under anyone."""
        if not targets:
            lst = self.anyone
            if not lst or lst[-1] != i:  # two codes of one change share prefixes: file it once
                lst.append(i)
            return
        for t in targets:
            lst = self.targeted.setdefault(t, [])
            if not lst or lst[-1] != i:
                lst.append(i)


@dataclass
class _Slot:
    broad: _Bucket = field(default_factory=_Bucket)  # changes naming no goods
    exact: dict[str, _Bucket] = field(default_factory=dict)  # by each code
    lengths: set[int] = field(default_factory=set)  # lengths of the codes filed in exact
    codes: list[str] = field(default_factory=list)  # exact's codes, sorted: codes extending a prefix are a range


@dataclass(frozen=True)
class Volatility:
    """A market's policy volatility: tightening import measures issued for it in the past year."""

    market: str
    tightening: int
    value: float


@dataclass(frozen=True)
class ChangeIndex:
    """The changes that count as of a date, filed by issuer (and side), HS code and target country."""

    as_of: dt.date
    changes: tuple[PolicyChange, ...]  # counted: tightening, with an issuer, one per measure; by id
    strengths: tuple[Strength, ...]
    hazards: tuple[float, ...]  # -ln(1 - strength)
    volatility: Mapping[str, Volatility]
    duplicates: Mapping[str, str]  # id of a repeated report -> id of the one counted
    ignored: int  # loosening changes and changes without an issuer
    sides: Mapping[bool, Mapping[str, _Slot]] = field(repr=False)  # export? -> issuer -> slot
    lists: tuple[list[int], ...] = field(repr=False)  # every filed list, strongest first
    list_ptr: Any = field(repr=False)  # numpy: the strongest CHANGES_PER_LINE of each list, concatenated
    list_members: Any = field(repr=False)


def index_changes(changes: Iterable[PolicyChange], as_of: dt.date) -> ChangeIndex:
    """Weigh every change as of a date, count each measure once, and file it by issuer, HS code and target."""
    best: dict[tuple, tuple[PolicyChange, Strength, tuple[str, ...]]] = {}
    duplicates: dict[str, str] = {}
    volatile: dict[str, set[tuple]] = {}
    ignored = 0
    window_start = as_of - dt.timedelta(days=VOLATILITY_DAYS)
    for change in sorted(changes, key=lambda c: c.id):
        strength = change_strength(change, as_of)
        if change.jurisdiction is None or strength.value <= 0:
            ignored += 1
            continue
        codes, _ = goods_codes(change)
        export = change.category == Category.EXPORT_CONTROL
        targets = tuple(sorted({t.upper() for t in change.affected_countries}))
        # One measure reported twice (same place, fields and day; e.g. in two languages) counts once.
        measure = (export, change.jurisdiction, codes, targets, change.category, change.effective_date)
        measure += (change.new_rate_percent, change.old_rate_percent, change.announced)
        kept = best.get(measure)
        if kept is None or strength.value > kept[1].value:
            if kept is not None:
                duplicates[kept[0].id] = change.id
            best[measure] = (change, strength, codes)
        else:
            duplicates[change.id] = kept[0].id
        announced = _date(change.announced)
        if not export and announced is not None and announced > window_start:
            volatile.setdefault(change.jurisdiction, set()).add(measure)
    counted = sorted(best.values(), key=lambda item: item[0].id)
    hazards = tuple(-math.log1p(-item[1].value) for item in counted)
    sides: dict[bool, dict[str, _Slot]] = {False: {}, True: {}}
    # Filing strongest first keeps every list in rank order: a list's head is its strongest changes.
    for i in sorted(range(len(counted)), key=lambda i: (-hazards[i], i)):
        change, _, codes = counted[i]
        targets = frozenset(t.upper() for t in change.affected_countries)
        if "EU" in targets:
            targets |= EU_MEMBERS
        # An EU measure is filed once, under EU; a lookup from a member state visits the EU slot too.
        slot = sides[change.category == Category.EXPORT_CONTROL].setdefault(change.jurisdiction, _Slot())
        if not codes:
            slot.broad.add(i, targets)
        for code in codes:
            slot.lengths.add(len(code))
            _bucket(slot.exact, code).add(i, targets)
    lists: list[list[int]] = []
    for side in sides.values():
        for slot in side.values():
            slot.codes = sorted(slot.exact)
            for bucket in (slot.broad, *slot.exact.values()):
                if bucket.anyone:
                    bucket.anyone_id = len(lists)
                    lists.append(bucket.anyone)
                for country, lst in bucket.targeted.items():
                    bucket.ids[country] = len(lists)
                    lists.append(lst)
    heads = [lst[:CHANGES_PER_LINE] for lst in lists]
    list_ptr = np.concatenate(([0], np.cumsum([len(h) for h in heads], dtype=np.int64))).astype(np.int64)
    list_members = np.fromiter((i for h in heads for i in h), np.int64, int(list_ptr[-1]))
    return ChangeIndex(
        as_of=as_of,
        changes=tuple(item[0] for item in counted),
        strengths=tuple(item[1] for item in counted),
        hazards=hazards,
        volatility=_volatility(volatile),
        duplicates={dup: _final(kept, duplicates) for dup, kept in duplicates.items()},
        ignored=ignored,
        sides=sides,
        lists=tuple(lists),
        list_ptr=list_ptr,
        list_members=list_members,
    )


def _bucket(buckets: dict[str, _Bucket], key: str) -> _Bucket:
    bucket = buckets.get(key)
    if bucket is None:
        bucket = buckets[key] = _Bucket()
    return bucket


def _final(change_id: str, duplicates: dict[str, str]) -> str:
    while change_id in duplicates:
        change_id = duplicates[change_id]
    return change_id


def _volatility(volatile: dict[str, set[tuple]]) -> dict[str, Volatility]:
    counts: dict[str, int] = {}
    for jurisdiction, measures in volatile.items():
        for market in sorted(EU_MEMBERS) if jurisdiction == "EU" else (jurisdiction,):
            counts[market] = counts.get(market, 0) + len(measures)
    return {m: Volatility(m, n, n / (n + VOLATILITY_HALF)) for m, n in sorted(counts.items())}


def _lists_for(index: ChangeIndex, market: str, hs_code: str, origin: str) -> list[int]:
    """Ids of the filed lists that together hold every change touching a line (see _line_lists)."""
    return _line_lists(index, market, origin)(hs_code)


def _line_lists(index: ChangeIndex, market: str, origin: str) -> Callable[[str], list[int]]:
    """For one market and origin, a function from an HS code to the ids of the lists touching that line.

    Only the slots of the market (and EU, for a member state) and of the origin (export controls) are visited.
    A change with several codes that all extend the line's code is in several lists: callers drop repeats.
    """
    if domestic(market, origin):
        return lambda hs_code: []
    slots: list[tuple[_Slot, str]] = []
    for export, issuer, other in ((False, market, origin), (True, origin, market)):
        side = index.sides[export]
        slots += [(side[s], other) for s in (issuer, "EU" if issuer in EU_MEMBERS else None) if s in side]
    fixed: list[int] = []
    for slot, other in slots:
        _take(slot.broad, other, fixed)

    def lists(hs_code: str) -> list[int]:
        """The ids of the lists touching the line with this HS code."""
        found = list(fixed)
        for slot, other in slots:
            exact = slot.exact
            for cut in slot.lengths:
                bucket = exact.get(hs_code[:cut]) if cut <= len(hs_code) else None
                if bucket is not None:
                    _take(bucket, other, found)
            # Codes that extend the line's code (a heading named at 8 digits, sold under its 4-digit code).
            low, high = bisect.bisect_right(slot.codes, hs_code), bisect.bisect_left(slot.codes, hs_code + ":")
            for code in slot.codes[low:high]:
                _take(exact[code], other, found)
        return found

    return lists


def _take(bucket: _Bucket, country: str, found: list[int]) -> None:
    if bucket.anyone_id >= 0:
        found.append(bucket.anyone_id)
    list_id = bucket.ids.get(country)
    if list_id is not None:
        found.append(list_id)


def changes_touching(index: ChangeIndex, market: str, hs_code: str, origin: str) -> tuple[int, ...]:
    """Indices (into index.changes) of every counted change touching a sales line, strongest first."""
    found = {i for list_id in _lists_for(index, market, hs_code, origin) for i in index.lists[list_id]}
    return tuple(sorted(found, key=lambda i: (-index.hazards[i], i)))


# --- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketPoints:
    """One market's part of a score: its revenue shares, and the points from changes and from concentration."""

    market: str
    revenue_share: float
    import_share: float  # share of revenue from goods imported into this market (what concentration counts)
    points: float
    change_points: float
    concentration_points: float
    volatility: float
    tightening: int  # tightening measures in the past year (what the volatility counts)


@dataclass(frozen=True)
class Driver:
    """The largest single part of a score: a change, or one market's concentration."""

    kind: str  # change | concentration
    market: str | None  # the change's issuer, or the concentrated market
    change_id: str | None
    label: str  # built from contract fields only (no feed text)


@dataclass(frozen=True)
class ChangePart:
    """One change's part of a score: why it weighs what it does, and its points in each market."""

    change: PolicyChange
    strength: Strength
    revenue_share: float  # share of the merchant's revenue in the lines where it counts
    points: float
    markets: tuple[tuple[str, float], ...]  # (market, points), largest first


@dataclass(frozen=True)
class Explanation:
    """Every point of a score by change (with its factors); Exposure.markets has the same points by market."""

    change_exposure: float  # revenue-weighted line risk, 0-1
    concentration_exposure: float  # 0-0.5
    hhi: float  # Herfindahl index of imported revenue by market
    changes: tuple[ChangePart, ...]  # every change that counts on some line, largest first
    uncounted: int  # changes that touch a line but rank below the strongest CHANGES_PER_LINE on every line


@dataclass(frozen=True)
class Exposure:
    """A merchant's score, level, parts and top driver (and, when asked, the full explanation)."""

    merchant_id: str
    name: str
    currency: str | None
    revenue: float
    period_start: str | None
    period_end: str | None
    score: float
    level: Level
    change_points: float
    concentration_points: float
    markets: tuple[MarketPoints, ...]  # largest first; their points add up to the score
    top_driver: Driver | None
    explanation: Explanation | None = None


def score_merchant(merchant: MerchantSales, changes: Iterable[PolicyChange], as_of: dt.date) -> Exposure:
    """Score and explain one merchant (convenience over index_changes and score_merchants)."""
    return score_merchants([merchant], index_changes(changes, as_of), explain=True)[0]


def _expand(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR `ptr` and selected rows: (which row each item came from, the item's position in the CSR)."""
    sizes = ptr[rows + 1] - ptr[rows]
    owner = np.repeat(np.arange(len(rows)), sizes)
    return owner, np.repeat(ptr[rows], sizes) + np.arange(len(owner)) - np.repeat(np.cumsum(sizes) - sizes, sizes)


@dataclass(frozen=True)
class _Ranked:
    """Per distinct sales line (key): its counted changes in rank order, and the line's risk."""

    top_ptr: np.ndarray  # CSR over keys into top_change / top_eff
    top_change: np.ndarray  # change index
    top_eff: np.ndarray  # hazard x 0.5^rank
    risk: np.ndarray  # per key: 1 - exp(-sum of top_eff)
    gain: np.ndarray  # per key: risk / hazard, what turns a change's top_eff into its share of the risk


def _rank(index: ChangeIndex, keys: Mapping[tuple[str, str, str], int]) -> _Ranked:
    """Look each distinct line up once (grouped by market and origin), then rank its changes with one sort."""
    matchers: dict[tuple[str, str], Callable[[str], list[int]]] = {}
    key_lists = []
    for market, hs_code, origin in keys:
        matcher = matchers.get((market, origin))
        if matcher is None:
            matcher = matchers[(market, origin)] = _line_lists(index, market, origin)
        key_lists.append(matcher(hs_code))
    n_k = len(keys)
    kl_ptr = np.concatenate(([0], np.cumsum([len(x) for x in key_lists], dtype=np.int64))).astype(np.int64)
    kl_ids = np.fromiter((i for x in key_lists for i in x), np.int64, int(kl_ptr[-1]))
    hazard = np.array(index.hazards + (0.0,))
    # A key's candidates are the heads of its lists (its top ten are among them); sort, drop repeats, rank.
    kl_key, _ = _expand(kl_ptr, np.arange(n_k))
    owner, at = _expand(index.list_ptr, kl_ids)
    cand_key, cand_change = kl_key[owner], index.list_members[at]
    order = np.lexsort((cand_change, -hazard[cand_change], cand_key))
    cand_key, cand_change = cand_key[order], cand_change[order]
    single = np.ones(len(cand_key), bool)
    single[1:] = (cand_key[1:] != cand_key[:-1]) | (cand_change[1:] != cand_change[:-1])
    cand_key, cand_change = cand_key[single], cand_change[single]
    rank = np.arange(len(cand_key)) - np.searchsorted(cand_key, cand_key)
    keep = rank < CHANGES_PER_LINE
    top_key, top_change = cand_key[keep], cand_change[keep]
    top_eff = hazard[top_change] * NEXT_CHANGE_WEIGHT ** rank[keep]
    key_h = np.bincount(top_key, top_eff, minlength=n_k)
    risk = -np.expm1(-key_h)
    gain = np.divide(risk, key_h, out=np.zeros_like(risk), where=key_h > 0)
    return _Ranked(np.searchsorted(top_key, np.arange(n_k + 1)), top_change, top_eff, risk, gain)


def _top_changes(ranked: _Ranked, n_m: int, n_c: int, line_m, line_k, share, scale) -> tuple[list, list]:
    """Per merchant, the change whose part is largest and that part in points: (line, change) pairs summed."""
    pair_line, pair_at = _expand(ranked.top_ptr, line_k)
    weight = share[pair_line] * ranked.gain[line_k[pair_line]] * ranked.top_eff[pair_at]
    combo, inverse = np.unique(line_m[pair_line] * n_c + ranked.top_change[pair_at], return_inverse=True)
    combo_w = np.bincount(inverse, weight, minlength=len(combo))
    combo_m, combo_c = combo // n_c, combo % n_c
    first = np.lexsort((combo_c, -combo_w, combo_m))
    leads = np.ones(len(first), bool)
    leads[1:] = combo_m[first][1:] != combo_m[first][:-1]
    first = first[leads]
    best_change, best_pts = np.full(n_m, -1, np.int64), np.zeros(n_m)
    best_change[combo_m[first]] = combo_c[first]
    best_pts[combo_m[first]] = 100 * combo_w[first] * scale[combo_m[first]]
    return best_change.tolist(), best_pts.tolist()


def score_merchants(
    merchants: Sequence[MerchantSales], index: ChangeIndex, *, explain: bool | Collection[str] = False
) -> list[Exposure]:
    """Score merchants against an index, vectorised over all their sales lines at once.

    Each distinct (market, HS code, origin) is looked up once, visiting only its market's and origin's lists;
    ranking, sums and the top driver are numpy reductions. `explain` (True, or merchant ids) adds the breakdown.
    """
    keys: dict[tuple[str, str, str], int] = {}
    lm, lk, lmk, lrev = [], [], [], []
    # Markets numbered in name order, so parts and ties never depend on the order of the lines.
    market_names = sorted({line.market for m in merchants for line in m.lines})
    market_ids = {name: i for i, name in enumerate(market_names)}
    for m, merchant in enumerate(merchants):
        for line in merchant.lines:
            lm.append(m)
            lk.append(keys.setdefault((line.market, line.hs_code, line.origin), len(keys)))
            lmk.append(market_ids[line.market])
            lrev.append(line.revenue)
    n_m, n_mk = len(merchants), max(len(market_ids), 1)
    ranked = _rank(index, keys)
    key_import = np.array([not domestic(market, origin) for market, _, origin in keys], bool)
    line_m, line_k = np.array(lm, np.int64), np.array(lk, np.int64)
    line_mk, revenue = np.array(lmk, np.int64), np.array(lrev, np.float64)
    total_rev = np.bincount(line_m, revenue, minlength=n_m)
    share = np.divide(revenue, total_rev[line_m], out=np.zeros_like(revenue), where=total_rev[line_m] > 0)
    # Cells: one per (merchant, market), in merchant order.
    cell_id, line_cell = np.unique(line_m * n_mk + line_mk, return_inverse=True)
    cell_m, cell_mk = cell_id // n_mk, cell_id % n_mk
    cell_share = np.bincount(line_cell, share, minlength=len(cell_id))
    cell_import = np.bincount(line_cell, share * key_import[line_k], minlength=len(cell_id))
    cell_change = np.bincount(line_cell, share * ranked.risk[line_k], minlength=len(cell_id))
    volatility = [index.volatility.get(m) for m in market_names]
    vol = np.array([v.value if v else 0.0 for v in volatility] or [0.0])
    cell_conc = CONCENTRATION_WEIGHT * cell_import**2 * vol[cell_mk]
    e_change = np.bincount(cell_m, cell_change, minlength=n_m)
    e_conc = np.bincount(cell_m, cell_conc, minlength=n_m)
    hhi = np.bincount(cell_m, cell_import**2, minlength=n_m)
    total = e_change + e_conc - e_change * e_conc
    # Shapley split of the overlap: each part gives up half of the product.
    change_pts = (100 * cell_change * (1 - e_conc[cell_m] / 2)).tolist()
    conc_pts = (100 * cell_conc * (1 - e_change[cell_m] / 2)).tolist()
    best_change, best_pts = _top_changes(ranked, n_m, len(index.hazards) + 1, line_m, line_k, share, 1 - e_conc / 2)

    bounds = np.searchsorted(cell_m, np.arange(n_m + 1)).tolist()
    tenths_all = np.floor(total * 1000 + 0.5).astype(np.int64).tolist()
    cell_share_l, cell_import_l, cell_mk_l = cell_share.tolist(), cell_import.tolist(), cell_mk.tolist()
    total_rev_l = total_rev.tolist()
    wanted = None if isinstance(explain, bool) else set(explain)
    results = []
    for m, merchant in enumerate(merchants):
        cells = range(bounds[m], bounds[m + 1])
        tenths = tenths_all[m]
        market_t = _apportion(tenths, [change_pts[c] + conc_pts[c] for c in cells])
        split = [_apportion(t, [change_pts[c], conc_pts[c]]) for t, c in zip(market_t, cells, strict=True)]
        parts = []
        for c, (change_t, conc_t) in zip(cells, split, strict=True):
            v = volatility[cell_mk_l[c]]
            parts.append(
                MarketPoints(
                    market_names[cell_mk_l[c]], cell_share_l[c], cell_import_l[c], (change_t + conc_t) / 10,
                    change_t / 10, conc_t / 10, v.value if v else 0.0, v.tightening if v else 0,
                )
            )  # fmt: skip
        conc_best = max(cells, key=lambda c: (conc_pts[c], -c), default=None)
        conc_part = parts[conc_best - cells.start] if conc_best is not None and conc_pts[conc_best] > 0 else None
        driver = _driver(index, best_change[m], best_pts[m], conc_part, conc_pts[conc_best] if conc_part else 0.0)
        parts.sort(key=lambda p: (-p.points, -p.revenue_share, p.market))
        explanation = None
        if explain is True or (wanted is not None and merchant.merchant_id in wanted):
            change_t = {p.market: round(p.change_points * 10) for p in parts}
            totals = (total_rev_l[m], e_change[m], e_conc[m], hhi[m])
            explanation = _explain(index, merchant, keys, ranked, change_t, totals)
        results.append(
            Exposure(
                merchant_id=merchant.merchant_id,
                name=merchant.name,
                currency=merchant.currency,
                revenue=total_rev_l[m],
                period_start=merchant.period_start,
                period_end=merchant.period_end,
                score=tenths / 10,
                level=level_for(tenths / 10),
                change_points=sum(s[0] for s in split) / 10,
                concentration_points=sum(s[1] for s in split) / 10,
                markets=tuple(parts),
                top_driver=driver,
                explanation=explanation,
            )
        )
    return results


def _driver(index: ChangeIndex, i: int, change_pts: float, conc: MarketPoints | None, conc_pts: float):
    if i >= 0 and change_pts > 0 and change_pts >= conc_pts:
        change = index.changes[i]
        return Driver("change", change.jurisdiction, change.id, describe(change, index.strengths[i]))
    if conc is None:
        return None
    label = (
        f"{conc.market} concentration: {conc.import_share:.0%} of revenue imported there, "
        f"{conc.tightening} tightening change{'s' if conc.tightening != 1 else ''} in the past year"
    )
    return Driver("concentration", conc.market, None, label)


def _explain(index, merchant, keys, ranked: _Ranked, change_tenths, totals) -> Explanation:
    top_ptr, top_change, top_eff, key_gain = ranked.top_ptr, ranked.top_change, ranked.top_eff, ranked.gain
    revenue, e_change, e_conc, hhi = (float(x) for x in totals)
    contrib: dict[int, dict[str, float]] = {}
    touched: dict[int, float] = {}
    seen: set[int] = set()
    for line in merchant.lines:
        k = keys[(line.market, line.hs_code, line.origin)]
        seen.update(changes_touching(index, line.market, line.hs_code, line.origin))
        # The same arithmetic, in the same order, as the vectorised top driver: ties break the same way.
        share = line.revenue / revenue if revenue > 0 else 0.0
        gain = float(key_gain[k])
        for at in range(int(top_ptr[k]), int(top_ptr[k + 1])):
            i = int(top_change[at])
            by_market = contrib.setdefault(i, {})
            by_market[line.market] = by_market.get(line.market, 0.0) + share * gain * float(top_eff[at])
            touched[i] = touched.get(i, 0.0) + share
    points: dict[int, dict[str, int]] = {i: {} for i in contrib}
    for market, tenths in change_tenths.items():
        members = sorted(i for i in contrib if market in contrib[i])
        for i, t in zip(members, _apportion(tenths, [contrib[i][market] for i in members]), strict=True):
            points[i][market] = t
    raw = {i: math.fsum(by_market.values()) for i, by_market in contrib.items()}
    # By unrounded contribution, as the top driver is chosen, so the first part is the top driver.
    order = sorted(contrib, key=lambda i: (-raw[i], i))
    parts = tuple(
        ChangePart(
            change=index.changes[i],
            strength=index.strengths[i],
            revenue_share=touched[i],
            points=sum(points[i].values()) / 10,
            markets=tuple((m, t / 10) for m, t in sorted(points[i].items(), key=lambda kv: (-kv[1], kv[0]))),
        )
        for i in order
    )
    return Explanation(e_change, e_conc, hhi, parts, len(seen - set(contrib)))


def describe(change: PolicyChange, strength: Strength | None = None) -> str:
    """A one-line description from contract fields only, e.g. `MX tariff_increase on all goods from CN, KR`."""
    codes, _ = goods_codes(change)
    goods = "HS " + ", ".join(_dotted(c) for c in codes[:3]) + ("…" if len(codes) > 3 else "") if codes else "all goods"
    text = f"{change.jurisdiction} {change.category} on {goods}"
    if change.affected_countries:
        targets = sorted(change.affected_countries)
        word = "to" if change.category == Category.EXPORT_CONTROL else "from"
        text += f" {word} " + ", ".join(targets[:4]) + ("…" if len(targets) > 4 else "")
    if change.effective_date and strength is not None and strength.days is not None:
        verb = "effective" if strength.days >= 0 else "in effect since"
        text += f", {verb} {change.effective_date}"
    elif change.announced:
        text += f", announced {change.announced}"
    return text


def _dotted(code: str) -> str:
    return code if len(code) <= 4 else code[:4] + "." + ".".join(code[i : i + 2] for i in range(4, len(code), 2))


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` (tenths of a point) in proportion to weights; largest remainders get the leftover tenths."""
    n = len(weights)
    if n == 0:
        return []
    weight_sum = math.fsum(weights)
    if total <= 0 or weight_sum <= 0:
        return [max(total, 0)] + [0] * (n - 1)
    quotas = [total * w / weight_sum for w in weights]
    floors = [int(q) for q in quotas]
    for i in sorted(range(n), key=lambda i: (floors[i] - quotas[i], i))[: total - sum(floors)]:
        floors[i] += 1
    return floors
