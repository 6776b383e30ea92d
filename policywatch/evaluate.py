"""`policywatch eval`: extraction measured against labelled bulletins, beside a keyword baseline.

Detection is judged per bulletin (did we report a change?), then, on the bulletins both the labels and
the engine call a change, the category and each field of the first change are compared with the labels.
Lists compare as sets (HS codes on their digits), rates within 0.01, and null equals null.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policywatch.models import Change, Document
from policywatch.yamlio import FileProblems, Problem

FIELDS = (
    "direction",
    "affected_countries",
    "hs_codes",
    "new_rate_percent",
    "old_rate_percent",
    "effective_date",
    "severity",
)


@dataclass(frozen=True)
class Labelled:
    """One labelled bulletin: the extraction input and its labels."""

    document: Document
    labels: dict[str, Any]
    line: int


@dataclass
class Counts:
    """Detection counts and per-field tallies for one slice of the data (all, or one language)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    category_right: int = 0
    field_right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))

    @property
    def precision(self) -> float:
        """Of the bulletins reported as changes, the share that are."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Of the bulletins that are changes, the share reported."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def category_accuracy(self) -> float:
        """Share of true positives given the labelled category."""
        return self.category_right / self.tp if self.tp else 0.0

    def field_accuracy(self, name: str) -> float:
        """Share of true positives whose field equals the label."""
        return self.field_right[name] / self.tp if self.tp else 0.0

    @property
    def mean_field_accuracy(self) -> float:
        """Mean of the per-field accuracies."""
        return sum(self.field_accuracy(f) for f in FIELDS) / len(FIELDS)

    def summary(self) -> dict[str, Any]:
        """The figures as a plain dict for JSON."""
        return {
            "bulletins": self.tp + self.fp + self.fn + self.tn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "category_accuracy": round(self.category_accuracy, 4),
            "fields": {f: round(self.field_accuracy(f), 4) for f in FIELDS},
            "mean_field_accuracy": round(self.mean_field_accuracy, 4),
        }


@dataclass
class Miss:
    """A disagreement with the labels, for the detailed report."""

    id: str
    kind: str  # "false_positive", "false_negative", "category", or a field name
    expected: Any
    got: Any


@dataclass
class Report:
    """The whole evaluation: overall, per language, the keyword baseline, and every miss."""

    overall: Counts
    by_language: dict[str, Counts]
    baseline: Counts
    misses: list[Miss]

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data for JSON."""
        return {
            "overall": self.overall.summary(),
            "by_language": {lang: c.summary() for lang, c in sorted(self.by_language.items())},
            "keyword_baseline": self.baseline.summary(),
            "misses": [m.__dict__ for m in self.misses],
        }


def read_jsonl(path: Path, *, require_labels: bool = False) -> Iterator[Labelled]:
    """Read extraction input lines (`id` and `text` required); raise FileProblems listing every bad line."""
    problems: list[Problem] = []
    rows: list[Labelled] = []
    shown = str(path)
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise FileProblems([Problem(shown, None, "file not found")]) from None
    except OSError as exc:
        raise FileProblems([Problem(shown, None, f"cannot read: {exc.strerror}")]) from None
    seen: set[str] = set()
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(Problem(shown, number, f"not valid JSON ({exc.msg})"))
                    continue
                if not isinstance(data, dict):
                    problems.append(Problem(shown, number, "each line must be a JSON object"))
                    continue
                bad = [k for k in ("id", "text") if not isinstance(data.get(k), str)]
                if isinstance(data.get("id"), (int, float)) and not isinstance(data.get("id"), bool):
                    data["id"] = str(data["id"])
                    bad = [k for k in bad if k != "id"]
                if bad:
                    problems.append(Problem(shown, number, f"missing or non-text {', '.join(bad)}"))
                    continue
                if data["id"] in seen:
                    problems.append(Problem(shown, number, f"duplicate id {data['id']!r}"))
                seen.add(data["id"])
                labels = data.get("labels")
                if require_labels and not isinstance(labels, dict):
                    problems.append(Problem(shown, number, "missing 'labels' object"))
                    continue
                optional = {}
                for key in ("title", "language", "jurisdiction", "published"):
                    value = data.get(key)
                    if value is not None and not isinstance(value, str):
                        problems.append(Problem(shown, number, f"{key} must be text or null"))
                        value = None
                    optional[key] = value
                rows.append(
                    Labelled(
                        document=Document(
                            id=data["id"],
                            text=data["text"],
                            title=optional["title"] or "",
                            language=optional["language"],
                            jurisdiction=optional["jurisdiction"],
                            published=optional["published"],
                        ),
                        labels=labels if isinstance(labels, dict) else {},
                        line=number,
                    )
                )
        except UnicodeDecodeError as exc:
            problems.append(Problem(shown, None, f"not UTF-8 text ({exc.reason})"))
    if problems:
        raise FileProblems(problems)
    return iter(rows)


