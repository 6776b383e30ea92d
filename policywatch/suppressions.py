"""Reviewed changes that must not fail a CI gate: `.policywatch-ignore.yaml`, committed beside feeds.yaml.

A CI job usually starts without a database, so the reviews live in a file under version control, not in
the history. Each entry names a change id (stable across fresh databases), why it is harmless, who
reviewed it, and optionally when the review expires; an expired entry stops suppressing and says so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from policywatch.models import Severity
from policywatch.store import StoredChange
from policywatch.yamlio import FileProblems, Problem, line_of, load_yaml

IGNORE_FILE = ".policywatch-ignore.yaml"
ENTRY_KEYS = ("id", "reason", "reviewed_by", "reviewed_at", "expires")
_CHANGE_ID = re.compile(r"^[0-9a-f]{16}$")
_HEADER = (
    "# Changes reviewed as harmless: a CI gate (policywatch scan/changes --fail-on) does not fail on them.\n"
    "# Add entries with `policywatch ack CHANGE_ID --reason TEXT [--expires YYYY-MM-DD]`.\n"
    "suppressions:\n"
)


@dataclass(frozen=True)
class Suppression:
    """One reviewed change."""

    id: str
    reason: str
    reviewed_by: str
    reviewed_at: dt.date | None = None
    expires: dt.date | None = None
    line: int | None = None

    def active(self, today: dt.date) -> bool:
        """True until the day after `expires` (an entry expiring today still suppresses today)."""
        return self.expires is None or today <= self.expires


def is_change_id(value: str) -> bool:
    """Whether a string has the shape of a change id (16 lower-case hex digits)."""
    return bool(_CHANGE_ID.match(value))


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError


def load_suppressions(path: Path) -> tuple[Suppression, ...]:
    """The entries of an ignore file (none when it does not exist); FileProblems lists every bad entry."""
    if not path.exists():
        return ()
    shown = str(path)
    data = load_yaml(path, display=shown)
    if data is None:
        return ()
    if not isinstance(data, dict) or set(data) - {"suppressions"}:
        raise FileProblems([Problem(shown, line_of(data), "expected a mapping with one key, 'suppressions'")])
    raw = data.get("suppressions") or []
    if not isinstance(raw, list):
        raise FileProblems([Problem(shown, line_of(data, "suppressions"), "'suppressions' must be a list")])
    problems: list[Problem] = []
    entries: list[Suppression] = []
    seen: dict[str, int | None] = {}
    for index, item in enumerate(raw):
        at = line_of(raw, index)
        if not isinstance(item, dict):
            problems.append(Problem(shown, at, "each suppression is a mapping with id, reason and reviewed_by"))
            continue
        before = len(problems)
        problems.extend(
            Problem(shown, line_of(item, key), f"unknown key {key!r} (use {', '.join(ENTRY_KEYS)})")
            for key in item
            if key not in ENTRY_KEYS
        )
        change_id = str(item.get("id") or "").strip().lower()
        if not is_change_id(change_id):
            problems.append(Problem(shown, line_of(item, "id") or at, f"id {item.get('id')!r} is not a change id"))
        elif change_id in seen:
            problems.append(Problem(shown, at, f"change {change_id} is already reviewed at line {seen[change_id]}"))
        problems.extend(
            Problem(shown, line_of(item, key) or at, f"missing {key}")
            for key in ("reason", "reviewed_by")
            if not isinstance(item.get(key), str) or not item[key].strip()
        )
        dates: dict[str, dt.date | None] = {}
        for key in ("reviewed_at", "expires"):
            try:
                dates[key] = _date(item[key]) if item.get(key) is not None else None
            except ValueError:
                problems.append(Problem(shown, line_of(item, key), f"{key} {item[key]!r} is not a date (YYYY-MM-DD)"))
        if len(problems) > before:
            continue
        seen[change_id] = at
        entries.append(
            Suppression(
                id=change_id, reason=item["reason"].strip(), reviewed_by=item["reviewed_by"].strip(),
                reviewed_at=dates.get("reviewed_at"), expires=dates.get("expires"), line=at,
            )
        )
    if problems:
        raise FileProblems(problems)
    return tuple(entries)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def append_suppression(path: Path, entry: Suppression) -> None:
    """Add a reviewed change to the file (creating it), keeping everything already written, comments included.

    Raises FileProblems when the existing file is broken (it is then left as it is), and ValueError when
    the change is already reviewed there.
    """
    existing = load_suppressions(path)
    if any(s.id == entry.id for s in existing):
        raise ValueError(f"change {entry.id} is already reviewed in {path}")
    lines = [
        f"  - id: {entry.id}",
        f"    reason: {_quote(entry.reason)}",
        f"    reviewed_by: {_quote(entry.reviewed_by)}",
    ]
    if entry.reviewed_at:
        lines.append(f"    reviewed_at: {entry.reviewed_at.isoformat()}")
    if entry.expires:
        lines.append(f"    expires: {entry.expires.isoformat()}")
    block = "\n".join(lines) + "\n"
    if not path.exists() or not path.read_text(encoding="utf-8").strip():
        path.write_text(_HEADER + block, encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    if not existing and re.search(r"^suppressions:\s*(\[\s*\])?\s*$", text, re.MULTILINE):
        text = re.sub(r"^suppressions:\s*(\[\s*\])?\s*$", "suppressions:", text, count=1, flags=re.MULTILINE)
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + block, encoding="utf-8")
    load_suppressions(path)  # what we wrote must read back


@dataclass(frozen=True)
class GateOutcome:
    """What a CI gate decided about a set of changes."""

    failing: tuple[StoredChange, ...]
    suppressed: tuple[tuple[StoredChange, Suppression], ...]
    expired: tuple[Suppression, ...]

    @property
    def failed(self) -> bool:
        """True when some change at or above the level is not suppressed."""
        return bool(self.failing)


def apply_gate(
    changes: Iterable[StoredChange], level: Severity, suppressions: Sequence[Suppression], today: dt.date
) -> GateOutcome:
    """Split the changes at or above `level` into failing and suppressed; note the expired reviews that matter."""
    by_id = {s.id: s for s in suppressions}
    failing: list[StoredChange] = []
    suppressed: list[tuple[StoredChange, Suppression]] = []
    expired: list[Suppression] = []
    for stored in changes:
        change = stored.change
        if Severity.parse(change.severity).rank < level.rank:
            continue
        entry = by_id.get(change.id)
        if entry is not None and entry.active(today):
            suppressed.append((stored, entry))
            continue
        if entry is not None:
            expired.append(entry)
        failing.append(stored)
    return GateOutcome(tuple(failing), tuple(suppressed), tuple(expired))
