"""`policywatch rules list|test|lint`: the rule files, their embedded examples, and their problems."""

from __future__ import annotations

from typing import Annotated

import typer

from policywatch.cli.common import RulesOption, fail, fail_problems, load_engine, message, out
from policywatch.models import ExitCode

rules_app = typer.Typer(help="The extraction rules: list them, run their examples, lint them.", no_args_is_help=True)


@rules_app.command("list")
def list_rules(rules: RulesOption = None) -> None:
    """Every rule: id, kind, category, languages, examples, where it is defined."""
    from rich.table import Table

    from policywatch.report.safe import terminal

    engine = load_engine(rules)
    table = Table(header_style="bold", title=f"{len(engine.ruleset.rules)} rules (version {engine.ruleset.version})")
    for column in ("Rule", "Kind", "Category", "Direction", "Languages", "Examples", "Defined at"):
        table.add_column(column)
    for rule in engine.ruleset.rules:
        table.add_row(
            terminal(rule.id),
            rule.kind,
            rule.category or "-",
            rule.direction or "-",
            ", ".join(rule.languages),
            str(len(rule.tests)),
            terminal(rule.where),
        )
    out().print(table)


@rules_app.command("test")
def test_rules(
    rules: RulesOption = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Only this rule's examples. Repeatable.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show passing examples too.")] = False,
) -> None:
    """Run every rule's embedded examples: `match` must fire, `no_match` must not; `todo` is reported only."""
    from policywatch.report.safe import plain, terminal
    from policywatch.rule_tests import run_rule_tests

    engine = load_engine(rules)
    outcomes = run_rule_tests(engine, set(rule) if rule else None)
    failed = [o for o in outcomes if o.failed]
    todo_open = [o for o in outcomes if o.test.kind == "todo" and not o.passed]
    todo_fixed = [o for o in outcomes if o.test.kind == "todo" and o.passed]
    for outcome in outcomes:
        example = plain(outcome.test.title or outcome.test.text, 70)
        if outcome.failed:
            line = terminal(
                f"FAIL {outcome.where} {outcome.rule.id} [{outcome.test.kind}] {example!r}: {outcome.detail}"
            )
            line.stylize("red")
        elif outcome.test.kind == "todo":
            state = "todo fixed, promote it to match" if outcome.passed else "todo"
            line = terminal(f"{state} {outcome.where} {outcome.rule.id} {example!r}: {outcome.detail}")
            line.stylize("yellow")
        elif verbose:
            line = terminal(f"ok   {outcome.where} {outcome.rule.id} [{outcome.test.kind}]")
        else:
            continue
        out().print(line)
    passed = sum(1 for o in outcomes if o.passed and o.test.kind != "todo")
    out().print(
        f"{passed} passed, {len(failed)} failed, {len(todo_open)} todo, {len(todo_fixed)} todo now passing "
        f"({len(outcomes)} examples in {len(engine.ruleset.rules)} rules)",
        markup=False,
    )
    if failed:
        raise typer.Exit(int(ExitCode.FINDINGS))


@rules_app.command("lint")
def lint_rules(rules: RulesOption = None) -> None:
    """Check the rule files: syntax, unknown keys and categories, bad patterns, duplicate ids, missing examples."""
    from policywatch.extract.engine import Engine
    from policywatch.rules import load_rules

    ruleset, problems = load_rules(rules)
    problems = problems + Engine(ruleset).compile_all()
    if problems:
        fail_problems(problems, what="rules")
    untested = [r for r in ruleset.rules if not any(t.kind == "match" for t in r.tests)]
    for rule in untested:
        message(f"{rule.where}: warning: rule {rule.id} has no match example")
    unguarded = [r for r in ruleset.rules if r.kind == "measure" and not any(t.kind == "no_match" for t in r.tests)]
    for rule in unguarded:
        message(f"{rule.where}: warning: rule {rule.id} has no no_match example")
    if not ruleset.rules:
        fail(ExitCode.USAGE, "no rules")
    out().print(
        f"{len(ruleset.rules)} rules in {len(ruleset.files)} files: no problems"
        + (f", {len(untested) + len(unguarded)} warnings" if untested or unguarded else ""),
        markup=False,
    )