def _digits(codes: Iterable[Any]) -> set[str]:
    return {re.sub(r"\D", "", str(c)) for c in codes if re.sub(r"\D", "", str(c))}


def field_equal(name: str, expected: Any, got: Any) -> bool:
    """Whether an extracted field agrees with its label, by the rules in the module docstring."""
    if name == "affected_countries":
        return {str(x).upper() for x in expected or []} == {str(x).upper() for x in got or []}
    if name == "hs_codes":
        return _digits(expected or []) == _digits(got or [])
    if name in ("new_rate_percent", "old_rate_percent"):
        if expected is None or got is None:
            return expected is None and got is None
        return abs(float(expected) - float(got)) < 0.01
    return (expected or None) == (got or None)


# --- keyword baseline: what a grep would find ---------------------------------------------------------

_BASELINE = (
    ("de_minimis", r"de minimis|low[- ]value|small parcels?|小额|低价值|franquia|remessa"),
    ("trade_remedy", r"anti-?dumping|countervailing|safeguard|反倾销|反补贴|antidumping"),
    ("export_control", r"export control|entity list|出口管制|两用物项|兩用物項"),
    ("sanctions", r"sanction|制裁"),
    ("import_tax", r"\bvat\b|\bgst\b|value added tax|excise|增值税|\biva\b|imposto"),
    ("import_restriction", r"\bban\b|prohibit|suspend|restrict|禁止|暂停|prohíbe|proibi"),
    ("product_requirement", r"certification|labell?ing|standard mark|safety|认证|标签|检验"),
    ("tariff_increase", r"tariff|duty|duties|surtax|关税|arancel|tarifa"),
)
_BASELINE_RE = [(c, re.compile(p, re.IGNORECASE)) for c, p in _BASELINE]


def baseline_category(document: Document) -> str | None:
    """The keyword baseline's guess: the first category whose keywords appear in the title or text."""
    text = f"{document.title}\n{document.text}"
    for category, pattern in _BASELINE_RE:
        if pattern.search(text):
            return category
    return None


def _tally(
    counts: Counts, labels: dict[str, Any], category: str | None, change: Change | None
) -> list[tuple[str, Any, Any]]:
    truth = bool(labels.get("is_change"))
    predicted = category is not None
    misses: list[tuple[str, Any, Any]] = []
    if truth and predicted:
        counts.tp += 1
        if category == labels.get("category"):
            counts.category_right += 1
        else:
            misses.append(("category", labels.get("category"), category))
        if change is not None:
            record = change.contract()
            for name in FIELDS:
                if field_equal(name, labels.get(name), record.get(name)):
                    counts.field_right[name] += 1
                else:
                    misses.append((name, labels.get(name), record.get(name)))
    elif truth:
        counts.fn += 1
        misses.append(("false_negative", labels.get("category"), None))
    elif predicted:
        counts.fp += 1
        misses.append(("false_positive", None, category))
    else:
        counts.tn += 1
    return misses


def evaluate(rows: Sequence[Labelled], changes: Sequence[Sequence[Change]]) -> Report:
    """Compare the engine's changes (one list per row, in order) with the labels, and run the baseline."""
    overall, baseline = Counts(), Counts()
    by_language: dict[str, Counts] = defaultdict(Counts)
    misses: list[Miss] = []
    for row, found in zip(rows, changes, strict=True):
        change = found[0] if found else None
        category = change.category if change else None
        for kind, expected, got in _tally(overall, row.labels, category, change):
            misses.append(Miss(row.document.id, kind, expected, got))
        _tally(by_language[row.document.language or "?"], row.labels, category, change)
        _tally(baseline, row.labels, baseline_category(row.document), None)
    return Report(overall=overall, by_language=dict(by_language), baseline=baseline, misses=misses)
