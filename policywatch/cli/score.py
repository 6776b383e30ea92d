"""`policywatch score`: each merchant's exposure to the stored changes, its trend, top driver and breakdown."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from policywatch.cli.common import DbOption, FormatOption, OutputOption, emit, fail, message, open_store, out
from policywatch.models import ExitCode
from policywatch.report.formats import OutputFormat, render_records

if TYPE_CHECKING:
    from policywatch.exposure import Exposure

CSV_COLUMNS = (
    "merchant_id",
    "name",
    "score",
    "level",
    "trend",
    "previous_score",
    "top_driver",
    "change_points",
    "concentration_points",
    "revenue",
    "currency",
    "period_start",
    "period_end",
)
LEVEL_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "green"}


def register(app: typer.Typer) -> None:
    """Add the score command to the app."""

    @app.command()
    def score(
        merchants: Annotated[
            list[str] | None, typer.Argument(help="Merchant ids to score (default: every stored merchant).")
        ] = None,
        format: FormatOption = OutputFormat.TABLE,
        fail_on: Annotated[
            str | None,
            typer.Option("--fail-on", metavar="LEVEL", help="Exit 1 when a merchant is at or above this level."),
        ] = None,
        explain: Annotated[
            bool, typer.Option("--explain", help="Break each score down by market and by change.")
        ] = False,
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", metavar="DATE", help="Measure timing from this day, YYYY-MM-DD (default: today)."),
        ] = None,
        output: OutputOption = None,
        db: DbOption = None,
    ) -> None:
        """Score each merchant's exposure (0-100: low, medium, high, critical) and store a snapshot for trends.

        The score combines the share of trailing-12-month revenue that stored changes put at risk with the
        merchant's dependence on few, volatile markets; --explain accounts for every point.
        """
        from policywatch.assess import assess
        from policywatch.exposure import Level
        from policywatch.store.merchants import ScoreSnapshot, latest_scores, merchant_ids, save_scores

        threshold = None
        if fail_on is not None:
            try:
                threshold = Level.parse(fail_on)
            except ValueError as exc:
                fail(ExitCode.USAGE, f"--fail-on: {exc}")
        day = _parse_day(as_of)
        wanted = list(dict.fromkeys(merchants or ()))
        store = open_store(db, create=False)
        if store is None:
            if wanted:
                fail(ExitCode.USAGE, f"unknown merchant {wanted[0]!r}: no merchants are stored (no database yet)")
            _empty(format, output)
            return
        try:
            known = merchant_ids(store)
            _check_known(wanted, known)
            if not known:
                _empty(format, output)
                return
            results = assess(store, wanted, day, explain=explain)
            previous = latest_scores(store, [r.merchant_id for r in results])
            save_scores(
                store,
                [ScoreSnapshot(r.merchant_id, r.score, r.level.value, _label(r), _details(r, day)) for r in results],
            )
        finally:
            store.close()
        results.sort(key=lambda r: (-r.score, r.merchant_id))
        records = [_record(r, previous.get(r.merchant_id), explain) for r in results]
        if format is OutputFormat.TABLE and output is None:
            _render_table(results, records, explain)
        else:  # machine formats, markdown, or a table written to a file
            emit(render_records(records, format, CSV_COLUMNS, markdown_columns=CSV_COLUMNS[:7]), output)
        if threshold is not None:
            hits = [r for r in results if r.level.rank >= threshold.rank]
            if hits:
                message(f"{len(hits)} merchant{'s' if len(hits) != 1 else ''} at or above {threshold.value}")
                raise typer.Exit(int(ExitCode.FINDINGS))


def _parse_day(value: str | None) -> dt.date:
    if value is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        fail(ExitCode.USAGE, f"--as-of {value!r}: use a date like 2026-12-01")


def _check_known(wanted: Sequence[str], known: Sequence[str]) -> None:
    known_set = set(known)
    for merchant in wanted:
        if merchant not in known_set:
            close = difflib.get_close_matches(merchant, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listing = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "") if known else "none"
            fail(ExitCode.USAGE, f"unknown merchant {merchant!r}{hint}; stored merchants: {listing}")


def _empty(format: OutputFormat, output: Any) -> None:
    message("No merchants stored yet; import sales with: policywatch merchants import FILE")
    if format in (OutputFormat.JSON, OutputFormat.CSV):
        emit(render_records([], format, CSV_COLUMNS), output)


def _label(result: Exposure) -> str | None:
    return result.top_driver.label if result.top_driver else None


def _details(result: Exposure, day: dt.date) -> dict[str, Any]:
    driver = result.top_driver
    return {
        "as_of": day.isoformat(),
        "change_points": result.change_points,
        "concentration_points": result.concentration_points,
        "markets": {m.market: m.points for m in result.markets},
        "top_driver_change_id": driver.change_id if driver else None,
        "period_start": result.period_start,
        "period_end": result.period_end,
    }


def _record(result: Exposure, previous: Any, explain: bool) -> dict[str, Any]:
    driver = result.top_driver
    record: dict[str, Any] = {
        "merchant_id": result.merchant_id,
        "name": result.name,
        "score": result.score,
        "level": result.level.value,
        "trend": round(result.score - previous.score, 1) if previous is not None else None,
        "previous_score": previous.score if previous is not None else None,
        "previous_scored_at": previous.scored_at if previous is not None else None,
        "top_driver": _label(result),
        "top_driver_kind": driver.kind if driver else None,
        "top_driver_change_id": driver.change_id if driver else None,
        "change_points": result.change_points,
        "concentration_points": result.concentration_points,
        "revenue": round(result.revenue, 2),
        "currency": result.currency,
        "period_start": result.period_start,
        "period_end": result.period_end,
    }
    if explain:
        record["explanation"] = _explanation(result)
    return record


def _explanation(result: Exposure) -> dict[str, Any]:
    from policywatch.report.safe import plain, safe_link

    detail = result.explanation
    assert detail is not None  # score_merchants(explain=True) fills it
    return {
        "score": result.score,
        "change_points": result.change_points,
        "concentration_points": result.concentration_points,
        "change_exposure": round(detail.change_exposure, 6),
        "concentration_exposure": round(detail.concentration_exposure, 6),
        "hhi": round(detail.hhi, 6),
        "uncounted_changes": detail.uncounted,
        "markets": [
            {
                "market": m.market,
                "revenue_share": round(m.revenue_share, 6),
                "points": m.points,
                "change_points": m.change_points,
                "concentration_points": m.concentration_points,
                "volatility": round(m.volatility, 6),
                "tightening_changes_past_year": m.tightening,
            }
            for m in result.markets
        ],
        "changes": [
            {
                "change_id": part.change.id,
                "points": part.points,
                "markets": dict(part.markets),
                "jurisdiction": part.change.jurisdiction,
                "category": part.change.category,
                "severity": part.change.severity,
                "effective_date": part.change.effective_date,
                "announced": part.change.announced,
                "hs_codes": list(part.change.hs_codes),
                "affected_countries": list(part.change.affected_countries),
                "title": plain(part.change.title, 200),
                "revenue_share_touched": round(part.revenue_share, 6),
                "strength": round(part.strength.value, 6),
                "factors": {
                    "severity": part.strength.severity,
                    "rate": round(part.strength.rate, 6),
                    "timing": round(part.strength.timing, 6),
                    "scope": part.strength.scope,
                    "phase": part.strength.phase,
                    "days_to_effect": part.strength.days,
                },
                "link": safe_link(part.change.link),
            }
            for part in detail.changes
        ],
    }


def _trend_text(record: dict[str, Any]) -> str:
    trend = record["trend"]
    if trend is None:
        return "new"
    if trend == 0:
        return "="
    return f"{trend:+.1f}"


def _render_table(results: Sequence[Exposure], records: Sequence[dict[str, Any]], explain: bool) -> None:
    from rich.table import Table

    from policywatch.report.safe import terminal

    table = Table(header_style="bold")
    table.add_column("Merchant", overflow="fold", max_width=40)
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("Level", no_wrap=True)
    table.add_column("Trend", justify="right", no_wrap=True)
    table.add_column("Top driver", overflow="fold", max_width=80)
    for record in records:
        level = terminal(record["level"])
        level.stylize(LEVEL_STYLE[record["level"]])
        table.add_row(
            terminal(f"{record['merchant_id']} ({record['name']})"),
            f"{record['score']:.1f}",
            level,
            _trend_text(record),
            terminal(record["top_driver"] or "-"),
        )
    out().print(table)
    if explain:
        for result in results:
            _render_explanation(result)


def _render_explanation(result: Exposure) -> None:
    from rich.table import Table

    from policywatch.exposure import describe
    from policywatch.report.safe import plain, terminal

    detail = result.explanation
    assert detail is not None
    console = out()
    console.print()
    console.print(
        terminal(
            f"{result.merchant_id} ({result.name}): {result.score:.1f} {result.level.value} = "
            f"{result.change_points:.1f} from changes + {result.concentration_points:.1f} from concentration"
        )
    )
    console.print(
        terminal(
            f"Revenue {result.revenue:,.2f} {result.currency or ''} from {result.period_start} to {result.period_end}; "
            f"change exposure {detail.change_exposure:.4f}, concentration {detail.concentration_exposure:.4f} "
            f"(HHI of imported revenue {detail.hhi:.3f})"
        )
    )
    markets = Table(title="By market", header_style="bold", title_justify="left")
    for column in ("Market", "Revenue", "Points", "Changes", "Concentration", "Volatility"):
        markets.add_column(column, justify="left" if column == "Market" else "right", no_wrap=True)
    for m in result.markets:
        markets.add_row(
            terminal(m.market),
            f"{m.revenue_share:.1%}",
            f"{m.points:.1f}",
            f"{m.change_points:.1f}",
            f"{m.concentration_points:.1f}",
            f"{m.volatility:.2f} ({m.tightening}/yr)",
        )
    console.print(markets)
    if not detail.changes:
        console.print("No stored change touches this merchant's sales.", markup=False)
        return
    changes = Table(title="By change", header_style="bold", title_justify="left")
    changes.add_column("Points", justify="right", no_wrap=True)
    changes.add_column("Markets", overflow="fold", max_width=28)
    changes.add_column("Change", overflow="fold", max_width=60)
    changes.add_column("Touches", justify="right", no_wrap=True)
    changes.add_column("Strength = severity x rate x timing x scope", no_wrap=True)
    changes.add_column("Title", overflow="fold", max_width=50)
    for part in detail.changes:
        s = part.strength
        changes.add_row(
            f"{part.points:.1f}",
            terminal(" ".join(f"{m} {p:.1f}" for m, p in part.markets)),
            terminal(f"{describe(part.change, s)} [{part.change.id}]"),
            f"{part.revenue_share:.0%}",
            f"{s.value:.3f} = {s.severity:.2f} x {s.rate:.2f} x {s.timing:.2f} ({s.phase}) x {s.scope:.2f}",
            terminal(plain(part.change.title, 100)),
        )
    console.print(changes)
    if detail.uncounted:
        console.print(
            f"{detail.uncounted} more change(s) touch these sales but rank below the ten strongest on every line.",
            markup=False,
        )
