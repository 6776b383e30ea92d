"""`policywatch changes`: list stored changes, filtered, in any output format."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated, Any

import typer

from policywatch.cli.common import (
    DbOption,
    FormatOption,
    OutputOption,
    emit,
    fail,
    open_store,
    out,
    parse_severity,
    parse_since,
)
from policywatch.cli.gate import (
    FailOnOption,
    Gate,
    IgnoreFileOption,
    MerchantsOption,
    ShowSuppressedOption,
    write_step_summary,
)
from policywatch.models import Category, ExitCode
from policywatch.report.formats import OutputFormat
from policywatch.store.core import describe_error


def register(app: typer.Typer) -> None:
    """Add the changes command to the app."""

    @app.command()
    def changes(
        market: Annotated[
            list[str] | None,
            typer.Option(
                "--market",
                help="Only changes applying to this market (ISO code; EU changes count for member states). Repeatable.",
            ),
        ] = None,
        category: Annotated[
            list[str] | None, typer.Option("--category", help="Only this category. Repeatable.")
        ] = None,
        severity_min: Annotated[
            str | None, typer.Option("--severity-min", help="Only at or above this severity.", metavar="LEVEL")
        ] = None,
        since: Annotated[
            str | None,
            typer.Option("--since", help="Only detected within this window (30d, 12h, 2w) or since this date."),
        ] = None,
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many.")] = None,
        format: FormatOption = OutputFormat.TABLE,
        output: OutputOption = None,
        fail_on: FailOnOption = None,
        ignore_file: IgnoreFileOption = None,
        show_suppressed: ShowSuppressedOption = False,
        merchants: MerchantsOption = None,
        feeds: Annotated[Path, typer.Option("--feeds", dir_okay=False, help="The feeds file the reviewed-changes "
                                            "file sits beside.")] = Path("feeds.yaml"),
        db: DbOption = None,
    ) -> None:
        """List the changes stored in the history, most severe and most recent first.

        With --fail-on LEVEL this is a CI gate over the listed changes: exit 1 when one at or above LEVEL is
        not suppressed in .policywatch-ignore.yaml (see `policywatch ack`).
        """
        from policywatch.store import ChangeFilter

        categories = tuple(category or ())
        known = {c.value for c in Category}
        for name in categories:
            if name not in known:
                fail(ExitCode.USAGE, f"--category {name!r} is not one of: {', '.join(sorted(known))}")
        flt = ChangeFilter(
            markets=tuple(m.upper() for m in market or ()),
            categories=categories,
            severity_min=parse_severity(severity_min, "--severity-min"),
            since=parse_since(since),
        )
        gate = Gate.from_options(fail_on, ignore_file, feeds, show_suppressed, merchants)
        gate.check_files()
        store = open_store(db, create=False)
        found = []
        if store is not None:
            try:
                found = store.query_changes(flt, limit=limit)
            except sqlite3.DatabaseError as exc:  # damage deep in the file shows only when its pages are read
                fail(ExitCode.OPERATIONAL, describe_error(store.path, exc) or f"{store.path}: {exc}")
            finally:
                store.close()
        if format is OutputFormat.TABLE and output is None:
            from policywatch.report.changes import change_table

            if not found:
                out().print(
                    "No changes stored" + (" match the filters." if flt != ChangeFilter() else " yet."), markup=False
                )
            else:
                out().print(change_table(found))
        else:
            from policywatch.report.changes import stream_changes

            fmt = OutputFormat.MARKDOWN if format is OutputFormat.TABLE else format
            emit(stream_changes(found, fmt), output)
        outcome = gate.decide(found)
        if outcome is not None and gate.level is not None:
            write_step_summary(lambda: _gate_markdown(outcome, gate.level.value))
        gate.report(outcome)


def _gate_markdown(outcome: Any, level: str) -> str:
    from policywatch.report.changes import render_changes
    from policywatch.report.formats import OutputFormat

    head = f"### policywatch gate (--fail-on {level}): {'FAILED' if outcome.failed else 'passed'}\n\n"
    if not outcome.failing:
        return head + f"No unreviewed change at or above {level}; {len(outcome.suppressed)} suppressed.\n"
    return head + render_changes(list(outcome.failing), OutputFormat.MARKDOWN)
