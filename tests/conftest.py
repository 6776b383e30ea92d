"""Shared fixtures: the CLI runner, paths to the project's own data and to ../shared (when present)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RULES = ROOT / "rules"
ASSETS = Path(__file__).resolve().parent / "assets"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "bulletins-dev.jsonl"


class Runner:
    """Runs policywatch commands in-process, as a user would type them, with fresh consoles each time."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None):
        from policywatch.cli import app
        from policywatch.cli.common import reset_consoles

        reset_consoles()
        result = self.runner.invoke(app, [str(a) for a in args], input=input, env=env, catch_exceptions=False)
        reset_consoles()
        return result


@pytest.fixture(autouse=True)
def _no_ci_job_summary(monkeypatch):
    """Tests never write to a real CI job summary, whatever environment they run in."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """Every local HTTP server listens on 127.0.0.1 (an ephemeral port): tests never leave the machine."""
    return ("127.0.0.1", 0)


@pytest.fixture
def run() -> Runner:
    """`run("scan", "--feeds", ...)` returns click's Result (exit_code, stdout, stderr)."""
    return Runner()


@pytest.fixture(scope="session")
def engine():
    """The bundled rules, compiled once for the whole test session."""
    from policywatch.extract.engine import Engine
    from policywatch.rules import load_rules

    ruleset, problems = load_rules(RULES)
    assert not problems, problems
    return Engine(ruleset)


def corpus_rows() -> list[dict]:
    """The labelled dev corpus from ../shared, or skip the test where it is absent."""
    if not CORPUS.exists():
        pytest.skip("../shared/corpus is not present on this machine")
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
