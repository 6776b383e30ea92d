"""Files users write, broken every usual way: each problem reported with file and line, exit 2, nothing done.

A feeds file with malformed YAML, wrong types or unknown keys, and a copy of the rules directory with one
file broken (a bad token pattern, an unknown category, a bad lexicon reference, a YAML error), given to
`policywatch scan`: every problem is listed at once, the exit code is 2, and the database is not touched:
a new one is not created, an existing one keeps every byte. (Merchant CSVs are another test's subject.)
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Additional duty of 25% on steel products of Canadian origin</title><guid>n-1</guid>
<description>From April 1, 2025, steel products originating in Canada will be subject to an additional ad valorem
duty of 25 percent.</description></item></channel></rss>"""


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture
def existing_db(run, tmp_path) -> Path:
    """A history made by a good scan, so a failed one can be shown to leave it exactly as it was."""
    (tmp_path / "good.xml").write_text(FEED, encoding="utf-8")
    feeds = tmp_path / "good.yaml"
    feeds.write_text("feeds:\n  - {name: good, url: good.xml, kind: feed, jurisdiction: US, language: en}\n")
    db = tmp_path / "history.db"
    assert run("scan", "--feeds", feeds, "--db", db).exit_code == 0
    return db


def assert_refused(run, args: list, db: Path, expected: list[str]) -> str:
    """Run a command that must fail on configuration: exit 2, every expected line, db untouched."""
    before = digest(db)
    runs_before = sqlite3.connect(db).execute("SELECT count(*) FROM runs").fetchone()[0] if before else None
    result = run(*args, "--db", db)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for wanted in expected:
        assert any(wanted in line for line in lines), f"missing {wanted!r} in:\n{result.stderr}"
    assert re.search(r"error: \d+ \w+ problems?; nothing was changed", result.stderr), result.stderr
    assert digest(db) == before  # not created, or not changed by a byte
    if before:
        assert sqlite3.connect(db).execute("SELECT count(*) FROM runs").fetchone()[0] == runs_before
    return result.stderr


# --- feeds.yaml -------------------------------------------------------------------------------------------------

FEEDS_CASES = {
    "malformed-yaml": (
        "feeds:\n  - {name: a, url: a.xml, kind: feed, jurisdiction: US, language: en}\n  - {name: b, url: b.xml\n",
        ["feeds.yaml:4: invalid YAML"],
    ),
    "tab-indentation": (
        "feeds:\n\t- {name: a, url: a.xml, kind: feed, jurisdiction: US, language: en}\n",
        ["feeds.yaml:2: invalid YAML"],
    ),
    "wrong-types": (
        "fetch:\n"
        "  retries: many\n"
        "  read_timeout: -1\n"
        "  max_bytes: 1.5\n"
        "feeds:\n"
        "  - name: 42\n"
        "    url: [a.xml]\n"
        "    kind: feed\n"
        "    jurisdiction: US\n"
        "    language: en\n"
        "    stale_after_days: soon\n"
        "  - just a string\n",
        [
            "feeds.yaml:2: fetch.retries must be a non-negative number",
            "feeds.yaml:3: fetch.read_timeout must be a positive number",
            "feeds.yaml:4: fetch.max_bytes must be a whole number",
            "feeds.yaml:6: name must be text, not int",
            "feeds.yaml:7: url must be text, not a list",
            "feeds.yaml:11: stale_after_days must be a positive number of days",
            "feeds.yaml:12: each feed must be a mapping",
        ],
    ),
    "feeds-not-a-list": ("feeds:\n  a: b\n", ["feeds.yaml:1: 'feeds' must be a list"]),
    "unknown-keys": (
        "fetch: {read_timout: 3}\n"
        "feeds:\n"
        "  - {name: a, url: a.xml, kind: feed, jurisdicton: US, language: en}\n"
        "  - {name: b, url: b.xml, kind: fed, jurisdiction: us, language: english}\n"
        "schedule: daily\n",
        [
            "feeds.yaml:1: unknown fetch setting 'read_timout' (did you mean 'read_timeout'?)",
            "feeds.yaml:3: unknown key 'jurisdicton' (did you mean 'jurisdiction'?)",
            "feeds.yaml:3: feed a: missing 'jurisdiction'",
            "feeds.yaml:4: unknown kind 'fed' (did you mean 'feed'?)",
            "feeds.yaml:4: jurisdiction 'us' is not ISO 3166-1 alpha-2, EU or WTO (codes are upper case)",
            "feeds.yaml:4: language 'english' is not an ISO 639-1 code",
            "feeds.yaml:5: unknown top-level key 'schedule'",
        ],
    ),
    "duplicate-names-and-keys": (
        "feeds:\n"
        "  - {name: a, url: a.xml, kind: feed, jurisdiction: US, language: en}\n"
        "  - {name: a, url: b.xml, kind: feed, jurisdiction: US, language: en, language: fr}\n",
        ["feeds.yaml:3: duplicate key 'language'"],
    ),
    "not-utf8": (b"feeds:\n  - {name: caf\xe9, url: a.xml}\n", ["feeds.yaml: not UTF-8 text"]),
}


@pytest.mark.parametrize("case", list(FEEDS_CASES))
@pytest.mark.parametrize("command", ["scan", "feeds list"])
def test_a_broken_feeds_file_is_reported_line_by_line_and_nothing_is_done(run, tmp_path, existing_db, case, command):
    content, expected = FEEDS_CASES[case]
    feeds = tmp_path / "feeds.yaml"
    if isinstance(content, bytes):
        feeds.write_bytes(content)
    else:
        feeds.write_text(content, encoding="utf-8")
    args = ["scan", "--feeds", feeds] if command == "scan" else ["feeds", "list", "--feeds", feeds]
    expected = [f"{feeds.parent}/{line}" if line.startswith("feeds.yaml") else line for line in expected]
    assert_refused(run, args, tmp_path / "fresh.db", expected)
    assert not (tmp_path / "fresh.db").exists()
    assert_refused(run, args, existing_db, expected)


