"""Merchant sales files: reading CSV, JSON or YAML, validating every row, and the records they become.

A sales file lists, per merchant and month, the revenue of one market / product (HS code) / origin line:

    merchant_id, merchant_name, period, market, hs_code, origin, revenue[, currency]

Decisions (also in the README):
- `period` is `YYYY-MM` with a real month (01-12), years 1990-2100.
- `market` and `origin` are countries: ISO 3166-1 alpha-2, case-insensitive, stored upper case. `EU` and `WTO`
  are not accepted: sales happen in a member state (DE, FR, ...), and goods originate in a country. Common
  mistakes get a hint (`UK` -> GB, `EL` -> GR, `USA` -> US).
- `hs_code` has 2 to 10 digits; dots and spaces are allowed and dropped (`8517.62` is stored as `851762`). In
  JSON and YAML it must be a string: a number loses leading zeros (`0901` would become `901`).
- `revenue` is a number >= 0: plain (`1234.5`) or with commas between thousands (`1,234.50`). A decimal comma
  (`1.234,50`), a currency sign or a negative value is refused, since guessing would misstate revenue.
- `currency` (optional) is an ISO 4217 code; a merchant has one currency (shares are computed within a
  merchant, so mixed currencies would be meaningless). `merchant_name` is the same on every row of a merchant.
- The same merchant, period, market, hs_code and origin twice is an error (combine the rows), not a sum: a
  pasted duplicate would otherwise double a market's revenue silently.

Every bad row is reported as `file:line: message`; a file with any problem yields nothing (FileProblems).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import difflib
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pycountry

from policywatch.config import is_jurisdiction
from policywatch.yamlio import FileProblems, Located, LocatedList, Problem, line_of, parse_yaml

REQUIRED_COLUMNS = ("merchant_id", "merchant_name", "period", "market", "hs_code", "origin", "revenue")
OPTIONAL_COLUMNS = ("currency",)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_KEY_COLUMNS = ("merchant_id", "period", "market", "hs_code", "origin")
#: File suffixes and the format each one is read as.
FORMATS = {".csv": "csv", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}

_MERCHANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
_HS = re.compile(r"^\d{2,10}$")
_HS_SEPARATORS = re.compile(r"[.\s]")
_PLAIN_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^\d{1,3}(?:\.\d{3})*,\d+$")
_JSON_WS = re.compile(r"[ \t\n\r]*")
#: Codes people write for a country that are not its ISO 3166-1 alpha-2 code.
_COUNTRY_HINTS = {"UK": "GB", "EL": "GR"}


# --- records ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaleRecord:
    """One validated row: a merchant's revenue in one month from one market, HS code and origin."""

    merchant_id: str
    period: str  # YYYY-MM
    market: str  # ISO 3166-1 alpha-2
    hs_code: str  # 2-10 digits, no dots
    origin: str  # ISO 3166-1 alpha-2
    revenue: float
    currency: str | None = None  # ISO 4217, the merchant's
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Merchant:
    """A merchant named in a sales file (or stored): its id, display name and currency."""

    id: str
    name: str
    currency: str | None = None


@dataclass(frozen=True)
class SalesFile:
    """A validated sales file: its merchants (in order of first appearance) and every row."""

    path: str
    merchants: tuple[Merchant, ...]
    records: tuple[SaleRecord, ...]

    def periods(self) -> dict[str, tuple[str, ...]]:
        """For each merchant id, the sorted periods the file has rows for (what an import replaces)."""
        out: dict[str, set[str]] = {}
        for record in self.records:
            out.setdefault(record.merchant_id, set()).add(record.period)
        return {merchant: tuple(sorted(periods)) for merchant, periods in out.items()}


@dataclass(frozen=True)
class SalesLine:
    """A merchant's revenue over a window for one market, HS code and origin (the scoring input)."""

    market: str
    hs_code: str
    origin: str
    revenue: float


@dataclass(frozen=True)
class MerchantSales:
    """A merchant with its sales lines over the scoring window (normally the trailing 12 months)."""

    merchant_id: str
    name: str
    lines: tuple[SalesLine, ...]
    currency: str | None = None
    period_start: str | None = None  # first month of the window, YYYY-MM
    period_end: str | None = None  # last month of the window

    @property
    def revenue(self) -> float:
        """Total revenue over the window."""
        return math.fsum(line.revenue for line in self.lines)


