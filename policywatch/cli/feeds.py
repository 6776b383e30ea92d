"""`policywatch feeds list`: every source with its health."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from policywatch.cli.common import DbOption, FormatOption, OutputOption, emit, fail_problems, open_store, out
from policywatch.report.formats import OutputFormat, to_csv, to_json, to_jsonl, to_markdown_table

feeds_app = typer.Typer(help="The configured sources and their health.", no_args_is_help=True)

COLUMNS = (
    "name",
    "health",
    "jurisdiction",
    "language",
    "items",
    "last_fetched_at",
    "last_http_status",
    "consecutive_failures",
    "last_error",
    "last_new_item_at",
    "url",
)


def _health(row: dict[str, Any], stale_after_days: float | None, now: dt.datetime) -> str:
    if not row.get("last_fetched_at"):
        return "never fetched"
    if row.get("last_status") == "failed":
        return f"failing ({row.get('consecutive_failures') or 1}x)"
    if stale_after_days:
        last = row.get("last_new_item_at") or row.get("newest_published")
        if last:
            try:
                moment = dt.datetime.fromisoformat(str(last).replace("Z", "+00:00"))
            except ValueError:
                moment = None
            if moment is not None:
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=dt.UTC)
                if now - moment > dt.timedelta(days=stale_after_days):
                    return f"stale (nothing new for {(now - moment).days} d)"
    return "ok"


@feeds_app.command("list")
def list_feeds(
    feeds: Annotated[Path, typer.Option("--feeds", help="The feeds file.", dir_okay=False)] = Path("feeds.yaml"),
    format: FormatOption = OutputFormat.TABLE,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """Show each feed with its health: last fetch, HTTP status, last error, items stored."""
    from policywatch.config import load_feeds
    from policywatch.report.safe import plain, terminal
    from policywatch.yamlio import FileProblems

    configured: dict[str, Any] = {}
    if feeds.exists() or feeds != Path("feeds.yaml"):
        try:
            configured = {f.name: f for f in load_feeds(feeds).feeds}
        except FileProblems as exc:
            fail_problems(exc.problems)
    store = open_store(db, create=False)
    stored = {h.name: h for h in store.feeds_health()} if store is not None else {}
    if store is not None:
        store.close()
    now = dt.datetime.now(dt.UTC)
    rows = []
    for name in list(configured) + [n for n in stored if n not in configured]:
        health = stored.get(name)
        feed = configured.get(name)
        row: dict[str, Any] = {
            "name": name,
            "url": feed.url if feed else (health.url if health else None),
            "jurisdiction": feed.jurisdiction if feed else (health.jurisdiction if health else None),
            "language": feed.language if feed else (health.language if health else None),
            "configured": feed is not None,
        }
        if health is not None:
            row.update(
                last_fetched_at=health.last_fetched_at,
                last_status=health.last_status,
                last_http_status=health.last_http_status,
                last_error=plain(health.last_error) or None,
                consecutive_failures=health.consecutive_failures,
                items=health.items,
                last_new_item_at=health.last_new_item_at,
                newest_published=health.newest_published,
            )
        else:
            row.update(items=0, consecutive_failures=0)
        row["health"] = _health(row, feed.stale_after_days if feed else None, now)
        if feed is None:
            row["health"] += " (not in feeds file)"
        rows.append(row)
    if format is OutputFormat.TABLE and output is None:
        from rich.table import Table

        table = Table(header_style="bold")
        for column in ("Feed", "Health", "Market", "Items", "Last fetch", "HTTP", "Last error"):
            table.add_column(column, overflow="fold")
        for row in rows:
            health_text = terminal(row["health"])
            health_text.stylize("green" if row["health"] == "ok" else "red" if "failing" in row["health"] else "yellow")
            table.add_row(
                terminal(row["name"]),
                health_text,
                terminal(row.get("jurisdiction") or ""),
                str(row.get("items") or 0),
                terminal(row.get("last_fetched_at") or "never"),
                terminal(row.get("last_http_status") or "-"),
                terminal(row.get("last_error") or "", 80),
            )
        out().print(table)
        return
    if format is OutputFormat.JSON:
        emit(to_json(rows) + "\n", output)
    elif format is OutputFormat.JSONL:
        emit(to_jsonl(rows), output)
    elif format is OutputFormat.CSV:
        emit(to_csv(rows, COLUMNS), output)
    else:
        emit(to_markdown_table(rows, COLUMNS[:8]), output)
