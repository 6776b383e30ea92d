"""Loading and validating feeds.yaml: every problem reported at once, each with file and line."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pycountry

from policywatch.models import FeedKind
from policywatch.yamlio import FileProblems, Located, Problem, line_of, load_yaml

#: Issuer codes accepted besides ISO 3166-1 alpha-2: the EU, and the WTO for notification feeds whose
#: measures belong to the notifying member (read from the text).
EXTRA_JURISDICTIONS = frozenset({"EU", "WTO"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

#: Keys that only a `kind: html` source takes: how to find the notices in its list page.
HTML_KEYS = (
    "item_selector",
    "title_selector",
    "link_selector",
    "date_selector",
    "date_format",
    "next_selector",
    "max_pages",
)
#: Keys any source takes to read the page each item links to.
FULL_TEXT_KEYS = ("full_text", "content_selector")
FEED_KEYS = ("name", "url", "kind", "jurisdiction", "language", "stale_after_days", *HTML_KEYS, *FULL_TEXT_KEYS)
REQUIRED_KEYS = ("name", "url", "kind", "jurisdiction", "language")
_SELECTOR_KEYS = ("item_selector", "title_selector", "link_selector", "date_selector", "next_selector")
#: The bound on `max_pages`: a list is paginated newest first, so 20 pages is months of notices.
MAX_PAGES = 20
TOP_KEYS = ("feeds", "fetch")
#: The `fetch:` section: limits for every source, each a positive number (retries may be 0).
FETCH_KEYS = {
    "connect_timeout": float,
    "read_timeout": float,
    "total_timeout": float,
    "max_bytes": int,
    "max_redirects": int,
    "retries": int,
    "backoff": float,
    "max_retry_after": float,
}
#: Settings of the `fetch:` section for linked pages (full text, further list pages), kept apart from the
#: per-source limits above: `FeedsConfig.fetch` stays a valid set of FetchLimits arguments.
PAGE_KEYS = {
    "page_delay": float,
    "page_limit": int,
}


@dataclass(frozen=True)
class HtmlSettings:
    """How a `kind: html` source's list page is read: CSS selectors (validated) and pagination.

    item_selector and next_selector apply to the page; the others to each item, and each is optional:
    without title_selector the title is the link's text, without link_selector the first `a[href]` of the
    item, without date_selector the first date written in the item's text.
    """

    item_selector: str
    title_selector: str | None = None
    link_selector: str | None = None
    date_selector: str | None = None
    date_format: str | None = None
    """A strptime format for the date_selector's text; None reads ISO, Chinese/Japanese and D/M/Y dates."""
    next_selector: str | None = None
    max_pages: int = 1
    """List pages read per scan, following next_selector: 1 to MAX_PAGES."""


@dataclass(frozen=True)
class PageSettings:
    """How linked pages are fetched (the `fetch:` section's page_delay and page_limit)."""

    delay: float = 1.0
    """Seconds between two requests to one host, for full-text pages and further list pages."""
    limit: int = 100
    """Full-text pages fetched per source per scan; the rest wait for the next scan."""


@dataclass(frozen=True)
class FeedConfig:
    """One configured source, validated: its url is absolute (http(s):// or file://)."""

    name: str
    url: str
    kind: FeedKind
    jurisdiction: str
    language: str
    stale_after_days: float | None = None
    line: int | None = None
    html: HtmlSettings | None = None
    """The list-page selectors; set exactly when kind is html."""
    full_text: bool = False
    """Fetch each new item's linked page and read its main text."""
    content_selector: str | None = None
    """With full_text: the CSS selector of the notice text in the linked page (else trafilatura finds it)."""


@dataclass(frozen=True)
class FeedsConfig:
    """A validated feeds file: its sources, the fetch limits it sets (defaults for the rest), page settings."""

    path: Path
    feeds: tuple[FeedConfig, ...]
    fetch: dict[str, float | int] = field(default_factory=dict)
    """Only FetchLimits arguments, so `FetchLimits(**config.fetch)` always works."""
    pages: PageSettings = field(default_factory=PageSettings)

    def get(self, name: str) -> FeedConfig | None:
        """The feed called name, if configured."""
        return next((f for f in self.feeds if f.name == name), None)


