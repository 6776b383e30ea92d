"""The SQLite history: schema, forward migrations and every query. Nothing else in policywatch writes SQL.

The file is a plain sqlite-utils database, readable by any SQLite tool; `schema_migrations` records which
migrations have run, so an older file is brought forward when a newer policywatch opens it.
"""

from policywatch.store.core import (
    BUSY_TIMEOUT_MS,
    DEFAULT_DB,
    EU_MEMBERS,
    ChangeFilter,
    FeedHealth,
    FeedState,
    Store,
    StoreBusy,
    StoredChange,
    StoreError,
    change_from_row,
    check_location,
    describe_error,
    rules_version_seen,
)
from policywatch.store.schema import MIGRATIONS, SCHEMA_VERSION, utcnow

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DEFAULT_DB",
    "EU_MEMBERS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ChangeFilter",
    "FeedHealth",
    "FeedState",
    "StoreBusy",
    "StoreError",
    "Store",
    "StoredChange",
    "change_from_row",
    "check_location",
    "describe_error",
    "rules_version_seen",
    "utcnow",
]
