"""The markdown risk brief: what a manager reads in two minutes about one merchant.

`build_brief` gathers the inputs from the store (the merchant's explained score, the previous snapshot,
the changes behind the points, the health of the sources); `render_brief` turns them into GitHub-flavoured
markdown with a jinja2 template. Rendering is deterministic for the same inputs, and every text that came
from a feed is escaped for markdown and HTML; only http(s) links are kept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from policywatch.exposure import Exposure, describe
from policywatch.report.safe import markdown_cell, markdown_link, markdown_text, plain, safe_link
from policywatch.store import ChangeFilter, FeedHealth, Store, StoredChange

TOP_CHANGES = 5
BAR_WIDTH = 10
_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class BriefData:
    """Everything a brief shows, gathered once so rendering is pure."""

    exposure: Exposure
    as_of: dt.date
    previous_score: float | None = None
    previous_at: str | None = None
    changes: dict[str, StoredChange] = field(default_factory=dict)
    feeds: tuple[FeedHealth, ...] = ()
    last_run: dict[str, Any] | None = None
    since: str | None = None  # ISO timestamp: only changes detected since then are listed


def brief_file_name(merchant_id: str) -> str:
    """A safe file name for a merchant's brief."""
    return _FILE_NAME.sub("_", merchant_id) + ".md"


def build_brief(store: Store, exposure: Exposure, as_of: dt.date, *, since: str | None = None,
                previous: Any = None) -> BriefData:
    """The inputs of a brief for an explained exposure, read from the store."""
    assert exposure.explanation is not None, "score with explain=True first"
    ids = tuple(part.change.id for part in exposure.explanation.changes)
    changes = {c.change.id: c for c in store.query_changes(ChangeFilter(ids=ids))} if ids else {}
    runs = store.last_runs(1)
    return BriefData(
        exposure=exposure, as_of=as_of, changes=changes, feeds=tuple(store.feeds_health()),
        last_run=runs[0] if runs else None, since=since,
        previous_score=getattr(previous, "score", None), previous_at=getattr(previous, "scored_at", None),
    )


def _human(text: str) -> str:
    """Contract names as words: "de_minimis" reads "de minimis"."""
    return text.replace("_", " ")


def _bar(value: float, top: float) -> str:
    filled = round(BAR_WIDTH * value / top) if top > 0 else 0
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def _rate(stored: StoredChange | None) -> str:
    if stored is None:
        return "-"
    new, old = stored.change.new_rate_percent, stored.change.old_rate_percent
    if new is None:
        return "-"
    return f"{old:g}% → {new:g}%" if old is not None else f"{new:g}%"


def _context(data: BriefData) -> dict[str, Any]:
    exposure = data.exposure
    detail = exposure.explanation
    assert detail is not None
    parts = [p for p in detail.changes if p.points > 0]
    if data.since:
        recent = {i for i, c in data.changes.items() if c.detected_at >= data.since}
        parts = [p for p in parts if p.change.id in recent]
    rows = []
    for number, part in enumerate(parts[:TOP_CHANGES], 1):
        stored = data.changes.get(part.change.id)
        title = stored.title if stored and stored.title else describe(part.change)
        rows.append({
            "number": number,
            "market": markdown_cell(", ".join(m for m, _ in part.markets) or part.change.jurisdiction or "?"),
            "what": markdown_cell(_human(describe(part.change, part.strength)), 140),
            "title": markdown_text(title, 160),
            "rate": markdown_cell(_rate(stored)),
            "effective": markdown_cell(part.change.effective_date or "not stated"),
            "severity": markdown_cell(part.change.severity),
            "points": f"{part.points:.1f}",
            "source": markdown_link("source", stored.link) if stored and safe_link(stored.link) else "no link",
            "evidence": markdown_text(stored.change.evidence, 600) if stored else "",
            "id": part.change.id,
        })
    top = max((m.points for m in exposure.markets), default=0.0)
    markets = [
        {"market": markdown_cell(m.market), "share": f"{m.revenue_share:.0%}", "points": f"{m.points:.1f}",
         "bar": _bar(m.points, top), "tightening": m.tightening}
        for m in exposure.markets
    ]
    failed = [f for f in data.feeds if f.last_status == "failed"]
    trend = None
    if data.previous_score is not None:
        delta = round(exposure.score - data.previous_score, 1)
        trend = "unchanged" if delta == 0 else f"{'▲' if delta > 0 else '▼'} {delta:+.1f}"
    driver = exposure.top_driver
    run = data.last_run or {}
    return {
        "name": markdown_text(exposure.name), "merchant_id": exposure.merchant_id,
        "as_of": data.as_of.isoformat(), "score": f"{exposure.score:.1f}", "level": exposure.level.value,
        "level_upper": exposure.level.value.upper(), "trend": trend,
        "previous_at": (data.previous_at or "")[:10],
        "driver": markdown_text(_human(driver.label)) if driver else None,
        "change_points": f"{exposure.change_points:.1f}",
        "concentration_points": f"{exposure.concentration_points:.1f}",
        "revenue": f"{exposure.revenue:,.0f}", "currency": markdown_text(exposure.currency or ""),
        "period_start": exposure.period_start, "period_end": exposure.period_end,
        "changes": rows, "more": max(0, len(parts) - TOP_CHANGES), "since": (data.since or "")[:10],
        "markets": markets,
        "feeds": len(data.feeds), "failed": [
            {"name": markdown_text(f.name), "error": markdown_text(plain(f.last_error, 160) or "unknown error"),
             "failures": f.consecutive_failures} for f in failed
        ],
        "last_scan": str(run.get("finished_at") or run.get("started_at") or "")[:16].replace("T", " "),
        "bulletins": sum(f.items for f in data.feeds),
    }


def render_brief(data: BriefData) -> str:
    """The brief as GitHub-flavoured markdown."""
    import jinja2

    template = resources.files("policywatch.report").joinpath("templates/brief.md.j2").read_text(encoding="utf-8")
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True, trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.from_string(template).render(**_context(data))


def render_briefs(items: Sequence[BriefData]) -> dict[str, str]:
    """File name -> brief, for `brief --all`."""
    return {brief_file_name(d.exposure.merchant_id): render_brief(d) for d in items}
