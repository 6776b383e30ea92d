"""The `policywatch` command line: a thin layer that parses options, calls the core and renders results.

Each command group lives in its own module; this one assembles the app and turns foreseeable faults
into clear messages and the exit codes of DESIGN (0 ok, 1 findings, 2 usage/config, 3 operational).
"""

from __future__ import annotations

import os
import sys

import typer

from policywatch.cli import ack as _ack
from policywatch.cli import brief as _brief
from policywatch.cli import changes as _changes
from policywatch.cli import extract as _extract
from policywatch.cli import feeds as _feeds
from policywatch.cli import merchants as _merchants
from policywatch.cli import rules as _rules
from policywatch.cli import scan as _scan
from policywatch.cli import score as _score
from policywatch.cli.common import app


def _register() -> None:
    _scan.register(app)
    _changes.register(app)
    _extract.register(app)
    _ack.register(app)
    app.add_typer(_feeds.feeds_app, name="feeds")
    app.add_typer(_rules.rules_app, name="rules")
    app.add_typer(_merchants.merchants_app, name="merchants")
    _score.register(app)
    _brief.register(app)


_register()


def main() -> None:
    """Entry point of the console script and of `python -m policywatch`."""
    from policywatch.cli.common import report_crash

    try:
        app(prog_name="policywatch")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never a traceback for the user
        if os.environ.get("POLICYWATCH_DEBUG"):
            raise
        report_crash(exc)
        sys.exit(3)


__all__ = ["app", "main", "typer"]
