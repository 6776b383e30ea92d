"""The CI gate shared by `scan` and `changes`: --fail-on with reviewed-change suppressions and merchant scope."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from policywatch.cli.common import fail, fail_problems, message, parse_severity
from policywatch.models import ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from policywatch.store import StoredChange
    from policywatch.suppressions import GateOutcome

FailOnOption = Annotated[
    str | None,
    typer.Option("--fail-on", metavar="LEVEL", help="Exit 1 when a change at or above this severity (in the window) "
                 "is not suppressed in the reviewed-changes file."),
]
IgnoreFileOption = Annotated[
    Path | None,
    typer.Option("--ignore-file", dir_okay=False, show_default=False,
                 help="Reviewed changes (default: .policywatch-ignore.yaml beside the feeds file)."),
]
ShowSuppressedOption = Annotated[
    bool, typer.Option("--show-suppressed", help="List the changes the reviewed-changes file suppressed.")
]
MerchantsOption = Annotated[
    Path | None,
    typer.Option("--merchants", dir_okay=False, show_default=False,
                 help="Only gate on changes that touch these merchants' sales (a merchants CSV/JSON/YAML file)."),
]


@dataclass(frozen=True)
class Gate:
    """A parsed gate: the level, where the reviews are, and the optional merchant scope."""

    level: Any  # Severity | None
    ignore_file: Path
    show_suppressed: bool
    merchants: Path | None

    @classmethod
    def from_options(cls, fail_on: str | None, ignore_file: Path | None, feeds: Path | None, show_suppressed: bool,
                     merchants: Path | None) -> Gate:
        """Check the options (exit 2 on a bad level) and resolve the reviewed-changes file."""
        from policywatch.cli.ack import ignore_file_for

        return cls(parse_severity(fail_on, "--fail-on"), ignore_file_for(ignore_file, feeds), show_suppressed,
                   merchants)

    def check_files(self) -> None:
        """Read the reviewed-changes and merchants files now, so a broken one stops the command before it runs."""
        if self.level is None and not self.show_suppressed:
            return
        self._suppressions()
        self._scope()

    def _suppressions(self) -> tuple[Any, ...]:
        from policywatch.suppressions import load_suppressions
        from policywatch.yamlio import FileProblems

        try:
            return load_suppressions(self.ignore_file)
        except FileProblems as exc:
            fail_problems(exc.problems, what="reviewed-changes file")

    def _scope(self) -> Any:
        if self.merchants is None:
            return None
        from policywatch.merchants import load_sales
        from policywatch.yamlio import FileProblems

        try:
            return load_sales(self.merchants)
        except FileProblems as exc:
            fail_problems(exc.problems, what="merchants file")

    def in_scope(self, changes: Iterable[StoredChange]) -> Iterable[StoredChange]:
        """The changes that touch at least one sales line of the merchants file (all when there is none)."""
        sales = self._scope()
        if sales is None:
            return changes
        from policywatch.exposure import policy_change, touches

        lines = {(r.market, r.hs_code, r.origin) for r in sales.records}
        return (c for c in changes if any(touches(policy_change(c), *line) for line in lines))

    def decide(self, changes: Iterable[StoredChange], today: dt.date | None = None) -> GateOutcome | None:
        """Apply the gate to the changes (None when no --fail-on was given and nothing is to be shown)."""
        if self.level is None and not self.show_suppressed:
            return None
        from policywatch.models import Severity
        from policywatch.suppressions import apply_gate

        level = self.level if self.level is not None else Severity.LOW
        today = today or dt.datetime.now(dt.UTC).date()
        return apply_gate(self.in_scope(changes), level, self._suppressions(), today)

    def report(self, outcome: GateOutcome | None) -> None:
        """Say on stderr what the gate decided, and exit 1 when it failed."""
        if outcome is None:
            return
        from policywatch.report.safe import plain

        for entry in outcome.expired:
            message(f"note: the review of {entry.id} by {plain(entry.reviewed_by)} expired on {entry.expires}; "
                    "it no longer suppresses the change")
        if self.show_suppressed:
            for stored, entry in outcome.suppressed:
                until = f" until {entry.expires}" if entry.expires else ""
                message(f"suppressed {stored.change.id} ({stored.change.severity}, {stored.change.jurisdiction} "
                        f"{stored.change.category}){until}: {plain(entry.reason, 120)} ({plain(entry.reviewed_by)})")
        if self.level is None:
            return
        scope = f" for the merchants in {self.merchants}" if self.merchants else ""
        if outcome.failed:
            message(f"gate: {len(outcome.failing)} change{'s' if len(outcome.failing) != 1 else ''} at or above "
                    f"{self.level.value}{scope} not reviewed ({len(outcome.suppressed)} suppressed); review them, "
                    f"then `policywatch ack CHANGE_ID --reason ...`", style="red")
            for stored in outcome.failing:
                message(f"  {stored.change.id}  {stored.change.severity:<8} {stored.change.jurisdiction or '?':<3} "
                        f"{stored.change.category:<20} {plain(stored.title or stored.change.evidence, 90)}")
            raise typer.Exit(int(ExitCode.FINDINGS))
        message(f"gate: nothing at or above {self.level.value}{scope} needs review ({len(outcome.suppressed)} "
                "suppressed)")


def gate_record(outcome: GateOutcome | None, level: Any) -> dict[str, Any] | None:
    """The gate's decision as JSON."""
    if outcome is None:
        return None
    return {
        "fail_on": level.value if level is not None else None,
        "failed": outcome.failed if level is not None else False,
        "failing": [c.change.id for c in outcome.failing] if level is not None else [],
        "suppressed": [
            {"id": c.change.id, "reason": e.reason, "reviewed_by": e.reviewed_by,
             "expires": e.expires.isoformat() if e.expires else None}
            for c, e in outcome.suppressed
        ],
        "expired": [e.id for e in outcome.expired],
    }


def write_step_summary(render: Callable[[], str]) -> None:
    """Append markdown to $GITHUB_STEP_SUMMARY when a GitHub Actions job provides one (rendered only then)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    text = render()
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        message(f"warning: cannot write GITHUB_STEP_SUMMARY ({target}): {exc.strerror}")


def fail_usage(text: str) -> None:
    """Exit 2 with a message (re-exported for commands that combine gate options)."""
    fail(ExitCode.USAGE, text)
