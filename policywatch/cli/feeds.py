"""`policywatch feeds list` (every source with its health) and `feeds check NAME` (what a source yields now)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from policywatch.cli.common import DbOption, FormatOption, OutputOption, emit, fail_problems, open_store, out
from policywatch.report.formats import OutputFormat, render_records, to_json

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
    emit(render_records(rows, format, COLUMNS, markdown_columns=COLUMNS[:8]), output)


def _check_record(check: Any) -> dict[str, Any]:
    """A SourceCheck as plain, safe JSON: feed text made one clean line, links only when http(s)."""
    from policywatch.report.safe import plain, safe_link

    items = []
    for index, item in enumerate(check.items):
        page = check.pages[index] if index < len(check.pages) else None
        record: dict[str, Any] = {
            "title": plain(item.title),
            "link": safe_link(item.link),
            "published": item.published,
            "text_chars": len(item.text),
            "text_start": plain(item.text, 200),
        }
        if page is not None:
            record["full_text"] = {
                "status": page.status,
                "http_status": page.http_status,
                "chars": len(page.text or ""),
                "start": plain(page.text or "", 200),
                "error": plain(page.error) if page.error else None,
                "encoding": page.encoding,
            }
        items.append(record)
    return {
        "name": check.name,
        "url": check.url,
        "kind": check.kind,
        "status": check.status,
        "http_status": check.http_status,
        "error": plain(check.error) if check.error else None,
        "total_items": check.total_items,
        "list_pages": [
            {
                "url": plain(page.url),
                "items": page.items,
                "http_status": page.http_status,
                "error": plain(page.error) if page.error else None,
                "encoding": page.encoding,
            }
            for page in check.list_pages
        ],
        "items": items,
        "warnings": [plain(w) for w in check.warnings],
        "elapsed": round(check.elapsed, 3),
    }


def _print_check(record: dict[str, Any]) -> None:
    from rich.table import Table

    from policywatch.report.safe import terminal

    console = out()
    console.print(terminal(f"{record['name']} ({record['kind']}): {record['url']}"))
    if record["list_pages"]:
        table = Table(title="List pages" if record["kind"] == "html" else None, header_style="bold")
        for column in ("Page", "Items", "HTTP", "Encoding", "URL / error"):
            table.add_column(column, overflow="fold")
        for number, page in enumerate(record["list_pages"], start=1):
            table.add_row(
                str(number),
                str(page["items"]),
                terminal(page["http_status"] or "-"),
                terminal(page["encoding"] or "-"),
                terminal(page["error"] or page["url"], 120),
            )
        console.print(table)
    if record["items"]:
        with_pages = any("full_text" in item for item in record["items"])
        table = Table(title=f"First {len(record['items'])} of {record['total_items']} items", header_style="bold")
        for column in ("#", "Date", "Title", "Link", "Text"):
            table.add_column(column, overflow="fold")
        if with_pages:
            table.add_column("Full text", overflow="fold")
        for number, item in enumerate(record["items"], start=1):
            cells = [
                str(number),
                terminal(item["published"] or "-"),
                terminal(item["title"] or "(no title)", 80),
                terminal(item["link"] or "-", 70),
                f"{item['text_chars']} chars",
            ]
            if with_pages:
                page = item.get("full_text")
                if page is None:
                    cells.append("-")
                elif page["status"] == "ok":
                    cells.append(f"{page['chars']} chars")
                else:
                    cells.append(terminal(f"failed: {page['error']}", 60))
            table.add_row(*cells)
        console.print(table)
    for warning in record["warnings"]:
        console.print(terminal(f"warning: {warning}"), style="yellow")


@feeds_app.command("check")
def check_feed(
    name: Annotated[str, typer.Argument(help="The source's name in the feeds file.")],
    feeds: Annotated[Path, typer.Option("--feeds", help="The feeds file.", dir_okay=False)] = Path("feeds.yaml"),
    items: Annotated[int, typer.Option("--items", "-n", help="How many items to show.", min=0)] = 10,
    full_text: Annotated[
        int | None,
        typer.Option(
            "--full-text",
            help="Read the linked pages of this many shown items (default 3 for a full_text source, else 0).",
            min=0,
            show_default=False,
        ),
    ] = None,
    format: FormatOption = OutputFormat.TABLE,
) -> None:
    """Fetch one source now and show what it yields (items, dates, text lengths, per-page counts, warnings).

    Nothing is stored: use it to tune an html source's selectors before relying on them. Exits 2 for an
    unknown NAME, 3 when the source cannot be fetched or read.
    """
    from policywatch.cli.common import fail, message
    from policywatch.config import load_feeds
    from policywatch.models import ExitCode
    from policywatch.pipeline import check_source
    from policywatch.yamlio import FileProblems

    if format not in (OutputFormat.TABLE, OutputFormat.JSON):
        fail(ExitCode.USAGE, "feeds check prints --format table or json")
    try:
        config = load_feeds(feeds)
    except FileProblems as exc:
        fail_problems(exc.problems)
    feed = config.get(name)
    if feed is None:
        import difflib

        names = [f.name for f in config.feeds]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (configured: {', '.join(names) or 'none'})"
        fail(ExitCode.USAGE, f"no source named {name!r} in {feeds}{hint}")
    check = check_source(config, feed, items=items, full_text=full_text)
    record = _check_record(check)
    if format is OutputFormat.JSON:
        emit(to_json(record) + "\n", None)
    else:
        _print_check(record)
    if check.status == "fetch_failed":
        fail(ExitCode.OPERATIONAL, f"{name}: could not be fetched: {record['error']}")
    if check.status == "parse_failed":
        fail(ExitCode.OPERATIONAL, f"{name}: could not be read: {record['error']}")
    if not check.items:
        message(f"{name}: the source yields no items")
