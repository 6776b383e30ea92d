"""Rendering stored changes in every output format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from policywatch.report.formats import OutputFormat, Streamed, json_chunks, render_records, to_jsonl
from policywatch.report.safe import plain, safe_link, terminal
from policywatch.store import StoredChange

CSV_COLUMNS = (
    "id",
    "jurisdiction",
    "category",
    "severity",
    "direction",
    "effective_date",
    "new_rate_percent",
    "old_rate_percent",
    "affected_countries",
    "hs_codes",
    "title",
    "link",
    "feed",
    "published",
    "rule_id",
    "evidence",
    "detected_at",
)
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "green"}


def change_records(changes: Iterable[StoredChange]) -> list[dict[str, Any]]:
    """Changes as plain records for machines: contract fields, where they came from; text made safe."""
    return list(iter_change_records(changes))


def iter_change_records(changes: Iterable[StoredChange]) -> Iterator[dict[str, Any]]:
    """`change_records`, one at a time."""
    for stored in changes:
        record = stored.record()
        record["title"] = plain(record.get("title"))
        record["evidence"] = plain(record.get("evidence"))
        record["link"] = safe_link(record.get("link"))
        yield record


def stream_changes(changes: Iterable[StoredChange], fmt: OutputFormat) -> Iterable[str]:
    """`render_changes` in pieces: JSON and JSON lines are written as encoded (a long history is never held)."""
    if fmt is OutputFormat.JSON:
        return json_chunks(Streamed(iter_change_records(changes)))
    if fmt is OutputFormat.JSONL:
        return (to_jsonl((record,)) for record in iter_change_records(changes))
    return (render_changes(list(changes), fmt),)


def render_changes(changes: Sequence[StoredChange], fmt: OutputFormat) -> str:
    """JSON (a list), JSON lines, CSV or a markdown table of changes (not the terminal table)."""
    if fmt is OutputFormat.TABLE:
        raise ValueError(f"{fmt} is rendered by change_table")
    return render_records(
        change_records(changes),
        fmt,
        CSV_COLUMNS,
        markdown_columns=("jurisdiction", "category", "severity", "title", "effective_date", "id"),
        headers=("Market", "Category", "Severity", "Title", "Effective", "ID"),
        limits={"title": 120},
    )


def change_table(changes: Sequence[StoredChange], *, title: str | None = None):  # -> rich.table.Table
    """The terminal table of changes: market, category, severity, title, effective date, id."""
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold", expand=False)
    table.add_column("Market", no_wrap=True)
    table.add_column("Category", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Title", overflow="fold", min_width=24, max_width=70)
    table.add_column("Effective", no_wrap=True)
    table.add_column("ID", no_wrap=True, style="dim")
    for stored in changes:
        change = stored.change
        severity = terminal(change.severity)
        severity.stylize(SEVERITY_STYLE.get(change.severity, ""))
        table.add_row(
            terminal(change.jurisdiction or "?"),
            terminal(change.category),
            severity,
            terminal(stored.title or change.evidence, 140),
            terminal(change.effective_date or "-"),
            terminal(change.id),
        )
    return table
