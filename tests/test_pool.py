"""The extraction worker pool gives exactly what in-process extraction gives, in the same order, and a scan
that uses it stores the same changes as one that does not."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
from conftest import ASSETS, EXAMPLES

from policywatch.evaluate import read_jsonl
from policywatch.extract import pool as pool_module
from policywatch.extract.pool import PooledExtractor, workers_available
from policywatch.pipeline import Done

pytestmark = pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(), reason="the pool forks"
)


@pytest.fixture(scope="module")
def documents():
    rows = list(read_jsonl(ASSETS / "holdout.jsonl"))
    return [row.document for row in rows]


def test_pooled_extract_equals_in_process_extract_in_order(engine, documents):
    expected = list(engine.extract(documents))
    assert sum(len(found) for found in expected) > 10  # the comparison is over real changes, not empties
    pooled = PooledExtractor(engine, 2, min_batch=1, chunk=7)
    try:
        assert list(pooled.extract(documents)) == expected
    finally:
        pooled.close()
    assert pooled._pool is None


def test_submit_stays_in_process_until_the_scan_has_seen_min_batch(engine, documents):
    pooled = PooledExtractor(engine, 2, min_batch=30, chunk=5)
    try:
        first = pooled.submit(documents[:20])
        assert isinstance(first, Done) and pooled._pool is None
        second = pooled.submit(documents[20:40])
        assert not isinstance(second, Done) and pooled._pool is not None
        assert first.get() + second.get() == list(engine.extract(documents[:40]))
    finally:
        pooled.close()
        pooled.close()  # idempotent


def test_no_workers_means_in_process(engine, documents):
    pooled = PooledExtractor(engine, 0, min_batch=1)
    assert isinstance(pooled.submit(documents[:3]), Done)
    assert list(pooled.extract(documents[:3])) == list(engine.extract(documents[:3]))
    assert pooled._pool is None


@pytest.mark.parametrize(("setting", "expected"), [("0", 0), ("3", 3)])
def test_workers_setting(monkeypatch, setting, expected):
    monkeypatch.setenv("POLICYWATCH_WORKERS", setting)
    assert workers_available() == expected


def test_workers_default_is_at_most_two(monkeypatch):
    monkeypatch.delenv("POLICYWATCH_WORKERS", raising=False)
    assert 0 <= workers_available() <= 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert workers_available() == 0


def stored_changes(db):
    with sqlite3.connect(db) as connection:
        return sorted(connection.execute("select id, category, direction, evidence from changes").fetchall())


def test_a_scan_on_workers_stores_what_an_in_process_scan_stores(run, tmp_path, monkeypatch):
    # The threshold is lowered so that every batch of the example scan goes to the workers.
    monkeypatch.setattr(pool_module, "MIN_BATCH", 1)
    started = []
    get_pool = PooledExtractor._get_pool
    monkeypatch.setattr(PooledExtractor, "_get_pool", lambda self: started.append(self) or get_pool(self))
    results = {}
    for workers in ("0", "2"):
        db = tmp_path / f"w{workers}.db"
        result = run("scan", "--feeds", EXAMPLES / "feeds.yaml", "--db", db, "--format", "json",
                     env={"POLICYWATCH_WORKERS": workers})
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        results[workers] = (stored_changes(db), report["summary"]["new_changes"],
                            [change["id"] for change in report["changes"]])
    assert started, "the scan with two workers never started them"
    assert results["0"][0], "the example scan found no changes"
    assert results["2"] == results["0"]


def test_a_worker_killed_mid_scan_does_not_hang_it(engine, documents, caplog):
    """The out-of-memory killer takes a worker: the batches it held are extracted here, and so is the rest."""
    import signal
    import time

    pooled = PooledExtractor(engine, 2, min_batch=1, chunk=4)
    try:
        first = pooled.submit(documents[:8])
        assert first.get() == list(engine.extract(documents[:8]))
        for process in list(pooled._pool._processes.values()):
            os.kill(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not pooled._pool._broken and time.monotonic() < deadline:
            time.sleep(0.05)
        with caplog.at_level("WARNING", logger="policywatch"):
            second = pooled.submit(documents[8:30])
            assert second.get() == list(engine.extract(documents[8:30]))
        assert pooled.workers == 0 and pooled._pool is None
        assert "extraction worker died" in caplog.text
        assert isinstance(pooled.submit(documents[30:33]), Done)
    finally:
        pooled.close()


def test_the_pool_stops_with_close(engine, documents):
    pooled = PooledExtractor(engine, 2, min_batch=1)
    pooled.submit(documents[:4]).get()
    processes = list(pooled._pool._processes.values())
    pooled.close()
    assert all(not process.is_alive() for process in processes)
