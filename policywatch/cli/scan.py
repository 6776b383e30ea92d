"""`policywatch scan`: fetch every feed, store new bulletins, extract their changes, summarise."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer

from policywatch.cli.common import (
    DbOption,
    FormatOption,
    OutputOption,
    RulesOption,
    emit,
    err,
    fail,
    fail_problems,
    load_engine,
    message,
    open_store,
    out,
    parse_since,
)
from policywatch.cli.gate import (
    FailOnOption,
    Gate,
    IgnoreFileOption,
    MerchantsOption,
    ShowSuppressedOption,
    gate_record,
    write_step_summary,
)
from policywatch.models import ExitCode, Severity
from policywatch.report.formats import OutputFormat, Streamed, json_chunks
from policywatch.report.safe import plain, terminal
from policywatch.store.core import StoreError

WARNINGS_SHOWN = 3
#: New changes listed in the terminal table and the markdown summary (a GitHub job summary holds 1 MiB);
#: `--format json` and `policywatch changes` give every one.
CHANGES_SHOWN = 200
FeedsOption = Annotated[Path, typer.Option("--feeds", help="The feeds file.", dir_okay=False)]


class _ProgressEvents:
    """Draws one progress bar per feed on stderr (only on a terminal)."""

    def __init__(self, console: Any):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}", markup=False),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _ProgressEvents:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def feed_started(self, feed: Any, index: int, total: int) -> None:
        self.tasks[feed.name] = self.progress.add_task(plain(feed.name, 40), total=None, status="fetching")

    def feed_progress(self, feed: Any, done: int, total: int, stage: str) -> None:
        task = self.tasks.get(feed.name)
        if task is not None and total:
            self.progress.update(task, total=total, completed=done, status=stage)

    def feed_finished(self, feed: Any, result: Any) -> None:
        task = self.tasks.get(feed.name)
        if task is None:
            return
        status = {"ok": f"{result.new_bulletins} new", "unchanged": "unchanged"}.get(result.status, "FAILED")
        total = max(result.items, 1)
        self.progress.update(task, total=total, completed=total, status=status)


def _summary_dict(summary: Any, interrupted: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    from policywatch.report.changes import iter_change_records

    return {
        "run_id": summary.run_id,
        # Earlier scans found dead (killed or crashed) and closed by this one.
        "interrupted_runs": [run["id"] for run in interrupted or ()],
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "summary": {
            "feeds": len(summary.feeds),
            "feeds_ok": summary.feeds_ok,
            "feeds_unchanged": summary.feeds_unchanged,
            "feeds_failed": summary.feeds_failed,
            "new_bulletins": summary.new_bulletins,
            "revised_bulletins": summary.revised_bulletins,
            "new_changes": len(summary.changes),
            "new_changes_by_severity": summary.by_severity(),
        },
        "feeds": [
            {
                **dataclasses.asdict(f),
                "error": plain(f.error) if f.error else None,
                "warnings": [plain(w) for w in f.warnings],
                "new_changes": list(f.new_changes),
                "elapsed": round(f.elapsed, 3),
            }
            for f in summary.feeds
        ],
        "changes": Streamed(iter_change_records(summary.changes)),
    }


def _more_changes(summary: Any) -> str:
    return (f"... and {len(summary.changes) - CHANGES_SHOWN} more (the most severe are shown); all of them: "
            f"policywatch changes --since {summary.started_at} --format csv")


def _summary_to_stderr(summary: Any) -> None:
    """The counts and the failed sources, for formats whose stdout holds only the changes."""
    message(f"scanned {len(summary.feeds)} feeds: {summary.feeds_ok} read, {summary.feeds_unchanged} unchanged, "
            f"{summary.feeds_failed} failed; new: {summary.new_bulletins} bulletins, {len(summary.changes)} changes")
    for result in summary.feeds:
        if result.status == "failed":
            message(f"  failed: {plain(result.name)}: {plain(result.error)}")


def _print_summary(summary: Any, elapsed: float) -> None:
    from policywatch.report.changes import change_table

    console = out()
    console.print(
        f"Scanned {len(summary.feeds)} feed{'s' if len(summary.feeds) != 1 else ''} in {elapsed:.1f} s: "
        f"{summary.feeds_ok} read, {summary.feeds_unchanged} unchanged, {summary.feeds_failed} failed.",
        markup=False,
    )
    counts = summary.by_severity()
    if summary.new_bulletins or summary.revised_bulletins or summary.changes:
        by_level = " · ".join(f"{level} {counts[level.value]}" for level in reversed(list(Severity)))
        revised = f" ({summary.revised_bulletins} revised)" if summary.revised_bulletins else ""
        console.print(
            f"New: {summary.new_bulletins} bulletin{'s' if summary.new_bulletins != 1 else ''}{revised}, "
            f"{len(summary.changes)} change{'s' if len(summary.changes) != 1 else ''} ({by_level}).",
            markup=False,
        )
    else:
        console.print("Nothing new since the last scan: no new bulletins, no new changes.", markup=False)
    for result in summary.feeds:
        if result.status == "failed":
            line = terminal(f"  failed: {result.name}: {result.error}")
            line.stylize("red")
            console.print(line)
        for warning in result.warnings[:WARNINGS_SHOWN]:
            line = terminal(f"  warning: {result.name}: {warning}")
            line.stylize("yellow")
            console.print(line)
        if len(result.warnings) > WARNINGS_SHOWN:
            more = len(result.warnings) - WARNINGS_SHOWN
            console.print(terminal(f"  ... and {more} more warnings for {result.name}"))
    if summary.changes:
        console.print(change_table(list(islice(summary.changes, CHANGES_SHOWN)), title="New changes"))
        if len(summary.changes) > CHANGES_SHOWN:
            console.print(_more_changes(summary), markup=False)


def scan_markdown(summary: Any, outcome: Any, level: Any) -> str:
    """The scan as markdown: counts, failed sources, the new changes, and the gate (for CI job summaries)."""
    from policywatch.report.changes import render_changes
    from policywatch.report.safe import markdown_text

    counts = summary.by_severity()
    lines = [
        "## policywatch scan",
        "",
        f"{len(summary.feeds)} sources: {summary.feeds_ok} read, {summary.feeds_unchanged} unchanged, "
        f"{summary.feeds_failed} failed. New: {summary.new_bulletins} bulletins, {len(summary.changes)} changes "
        f"({', '.join(f'{counts[s.value]} {s.value}' for s in reversed(list(Severity)))}).",
        "",
    ]
    failed = [f for f in summary.feeds if f.status == "failed"]
    if failed:
        lines += ["Sources that failed:", ""]
        lines += [f"- {markdown_text(f.name)}: {markdown_text(f.error, 200)}" for f in failed]
        lines.append("")
    if summary.changes:
        shown = list(islice(summary.changes, CHANGES_SHOWN))
        lines += ["### New changes", "", render_changes(shown, OutputFormat.MARKDOWN)]
        if len(summary.changes) > CHANGES_SHOWN:
            lines += [markdown_text(_more_changes(summary)), ""]
    if outcome is not None and level is not None:
        verdict = "FAILED" if outcome.failed else "passed"
        lines += [f"### Gate (--fail-on {level.value}): {verdict}", "",
                  f"{len(outcome.failing)} unreviewed, {len(outcome.suppressed)} suppressed by reviews.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _checked_engine(rules: Path | None, db: Path | None) -> Any:
    """Check the rules before the database is touched; exit 2 on any problem, each with file and line.

    Loading the rule files is cheap and always done. Compiling them (spaCy) is what finds a broken token
    pattern; it is done up front unless this history already holds changes from these very rules (same
    version), so a daily scan with nothing new still never loads spaCy. Returns the engine when it was
    compiled here, else None (built later, on first need).
    """
    from policywatch.rules import load_rules
    from policywatch.store import DEFAULT_DB
    from policywatch.store.core import check_location, rules_version_seen

    ruleset, problems = load_rules(rules)
    if problems:
        fail_problems(problems, what="rules")
    target = db or Path(DEFAULT_DB)
    try:
        check_location(target)  # a bad --db is reported before seconds are spent compiling rules
        seen = rules_version_seen(target, ruleset.version)
    except StoreError as exc:
        fail(ExitCode.OPERATIONAL, str(exc))
    return None if seen else load_engine(rules, ruleset)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the scan is, so it unwinds like Ctrl-C (transactions roll back)."""


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM (a cron or CI time limit) into the same orderly stop as Ctrl-C.

    The feed being written is rolled back, the run is recorded as interrupted, and the exit is 143
    (130 for Ctrl-C), instead of the process vanishing mid-transaction.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def register(app: typer.Typer) -> None:
    """Add the scan command to the app."""

    @app.command()
    def scan(
        feeds: FeedsOption = Path("feeds.yaml"),
        db: DbOption = None,
        rules: RulesOption = None,
        fail_on: FailOnOption = None,
        since: Annotated[
            str | None,
            typer.Option("--since", help="Gate on changes detected in this window (7d, 24h) instead of only those new "
                         "in this scan."),
        ] = None,
        ignore_file: IgnoreFileOption = None,
        show_suppressed: ShowSuppressedOption = False,
        merchants: MerchantsOption = None,
        format: FormatOption = OutputFormat.TABLE,
        output: OutputOption = None,
    ) -> None:
        """Fetch the feeds, store new bulletins and extract their changes; show progress and a summary.

        One scan at a time per database: a second one started while another runs exits 3 at once, doing
        nothing. A scan that was killed is reported by the next one, which keeps what it stored and does
        the rest. The feeds file and the rules are checked first: any problem exits 2 before the database
        is touched.
        """
        from policywatch.config import load_feeds
        from policywatch.pipeline import ScanEvents, run_scan
        from policywatch.store import ChangeFilter
        from policywatch.yamlio import FileProblems

        gate = Gate.from_options(fail_on, ignore_file, feeds, show_suppressed, merchants)
        window = parse_since(since)
        try:
            config = load_feeds(feeds)
        except FileProblems as exc:
            fail_problems(exc.problems)
        gate.check_files()
        engine_holder: list[Any] = [_checked_engine(rules, db)]
        store = open_store(db, verify=True)
        assert store is not None

        def engine() -> Any:
            if engine_holder[0] is None:
                engine_holder[0] = load_engine(rules)
            return engine_holder[0]

        if not config.feeds:
            message(f"{feeds}: no feeds configured")
        started = time.monotonic()
        console = err()
        show_progress = console.is_terminal and format is OutputFormat.TABLE and bool(config.feeds)
        try:
            with store.scan_lock(), _stop_on_sigterm():
                interrupted = store.close_abandoned_runs()
                for run in interrupted:
                    message(
                        f"note: the scan started {run['started_at']} (run {run['id']}) did not finish; what it stored "
                        "is kept and this scan does the rest"
                    )
                if show_progress:
                    with _ProgressEvents(console) as events:
                        summary = run_scan(config, store, engine, events=events)  # type: ignore[arg-type]
                else:
                    summary = run_scan(config, store, engine, events=ScanEvents())
            # The lock is released; the new changes are read back from the history as they are written out.
            outcome = gate.decide(summary.changes if window is None else store.iter_changes(ChangeFilter(since=window)))
            if format is OutputFormat.JSON:
                record = _summary_dict(summary, interrupted)
                record["gate"] = gate_record(outcome, gate.level)
                emit(json_chunks(record), output)
            elif format in (OutputFormat.JSONL, OutputFormat.CSV):
                # The new changes alone, as `changes` lists them; the counts go to stderr.
                from policywatch.report.changes import stream_changes

                emit(stream_changes(summary.changes, format), output)
                _summary_to_stderr(summary)
            elif format is OutputFormat.MARKDOWN or output is not None:
                emit(scan_markdown(summary, outcome, gate.level), output)
            else:
                _print_summary(summary, time.monotonic() - started)
            write_step_summary(lambda: scan_markdown(summary, outcome, gate.level))
        except StoreError as exc:
            fail(ExitCode.OPERATIONAL, str(exc))
        except KeyboardInterrupt as exc:
            how = " by SIGTERM" if isinstance(exc, _Terminated) else ""
            message(f"interrupted{how}: the feeds finished so far are stored; the next scan does the rest")
            raise typer.Exit(143 if isinstance(exc, _Terminated) else 130) from None
        finally:
            store.close()
        if summary.all_failed:
            fail(ExitCode.OPERATIONAL, "no feed could be read")
        gate.report(outcome)
