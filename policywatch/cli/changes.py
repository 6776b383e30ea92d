"""`policywatch changes`: list stored changes, filtered, in any output format."""

from __future__ import annotations

import sqlite3
from typing import Annotated

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
        db: DbOption = None,
    ) -> None:
        """List the changes stored in the history, most severe and most recent first."""
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
                return
            out().print(change_table(found))
            return
        from policywatch.report.changes import render_changes

        fmt = OutputFormat.MARKDOWN if format is OutputFormat.TABLE else format
        emit(render_changes(found, fmt), output)
