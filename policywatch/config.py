"""Loading and validating feeds.yaml: every problem reported at once, each with file and line."""

from __future__ import annotations

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

FEED_KEYS = ("name", "url", "kind", "jurisdiction", "language", "stale_after_days")
REQUIRED_KEYS = ("name", "url", "kind", "jurisdiction", "language")
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


@dataclass(frozen=True)
class FeedsConfig:
    """A validated feeds file: its sources, and the fetch limits it sets (defaults for the rest)."""

    path: Path
    feeds: tuple[FeedConfig, ...]
    fetch: dict[str, float | int] = field(default_factory=dict)

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
            problems.append(Problem(shown, at(key), f"{key} must be text, not {type(value).__name__}"))
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
    elif kind == FeedKind.HTML.value:
        problems.append(Problem(shown, at("kind"), "kind 'html' is not supported yet (use 'feed')"))
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
    )


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
    fetch = _check_fetch(data.get("fetch"), shown, line_of(data, "fetch"), problems)
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
    return FeedsConfig(path=path, feeds=tuple(feeds), fetch=fetch)


def _check_fetch(raw: Any, shown: str, line: int | None, problems: list[Problem]) -> dict[str, float | int]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(Problem(shown, line, f"'fetch' must be a mapping of limits ({', '.join(FETCH_KEYS)})"))
        return {}
    out: dict[str, float | int] = {}
    for key, value in raw.items():
        at = line_of(raw, key)
        if key not in FETCH_KEYS:
            problems.append(Problem(shown, at, f"unknown fetch setting {key!r}{_suggest(key, list(FETCH_KEYS))}"))
            continue
        kind = FETCH_KEYS[key]
        floor = 0 if key in ("retries", "backoff") else 1e-9
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < floor:
            problems.append(
                Problem(shown, at, f"fetch.{key} must be a {'non-negative' if floor == 0 else 'positive'} number")
            )
            continue
        if kind is int and value != int(value):
            problems.append(Problem(shown, at, f"fetch.{key} must be a whole number"))
            continue
        out[key] = kind(value)
    return out
