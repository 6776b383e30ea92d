"""The reviewed-changes file and the CI gate decision."""

from __future__ import annotations

import datetime as dt

import pytest

from policywatch.models import Change, Severity
from policywatch.store import StoredChange
from policywatch.suppressions import Suppression, append_suppression, apply_gate, load_suppressions
from policywatch.yamlio import FileProblems

TODAY = dt.date(2026, 12, 1)


def stored(change_id: str, severity: str) -> StoredChange:
    change = Change(id=change_id, bulletin_id="b", rule_id="r", rules_version="v", category="tariff_increase",
                    direction="tighten", severity=severity, jurisdiction="US")
    return StoredChange(change=change, detected_at="2026-12-01T00:00:00Z", run_id=1, feed="f", title="t", link=None,
                        published=None)


def test_append_creates_reads_back_and_keeps_comments(tmp_path):
    path = tmp_path / ".policywatch-ignore.yaml"
    append_suppression(path, Suppression(id="a" * 16, reason='Steel only: "we sell none"', reviewed_by="ana"))
    text = path.read_text()
    assert text.startswith("# Changes reviewed as harmless")
    path.write_text(text + "# reviewed in the weekly call\n")
    append_suppression(path, Suppression(id="b" * 16, reason="Expires soon", reviewed_by="bo",
                                         reviewed_at=dt.date(2026, 11, 30), expires=dt.date(2027, 1, 31)))
    assert "# reviewed in the weekly call" in path.read_text()
    entries = load_suppressions(path)
    assert [e.id for e in entries] == ["a" * 16, "b" * 16]
    assert entries[0].reason == 'Steel only: "we sell none"'
    assert entries[1].expires == dt.date(2027, 1, 31) and entries[1].line == 8
    with pytest.raises(ValueError, match="already reviewed"):
        append_suppression(path, Suppression(id="a" * 16, reason="again", reviewed_by="ana"))


def test_a_missing_file_suppresses_nothing(tmp_path):
    assert load_suppressions(tmp_path / "none.yaml") == ()


def test_every_bad_entry_is_reported_with_its_line(tmp_path):
    path = tmp_path / "ignore.yaml"
    path.write_text(
        "suppressions:\n"
        "  - id: not-an-id\n    reason: x\n    reviewed_by: y\n"
        "  - id: aaaaaaaaaaaaaaaa\n    reviewed_by: y\n"
        "  - id: bbbbbbbbbbbbbbbb\n    reason: x\n    reviewed_by: y\n    expires: next week\n    note: hi\n"
    )
    with pytest.raises(FileProblems) as caught:
        load_suppressions(path)
    messages = [str(p) for p in caught.value.problems]
    assert f"{path}:2: id 'not-an-id' is not a change id" in messages
    assert f"{path}:5: missing reason" in messages
    assert f"{path}:10: expires 'next week' is not a date (YYYY-MM-DD)" in messages
    assert f"{path}:11: unknown key 'note' (use id, reason, reviewed_by, reviewed_at, expires)" in messages
    before = path.read_text()
    with pytest.raises(FileProblems):
        append_suppression(path, Suppression(id="c" * 16, reason="x", reviewed_by="y"))
    assert path.read_text() == before  # a broken file is never written to


def test_the_gate_fails_on_unreviewed_changes_at_or_above_the_level():
    changes = [stored("1" * 16, "critical"), stored("2" * 16, "high"), stored("3" * 16, "medium")]
    reviews = [
        Suppression(id="1" * 16, reason="harmless", reviewed_by="ana"),
        Suppression(id="2" * 16, reason="was harmless", reviewed_by="ana", expires=dt.date(2026, 11, 30)),
    ]
    outcome = apply_gate(changes, Severity.HIGH, reviews, TODAY)
    assert [c.change.id for c in outcome.failing] == ["2" * 16]  # its review expired yesterday
    assert [c.change.id for c, _ in outcome.suppressed] == ["1" * 16]
    assert [e.id for e in outcome.expired] == ["2" * 16]
    assert outcome.failed
    assert not apply_gate(changes[2:], Severity.HIGH, reviews, TODAY).failed  # medium is below the level
    # A review expiring today still holds today.
    last_day = [Suppression(id="2" * 16, reason="x", reviewed_by="y", expires=TODAY)]
    assert not apply_gate(changes[1:2], Severity.HIGH, last_day, TODAY).failed
