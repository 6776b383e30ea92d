"""The full-text page cache: the `pages` table (migration 3), one row per linked page URL.

A row keeps the page's last good text with the validators it came with (ETag, Last-Modified), so a page
is read again only by conditional GET, and its last outcome: status "ok", or "failed" with the reason in
`error` (a failed refresh keeps the earlier text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from policywatch.store.core import Store

__all__ = ["CachedPage", "cached_pages", "save_page"]

_COLUMNS = ("url", "etag", "last_modified", "fetched_at", "status", "http_status", "text", "content_hash", "error")


@dataclass(frozen=True)
class CachedPage:
    """A `pages` row."""

    url: str
    etag: str | None
    last_modified: str | None
    fetched_at: str | None
    status: str | None
    """"ok" or "failed" (the last attempt)."""
    http_status: int | None
    text: str | None
    """The last text read from the page; kept when a later attempt fails."""
    content_hash: str | None
    error: str | None
    """Why the last attempt failed; None after a success."""

    @property
    def retryable(self) -> bool:
        """A failure a later scan may retry: no response, a timeout or overload, a server error (not a 404)."""
        return self.status == "failed" and (
            self.http_status is None or self.http_status in (408, 429) or self.http_status >= 500
        )


def cached_pages(store: Store, urls: Iterable[str]) -> dict[str, CachedPage]:
    """The cached rows for the given URLs (those that have one), by URL."""
    wanted = list(dict.fromkeys(urls))
    out: dict[str, CachedPage] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in store.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM pages WHERE url IN ({marks})", chunk):
            out[row[0]] = CachedPage(*row)
    return out


def save_page(
    store: Store,
    url: str,
    *,
    fetched_at: str,
    status: str,
    http_status: int | None,
    etag: str | None = None,
    last_modified: str | None = None,
    text: str | None = None,
    content_hash: str | None = None,
    error: str | None = None,
) -> None:
    """Record an attempt at url: columns given as None keep their stored values, except error and status.

    So a 304 or a failure leaves the cached text (and its hash) in place, and a success clears the error.
    """
    kept = {"etag": etag, "last_modified": last_modified, "text": text, "content_hash": content_hash}
    row: dict[str, object] = {
        "url": url,
        "fetched_at": fetched_at,
        "status": status,
        "http_status": http_status,
        "error": error,
        **{column: value for column, value in kept.items() if value is not None},
    }
    store.db["pages"].upsert(row, pk="url")
