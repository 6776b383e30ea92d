"""`policywatch merchants import|list`: bring merchant sales history in, and show what is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from policywatch.cli.common import DbOption, FormatOption, OutputOption, emit, fail_problems, open_store, out
from policywatch.report.formats import OutputFormat, render_records

merchants_app = typer.Typer(
    help="Merchant sales history: import sales files, list stored merchants.", no_args_is_help=True
)

LIST_COLUMNS = (
    "id",
    "name",
    "currency",
    "first_period",
    "last_period",
    "periods",
    "markets",
    "rows",
    "revenue",
    "imported_at",
    "source",
)


@merchants_app.command("import")
def import_sales(
    file: Annotated[
        Path,
        typer.Argument(
            help="Sales file: .csv with header merchant_id,merchant_name,period,market,hs_code,origin,revenue"
            "[,currency], or the same records as .json / .yaml.",
            dir_okay=False,
            show_default=False,
        ),
    ],
    db: DbOption = None,
) -> None:
    """Import merchant sales; the months in the file replace those stored for each merchant (never duplicated).

    Every bad row is reported with its line, and nothing is imported unless every row is valid.
    """
    from policywatch.merchants import load_sales
    from policywatch.store.merchants import import_sales as store_sales
    from policywatch.yamlio import FileProblems

    try:
        sales = load_sales(file)
    except FileProblems as exc:
        fail_problems(exc.problems, what="sales file")
    store = open_store(db)
    try:
        summary = store_sales(store, sales, source=str(file))
    except FileProblems as exc:
        fail_problems(exc.problems, what="sales file")
    finally:
        store.close()
    replaced = (
        f"; {summary.periods_replaced} of them replaced stored months ({summary.rows_replaced} rows)"
        if summary.periods_replaced
        else "; none replaced stored months"
    )
    out().print(
        f"Imported {summary.merchants} merchant{'s' if summary.merchants != 1 else ''} "
        f"({summary.new_merchants} new), {summary.rows} sales rows, {summary.periods} merchant-months "
        f"from {file}{replaced}.",
        markup=False,
        highlight=False,
    )


@merchants_app.command("list")
def list_merchants(format: FormatOption = OutputFormat.TABLE, output: OutputOption = None, db: DbOption = None) -> None:
    """Show every stored merchant: months of history, markets, rows and revenue."""
    from policywatch.store.merchants import list_merchants as stored

    store = open_store(db, create=False)
    merchants = stored(store) if store is not None else []
    if store is not None:
        store.close()
    records: list[dict[str, Any]] = [
        {
            "id": m.id,
            "name": m.name,
            "currency": m.currency,
            "first_period": m.first_period,
            "last_period": m.last_period,
            "periods": m.periods,
            "markets": list(m.markets),
            "rows": m.rows,
            "revenue": round(m.revenue, 2),
            "imported_at": m.imported_at,
            "source": m.source,
        }
        for m in merchants
    ]
    if format is OutputFormat.TABLE and output is None:
        _table(records)
    else:  # machine formats, markdown, or a table written to a file
        emit(render_records(records, format, LIST_COLUMNS, markdown_columns=LIST_COLUMNS[:9]), output)


def _table(records: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from policywatch.report.safe import terminal

    if not records:
        out().print(
            "No merchants stored yet; import a sales file with: policywatch merchants import FILE", markup=False
        )
        return
    table = Table(header_style="bold")
    for column, justify in (
        ("Merchant", "left"),
        ("Name", "left"),
        ("Months", "left"),
        ("Markets", "left"),
        ("Rows", "right"),
        ("Revenue", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")
    for r in records:
        months = f"{r['first_period']} to {r['last_period']} ({r['periods']})" if r["periods"] else "none"
        revenue = f"{r['revenue']:,.2f} {r['currency'] or ''}".strip()
        table.add_row(
            terminal(r["id"]),
            terminal(r["name"]),
            months,
            terminal(" ".join(r["markets"])),
            str(r["rows"]),
            terminal(revenue),
        )
    out().print(table)
