"""`policywatch brief`: a markdown risk brief per merchant, for people who forward it to management."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from policywatch.cli.common import DbOption, emit, fail, message, open_store, parse_since
from policywatch.models import ExitCode


def register(app: typer.Typer) -> None:
    """Add the brief command to the app."""

    @app.command()
    def brief(
        merchant: Annotated[str | None, typer.Argument(help="The merchant id (or use --all).")] = None,
        all_merchants: Annotated[bool, typer.Option("--all", help="One brief per stored merchant.")] = False,
        since: Annotated[str | None, typer.Option("--since", help="Only list changes detected in this window "
                                                  "(30d, 2w) or since this date.")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="Write the brief to this file.", dir_okay=False)] = None,
        out_dir: Annotated[Path | None, typer.Option("--out-dir", help="With --all: the directory for the briefs.",
                                                     file_okay=False)] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", metavar="DATE", help="Assess as of this day, "
                                                  "YYYY-MM-DD (default: today).")] = None,
        db: DbOption = None,
    ) -> None:
        """Write a markdown risk brief: score and trend, the changes that matter with their evidence, exposure
        by market, what was scanned, and the method."""
        from policywatch.assess import assess
        from policywatch.report.brief import brief_file_name, build_brief, render_brief
        from policywatch.store.merchants import latest_scores, merchant_ids

        if all_merchants == (merchant is not None):
            fail(ExitCode.USAGE, "name one merchant, or use --all")
        if all_merchants and out is not None:
            fail(ExitCode.USAGE, "--all writes one file per merchant: use --out-dir, not --out")
        if not all_merchants and out_dir is not None:
            fail(ExitCode.USAGE, "--out-dir goes with --all; use --out for one brief")
        try:
            day = dt.date.fromisoformat(as_of) if as_of else dt.datetime.now(dt.UTC).date()
        except ValueError:
            fail(ExitCode.USAGE, f"--as-of {as_of!r}: use a date like 2026-12-01")
        window = parse_since(since)
        store = open_store(db, create=False)
        if store is None:
            fail(ExitCode.USAGE, "no merchants are stored (no database yet): policywatch merchants import FILE")
        try:
            known = merchant_ids(store)
            wanted = known if all_merchants else [merchant]
            if not all_merchants and merchant not in known:
                listing = ", ".join(known[:10]) or "none"
                fail(ExitCode.USAGE, f"unknown merchant {merchant!r}; stored merchants: {listing}")
            if not wanted:
                fail(ExitCode.USAGE, "no merchants are stored: policywatch merchants import FILE")
            previous = latest_scores(store, wanted)
            briefs = [
                build_brief(store, exposure, day, since=window, previous=previous.get(exposure.merchant_id))
                for exposure in assess(store, wanted, day, explain=True)
            ]
        finally:
            store.close()
        if not all_merchants:
            emit(render_brief(briefs[0]), out)
            return
        target = out_dir or Path(".")
        try:
            target.mkdir(parents=True, exist_ok=True)
            for data in sorted(briefs, key=lambda d: d.exposure.merchant_id):
                (target / brief_file_name(data.exposure.merchant_id)).write_text(render_brief(data), encoding="utf-8")
        except OSError as exc:
            fail(ExitCode.OPERATIONAL, f"cannot write briefs to {target}: {exc.strerror}")
        message(f"wrote {len(briefs)} brief{'s' if len(briefs) != 1 else ''} to {target}")
