"""YAML loading that remembers where every value came from, so errors can name file and line.

PyYAML's composer keeps a start mark on every node; we build plain Python values from the node tree and
keep a side table of line numbers per mapping, per key and per list item.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file a user wrote: where it is and what to do about it."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class FileProblems(Exception):
    """Raised with every problem found in one or more user files, so all can be reported at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Located(dict):
    """A mapping read from YAML that knows its own line and the line of each key."""

    line: int
    key_lines: dict[str, int]


class LocatedList(list):
    """A sequence read from YAML that knows its own line and the line of each item."""

    line: int
    item_lines: list[int]


# One constructor turns resolved scalar nodes (int, float, bool, null, timestamp, str) into values.
_SCALARS = yaml.SafeLoader("")


def _build(node: yaml.Node, path: str, problems: list[Problem]) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = Located()
        out.line = line
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = _build(key_node, path, problems)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                problems.append(Problem(path, key_node.start_mark.line + 1, f"duplicate key {key!r}"))
            out[key] = _build(value_node, path, problems)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LocatedList(_build(item, path, problems) for item in node.value)
        seq.line = line
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    return _SCALARS.construct_object(node, deep=True)


def load_yaml(path: Path, *, display: str | None = None, problems: list[Problem] | None = None) -> Any:
    """Parse a YAML file into plain values with line numbers attached; raise FileProblems on any fault.

    With a `problems` list, recoverable faults (a duplicate key: the last value wins) are appended there
    and the value is returned, so a caller can report them and still use the rest of the file.
    """
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileProblems([Problem(shown, None, "file not found")]) from None
    except IsADirectoryError:
        raise FileProblems([Problem(shown, None, "is a directory, not a YAML file")]) from None
    except UnicodeDecodeError as exc:
        raise FileProblems([Problem(shown, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    except OSError as exc:
        raise FileProblems([Problem(shown, None, f"cannot read: {exc.strerror}")]) from None
    return parse_yaml(text, shown, problems)


def parse_yaml(text: str, shown: str, problems: list[Problem] | None = None) -> Any:
    """Parse YAML text (named `shown` in errors) into located values; raise FileProblems on any fault.

    Recoverable faults go to `problems` when it is given (see load_yaml).
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = exc.problem or exc.context or "invalid YAML"
        raise FileProblems([Problem(shown, line, f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise FileProblems([Problem(shown, None, f"invalid YAML: {exc}")]) from None
    if node is None:
        return None
    recoverable: list[Problem] = []
    try:
        value = _build(node, shown, recoverable)
    except yaml.YAMLError as exc:
        raise FileProblems([Problem(shown, None, f"invalid YAML value: {exc}")]) from None
    if recoverable:
        if problems is None:
            raise FileProblems(recoverable)
        problems.extend(recoverable)
    return value


def line_of(container: Any, key: str | int | None = None) -> int | None:
    """The line of a located mapping/list, or of one of its keys or items; None when unknown."""
    if key is not None:
        if isinstance(container, Located):
            return container.key_lines.get(str(key), getattr(container, "line", None))
        if isinstance(container, LocatedList) and isinstance(key, int) and key < len(container.item_lines):
            return container.item_lines[key]
    return getattr(container, "line", None)
