"""`policywatch scan` end to end: the bundled example offline, and feeds served over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import EXAMPLES
from support import OUTAGE, RSS, TARIFF


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("bulletins", "changes", "feeds")}
    finally:
        conn.close()


def test_example_scan_twice_is_idempotent(run, tmp_path):
    db = tmp_path / "pw.db"
    first = run("scan", "--feeds", EXAMPLES / "feeds.yaml", "--db", db)
    assert first.exit_code == 0, first.stderr
    after_first = counts(db)
    assert after_first["bulletins"] >= 20
    assert after_first["changes"] >= 10
    assert "New changes" in first.stdout
    assert f"New: {after_first['bulletins']} bulletins, {after_first['changes']} changes" in first.stdout

    second = run("scan", "--feeds", EXAMPLES / "feeds.yaml", "--db", db)
    assert second.exit_code == 0
    assert counts(db) == after_first
    assert "Nothing new since the last scan" in second.stdout
    assert f"0 read, {after_first['feeds']} unchanged, 0 failed" in second.stdout

    listed = run("changes", "--db", db, "--format", "json")
    records = json.loads(listed.stdout)
    assert len(records) == after_first["changes"]
    assert {"id", "category", "severity", "jurisdiction", "evidence", "rule_id", "title"} <= set(records[0])


def test_json_output_is_json_alone(run, tmp_path):
    result = run("scan", "--feeds", EXAMPLES / "feeds.yaml", "--db", tmp_path / "pw.db", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["summary"]["new_bulletins"] >= len({c["bulletin_id"] for c in data["changes"]}) > 0
    assert data["summary"]["new_changes"] == len(data["changes"])
    assert data["summary"]["feeds_failed"] == 0
    assert all(c["id"] and c["category"] for c in data["changes"])


@pytest.fixture
def served(httpserver, tmp_path):
    """Three feeds on 127.0.0.1: one good, one answering 304 to a conditional GET, one failing with 500."""
    good = RSS.format(items=TARIFF + OUTAGE)
    httpserver.expect_request("/good.xml").respond_with_data(good, content_type="application/rss+xml")
    httpserver.expect_request("/cached.xml", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    httpserver.expect_request("/cached.xml").respond_with_data(
        RSS.format(items=""), content_type="application/rss+xml", headers={"ETag": '"v1"'}
    )
    httpserver.expect_request("/broken.xml").respond_with_data("oops", status=500)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "fetch: {retries: 1, backoff: 0.01}\nfeeds:\n"
        + "".join(
            f"  - {{name: {name}, url: '{httpserver.url_for(f'/{name}.xml')}', kind: feed, jurisdiction: US,"
            " language: en}\n"
            for name in ("good", "cached", "broken")
        ),
        encoding="utf-8",
    )
    return feeds


def test_http_feeds_good_not_modified_and_failing(run, served, tmp_path):
    db = tmp_path / "pw.db"
    first = run("scan", "--feeds", served, "--db", db)
    assert first.exit_code == 0, first.stderr  # one broken feed never stops the others
    assert "2 read, 0 unchanged, 1 failed" in first.stdout
    assert "failed: broken: HTTP 500" in first.stdout
    conn = sqlite3.connect(db)
    rows = dict(conn.execute("SELECT name, last_status FROM feeds").fetchall())
    assert rows == {"good": "ok", "cached": "ok", "broken": "failed"}
    (category, severity, rate) = conn.execute(
        "SELECT category, severity, new_rate_percent FROM changes"
    ).fetchone()  # the outage notice yields no change
    assert (category, rate) == ("tariff_increase", 25.0)
    etag = conn.execute("SELECT etag FROM feeds WHERE name = 'cached'").fetchone()[0]
    assert etag == '"v1"'
    conn.close()

    second = run("scan", "--feeds", served, "--db", db)
    assert second.exit_code == 0
    assert "0 read, 2 unchanged, 1 failed" in second.stdout  # cached answered 304, good had the same bytes
    conn = sqlite3.connect(db)
    assert dict(conn.execute("SELECT name, last_status FROM feeds").fetchall())["cached"] == "not_modified"
    assert conn.execute("SELECT consecutive_failures FROM feeds WHERE name = 'broken'").fetchone()[0] == 2
    conn.close()

    listed = run("feeds", "list", "--feeds", served, "--db", db, "--format", "json")
    health = {row["name"]: row for row in json.loads(listed.stdout)}
    assert health["broken"]["health"] == "failing (2x)"
    assert health["broken"]["last_http_status"] == 500
    assert "HTTP 500" in health["broken"]["last_error"]
    assert health["good"]["items"] == 2 and health["good"]["health"] == "ok"


def test_every_feed_failing_is_an_operational_failure(run, httpserver, tmp_path):
    httpserver.expect_request("/gone.xml").respond_with_data("", status=404)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        f"feeds:\n  - {{name: gone, url: '{httpserver.url_for('/gone.xml')}', kind: feed, jurisdiction: GB, "
        "language: en}\n",
        encoding="utf-8",
    )
    result = run("scan", "--feeds", feeds, "--db", tmp_path / "pw.db")
    assert result.exit_code == 3
    assert "no feed could be read" in result.stderr


def test_fail_on_exits_1_for_new_changes_at_or_above_the_level(run, served, tmp_path):
    db = tmp_path / "pw.db"
    result = run("scan", "--feeds", served, "--db", db, "--fail-on", "medium")
    assert result.exit_code == 1
    # Nothing new the second time, so nothing to fail on.
    assert run("scan", "--feeds", served, "--db", db, "--fail-on", "medium").exit_code == 0
    assert run("scan", "--feeds", served, "--db", db, "--fail-on", "severe").exit_code == 2


def test_a_revised_item_keeps_its_old_text(run, httpserver, tmp_path):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        f"feeds:\n  - {{name: t, url: '{httpserver.url_for('/t.xml')}', kind: feed, jurisdiction: US, language: en}}\n",
        encoding="utf-8",
    )
    db = tmp_path / "pw.db"
    httpserver.expect_oneshot_request("/t.xml").respond_with_data(RSS.format(items=TARIFF))
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    httpserver.expect_oneshot_request("/t.xml").respond_with_data(
        RSS.format(items=TARIFF.replace("25 percent", "35 percent"))
    )
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*), max(revision) FROM bulletins").fetchone() == (1, 2)
    (old_text,) = conn.execute("SELECT text FROM bulletin_revisions").fetchone()
    assert "25 percent" in old_text
    assert conn.execute("SELECT count(*) FROM changes").fetchone()[0] == 2  # the new reading is a new change
    conn.close()
