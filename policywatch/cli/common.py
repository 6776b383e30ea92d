"""What every command shares: the app, consoles, common options, opening the store, loading the rules."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from policywatch.models import ExitCode, Severity
from policywatch.report.formats import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from policywatch.extract.engine import Engine
    from policywatch.rules import RuleSet
    from policywatch.store import Store
    from policywatch.yamlio import Problem

app = typer.Typer(
    help="Watch government and customs bulletins for tariff and regulation changes that hit cross-border sellers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="POLICYWATCH_DB",
        help="SQLite history file (default ./policywatch.db).",
        show_default=False,
        dir_okay=False,
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the output to this file instead of stdout.", dir_okay=False)
]
RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Rules directory (default: the bundled rules/).", file_okay=False, show_default=False),
]

_stdout: Console | None = None
_stderr: Console | None = None


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def out() -> Console:
    """The console for results (stdout)."""
    global _stdout
    if _stdout is None:
        from rich.console import Console

        _stdout = Console(no_color=_no_color(), highlight=False, soft_wrap=False)
        if not _stdout.is_terminal:
            # Piped or captured output is read in files and CI logs: give tables room instead of 80 columns.
            _stdout = Console(no_color=_no_color(), highlight=False, soft_wrap=False, width=160)
    return _stdout


def err() -> Console:
    """The console for diagnostics and progress (stderr)."""
    global _stderr
    if _stderr is None:
        from rich.console import Console

        _stderr = Console(stderr=True, no_color=_no_color(), highlight=False)
    return _stderr


def reset_consoles() -> None:
    """Forget the consoles (tests run many commands in one process with different streams)."""
    global _stdout, _stderr
    _stdout = _stderr = None


def message(text: str, *, style: str | None = None) -> None:
    """A diagnostic line on stderr; `text` is ours (never feed text), so markup is off anyway."""
    err().print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def fail(code: ExitCode, text: str | None = None) -> NoReturn:
    """Print an error (if any) to stderr and exit with the given code."""
    if text:
        message(f"error: {text}", style="bold red")
    raise typer.Exit(int(code))


def fail_problems(problems: Sequence[Problem], *, what: str = "configuration") -> NoReturn:
    """Report every problem with its file and line, then exit 2."""
    for problem in problems:
        message(str(problem), style="red")
    count = len(problems)
    fail(ExitCode.USAGE, f"{count} {what} problem{'s' if count != 1 else ''}; nothing was changed")


def operational_reason(exc: BaseException) -> str | None:
    """The one-line reason when exc is the world failing (database, disk), not policywatch; else None.

    Such errors can surface anywhere a command touches the database; they are reported plainly, without
    calling them a bug.
    """
    import sqlite3

    from policywatch.store.core import StoreError, describe_error

    if isinstance(exc, StoreError):
        return str(exc)
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) and not isinstance(
        exc, sqlite3.ProgrammingError | sqlite3.InterfaceError
    ):
        return describe_error(None, exc)
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        import errno

        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES, errno.EPERM):
            where = f" ({exc.filename})" if exc.filename else ""
            return f"{exc.strerror}{where}"
    return None


def report_crash(exc: BaseException) -> None:
    """The message for an unexpected error: what it was, and how to see the details.

    A failure of the environment (the database damaged or busy, the disk full) gets its plain reason
    instead: it is not a bug, and the exit code (3) already says "operational".
    """
    reason = operational_reason(exc)
    if reason is not None:
        print(f"error: {reason}", file=sys.stderr)
        return
    print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
    print("This is a bug in policywatch; run again with POLICYWATCH_DEBUG=1 to see the details.", file=sys.stderr)


def open_store(path: Path | None, *, create: bool = True, verify: bool = False) -> Store | None:
    """Open the history database; exit 3 with a clear message when it cannot be used.

    With create=False a missing file gives None: reading commands then show an empty history and
    leave no file behind. A path that can never hold a file (under a missing directory or a regular
    file) is an error either way, so a mistyped --db is not mistaken for an empty history.
    verify (for writers) checks every page before anything is written.
    """
    from policywatch.store import DEFAULT_DB, Store, StoreError
    from policywatch.store.core import check_location

    target = path or Path(DEFAULT_DB)
    try:
        if not create and not target.exists():
            check_location(target)
            return None
        return Store.open(target, verify=verify, reader=not create)
    except StoreError as exc:
        fail(ExitCode.OPERATIONAL, str(exc))


_ENGINES: dict[tuple[str, str], Engine] = {}


def load_engine(rules_dir: Path | None, ruleset: RuleSet | None = None) -> Engine:
    """Load and compile the rules; exit 2 listing every problem when any rule file is broken.

    The compiled engine is kept for the life of the process (keyed by directory and rules version), so
    a program that runs several commands pays for the spaCy pipelines once. A caller that has already
    loaded (and checked) the rules passes them as ruleset.
    """
    from policywatch.extract.engine import Engine
    from policywatch.rules import default_rules_dir, load_rules

    if ruleset is None:
        ruleset, problems = load_rules(rules_dir)
        if problems:
            fail_problems(problems, what="rules")
    key = (str((rules_dir or default_rules_dir()).resolve()), ruleset.version)
    if key in _ENGINES:
        return _ENGINES[key]
    engine = Engine(ruleset)
    compile_problems = engine.compile_all()
    if compile_problems:
        fail_problems(compile_problems, what="rules")
    _ENGINES[key] = engine
    return engine


_DURATION = re.compile(r"^\s*(\d+)\s*([hdwmy])\s*$", re.IGNORECASE)
_UNIT_DAYS = {"h": 1 / 24, "d": 1, "w": 7, "m": 30, "y": 365}


def parse_since(value: str | None, *, now: dt.datetime | None = None) -> str | None:
    """`30d`, `12h`, `2w`, `6m`, `1y`, or an ISO date/time, as an ISO UTC timestamp; exit 2 when unreadable."""
    if not value:
        return None
    now = now or dt.datetime.now(dt.UTC)
    match = _DURATION.match(value)
    if match:
        days = int(match.group(1)) * _UNIT_DAYS[match.group(2).lower()]
        moment = now - dt.timedelta(days=days)
    else:
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            fail(ExitCode.USAGE, f"--since {value!r}: use a duration like 30d, 12h, 2w, or a date like 2026-01-31")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_severity(value: str | None, option: str) -> Severity | None:
    """A severity option's value, or exit 2 naming the choices."""
    if value is None:
        return None
    try:
        return Severity.parse(value)
    except ValueError as exc:
        fail(ExitCode.USAGE, f"{option}: {exc}")


def emit(text: str | Iterable[str], output: Path | None) -> None:
    """Write a rendered result (a string, or its pieces as they are rendered) to a file, or to stdout exactly
    as is (no wrapping, no markup)."""
    pieces = (text,) if isinstance(text, str) else text
    if output is not None:
        try:
            with output.open("w", encoding="utf-8") as handle:
                for piece in pieces:
                    handle.write(piece)
        except OSError as exc:
            fail(ExitCode.OPERATIONAL, f"cannot write {output}: {exc.strerror}")
        message(f"wrote {output}")
        return
    for piece in pieces:
        sys.stdout.write(piece)
    sys.stdout.flush()