def test_a_missing_feeds_file_is_a_usage_error(run, tmp_path):
    result = run("scan", "--feeds", tmp_path / "nope.yaml", "--db", tmp_path / "pw.db")
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: file not found" in result.stderr
    assert not (tmp_path / "pw.db").exists()


# --- a rules directory with one file broken --------------------------------------------------------------------


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _replace_on(path: Path, number: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def break_token_pattern(rules: Path) -> tuple[str, str]:
    path = rules / "lexicon.yaml"
    number = _line_of(path, "{LIKE_NUM: true}")
    _replace_on(path, number, "{LIKE_NUM: true}", "{LIKE_NUMBER: true}")
    return f"{path}:{number}:", "invalid token pattern"


def break_category(rules: Path) -> tuple[str, str]:
    path = rules / "tariffs.yaml"
    number = _line_of(path, "category: tariff_increase")
    _replace_on(path, number, "tariff_increase", "tarif_increase")
    return f"{path}:{number}:", "unknown category 'tarif_increase' (did you mean 'tariff_increase'?)"


def break_lexicon_reference(rules: Path) -> tuple[str, str]:
    path = rules / "tariffs.yaml"
    number = _line_of(path, "$raise")
    _replace_on(path, number, "$raise", "$raize")
    return f"{path}:{number}:", "unknown lexicon $raize (did you mean 'raise'?)"


def break_yaml(rules: Path) -> tuple[str, str]:
    path = rules / "de_minimis.yaml"
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n  - id: broken\n    languages: [en\n"
    path.write_text(text, encoding="utf-8")
    return f"{path}:", "invalid YAML"


BREAKS = {
    "token-pattern": break_token_pattern,
    "unknown-category": break_category,
    "lexicon-reference": break_lexicon_reference,
    "yaml-error": break_yaml,
}


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    from policywatch.rules import default_rules_dir

    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


@pytest.fixture
def feeds(tmp_path) -> Path:
    (tmp_path / "one.xml").write_text(FEED, encoding="utf-8")
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - {name: one, url: one.xml, kind: feed, jurisdiction: US, language: en}\n")
    return path


@pytest.mark.parametrize("kind", list(BREAKS))
def test_a_broken_rules_file_stops_the_scan_before_the_database(run, tmp_path, existing_db, rules_copy, feeds, kind):
    where, what = BREAKS[kind](rules_copy)
    expected = [where, what]
    stderr = assert_refused(run, ["scan", "--feeds", feeds, "--rules", rules_copy], tmp_path / "fresh.db", expected)
    assert any(where in line and what in line for line in stderr.splitlines()), stderr
    assert not (tmp_path / "fresh.db").exists()
    assert_refused(run, ["scan", "--feeds", feeds, "--rules", rules_copy], existing_db, expected)
    # The linter names the same place.
    lint = run("rules", "lint", "--rules", rules_copy)
    assert lint.exit_code == 2
    assert any(where in line and what in line for line in lint.stderr.splitlines()), lint.stderr


def test_every_rules_problem_is_reported_at_once(run, tmp_path, rules_copy, feeds):
    """Four files broken four ways: the YAML-level problems are all listed in one run."""
    places = [BREAKS[kind](rules_copy) for kind in ("unknown-category", "lexicon-reference", "yaml-error")]
    stderr = assert_refused(
        run, ["scan", "--feeds", feeds, "--rules", rules_copy], tmp_path / "fresh.db", [w for w, _ in places]
    )
    for where, what in places:
        assert any(where in line and what in line for line in stderr.splitlines()), (where, what, stderr)


def test_a_rules_directory_that_does_not_exist(run, tmp_path, feeds):
    result = run("scan", "--feeds", feeds, "--rules", tmp_path / "no-rules", "--db", tmp_path / "pw.db")
    assert result.exit_code == 2
    assert "rules directory not found" in result.stderr
    assert not (tmp_path / "pw.db").exists()


def test_good_rules_given_with_rules_scan_normally(run, tmp_path, rules_copy, feeds):
    """The control: the unbroken copy scans, so the failures above are the breaks, not --rules."""
    result = run("scan", "--feeds", feeds, "--rules", rules_copy, "--db", tmp_path / "pw.db")
    assert result.exit_code == 0, result.stderr
    assert "1 change" in result.stdout


# The scan in its own process, reporting at exit whether spaCy was imported.
_SPACY_PROBE = r"""
import atexit, sys
probe = sys.argv[1]
atexit.register(lambda: open(probe, "w").write(str(any(m == "spacy" or m.startswith("spacy.") for m in sys.modules))))
sys.argv = ["policywatch", *sys.argv[2:]]
from policywatch.cli import main
main()
"""


def test_checking_rules_up_front_costs_nothing_once_they_have_run(tmp_path, feeds):
    """Rules are compiled before the first scan touches a history, not again while they are unchanged."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_") or k == "POLICYWATCH_RULES"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    db, probe = tmp_path / "pw.db", tmp_path / "probe.txt"
    imported = []
    for _ in range(2):
        args = [sys.executable, "-c", _SPACY_PROBE, str(probe), "scan", "--feeds", str(feeds), "--db", str(db)]
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        imported.append(probe.read_text())
    assert imported == ["True", "False"]  # the second scan has nothing new and these rules already ran here