# --- field validators (each raises ValueError with the message a user sees) ---------------------------


def parse_merchant_id(value: Any) -> str:
    """A merchant id: letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64."""
    text = _text(value, "merchant_id")
    if not _MERCHANT_ID.match(text):
        raise ValueError(
            f"merchant_id {text!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return text


def parse_name(value: Any) -> str:
    """A merchant name: any non-empty text, whitespace collapsed."""
    text = " ".join(_text(value, "merchant_name").split())
    if len(text) > 200:
        raise ValueError("merchant_name is longer than 200 characters")
    return text


def parse_period(value: Any) -> str:
    """A month as YYYY-MM (01-12, years 1990-2100)."""
    if isinstance(value, dt.date):
        raise ValueError(f"period {value.isoformat()} is a day; give the month as YYYY-MM, e.g. {value:%Y-%m}")
    if not isinstance(value, str):
        raise ValueError(f"period must be text like 2026-03, not {_kind(value)}")
    text = value.strip()
    match = _PERIOD.match(text)
    if not match:
        raise ValueError(f"period {text!r} must be YYYY-MM, e.g. 2026-03")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"period {text!r} has no month {month:02d} (use 01-12)")
    if not 1990 <= year <= 2100:
        raise ValueError(f"period {text!r}: year {year} is out of range (1990-2100)")
    return text


def parse_country(value: Any, column: str) -> str:
    """A country as ISO 3166-1 alpha-2 (case-insensitive, returned upper case); EU and WTO are refused."""
    text = _text(value, column).upper()
    if text == "EU":
        if column == "market":
            raise ValueError("market 'EU' is not a country: give each member state (DE, FR, ...) as its own market")
        raise ValueError(f"{column} 'EU' is not a country of origin: give the country the goods come from")
    if len(text) == 2 and text != "WTO" and is_jurisdiction(text):
        return text
    hint = _COUNTRY_HINTS.get(text)
    if hint is None and len(text) == 3:
        country = pycountry.countries.get(alpha_3=text)
        hint = country.alpha_2 if country is not None else None
    suffix = f" (did you mean {hint}?)" if hint else ""
    raise ValueError(f"{column} {text!r} is not an ISO 3166-1 alpha-2 country code{suffix}")


def parse_hs_code(value: Any) -> str:
    """An HS code: 2 to 10 digits once dots and spaces are dropped; returned as digits."""
    if not isinstance(value, str):
        raise ValueError(
            f"hs_code must be text, not {_kind(value)} (quote it: a number drops leading zeros, 0901 -> 901)"
        )
    text = value.strip()
    digits = _HS_SEPARATORS.sub("", text)
    if not text:
        raise ValueError("hs_code is empty")
    if not _HS.match(digits):
        raise ValueError(f"hs_code {text!r} must be 2 to 10 digits (dots allowed), e.g. 8517.62")
    return digits


def parse_revenue(value: Any) -> float:
    """Revenue: a number >= 0; text may use commas between thousands (1,234.50) but not a decimal comma."""
    if isinstance(value, bool):
        raise ValueError("revenue must be a number, not true/false")
    if isinstance(value, (int, float)):
        amount = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("revenue is empty")
        if text.startswith("-") and (_PLAIN_NUMBER.match(text[1:]) or _THOUSANDS.match(text[1:])):
            raise ValueError(f"revenue {text} is negative; give net revenue of at least 0")
        if _PLAIN_NUMBER.match(text):
            amount = float(text)
        elif _THOUSANDS.match(text):
            amount = float(text.replace(",", ""))
        elif _DECIMAL_COMMA.match(text):
            raise ValueError(f"revenue {text!r}: use a dot for decimals (1234.50 or 1,234.50), not a decimal comma")
        else:
            raise ValueError(
                f"revenue {text!r} is not a number (digits, optional commas between thousands and a decimal dot; "
                "no currency signs: use the currency column)"
            )
    else:
        raise ValueError(f"revenue must be a number, not {_kind(value)}")
    if not math.isfinite(amount):
        raise ValueError("revenue must be a finite number")
    if amount < 0:
        raise ValueError(f"revenue {amount:g} is negative; give net revenue of at least 0")
    return amount


