"""Running the examples embedded in rule files (`policywatch rules test`)."""

from __future__ import annotations

from dataclasses import dataclass

from policywatch.evaluate import field_equal
from policywatch.extract.engine import Engine
from policywatch.models import Document
from policywatch.rules import Rule, RuleTest


@dataclass(frozen=True)
class TestOutcome:
    """One embedded example's result: passed, failed (with why), or a todo (passing or not)."""

    rule: Rule
    test: RuleTest
    passed: bool
    detail: str

    @property
    def failed(self) -> bool:
        """A failure that counts: a match or no_match example that does not hold (todos never fail)."""
        return not self.passed and self.test.kind != "todo"

    @property
    def where(self) -> str:
        """`file:line` of the example."""
        return f"{self.rule.path}:{self.test.line}" if self.test.line else self.rule.where


def _check(engine: Engine, rule: Rule, test: RuleTest, index: int) -> TestOutcome:
    document = Document(
        id=f"{rule.id}#{index}",
        text=test.text,
        title=test.title,
        language=test.language,
        jurisdiction=test.jurisdiction,
        published=test.published,
    )
    analysis = next(iter(engine.analyze([document])))
    fired = analysis.fired(rule.id)
    if test.kind == "no_match":
        return TestOutcome(rule, test, not fired, "fired but must not" if fired else "did not fire")
    if not fired:
        return TestOutcome(rule, test, False, "did not fire")
    if not test.expect:
        return TestOutcome(rule, test, True, "fired")
    if rule.kind != "measure":
        return TestOutcome(rule, test, True, "fired")
    change = engine.decide(analysis)
    if change is None:
        return TestOutcome(rule, test, False, "fired, but the document's score stayed below the threshold")
    record = change.contract()
    wrong = [
        f"{name}: expected {expected!r}, got {record.get(name)!r}"
        for name, expected in test.expect.items()
        if not field_equal(name, expected, record.get(name))
    ]
    return TestOutcome(rule, test, not wrong, "; ".join(wrong) if wrong else "fired with the expected fields")


def run_rule_tests(engine: Engine, rule_ids: set[str] | None = None) -> list[TestOutcome]:
    """Every embedded example of every rule (or of the rules named), in file order."""
    outcomes = []
    for rule in engine.ruleset.rules:
        if rule_ids and rule.id not in rule_ids:
            continue
        for index, test in enumerate(rule.tests):
            outcomes.append(_check(engine, rule, test, index))
    return outcomes
