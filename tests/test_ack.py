"""`policywatch ack`: reviews land in the file beside feeds.yaml, and bad input changes nothing."""

from __future__ import annotations

from policywatch.suppressions import load_suppressions


def test_ack_writes_beside_the_feeds_file(run, tmp_path):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds: []\n")
    result = run("ack", "0123456789abcdef", "--reason", "Steel only; we sell none.", "--by", "ana",
                 "--expires", "2099-01-31", "--feeds", feeds, "--db", tmp_path / "none.db")
    assert result.exit_code == 0, result.stderr
    (entry,) = load_suppressions(tmp_path / ".policywatch-ignore.yaml")
    assert (entry.id, entry.reason, entry.reviewed_by, str(entry.expires)) == (
        "0123456789abcdef", "Steel only; we sell none.", "ana", "2099-01-31")
    assert "recorded in" in result.stderr
    again = run("ack", "0123456789abcdef", "--reason", "again", "--feeds", feeds)
    assert again.exit_code == 2 and "already reviewed" in again.stderr


def test_ack_refuses_bad_input(run, tmp_path):
    ignore = tmp_path / "ignore.yaml"
    assert run("ack", "xyz", "--reason", "r", "--ignore-file", ignore).exit_code == 2
    assert run("ack", "0123456789abcdef", "--reason", " ", "--ignore-file", ignore).exit_code == 2
    bad_date = run("ack", "0123456789abcdef", "--reason", "r", "--expires", "soon", "--ignore-file", ignore)
    assert bad_date.exit_code == 2 and "not a date" in bad_date.stderr
    assert not ignore.exists()
    ignore.write_text("suppressions:\n  - id: 1\n")
    broken = run("ack", "0123456789abcdef", "--reason", "r", "--ignore-file", ignore)
    assert broken.exit_code == 2 and f"{ignore}:2: id 1 is not a change id" in broken.stderr
    assert ignore.read_text() == "suppressions:\n  - id: 1\n"