def parse_currency(value: Any) -> str | None:
    """An ISO 4217 currency code (case-insensitive, returned upper case); empty gives None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = _text(value, "currency").upper()
    if len(text) != 3 or pycountry.currencies.get(alpha_3=text) is None:
        raise ValueError(f"currency {text!r} is not an ISO 4217 code (e.g. USD, EUR, CNY)")
    return text


def _text(value: Any, column: str) -> str:
    if value is None:
        raise ValueError(f"{column} is missing")
    if not isinstance(value, str):
        raise ValueError(f"{column} must be text, not {_kind(value)}")
    text = value.strip()
    if not text:
        raise ValueError(f"{column} is empty")
    return text


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "a mapping"}.get(
        type(value), type(value).__name__
    )


_FIELD_PARSERS = {
    "merchant_id": parse_merchant_id,
    "merchant_name": parse_name,
    "period": parse_period,
    "market": lambda v: parse_country(v, "market"),
    "hs_code": parse_hs_code,
    "origin": lambda v: parse_country(v, "origin"),
    "revenue": parse_revenue,
    "currency": parse_currency,
}


# --- reading files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RawRow:
    line: int | None  # line of the record
    values: dict[str, Any]
    field_lines: dict[str, int]  # line of each field, where the format knows it (YAML)
    label: str  # how to name the record when there is no line ("record 3")
    error: str | None = None  # the record is unreadable as a whole (wrong field count, not a mapping)


def load_sales(path: Path, *, display: str | None = None) -> SalesFile:
    """Read and validate a sales file (.csv, .json, .yaml/.yml); raise FileProblems listing every problem."""
    shown = display or str(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise FileProblems([Problem(shown, None, "unknown file type: use .csv, .json, .yaml or .yml")])
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileProblems([Problem(shown, None, "file not found")]) from None
    except IsADirectoryError:
        raise FileProblems([Problem(shown, None, "is a directory, not a sales file")]) from None
    except OSError as exc:
        raise FileProblems([Problem(shown, None, f"cannot read: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblems([Problem(shown, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    return parse_sales(text, shown, fmt)


def parse_sales(text: str, shown: str, fmt: str) -> SalesFile:
    """Validate sales text in a format (`csv`, `json` or `yaml`); raise FileProblems listing every problem."""
    readers = {"csv": _csv_rows, "json": _json_rows, "yaml": _yaml_rows}
    if fmt not in readers:
        raise ValueError(f"unknown sales format {fmt!r}")
    problems: list[Problem] = []
    rows = readers[fmt](text, shown, problems)
    if problems:  # a broken header or structure: row checks would only repeat it
        raise FileProblems(problems)
    # Each row's own problems (an unreadable row among them) are all reported together, in line order.
    return _validate(rows, shown)


def _csv_rows(text: str, shown: str, problems: list[Problem]) -> list[_RawRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.append(Problem(shown, 1, f"invalid CSV: {exc}"))
        return []
    if header is None or not any(cell.strip() for cell in header):
        problems.append(Problem(shown, 1, f"empty file: expected a header row ({', '.join(REQUIRED_COLUMNS)})"))
        return []
    columns = [cell.strip().lower() for cell in header]
    _check_columns(columns, shown, 1, problems)
    if problems:
        return []
    rows: list[_RawRow] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are formatting, not records
            if len(cells) != len(columns):
                error = f"{len(cells)} fields, but the header has {len(columns)}"
                rows.append(_RawRow(line, {}, {}, f"line {line}", error))
                continue
            rows.append(_RawRow(line, dict(zip(columns, cells, strict=True)), {}, f"line {line}"))
    except csv.Error as exc:
        problems.append(Problem(shown, reader.line_num, f"invalid CSV: {exc}"))
    return rows


def _check_columns(columns: list[str], shown: str, line: int | None, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            problems.append(Problem(shown, line, f"column {column!r} appears twice"))
        seen.add(column)
        if column not in COLUMNS:
            problems.append(Problem(shown, line, f"unknown column {column!r}{_did_you_mean(column, COLUMNS)}"))
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        problems.append(Problem(shown, line, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"))


def _did_you_mean(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (expected: {', '.join(COLUMNS)})"


def _records_of(data: Any, shown: str, problems: list[Problem], what: str) -> tuple[list[Any], bool]:
    """The list of records in a JSON/YAML document (a list, or {"sales": [...]}); and whether it was wrapped."""
    if isinstance(data, list):
        return data, False
    if isinstance(data, dict) and "sales" in data:
        extra = sorted(set(data) - {"sales"})
        if extra:
            problems.append(Problem(shown, line_of(data, extra[0]), f"unknown top-level key {extra[0]!r}"))
        if isinstance(data["sales"], list):
            return data["sales"], True
        problems.append(Problem(shown, line_of(data, "sales"), "'sales' must be a list of records"))
        return [], True
    problems.append(Problem(shown, 1, f"expected a {what} list of sales records, or a mapping with a 'sales' list"))
    return [], False


def _json_rows(text: str, shown: str, problems: list[Problem]) -> list[_RawRow]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(shown, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})"))
        return []
    items, wrapped = _records_of(data, shown, problems, "JSON")
    lines = _json_item_lines(text, wrapped)
    rows = []
    for index, item in enumerate(items):
        line = lines[index] if index < len(lines) else None
        label = f"line {line}" if line else f"record {index + 1}"
        if not isinstance(item, dict):
            rows.append(_RawRow(line, {}, {}, label, "a record must be an object"))
            continue
        rows.append(_RawRow(line, item, {}, label))
    return rows


def _json_item_lines(text: str, wrapped: bool) -> list[int]:
    """The line where each record of the list starts: one more pass of the decoder, no second parser."""
    newlines = [i for i, char in enumerate(text) if char == "\n"]
    decoder = json.JSONDecoder()
    try:
        pos = _JSON_WS.match(text, 0).end()
        if wrapped:
            pos = _find_key(text, pos, "sales", decoder)
            if pos is None:
                return []
        if text[pos] != "[":
            return []
        offsets = []
        pos = _JSON_WS.match(text, pos + 1).end()
        while text[pos] != "]":
            offsets.append(pos)
            _, pos = decoder.raw_decode(text, pos)
            pos = _JSON_WS.match(text, pos).end()
            if text[pos] == ",":
                pos = _JSON_WS.match(text, pos + 1).end()
    except (ValueError, IndexError):
        return []
    return [bisect.bisect_right(newlines, offset - 1) + 1 for offset in offsets]


def _find_key(text: str, pos: int, wanted: str, decoder: json.JSONDecoder) -> int | None:
    """Offset of the value of the last `wanted` key of the object starting at pos (json.loads keeps the last)."""
    if text[pos] != "{":
        return None
    found = None
    pos = _JSON_WS.match(text, pos + 1).end()
    while text[pos] != "}":
        key, pos = decoder.raw_decode(text, pos)
        pos = _JSON_WS.match(text, pos).end() + 1  # past ':'
        pos = _JSON_WS.match(text, pos).end()
        if key == wanted:
            found = pos
        _, pos = decoder.raw_decode(text, pos)
        pos = _JSON_WS.match(text, pos).end()
        if text[pos] == ",":
            pos = _JSON_WS.match(text, pos + 1).end()
    return found


def _yaml_rows(text: str, shown: str, problems: list[Problem]) -> list[_RawRow]:
    try:
        data = parse_yaml(text, shown, problems)
    except FileProblems as exc:
        problems.extend(exc.problems)
        return []
    items, _ = _records_of(data, shown, problems, "YAML")
    rows = []
    for index, item in enumerate(items):
        line = line_of(items, index) if isinstance(items, LocatedList) else None
        if not isinstance(item, dict):
            label = f"line {line}" if line else f"record {index + 1}"
            rows.append(_RawRow(line, {}, {}, label, "a record must be a mapping of column: value"))
            continue
        key_lines = dict(item.key_lines) if isinstance(item, Located) else {}
        rows.append(_RawRow(line, item, key_lines, f"line {line}" if line else f"record {index + 1}"))
    return rows


# --- validation -------------------------------------------------------------------------------------


def _validate(rows: list[_RawRow], shown: str) -> SalesFile:
    problems: list[Problem] = []
    records: list[SaleRecord] = []
    names: dict[str, tuple[str, _RawRow]] = {}
    currencies: dict[str, tuple[str, _RawRow]] = {}
    keys: dict[tuple[str, ...], _RawRow] = {}
    if not rows:
        problems.append(Problem(shown, None, "no sales records"))
    for row in rows:
        if row.error is not None:
            problems.append(_problem(shown, row, None, row.error))
            continue
        values: dict[str, Any] = {}
        row_problems = [
            _problem(shown, row, column, f"unknown field {column!r}{_did_you_mean(column, COLUMNS)}")
            for column in row.values
            if column not in COLUMNS
        ]
        for column in COLUMNS:
            if column not in row.values:
                if column in REQUIRED_COLUMNS:
                    row_problems.append(_problem(shown, row, None, f"missing field {column!r}"))
                continue
            try:
                values[column] = _FIELD_PARSERS[column](row.values[column])
            except ValueError as exc:
                row_problems.append(_problem(shown, row, column, str(exc)))
        # Checks across rows use whatever fields of this row are valid, so one pass reports everything.
        row_problems.extend(_consistency(values, row, shown, names, currencies, keys))
        if not row_problems:
            records.append(
                SaleRecord(
                    merchant_id=values["merchant_id"],
                    period=values["period"],
                    market=values["market"],
                    hs_code=values["hs_code"],
                    origin=values["origin"],
                    revenue=values["revenue"],
                    currency=values.get("currency"),
                    line=row.line,
                )
            )
        problems.extend(row_problems)
    if problems:
        raise FileProblems(problems)
    merchants = tuple(
        Merchant(merchant_id, name, currencies[merchant_id][0] if merchant_id in currencies else None)
        for merchant_id, (name, _) in names.items()
    )
    by_id = {m.id: m for m in merchants}
    # A row without a currency takes its merchant's: the file states one currency per merchant.
    final = tuple(
        r if r.currency == by_id[r.merchant_id].currency else _with_currency(r, by_id[r.merchant_id].currency)
        for r in records
    )
    return SalesFile(shown, merchants, final)


def _with_currency(record: SaleRecord, currency: str | None) -> SaleRecord:
    return replace(record, currency=currency)


def _consistency(
    values: dict[str, Any],
    row: _RawRow,
    shown: str,
    names: dict[str, tuple[str, _RawRow]],
    currencies: dict[str, tuple[str, _RawRow]],
    keys: dict[tuple[str, ...], _RawRow],
) -> Iterator[Problem]:
    merchant_id = values.get("merchant_id")
    if merchant_id is None:
        return
    name = values.get("merchant_name")
    if name is not None:
        first = names.setdefault(merchant_id, (name, row))
        if first[0] != name:
            yield _problem(
                shown,
                row,
                "merchant_name",
                f"merchant {merchant_id!r} is named {first[0]!r} at {first[1].label}, here {name!r}; "
                "use one name per merchant_id",
            )
    currency = values.get("currency")
    if currency is not None:
        seen = currencies.setdefault(merchant_id, (currency, row))
        if seen[0] != currency:
            yield _problem(
                shown,
                row,
                "currency",
                f"merchant {merchant_id!r} reports {seen[0]} at {seen[1].label}, here {currency}; "
                "use one currency per merchant (revenue shares are computed within a merchant)",
            )
    if all(column in values for column in _KEY_COLUMNS):
        key = tuple(values[column] for column in _KEY_COLUMNS)
        earlier = keys.setdefault(key, row)
        if earlier is not row:
            yield _problem(
                shown,
                row,
                None,
                f"same merchant, period, market, hs_code and origin as {earlier.label}; combine them into one row",
            )


def _problem(shown: str, row: _RawRow, column: str | None, message: str) -> Problem:
    line = row.field_lines.get(column, row.line) if column else row.line
    if line is None:
        return Problem(f"{shown} {row.label}", None, message)
    return Problem(shown, line, message)