def is_jurisdiction(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code (upper case), EU or WTO."""
    if code in EXTRA_JURISDICTIONS:
        return True
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


def is_language(code: str) -> bool:
    """True for an ISO 639-1 two-letter language code (lower case)."""
    return len(code) == 2 and code.islower() and pycountry.languages.get(alpha_2=code) is not None


def resolve_url(value: str, base_dir: Path) -> str:
    """Turn a feed url into an absolute URL: http(s) and file URLs as given, plain paths made file:// URLs.

    A relative path is relative to the directory of the feeds file, so a config can be moved with its data.
    Raises ValueError with a user-facing reason for anything else.
    """
    value = value.strip()
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.netloc:
            raise ValueError(f"url {value!r} has no host")
        return value
    if scheme == "file":
        path = Path(parts.path)
        return (path if path.is_absolute() else (base_dir / path)).resolve().as_uri()
    if scheme and len(scheme) > 1:
        raise ValueError(f"url scheme {scheme!r} is not supported (use http://, https://, file:// or a path)")
    path = Path(value).expanduser()
    return (path if path.is_absolute() else base_dir / path).resolve().as_uri()


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_feed(raw: Any, shown: str, line: int | None, base_dir: Path, problems: list[Problem]) -> FeedConfig | None:
    if not isinstance(raw, dict):
        problems.append(
            Problem(shown, line, "each feed must be a mapping with name, url, kind, jurisdiction, language")
        )
        return None
    before = len(problems)

    def at(key: str) -> int | None:
        return line_of(raw, key) if isinstance(raw, Located) else line

    problems.extend(
        Problem(shown, at(key), f"unknown key {key!r}{_suggest(key, FEED_KEYS)}") for key in raw if key not in FEED_KEYS
    )
    label = raw.get("name") or "(unnamed)"
    problems.extend(
        Problem(shown, line, f"feed {label!s}: missing {key!r}") for key in REQUIRED_KEYS if raw.get(key) in (None, "")
    )
    values: dict[str, str] = {}
    for key in REQUIRED_KEYS:
        value = raw.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            # Not type(value).__name__: YAML lists and mappings arrive as the loader's LocatedList / Located.
            kind = "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else None
            problems.append(Problem(shown, at(key), f"{key} must be text, not {kind or type(value).__name__}"))
            continue
        values[key] = value.strip()

    name = values.get("name")
    if name is not None and not _NAME.match(name):
        problems.append(Problem(shown, at("name"), f"name {name!r} must be letters, digits, '.', '_' or '-'"))
    kind = values.get("kind")
    if kind is not None and kind not in {k.value for k in FeedKind}:
        problems.append(
            Problem(shown, at("kind"), f"unknown kind {kind!r}{_suggest(kind, [k.value for k in FeedKind])}")
        )
    jurisdiction = values.get("jurisdiction")
    if jurisdiction is not None and not is_jurisdiction(jurisdiction):
        hint = " (codes are upper case)" if is_jurisdiction(jurisdiction.upper()) else ""
        problems.append(
            Problem(
                shown, at("jurisdiction"), f"jurisdiction {jurisdiction!r} is not ISO 3166-1 alpha-2, EU or WTO{hint}"
            )
        )
    language = values.get("language")
    if language is not None and not is_language(language):
        problems.append(Problem(shown, at("language"), f"language {language!r} is not an ISO 639-1 code (e.g. en, zh)"))
    url = None
    if "url" in values:
        try:
            url = resolve_url(values["url"], base_dir)
        except ValueError as exc:
            problems.append(Problem(shown, at("url"), str(exc)))
    stale = raw.get("stale_after_days")
    if stale is not None and (isinstance(stale, bool) or not isinstance(stale, (int, float)) or stale <= 0):
        problems.append(Problem(shown, at("stale_after_days"), "stale_after_days must be a positive number of days"))
        stale = None
    html = _check_html(raw, kind, label, shown, line, at, problems)
    full_text, content_selector = _check_full_text(raw, shown, at, problems)
    if len(problems) > before:
        return None
    assert name and kind and jurisdiction and language and url
    return FeedConfig(
        name=name,
        url=url,
        kind=FeedKind(kind),
        jurisdiction=jurisdiction,
        language=language,
        stale_after_days=float(stale) if stale is not None else None,
        line=line,
        html=html,
        full_text=full_text,
        content_selector=content_selector,
    )


def selector_problem(selector: str) -> str | None:
    """Why a CSS selector cannot be used (soupsieve's reason, one line), or None when it compiles."""
    import soupsieve  # comes with beautifulsoup4; only needed when a file uses selectors

    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        return str(exc).split("\n", 1)[0]
    except NotImplementedError as exc:  # pseudo-elements (::before) parse but cannot select anything
        return str(exc).split("\n", 1)[0] or "not supported"
    return None


def date_format_problem(value: str) -> str | None:
    """Why a strptime format cannot read dates (no directive, an unknown one), or None when it can."""
    if "%" not in value:
        return "it has no % directive (e.g. '%d/%m/%Y')"
    sample = dt.datetime(2025, 3, 4, 10, 5, 6, tzinfo=dt.UTC)
    try:
        # A round trip finds unknown directives (strptime names them) and ones strftime cannot write.
        dt.datetime.strptime(sample.strftime(value), value)
    except ValueError as exc:
        return str(exc)
    if not any(d in value for d in ("%Y", "%y", "%G")):
        return "it has no year (%Y or %y)"
    return None


def _text_value(raw: Any, key: str, shown: str, at: Any, problems: list[Problem]) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(shown, at(key), f"{key} must be non-empty text"))
        return None
    return value.strip()


def _check_html(
    raw: Any, kind: str | None, label: str, shown: str, line: int | None, at: Any, problems: list[Problem]
) -> HtmlSettings | None:
    """The html keys of one source: only on kind html, item_selector required, selectors compiled."""
    present = [key for key in HTML_KEYS if key in raw]
    if kind != FeedKind.HTML.value:
        if kind in {k.value for k in FeedKind}:
            problems.extend(
                Problem(shown, at(key), f"{key} only applies to kind: html sources (this one is kind: {kind})")
                for key in present
            )
        return None
    values: dict[str, str] = {}
    for key in (*_SELECTOR_KEYS, "date_format"):
        value = _text_value(raw, key, shown, at, problems)
        if value is None:
            continue
        reason = selector_problem(value) if key != "date_format" else date_format_problem(value)
        if reason:
            what = "a valid CSS selector" if key != "date_format" else "a usable strptime format"
            problems.append(Problem(shown, at(key), f"{key} {value!r} is not {what}: {reason}"))
            continue
        values[key] = value
    if raw.get("item_selector") in (None, ""):
        problems.append(
            Problem(shown, line, f"feed {label!s}: kind html needs 'item_selector' (the CSS selector of one notice)")
        )
    if "date_format" in raw and "date_selector" not in raw:
        problems.append(Problem(shown, at("date_format"), "date_format needs date_selector (the element it reads)"))
    pages = raw.get("max_pages", 1)
    if isinstance(pages, bool) or not isinstance(pages, int) or not 1 <= pages <= MAX_PAGES:
        problems.append(Problem(shown, at("max_pages"), f"max_pages must be a whole number from 1 to {MAX_PAGES}"))
        pages = 1
    if pages > 1 and "next_selector" not in raw:
        problems.append(Problem(shown, at("max_pages"), "max_pages needs next_selector (the link to the next page)"))
    if "next_selector" in raw and "max_pages" not in raw:
        problems.append(
            Problem(shown, at("next_selector"), f"next_selector needs max_pages (2 to {MAX_PAGES} pages to follow)")
        )
    if "item_selector" not in values:
        return None
    return HtmlSettings(
        item_selector=values["item_selector"],
        title_selector=values.get("title_selector"),
        link_selector=values.get("link_selector"),
        date_selector=values.get("date_selector"),
        date_format=values.get("date_format"),
        next_selector=values.get("next_selector"),
        max_pages=pages,
    )


def _check_full_text(raw: Any, shown: str, at: Any, problems: list[Problem]) -> tuple[bool, str | None]:
    full_text = raw.get("full_text", False)
    if not isinstance(full_text, bool):
        problems.append(Problem(shown, at("full_text"), "full_text must be true or false"))
        full_text = False
    selector = _text_value(raw, "content_selector", shown, at, problems)
    if selector is not None:
        reason = selector_problem(selector)
        if reason:
            problems.append(
                Problem(
                    shown,
                    at("content_selector"),
                    f"content_selector {selector!r} is not a valid CSS selector: {reason}",
                )
            )
            selector = None
        elif not full_text:
            problems.append(
                Problem(shown, at("content_selector"), "content_selector only applies with full_text: true")
            )
    return full_text, selector


def load_feeds(path: Path | str) -> FeedsConfig:
    """Load and validate a feeds file; raise FileProblems listing every problem found."""
    path = Path(path)
    shown = str(path)
    data = load_yaml(path, display=shown)
    if not isinstance(data, dict):
        raise FileProblems([Problem(shown, line_of(data), "expected a mapping with a 'feeds' list at the top")])
    problems: list[Problem] = []
    problems.extend(
        Problem(shown, line_of(data, key), f"unknown top-level key {key!r}{_suggest(key, TOP_KEYS)}")
        for key in data
        if key not in TOP_KEYS
    )
    fetch, pages = _check_fetch(data.get("fetch"), shown, line_of(data, "fetch"), problems)
    raw_feeds = data.get("feeds")
    if raw_feeds is None:
        problems.append(Problem(shown, line_of(data), "missing 'feeds' (a list of sources)"))
        raw_feeds = []
    elif not isinstance(raw_feeds, list):
        problems.append(Problem(shown, line_of(data, "feeds"), "'feeds' must be a list"))
        raw_feeds = []
    base_dir = path.resolve().parent
    feeds: list[FeedConfig] = []
    seen: dict[str, int | None] = {}
    for index, raw in enumerate(raw_feeds):
        line = line_of(raw_feeds, index)
        feed = _check_feed(raw, shown, line, base_dir, problems)
        name = raw.get("name") if isinstance(raw, dict) else None
        if isinstance(name, str):
            if name in seen:
                problems.append(Problem(shown, line, f"duplicate feed name {name!r} (first at line {seen[name]})"))
                continue
            seen[name] = line
        if feed is not None:
            feeds.append(feed)
    if problems:
        raise FileProblems(problems)
    return FeedsConfig(path=path, feeds=tuple(feeds), fetch=fetch, pages=pages)


def _check_fetch(
    raw: Any, shown: str, line: int | None, problems: list[Problem]
) -> tuple[dict[str, float | int], PageSettings]:
    if raw is None:
        return {}, PageSettings()
    settings = {**FETCH_KEYS, **PAGE_KEYS}
    if not isinstance(raw, dict):
        problems.append(Problem(shown, line, f"'fetch' must be a mapping of limits ({', '.join(settings)})"))
        return {}, PageSettings()
    out: dict[str, float | int] = {}
    for key, value in raw.items():
        at = line_of(raw, key)
        if key not in settings:
            problems.append(Problem(shown, at, f"unknown fetch setting {key!r}{_suggest(key, list(settings))}"))
            continue
        kind = settings[key]
        floor = 0 if key in ("retries", "backoff", "page_delay") else 1e-9
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < floor:
            problems.append(
                Problem(shown, at, f"fetch.{key} must be a {'non-negative' if floor == 0 else 'positive'} number")
            )
            continue
        if kind is int and value != int(value):
            problems.append(Problem(shown, at, f"fetch.{key} must be a whole number"))
            continue
        out[key] = kind(value)
    pages = PageSettings(
        delay=float(out.pop("page_delay", PageSettings.delay)), limit=int(out.pop("page_limit", PageSettings.limit))
    )
    return out, pages
