"""Rendering lists of records as JSON, JSON lines, CSV or a markdown table (terminal tables are the CLI's)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from policywatch.models import StrEnum
from policywatch.report.safe import markdown_cell


class OutputFormat(StrEnum):
    """The output formats of listing commands."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    MARKDOWN = "markdown"


class Streamed:
    """A list in a JSON report whose items are produced while it is written (`json_chunks`), not held."""

    def __init__(self, items: Iterable[Any]):
        self.items = items


def _default(value: Any) -> str:
    if isinstance(value, Streamed):
        raise TypeError("a Streamed list is written only at the top of a report or as a value of its top object")
    return str(value)


_PRETTY = json.JSONEncoder(ensure_ascii=False, indent=2, default=_default)


def to_json(value: Any) -> str:
    """Pretty JSON, UTF-8 characters kept, keys in the order given."""
    return _PRETTY.encode(value)


def json_chunks(value: Any) -> Iterator[str]:
    """`to_json(value)` and a newline, in pieces, so a big report is written as it is encoded: never held
    whole (an indented dump builds a list of every piece first, 5x the output's size in memory). A
    `Streamed` list, at the top or as a value of a top-level object, is encoded item by item as its iterator
    yields them."""
    if isinstance(value, Streamed):
        yield from _streamed_list(value, "")
    elif isinstance(value, dict) and any(isinstance(v, Streamed) for v in value.values()):
        yield "{"
        for position, (key, item) in enumerate(value.items()):
            yield ("," if position else "") + "\n  " + _PRETTY.encode(str(key)) + ": "
            if isinstance(item, Streamed):
                yield from _streamed_list(item, "  ")
            else:
                yield _indented(item, "  ")
        yield "\n}"
    else:
        yield from _PRETTY.iterencode(value)
    yield "\n"


def _indented(value: Any, margin: str) -> str:
    # Encoded JSON has no raw newline inside a string, so re-indenting it line by line is exact.
    return _PRETTY.encode(value).replace("\n", "\n" + margin)


def _streamed_list(value: Streamed, margin: str) -> Iterator[str]:
    empty = True
    for element in value.items:
        yield ("[" if empty else ",") + "\n" + margin + "  " + _indented(element, margin + "  ")
        empty = False
    yield "[]" if empty else "\n" + margin + "]"


def to_jsonl(records: Iterable[dict[str, Any]]) -> str:
    """One compact JSON object per line."""
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return str(value)


# What makes a spreadsheet read a cell as a formula (CSV injection): = + - @, also in their full-width forms
# (an East Asian input method types those, and Excel accepts them), and tab or CR in front of one.
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\t\r\n")


def _cell(value: Any) -> str:
    # The writer quotes only cells holding its own line terminator ("\n"): a bare CR would go out unquoted
    # and start a new row in a spreadsheet, around the formula guard below.
    return _flat(value).replace("\r\n", "\n").replace("\r", "\n")


def _formula_safe(value: str) -> str:
    # Leading spaces do not stop every spreadsheet from seeing a formula, so the first visible character decides.
    first = value.lstrip(" ")[:1]
    return "'" + value if first and first in _FORMULA_START else value


def to_csv(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row; lists joined with ';'; cells that a spreadsheet would run as formulas quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_formula_safe(_cell(record.get(c))) for c in columns])
    return buffer.getvalue()


def to_markdown_table(
    records: Sequence[dict[str, Any]],
    columns: Sequence[str],
    headers: Sequence[str] | None = None,
    limits: dict[str, int] | None = None,
) -> str:
    """A GitHub-flavoured markdown table; every cell escaped."""
    limits = limits or {}
    head = list(headers or columns)
    lines = ["| " + " | ".join(markdown_cell(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for record in records:
        cells = [markdown_cell(_flat(record.get(c)), limits.get(c)) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_records(
    records: Sequence[dict[str, Any]],
    fmt: OutputFormat,
    columns: Sequence[str],
    *,
    markdown_columns: Sequence[str] | None = None,
    headers: Sequence[str] | None = None,
    limits: dict[str, int] | None = None,
) -> str:
    """Records in a machine or markdown format: JSON (a list), JSON lines, CSV of `columns`, or a markdown
    table of `markdown_columns` (default: `columns`). The terminal table (TABLE) is rendered as markdown,
    as it is when a table is written to a file."""
    if fmt is OutputFormat.JSON:
        return to_json(list(records)) + "\n"
    if fmt is OutputFormat.JSONL:
        return to_jsonl(records)
    if fmt is OutputFormat.CSV:
        return to_csv(records, columns)
    return to_markdown_table(records, markdown_columns or columns, headers, limits)
