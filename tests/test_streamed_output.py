"""Big reports are written as they are encoded: the pieces are exactly the JSON a whole dump gives, and a
scan's report reads its new changes back from the history instead of holding them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import EXAMPLES
from hypothesis import given
from hypothesis import strategies as st

from policywatch.report.formats import Streamed, json_chunks, to_json

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)


@given(st.dictionaries(st.text(), values, max_size=5))
def test_streaming_lists_of_an_object_gives_the_same_json(report):
    expected = to_json(report) + "\n"
    assert "".join(json_chunks(report)) == expected
    streamed = {key: Streamed(iter(value)) if isinstance(value, list) else value for key, value in report.items()}
    assert "".join(json_chunks(streamed)) == expected


@given(st.lists(values, max_size=5))
def test_a_streamed_top_level_list_gives_the_same_json(items):
    assert "".join(json_chunks(Streamed(iter(items)))) == to_json(items) + "\n"


def test_streamed_items_are_produced_while_writing():
    produced = []

    def items():
        for n in range(3):
            produced.append(n)
            yield {"n": n}

    chunks = json_chunks({"head": 1, "items": Streamed(items())})
    first = next(chunks)
    assert produced == [] and first == "{"
    assert json.loads(first + "".join(chunks)) == {"head": 1, "items": [{"n": 0}, {"n": 1}, {"n": 2}]}


def test_a_scan_lists_at_most_changes_shown_in_its_table_and_every_change_in_json(run, tmp_path, monkeypatch):
    from policywatch.cli import scan

    monkeypatch.setattr(scan, "CHANGES_SHOWN", 5)
    db = tmp_path / "pw.db"
    result = run("scan", "--feeds", EXAMPLES / "feeds.yaml", "--db", db)
    assert result.exit_code == 0, result.stderr
    total = int(result.stdout.split(" bulletins, ")[1].split(" change")[0])
    assert total > 5
    assert f"... and {total - 5} more" in result.stdout
    listed = run("changes", "--db", db, "--format", "json")
    assert len(json.loads(listed.stdout)) == total


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_scan_lists_its_new_changes_as_jsonl_and_csv_with_the_counts_on_stderr(run, tmp_path, fmt):
    result = run("scan", "--feeds", EXAMPLES / "feeds.yaml", "--db", tmp_path / "pw.db", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    listed = run("changes", "--db", tmp_path / "pw.db", "--format", fmt)
    assert result.stdout == listed.stdout  # the first scan's new changes are the whole history
    lines = result.stdout.splitlines()
    if fmt == "jsonl":
        assert all(json.loads(line)["id"] for line in lines)
        count = len(lines)
    else:
        assert lines[0].startswith("id,")
        count = len(list(csv.DictReader(io.StringIO(result.stdout))))
    assert count > 10
    assert f"new: 84 bulletins, {count} changes" in result.stderr
