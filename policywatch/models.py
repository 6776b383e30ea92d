"""The records that flow between stages, and the closed sets of choices they use.

Records are frozen dataclasses; every stage is a plain function over them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntEnum, StrEnum


class Category(StrEnum):
    """What kind of measure a change is (DESIGN: "A change record")."""

    TARIFF_INCREASE = "tariff_increase"
    TARIFF_DECREASE = "tariff_decrease"
    TRADE_REMEDY = "trade_remedy"
    DE_MINIMIS = "de_minimis"
    IMPORT_TAX = "import_tax"
    IMPORT_RESTRICTION = "import_restriction"
    EXPORT_CONTROL = "export_control"
    SANCTIONS = "sanctions"
    PRODUCT_REQUIREMENT = "product_requirement"
    CUSTOMS_PROCEDURE = "customs_procedure"
    OTHER_REGULATION = "other_regulation"


class Direction(StrEnum):
    """Whether a change makes trade harder (tighten) or easier (loosen)."""

    TIGHTEN = "tighten"
    LOOSEN = "loosen"


class Severity(StrEnum):
    """How much a change matters to a cross-border merchant, in increasing order."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical, for comparisons."""
        return _SEVERITY_ORDER.index(self)

    @classmethod
    def parse(cls, value: str) -> Severity:
        """The member named by value, case-insensitively; ValueError otherwise."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise ValueError(f"unknown severity {value!r} (choose from low, medium, high, critical)") from None


_SEVERITY_ORDER = list(Severity)


class FeedKind(StrEnum):
    """How a source is read."""

    FEED = "feed"
    HTML = "html"


class ExitCode(IntEnum):
    """The process exit codes (DESIGN contract). 1 means findings, never a crash."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    OPERATIONAL = 3


@dataclass(frozen=True)
class Bulletin:
    """One item read from a source: a notice, press release or feed entry, as clean text."""

    id: str
    feed: str
    guid: str
    title: str
    link: str | None
    published: str | None  # ISO 8601 date or datetime
    text: str
    language: str
    jurisdiction: str | None
    content_hash: str


@dataclass(frozen=True)
class Change:
    """A tariff or regulation change read from a bulletin; the contract fields plus provenance."""

    id: str
    bulletin_id: str
    rule_id: str
    rules_version: str
    category: str
    direction: str | None
    severity: str
    jurisdiction: str | None
    affected_countries: tuple[str, ...] = ()
    hs_codes: tuple[str, ...] = ()
    new_rate_percent: float | None = None
    old_rate_percent: float | None = None
    effective_date: str | None = None
    evidence: str = ""

    def contract(self) -> dict[str, object]:
        """The change as DESIGN's contract record (plus its stable id), ready for JSON."""
        record = asdict(self)
        record["affected_countries"] = list(self.affected_countries)
        record["hs_codes"] = list(self.hs_codes)
        return record


@dataclass(frozen=True)
class Document:
    """The input of extraction: what `policywatch extract` reads per line, and what a bulletin offers."""

    id: str
    text: str
    title: str = ""
    language: str | None = None
    jurisdiction: str | None = None
    published: str | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)
