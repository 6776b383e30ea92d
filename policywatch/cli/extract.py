"""`policywatch extract` (offline extraction of JSON lines) and `policywatch eval` (against labels)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from policywatch.cli.common import RulesOption, emit, fail, fail_problems, load_engine, out
from policywatch.models import ExitCode
from policywatch.report.formats import OutputFormat, to_json, to_jsonl

InputArgument = Annotated[
    Path,
    typer.Argument(
        help="JSON lines: {id, text, title?, jurisdiction?, language?, published?} per line.",
        dir_okay=False,
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add the extract and eval commands to the app."""

    @app.command()
    def extract(
        file: InputArgument,
        rules: RulesOption = None,
        format: Annotated[
            OutputFormat,
            typer.Option("--format", "-f", help="jsonl (one line per input) or json.", case_sensitive=False),
        ] = OutputFormat.JSONL,
    ) -> None:
        """Extract changes from bulletins in a JSON lines file, offline: one output line per input line."""
        from policywatch.evaluate import read_jsonl
        from policywatch.yamlio import FileProblems

        if format not in (OutputFormat.JSONL, OutputFormat.JSON):
            fail(ExitCode.USAGE, "extract prints --format jsonl or json")
        try:
            rows = list(read_jsonl(file))
        except FileProblems as exc:
            fail_problems(exc.problems, what="input")
        engine = load_engine(rules)
        results = [
            {"id": row.document.id, "changes": [c.contract() for c in changes]}
            for row, changes in zip(rows, engine.extract(r.document for r in rows), strict=True)
        ]
        emit(to_jsonl(results) if format is OutputFormat.JSONL else to_json(results) + "\n", None)

    @app.command(name="eval")
    def evaluate(
        file: Annotated[
            Path,
            typer.Argument(
                help="Labelled JSON lines (as ../shared/corpus/bulletins-dev.jsonl).",
                dir_okay=False,
                show_default=False,
            ),
        ],
        rules: RulesOption = None,
        misses: Annotated[bool, typer.Option("--misses", help="List every disagreement with the labels.")] = False,
        format: Annotated[
            OutputFormat, typer.Option("--format", "-f", help="table or json.", case_sensitive=False)
        ] = OutputFormat.TABLE,
    ) -> None:
        """Measure extraction against labelled bulletins: detection, category, fields, per language, baseline."""
        from policywatch.evaluate import FIELDS, evaluate, read_jsonl
        from policywatch.yamlio import FileProblems

        try:
            rows = list(read_jsonl(file, require_labels=True))
        except FileProblems as exc:
            fail_problems(exc.problems, what="input")
        engine = load_engine(rules)
        report = evaluate(rows, list(engine.extract(r.document for r in rows)))
        if format is OutputFormat.JSON:
            emit(to_json(report.as_dict()) + "\n", None)
            return
        if format is not OutputFormat.TABLE:
            fail(ExitCode.USAGE, "eval prints --format table or json")
        from rich.table import Table

        table = Table(title=f"Extraction on {file.name} ({len(rows)} bulletins)", header_style="bold")
        table.add_column("slice", no_wrap=True)
        for name in ("n", "P", "R", "F1", "category", *FIELDS, "fields mean"):
            table.add_column(name.replace("_percent", "").replace("_", " "), justify="right")

        def row(label: str, counts: object, with_fields: bool = True) -> None:
            c = counts  # type: ignore[assignment]
            positives, predicted = c.tp + c.fn, c.tp + c.fp

            def share(value: float, defined: bool) -> str:
                # A slice with no labelled change (or no prediction) has no recall (or precision) to show.
                return f"{value:.2f}" if defined else "-"

            scored = with_fields and c.tp > 0
            fields = [share(c.field_accuracy(f), scored) for f in FIELDS]
            table.add_row(
                label,
                str(positives + c.fp + c.tn),
                share(c.precision, predicted > 0),
                share(c.recall, positives > 0),
                share(c.f1, positives > 0 and predicted > 0),
                share(c.category_accuracy, c.tp > 0),
                *fields,
                share(c.mean_field_accuracy, scored),
            )

        row("policywatch", report.overall)
        for lang, counts in sorted(report.by_language.items()):
            row(f"  {lang}", counts)
        row("keyword baseline", report.baseline, with_fields=False)
        out().print(table)
        if misses:
            from policywatch.report.safe import terminal

            for miss in report.misses:
                out().print(terminal(f"{miss.id}: {miss.kind}: expected {miss.expected!r}, got {miss.got!r}"))
