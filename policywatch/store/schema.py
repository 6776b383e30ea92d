"""The schema, as a list of forward migrations; `schema_migrations` in each file records which have run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


def utcnow() -> str:
    """The current UTC time as ISO 8601 with seconds and a Z."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _m1_initial(db: sqlite_utils.Database) -> None:
    db["feeds"].create(
        {
            "name": str,
            "url": str,
            "kind": str,
            "jurisdiction": str,
            "language": str,
            "etag": str,
            "last_modified": str,
            "body_sha256": str,
            "last_fetched_at": str,
            "last_success_at": str,
            "last_new_item_at": str,
            "last_status": str,
            "last_http_status": int,
            "last_error": str,
            "consecutive_failures": int,
        },
        pk="name",
        defaults={"consecutive_failures": 0},
    )
    db["bulletins"].create(
        {
            "id": str,
            "feed": str,
            "guid": str,
            "title": str,
            "link": str,
            "published": str,
            "text": str,
            "content_hash": str,
            "language": str,
            "jurisdiction": str,
            "fetched_at": str,
            "updated_at": str,
            "revision": int,
        },
        pk="id",
        defaults={"revision": 1},
    )
    db["bulletin_revisions"].create(
        {"bulletin_id": str, "revision": int, "title": str, "text": str, "content_hash": str, "fetched_at": str},
        pk=("bulletin_id", "revision"),
    )
    db["runs"].create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "feeds_file": str,
            "status": str,
            "feeds_ok": int,
            "feeds_unchanged": int,
            "feeds_failed": int,
            "new_bulletins": int,
            "revised_bulletins": int,
            "new_changes": int,
        },
        pk="id",
    )
    db["changes"].create(
        {
            "id": str,
            "bulletin_id": str,
            "rule_id": str,
            "rules_version": str,
            "category": str,
            "direction": str,
            "severity": str,
            "severity_rank": int,
            "jurisdiction": str,
            "affected_countries": str,
            "hs_codes": str,
            "new_rate_percent": float,
            "old_rate_percent": float,
            "effective_date": str,
            "evidence": str,
            "detected_at": str,
            "run_id": int,
        },
        pk="id",
    )
    db["bulletins"].create_index(["feed"])
    db["bulletins"].create_index(["published"])
    for columns in (["bulletin_id"], ["detected_at"], ["jurisdiction"], ["category"], ["run_id"], ["effective_date"]):
        db["changes"].create_index(columns)


def _m2_merchants(db: sqlite_utils.Database) -> None:
    db["merchants"].create({"id": str, "name": str, "currency": str, "imported_at": str, "source": str}, pk="id")
    db["sales"].create(
        {
            "merchant_id": str,
            "period": str,
            "market": str,
            "hs_code": str,
            "origin": str,
            "revenue": float,
            "currency": str,
        },
        pk=("merchant_id", "period", "market", "hs_code", "origin"),
    )
    db["sales"].create_index(["market"])
    db["scores"].create(
        {
            "id": int,
            "merchant_id": str,
            "scored_at": str,
            "score": float,
            "level": str,
            "top_driver": str,
            "details": str,
        },
        pk="id",
    )
    db["scores"].create_index(["merchant_id", "scored_at"])


def _m3_pages(db: sqlite_utils.Database) -> None:
    # Reviewed changes are not stored here: they live in .policywatch-ignore.yaml, committed beside
    # feeds.yaml, because a CI job starts without a database (see policywatch/suppressions.py).
    db["pages"].create(
        {
            "url": str,
            "etag": str,
            "last_modified": str,
            "fetched_at": str,
            "status": str,
            "http_status": int,
            "text": str,
            "content_hash": str,
            "error": str,
        },
        pk="url",
    )


MIGRATIONS: tuple[tuple[int, str, Callable[[sqlite_utils.Database], None]], ...] = (
    (1, "initial schema", _m1_initial),
    (2, "merchants, sales and score snapshots", _m2_merchants),
    (3, "the full-text page cache", _m3_pages),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
