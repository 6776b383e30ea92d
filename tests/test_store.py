"""The SQLite store: migrations, refusing files it must not touch, idempotent writes, revisions."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

from policywatch.models import Bulletin, Change
from policywatch.store import SCHEMA_VERSION, ChangeFilter, Store, StoreError


def bulletin(i: int, text: str = "text") -> Bulletin:
    return Bulletin(
        id=f"b{i}",
        feed="f",
        guid=f"g{i}",
        title=f"t{i}",
        link=None,
        published="2025-01-01",
        text=text,
        language="en",
        jurisdiction="US",
        content_hash=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def change(i: int, severity: str = "high", jurisdiction: str = "US") -> Change:
    return Change(
        id=f"c{i}",
        bulletin_id=f"b{i}",
        rule_id="r",
        rules_version="v",
        category="tariff_increase",
        direction="tighten",
        severity=severity,
        jurisdiction=jurisdiction,
        affected_countries=("CN",),
        hs_codes=("8703.80",),
        new_rate_percent=25.0,
        evidence="An additional duty of 25% applies.",
    )


def test_a_new_file_gets_the_whole_schema_in_wal_mode(tmp_path):
    path = tmp_path / "h.db"
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "feeds",
        "bulletins",
        "bulletin_revisions",
        "changes",
        "runs",
        "merchants",
        "sales",
        "scores",
        "pages",
        "schema_migrations",
    } <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    conn.close()


def test_an_older_file_is_migrated_forward(tmp_path):
    path = tmp_path / "old.db"
    with Store.open(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE pages")
    conn.execute("DELETE FROM schema_migrations WHERE version = 3")
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.count("pages") == 0


def test_a_file_from_a_newer_policywatch_is_refused(tmp_path):
    path = tmp_path / "new.db"
    with Store.open(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer policywatch"):
        Store.open(path)


@pytest.mark.parametrize("content", [os.urandom(20000), b"name,revenue\nacme,3\n"])
def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a SQLite database"):
        Store.open(path)
    assert path.read_bytes() == content
    assert not (tmp_path / "x.db-wal").exists()


def test_a_corrupt_sqlite_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "c.db"
    with Store.open(path):
        pass
    data = bytearray(path.read_bytes())
    data[100:4096] = os.urandom(3996)  # keep the header, wreck the schema page
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(StoreError):
        Store.open(path)
    assert path.read_bytes() == before


def test_unusable_locations(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "missing-dir" / "h.db")
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_a_read_only_directory(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="cannot"):
            Store.open(locked / "h.db")
    finally:
        locked.chmod(0o700)


def test_changes_are_stored_once_and_filtered(tmp_path):
    with Store.open(tmp_path / "h.db") as store:
        with store.transaction():
            store.save_bulletins([bulletin(1), bulletin(2)], [], fetched_at="2025-01-02T00:00:00Z")
            first = store.save_changes(
                [change(1), change(2, "low", "EU")], run_id=None, detected_at="2025-01-02T00:00:00Z"
            )
        assert first == ["c1", "c2"]
        with store.transaction():
            again = store.save_changes([change(1), change(1)], run_id=None, detected_at="2025-01-03T00:00:00Z")
        assert again == []
        assert store.count("changes") == 2
        from policywatch.models import Severity

        assert [c.change.id for c in store.query_changes(ChangeFilter(severity_min=Severity.HIGH))] == ["c1"]
        # An EU change applies to every member state's market.
        assert [c.change.id for c in store.query_changes(ChangeFilter(markets=("DE",)))] == ["c2"]
        stored = store.query_changes(ChangeFilter(ids=("c1",)))[0]
        assert stored.change == change(1)
        assert stored.title == "t1"


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    with Store.open(tmp_path / "h.db") as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.save_bulletins([bulletin(1)], [], fetched_at="2025-01-02T00:00:00Z")
            raise RuntimeError("feed broke half way")
        assert store.count("bulletins") == 0


def test_a_revision_keeps_the_previous_text(tmp_path):
    with Store.open(tmp_path / "h.db") as store:
        with store.transaction():
            store.save_bulletins([bulletin(1, "first")], [], fetched_at="2025-01-01T00:00:00Z")
        with store.transaction():
            store.save_bulletins([], [bulletin(1, "second")], fetched_at="2025-02-01T00:00:00Z")
        assert store.bulletin_hashes(["b1"])["b1"][1] == 2
        rows = store.conn.execute("SELECT revision, text FROM bulletin_revisions").fetchall()
        assert rows == [(1, "first")]
