"""Rule files (`rules/*.yaml`): the model, loading with validation, and linting.

A rule file holds a `lexicon` (named phrase lists, per language) and `rules`. A rule fires on a sentence
where every group of its `all` list matches (optionally `within` N tokens of each other), unless one of
its `unless` groups matches in that sentence, an `unless_near` group within `near` tokens of the match,
or an `unless_document` group anywhere in the document. Groups are `$name` lexicon references or
inline lists; an entry of a list is a phrase (matched case- and inflection-insensitively; `*` skips up to
four words) or a spaCy token pattern (a list of dicts).
Loading returns `(ruleset, problems)` so every problem in every file is reported at once; the engine runs
what is valid.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from policywatch.models import Category, Direction, Severity
from policywatch.yamlio import FileProblems, Located, Problem, line_of, load_yaml

RULE_KEYS = (
    "id",
    "kind",
    "category",
    "direction",
    "severity",
    "languages",
    "jurisdictions",
    "all",
    "any",
    "within",
    "unless",
    "unless_near",
    "unless_document",
    "near",
    "scope",
    "weight",
    "cancels",
    "description",
    "tests",
)
FILE_KEYS = ("family", "description", "lexicon", "rules")
#: measure rules find changes; exclude rules find notices that announce nothing (they subtract, and cancel
#: measure hits in the sentences they claim); background rules find sentences recounting earlier measures
#: (measure hits there count for less).
KINDS = ("measure", "exclude", "background")
SCOPES = ("sentence", "title", "lead", "document")
TEST_KINDS = ("match", "no_match", "todo")
EXPECT_KEYS = (
    "category",
    "direction",
    "severity",
    "jurisdiction",
    "affected_countries",
    "hs_codes",
    "new_rate_percent",
    "old_rate_percent",
    "effective_date",
    "rule_id",
)
CONDITION_KEYS = (
    "new_rate_at_least",
    "new_rate_below",
    "rate_increase_at_least",
    "origins",
    "hs_codes",
    "direction",
    "jurisdiction_in",
    "mentions",
)
#: Languages a rule may declare: those spaCy has a blank pipeline for without extra packages here.
LANGUAGES = ("en", "zh", "ja", "ko", "es", "pt", "fr", "de", "it", "nl", "id", "tr", "ru", "vi", "th", "pl")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_LEXICON_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Entry:
    """One alternative of a group: a phrase or a spaCy token pattern."""

    phrase: str | None = None
    tokens: tuple[dict[str, Any], ...] | None = None
    line: int | None = None
    path: str | None = None


@dataclass(frozen=True)
class Group:
    """A set of alternatives matched as one: a lexicon entry or an inline list, with entries per language."""

    key: str
    entries: dict[str, tuple[Entry, ...]]


@dataclass(frozen=True)
class Adjustment:
    """A severity adjustment: when every condition holds, severity becomes `to` (first match wins)."""

    conditions: dict[str, Any]
    to: Severity
    mentions: tuple[Group, ...] = ()
    """Lexicon groups of which at least one must appear somewhere in the document (`mentions: $name`)."""


@dataclass(frozen=True)
class SeveritySpec:
    """A fixed severity, or a base with ordered adjustments from rates and scope."""

    base: Severity
    adjust: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class RuleTest:
    """An embedded example: `match` must fire (and yield `expect`), `no_match` must not, `todo` is a known gap."""

    kind: str
    text: str
    title: str = ""
    language: str | None = None
    jurisdiction: str | None = None
    published: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    line: int | None = None


@dataclass(frozen=True)
class Rule:
    """A validated rule."""

    id: str
    kind: str
    category: str | None
    direction: str | None
    severity: SeveritySpec | None
    languages: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    groups: tuple[Group, ...]
    unless: tuple[Group, ...]
    unless_near: tuple[Group, ...]
    unless_document: tuple[Group, ...]
    near: int
    within: int | None
    scope: str
    weight: float
    path: str
    line: int | None
    family: str
    description: str = ""
    cancels: bool = True
    tests: tuple[RuleTest, ...] = ()

    @property
    def where(self) -> str:
        """`file:line` of the rule, for messages."""
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class RuleSet:
    """Every valid rule from a rules directory, and a version that changes when any rule file changes."""

    rules: tuple[Rule, ...]
    version: str
    files: tuple[str, ...]

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language some rule declares."""
        return tuple(sorted({lang for rule in self.rules for lang in rule.languages}))

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id."""
        return next((r for r in self.rules if r.id == rule_id), None)


def default_rules_dir() -> Path:
    """The rules directory to use when none is given.

    `POLICYWATCH_RULES` wins; then the `rules/` directory of a source checkout; then the copy installed
    with the package.
    """
    env = os.environ.get("POLICYWATCH_RULES")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent / "rules"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("policywatch") / "_rules"))


# --- parsing helpers --------------------------------------------------------------------------------


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _FileReader:
    """Validates one rules file, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path, shown: str, lexicon: dict[str, tuple[dict[str, tuple[Entry, ...]], str]]):
        self.path = path
        self.shown = shown
        self.problems: list[Problem] = []
        self.lexicon = lexicon  # shared across files: name -> (entries per language, where defined)

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.shown, line, message))

    def entries(self, raw: Any, line: int | None, what: str) -> tuple[Entry, ...]:
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            self.problem(line, f"{what}: expected a non-empty list of phrases or token patterns")
            return ()
        out = []
        for index, item in enumerate(raw):
            at = line_of(raw, index) or line
            if isinstance(item, str):
                if not item.strip():
                    self.problem(at, f"{what}: empty phrase")
                else:
                    out.append(Entry(phrase=item.strip(), line=at, path=self.shown))
            elif isinstance(item, list) and item and all(isinstance(t, dict) for t in item):
                out.append(Entry(tokens=tuple(dict(t) for t in item), line=at, path=self.shown))
            else:
                self.problem(at, f"{what}: each entry must be a phrase (text) or a token pattern (a list of mappings)")
        return tuple(out)

    def read_lexicon(self, raw: Any, line: int | None) -> None:
        if not isinstance(raw, dict):
            self.problem(line, "lexicon must be a mapping of name -> {language: [phrases]}")
            return
        for name, per_lang in raw.items():
            at = line_of(raw, name)
            if not _LEXICON_NAME.match(str(name)):
                self.problem(at, f"lexicon name {name!r} must be lower case letters, digits and '_'")
                continue
            if name in self.lexicon:
                self.problem(at, f"lexicon {name!r} is already defined at {self.lexicon[name][1]}")
                continue
            if not isinstance(per_lang, dict) or not per_lang:
                self.problem(at, f"lexicon {name!r}: expected a mapping of language -> phrases")
                continue
            entries: dict[str, tuple[Entry, ...]] = {}
            for lang, items in per_lang.items():
                lat = line_of(per_lang, lang)
                if lang not in LANGUAGES:
                    self.problem(
                        lat, f"lexicon {name!r}: unsupported language {lang!r}{_suggest(str(lang), LANGUAGES)}"
                    )
                    continue
                entries[lang] = self.entries(items, lat, f"lexicon {name!r} [{lang}]")
            self.lexicon[name] = (entries, f"{self.shown}:{at}")

    def group(
        self,
        raw: Any,
        line: int | None,
        rule_id: str,
        languages: tuple[str, ...],
        slot: str,
        *,
        every_language: bool = True,
    ) -> Group | None:
        if isinstance(raw, str) and raw.startswith("$"):
            name = raw[1:]
            if name not in self.lexicon:
                self.problem(line, f"rule {rule_id}: unknown lexicon ${name}{_suggest(name, list(self.lexicon))}")
                return None
            entries = self.lexicon[name][0]
            missing = [lang for lang in languages if lang not in entries]
            # A required group must be readable in every language of the rule; an `unless` group simply
            # does not block in a language it has no words for.
            if missing and every_language:
                self.problem(line, f"rule {rule_id}: lexicon ${name} has no entries for {', '.join(missing)}")
                return None
            return Group(key=name, entries={lang: entries[lang] for lang in languages if lang in entries})
        inline = self.entries(raw, line, f"rule {rule_id} {slot}")
        if not inline:
            return None
        return Group(key=f"{rule_id}/{slot}", entries=dict.fromkeys(languages, inline))

    def severity(
        self, raw: Any, line: int | None, rule_id: str, languages: tuple[str, ...] = ()
    ) -> SeveritySpec | None:
        if isinstance(raw, str):
            try:
                return SeveritySpec(base=Severity.parse(raw))
            except ValueError as exc:
                self.problem(line, f"rule {rule_id}: {exc}")
                return None
        if not isinstance(raw, dict) or "base" not in raw:
            self.problem(
                line, f"rule {rule_id}: severity must be low/medium/high/critical or {{base: ..., adjust: [...]}}"
            )
            return None
        for key in raw:
            if key not in ("base", "adjust"):
                self.problem(line_of(raw, key), f"rule {rule_id}: unknown severity key {key!r}")
        try:
            base = Severity.parse(str(raw["base"]))
        except ValueError as exc:
            self.problem(line_of(raw, "base"), f"rule {rule_id}: {exc}")
            return None
        adjustments = []
        for index, item in enumerate(raw.get("adjust") or []):
            at = line_of(raw.get("adjust"), index)
            if not isinstance(item, dict) or set(item) != {"if", "then"} or not isinstance(item["if"], dict):
                self.problem(at, f"rule {rule_id}: an adjustment is {{if: {{condition: value}}, then: severity}}")
                continue
            bad = [k for k in item["if"] if k not in CONDITION_KEYS]
            for key in bad:
                self.problem(at, f"rule {rule_id}: unknown severity condition {key!r}{_suggest(key, CONDITION_KEYS)}")
            try:
                to = Severity.parse(str(item["then"]))
            except ValueError as exc:
                self.problem(at, f"rule {rule_id}: {exc}")
                continue
            conditions = dict(item["if"])
            mentions: list[Group] = []
            named = conditions.pop("mentions", None)
            for name in [named] if isinstance(named, str) else named or []:
                group = self.group(name, at, rule_id, languages, "mentions", every_language=False)
                if group is None or not str(name).startswith("$"):
                    self.problem(at, f"rule {rule_id}: mentions takes lexicon names ($name)")
                    bad.append("mentions")
                else:
                    mentions.append(group)
            if not bad:
                adjustments.append(Adjustment(conditions=conditions, to=to, mentions=tuple(mentions)))
        return SeveritySpec(base=base, adjust=tuple(adjustments))

    def tests(self, raw: Any, line: int | None, rule_id: str, languages: tuple[str, ...]) -> tuple[RuleTest, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.problem(line, f"rule {rule_id}: tests must be a mapping with match / no_match / todo lists")
            return ()
        out = []
        for kind, items in raw.items():
            kat = line_of(raw, kind)
            if kind not in TEST_KINDS:
                self.problem(kat, f"rule {rule_id}: unknown test kind {kind!r}{_suggest(str(kind), TEST_KINDS)}")
                continue
            if not isinstance(items, list):
                self.problem(kat, f"rule {rule_id}: tests.{kind} must be a list")
                continue
            for index, item in enumerate(items):
                at = line_of(items, index) or kat
                if isinstance(item, str):
                    item = {"text": item}
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    self.problem(at, f"rule {rule_id}: a test is a text, or a mapping with 'text'")
                    continue
                unknown = [
                    k
                    for k in item
                    if k not in ("text", "title", "language", "jurisdiction", "published", "expect", "reason")
                ]
                for key in unknown:
                    self.problem(at, f"rule {rule_id}: unknown test key {key!r}")
                expect = item.get("expect") or {}
                if not isinstance(expect, dict):
                    self.problem(at, f"rule {rule_id}: expect must be a mapping of field -> value")
                    expect = {}
                for key in expect:
                    if key not in EXPECT_KEYS:
                        self.problem(at, f"rule {rule_id}: cannot expect {key!r}{_suggest(str(key), EXPECT_KEYS)}")
                language = item.get("language") or languages[0] if languages else "en"
                published = item.get("published")
                out.append(
                    RuleTest(
                        kind=kind,
                        text=item["text"],
                        title=str(item.get("title") or ""),
                        language=str(language),
                        jurisdiction=item.get("jurisdiction"),
                        published=str(published) if published else None,
                        expect=dict(expect),
                        line=at,
                    )
                )
        return tuple(out)

    def rule(self, raw: Any, line: int | None, family: str, seen: dict[str, str]) -> Rule | None:
        if not isinstance(raw, dict):
            self.problem(line, "each rule must be a mapping")
            return None
        before = len(self.problems)
        rule_id = str(raw.get("id") or "")

        def at(key: str) -> int | None:
            return line_of(raw, key) if isinstance(raw, Located) else line

        for key in raw:
            if key not in RULE_KEYS:
                self.problem(
                    at(key), f"rule {rule_id or '(no id)'}: unknown key {key!r}{_suggest(str(key), RULE_KEYS)}"
                )
        if not rule_id:
            self.problem(line, "rule without an id")
            rule_id = "(no id)"
        elif not _ID.match(rule_id):
            self.problem(at("id"), f"rule id {rule_id!r} must be lower case letters, digits, '.', '_' or '-'")
        elif rule_id in seen:
            self.problem(at("id"), f"duplicate rule id {rule_id!r} (first at {seen[rule_id]})")
        else:
            seen[rule_id] = f"{self.shown}:{line}"
        kind = str(raw.get("kind") or "measure")
        if kind not in KINDS:
            self.problem(at("kind"), f"rule {rule_id}: unknown kind {kind!r}{_suggest(kind, KINDS)}")
        category = raw.get("category")
        categories = [c.value for c in Category]
        if kind == "measure":
            if category is None:
                self.problem(line, f"rule {rule_id}: missing category")
            elif category not in categories:
                self.problem(
                    at("category"),
                    f"rule {rule_id}: unknown category {category!r}{_suggest(str(category), categories)}",
                )
        elif category is not None:
            self.problem(at("category"), f"rule {rule_id}: an {kind} rule has no category")
        direction = raw.get("direction")
        if direction is not None and direction not in {d.value for d in Direction}:
            self.problem(at("direction"), f"rule {rule_id}: direction must be tighten, loosen or absent")
        languages_raw = raw.get("languages")
        languages: tuple[str, ...] = ()
        if not isinstance(languages_raw, list) or not languages_raw:
            self.problem(at("languages") or line, f"rule {rule_id}: languages must be a non-empty list (e.g. [en, zh])")
        else:
            for lang in languages_raw:
                if lang not in LANGUAGES:
                    self.problem(
                        at("languages"),
                        f"rule {rule_id}: unsupported language {lang!r}{_suggest(str(lang), LANGUAGES)}",
                    )
            languages = tuple(str(lang) for lang in languages_raw if lang in LANGUAGES)
        severity = None
        if kind == "measure":
            if "severity" not in raw:
                self.problem(line, f"rule {rule_id}: missing severity")
            else:
                severity = self.severity(raw["severity"], at("severity"), rule_id, languages)
        jurisdictions = raw.get("jurisdictions") or []
        if not isinstance(jurisdictions, list) or not all(isinstance(j, str) for j in jurisdictions):
            self.problem(at("jurisdictions"), f"rule {rule_id}: jurisdictions must be a list of codes")
            jurisdictions = []
        if "all" in raw and "any" in raw:
            self.problem(at("any"), f"rule {rule_id}: use either 'all' (several groups) or 'any' (one group)")
        groups: list[Group] = []
        if "any" in raw:
            group = self.group(raw["any"], at("any"), rule_id, languages, "any")
            if group:
                groups.append(group)
        elif "all" in raw:
            raw_all = raw["all"]
            if not isinstance(raw_all, list) or not raw_all:
                self.problem(at("all"), f"rule {rule_id}: all must be a list of groups")
            else:
                for index, item in enumerate(raw_all):
                    group = self.group(item, line_of(raw_all, index) or at("all"), rule_id, languages, f"all[{index}]")
                    if group:
                        groups.append(group)
        else:
            self.problem(line, f"rule {rule_id}: needs 'all' (groups that must co-occur) or 'any' (one group)")
        unless: list[Group] = []
        raw_unless = raw.get("unless") or []
        if not isinstance(raw_unless, list):
            raw_unless = [raw_unless]
        for index, item in enumerate(raw_unless):
            group = self.group(
                item,
                line_of(raw_unless, index) or at("unless"),
                rule_id,
                languages,
                f"unless[{index}]",
                every_language=False,
            )
            if group:
                unless.append(group)
        unless_near: list[Group] = []
        raw_near = raw.get("unless_near") or []
        if not isinstance(raw_near, list):
            raw_near = [raw_near]
        for index, item in enumerate(raw_near):
            group = self.group(
                item,
                line_of(raw_near, index) or at("unless_near"),
                rule_id,
                languages,
                f"unless_near[{index}]",
                every_language=False,
            )
            if group:
                unless_near.append(group)
        unless_document: list[Group] = []
        raw_doc = raw.get("unless_document") or []
        if not isinstance(raw_doc, list):
            raw_doc = [raw_doc]
        for index, item in enumerate(raw_doc):
            at_doc = line_of(raw_doc, index) or at("unless_document")
            slot = f"unless_document[{index}]"
            group = self.group(item, at_doc, rule_id, languages, slot, every_language=False)
            if group:
                unless_document.append(group)
        near = raw.get("near", 4)
        if isinstance(near, bool) or not isinstance(near, int) or near < 0:
            self.problem(at("near"), f"rule {rule_id}: near must be a number of tokens (0 or more)")
            near = 4
        within = raw.get("within")
        if within is not None and (isinstance(within, bool) or not isinstance(within, int) or within < 1):
            self.problem(at("within"), f"rule {rule_id}: within must be a positive number of tokens")
        scope = str(raw.get("scope") or "sentence")
        if scope not in SCOPES:
            self.problem(at("scope"), f"rule {rule_id}: unknown scope {scope!r}{_suggest(scope, SCOPES)}")
        weight = raw.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
            self.problem(at("weight"), f"rule {rule_id}: weight must be a positive number")
            weight = 1.0
        cancels = raw.get("cancels", True)
        if not isinstance(cancels, bool) or ("cancels" in raw and kind != "exclude"):
            self.problem(at("cancels"), f"rule {rule_id}: cancels is true or false, for exclude rules only")
        tests = self.tests(raw.get("tests"), at("tests"), rule_id, languages)
        if len(self.problems) > before:
            return None
        return Rule(
            id=rule_id,
            kind=kind,
            category=category,
            direction=direction,
            severity=severity,
            languages=languages,
            jurisdictions=tuple(jurisdictions),
            groups=tuple(groups),
            unless=tuple(unless),
            unless_near=tuple(unless_near),
            unless_document=tuple(unless_document),
            near=near,
            within=within,
            scope=scope,
            weight=float(weight),
            cancels=bool(cancels),
            path=self.shown,
            line=line,
            family=family,
            description=str(raw.get("description") or ""),
            tests=tests,
        )


def rule_files(directory: Path) -> list[Path]:
    """The rule files of a directory, in name order (lexicon files first so references resolve)."""
    files = sorted(p for p in directory.glob("*.yaml") if p.is_file())
    return sorted(files, key=lambda p: (0 if p.stem.startswith(("lexicon", "_")) else 1, p.name))


def load_rules(directory: Path | str | None = None) -> tuple[RuleSet, list[Problem]]:
    """Load every rule file in a directory: the valid rules and every problem found, with file and line."""
    directory = Path(directory) if directory is not None else default_rules_dir()
    problems: list[Problem] = []
    if not directory.is_dir():
        return RuleSet((), "none", ()), [Problem(str(directory), None, "rules directory not found")]
    files = rule_files(directory)
    if not files:
        problems.append(Problem(str(directory), None, "no rule files (*.yaml) found"))
    lexicon: dict[str, tuple[dict[str, tuple[Entry, ...]], str]] = {}
    seen: dict[str, str] = {}
    rules: list[Rule] = []
    digest = hashlib.sha256()
    parsed: list[tuple[_FileReader, Any]] = []
    for path in files:
        shown = str(path)
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        reader = _FileReader(path, shown, lexicon)
        try:
            data = load_yaml(path, display=shown, problems=reader.problems)
        except FileProblems as exc:
            problems.extend(exc.problems)
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            reader.problem(line_of(data), "a rules file is a mapping with 'lexicon' and/or 'rules'")
            problems.extend(reader.problems)
            continue
        for key in data:
            if key not in FILE_KEYS:
                reader.problem(line_of(data, key), f"unknown top-level key {key!r}{_suggest(str(key), FILE_KEYS)}")
        if "lexicon" in data:
            reader.read_lexicon(data["lexicon"], line_of(data, "lexicon"))
        parsed.append((reader, data))
    # Rules are read after every lexicon, so a rule may use a lexicon defined in any file.
    for reader, data in parsed:
        family = str(data.get("family") or reader.path.stem)
        raw_rules = data.get("rules") or []
        if not isinstance(raw_rules, list):
            reader.problem(line_of(data, "rules"), "'rules' must be a list")
            raw_rules = []
        for index, raw in enumerate(raw_rules):
            rule = reader.rule(raw, line_of(raw_rules, index), family, seen)
            if rule is not None:
                rules.append(rule)
        problems.extend(reader.problems)
    return RuleSet(tuple(rules), digest.hexdigest()[:12], tuple(str(p) for p in files)), problems
