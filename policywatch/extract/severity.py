"""Severity from a rule's spec and the fields read from the text: a base, then the first adjustment that applies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from policywatch.models import Severity
from policywatch.rules import SeveritySpec


def _holds(
    condition: str,
    expected: Any,
    *,
    new: float | None,
    old: float | None,
    origins: Sequence[str],
    hs_codes: Sequence[str],
    direction: str | None,
    jurisdiction: str | None,
) -> bool:
    if condition == "new_rate_at_least":
        return new is not None and new >= float(expected)
    if condition == "new_rate_below":
        return new is not None and new < float(expected)
    if condition == "rate_increase_at_least":
        # An "additional" duty with no stated old rate is itself the increase.
        return new is not None and new - (old or 0.0) >= float(expected)
    if condition == "origins":
        return (not origins) if expected == "all" else bool(origins)
    if condition == "hs_codes":
        return (not hs_codes) if expected == "none" else bool(hs_codes)
    if condition == "direction":
        return direction == expected
    if condition == "jurisdiction_in":
        return jurisdiction in set(expected if isinstance(expected, list) else [expected])
    raise ValueError(f"unknown severity condition {condition!r}")


def derive_severity(
    spec: SeveritySpec,
    *,
    new: float | None,
    old: float | None,
    origins: Sequence[str],
    hs_codes: Sequence[str],
    direction: str | None,
    jurisdiction: str | None,
    mentioned: frozenset[str] = frozenset(),
) -> Severity:
    """The base severity, or the target of the first adjustment whose conditions all hold.

    `mentioned` holds the lexicon groups found anywhere in the document, for `mentions` conditions.
    """
    for adjustment in spec.adjust:
        if adjustment.mentions and not any(group.key in mentioned for group in adjustment.mentions):
            continue
        if all(
            _holds(
                key,
                value,
                new=new,
                old=old,
                origins=origins,
                hs_codes=hs_codes,
                direction=direction,
                jurisdiction=jurisdiction,
            )
            for key, value in adjustment.conditions.items()
        ):
            return adjustment.to
    return spec.base
