"""The command line as a whole: every command documented, help without heavy imports, python -m."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def commands(app) -> list[list[str]]:
    """Every command path of the typer app, e.g. ["scan"], ["rules", "test"]."""
    import typer.main

    root = typer.main.get_command(app)
    paths = []

    def walk(group, prefix):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, [*prefix, name])
            else:
                paths.append([*prefix, name])

    walk(root, [])
    return paths


def test_every_command_has_help(run):
    from policywatch.cli import app

    paths = commands(app)
    assert ["scan"] in paths and ["rules", "test"] in paths and ["feeds", "list"] in paths
    for path in paths:
        result = run(*path, "--help")
        assert result.exit_code == 0, path
        # The first help line is the command's own description, not an empty docstring.
        assert "Usage:" in result.stdout and len(result.stdout.splitlines()) > 4, path


def test_help_loads_neither_spacy_nor_sqlite_utils():
    code = (
        "import sys, runpy; sys.argv = ['policywatch', '--help']\n"
        "try:\n    runpy.run_module('policywatch', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in ('spacy', 'sqlite_utils', 'bs4', 'feedparser', 'httpx') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout[-400:]


def test_python_dash_m_runs_the_cli(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "policywatch", "changes", "--db", str(tmp_path / "none.db"), "--format", "json"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout) == []
    assert not (tmp_path / "none.db").exists()  # reading never creates a database


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["changes", "--severity-min", "severe"], 2, "unknown severity 'severe'"),
        (["changes", "--since", "yesterday"], 2, "--since 'yesterday'"),
        (["changes", "--category", "tariffs"], 2, "--category 'tariffs' is not one of"),
        (["scan", "--feeds", "missing.yaml"], 2, "missing.yaml: file not found"),
        (["scan", "--format", "xml", "--feeds", "feeds.yaml"], 2, "'xml' is not one of"),
    ],
)
def test_usage_errors_exit_2_with_a_message(run, tmp_path, args, code, message):
    result = run(*args, "--db", tmp_path / "x.db")
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_database_is_exit_3_and_untouched(run, tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"\x00garbage" * 1000)
    result = run("changes", "--db", path, "--format", "json")
    assert result.exit_code == 3
    assert "not a SQLite database" in result.stderr and result.stdout == ""
    assert path.read_bytes() == b"\x00garbage" * 1000
