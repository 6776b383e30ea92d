"""`policywatch ack`: record a reviewed change in .policywatch-ignore.yaml so CI gates stop failing on it."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Annotated

import typer

from policywatch.cli.common import DbOption, fail, fail_problems, message, open_store
from policywatch.models import ExitCode

IgnoreFileOption = Annotated[
    Path | None,
    typer.Option("--ignore-file", help="The reviewed-changes file (default: .policywatch-ignore.yaml beside the "
                 "feeds file).", dir_okay=False, show_default=False),
]


def ignore_file_for(ignore_file: Path | None, feeds: Path | None) -> Path:
    """Where the reviewed-changes file is: as given, else beside the feeds file, else in the working directory."""
    from policywatch.suppressions import IGNORE_FILE

    if ignore_file is not None:
        return ignore_file
    return (feeds.parent if feeds is not None else Path(".")) / IGNORE_FILE


def reviewer() -> str:
    """Who is reviewing: POLICYWATCH_REVIEWER, else the login name."""
    name = os.environ.get("POLICYWATCH_REVIEWER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def register(app: typer.Typer) -> None:
    """Add the ack command to the app."""

    @app.command()
    def ack(
        change_id: Annotated[str, typer.Argument(help="The change id (as `changes` and `scan` print it).")],
        reason: Annotated[str, typer.Option("--reason", help="Why this change does not need action.")],
        expires: Annotated[str | None, typer.Option("--expires", help="Review again after this date (YYYY-MM-DD).",
                                                     metavar="DATE")] = None,
        by: Annotated[str | None, typer.Option("--by", help="Who reviewed it (default: $POLICYWATCH_REVIEWER or your "
                                                "login).")] = None,
        feeds: Annotated[Path, typer.Option("--feeds", help="The feeds file the reviews sit beside.",
                                            dir_okay=False)] = Path("feeds.yaml"),
        ignore_file: IgnoreFileOption = None,
        db: DbOption = None,
    ) -> None:
        """Mark a change as reviewed: CI gates (--fail-on) no longer fail on it, until it expires."""
        from policywatch.store import ChangeFilter
        from policywatch.suppressions import Suppression, append_suppression, is_change_id
        from policywatch.yamlio import FileProblems

        change_id = change_id.strip().lower()
        if not is_change_id(change_id):
            fail(ExitCode.USAGE, f"{change_id!r} is not a change id (16 hex digits, as `policywatch changes` shows)")
        if not reason.strip():
            fail(ExitCode.USAGE, "--reason must say why the change needs no action")
        until = None
        if expires:
            try:
                until = dt.date.fromisoformat(expires)
            except ValueError:
                fail(ExitCode.USAGE, f"--expires {expires!r} is not a date (YYYY-MM-DD)")
            if until < dt.date.today():
                message(f"warning: --expires {expires} is already past: the review will not suppress anything")
        store = open_store(db, create=False)
        if store is not None:
            known = store.query_changes(ChangeFilter(ids=(change_id,)))
            store.close()
            if not known:
                message(f"warning: change {change_id} is not in {store.path}; recorded anyway")
        path = ignore_file_for(ignore_file, feeds)
        entry = Suppression(id=change_id, reason=reason.strip(), reviewed_by=(by or reviewer()).strip(),
                            reviewed_at=dt.date.today(), expires=until)
        try:
            append_suppression(path, entry)
        except FileProblems as exc:
            fail_problems(exc.problems, what="reviewed-changes file")
        except ValueError as exc:
            fail(ExitCode.USAGE, str(exc))
        except OSError as exc:
            fail(ExitCode.OPERATIONAL, f"cannot write {path}: {exc.strerror}")
        message(f"{change_id} reviewed by {entry.reviewed_by}" + (f" until {until}" if until else "")
                + f": recorded in {path}")
