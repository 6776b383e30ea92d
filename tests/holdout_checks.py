"""Checks shared by the held-out set tests (tests/test_holdout*_file.py); this module holds no tests itself.

Each held-out set is one JSONL file of labelled bulletins in tests/assets. Its test file describes the set
in a `HoldoutSet` (where it is, how its ids start, the mix it was asked to have, the sets written before it)
and subclasses `HoldoutChecks`, which checks the file only: schema and field order, ids, metadata, script
and length, labels, values stated in the text, the mix, and that no sentence or passage is shared with the
dev corpus or an earlier set. The extraction engine is never run: the sets measure whether the rules
generalise, so nobody tunes rules on them (see tests/assets/HOLDOUT*.md).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar

import pycountry
import pytest
from conftest import ASSETS, CORPUS

from policywatch.evaluate import FIELDS as COMPARED_FIELDS
from policywatch.models import Category, Direction, Severity

# The dev corpus schema, in its order; `policywatch eval` compares the label fields in COMPARED_FIELDS.
RECORD_KEYS = ("id", "url", "source", "jurisdiction", "language", "published", "title", "text", "labels")
LABEL_KEYS = ("is_change", "category", *COMPARED_FIELDS, "notes")
RATE_KEYS = ("new_rate_percent", "old_rate_percent")
# What a bulletin that announces nothing is labelled with.
EMPTY_LABELS = {"category": "none"} | {
    key: [] if key in ("affected_countries", "hs_codes") else None for key in COMPARED_FIELDS
}
CATEGORIES = {c.value for c in Category}
DIRECTIONS = {d.value for d in Direction}
SEVERITIES = {s.value for s in Severity}
# The brief asks every set to cover each measure category; other_regulation is allowed but not asked for.
REQUIRED_CATEGORIES = sorted(CATEGORIES - {Category.OTHER_REGULATION.value})
# Categories whose direction is fixed by their name, and those where a stated old and new rate must move
# the way the direction says.
FIXED_DIRECTION = {
    Category.TARIFF_INCREASE.value: Direction.TIGHTEN.value,
    Category.TARIFF_DECREASE.value: Direction.LOOSEN.value,
}
RATE_CATEGORIES = {
    Category.TARIFF_INCREASE.value,
    Category.TARIFF_DECREASE.value,
    Category.IMPORT_TAX.value,
    Category.TRADE_REMEDY.value,
}
ISSUERS_THAT_ARE_NOT_COUNTRIES = {"EU", "WTO"}
ORIGINS_THAT_ARE_NOT_COUNTRIES = {"EU"}

DATE = re.compile(r"(?P<year>\d{4})-\d{2}-\d{2}")
URL = re.compile(r"https?://[\w.-]+\.[a-z]{2,}(?:/\S*)?")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")  # ideographs and kana
KANA = re.compile(r"[\u3040-\u30ff]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
CJK_LANGUAGES = {"zh", "ja"}  # not space-delimited: their length is counted in ideographs and kana
# Characters found only in Traditional Chinese; any one of them marks a text as Traditional.
TRADITIONAL_ONLY = frozenset(
    "關稅務貨價額網國門與為這們來時說會買賣郵臺灣點規訊於對發際貿業實體區應課華證檢輸驗產聯絡縣開"
)
WORD_RANGE = (80, 350)
CJK_RANGE = (150, 1000)
MIN_HANGUL = 100
# hs_codes as written: digit groups split by dots or spaces ("1006 30 90"), or, in the later sets, by dots only.
HS_CODE = re.compile(r"\d+(?:[. ]\d+)*")
HS_CODE_DOTTED = re.compile(r"\d(?:\.?\d)+")

# A sentence long enough to count as reusable text, and the length of a shared run that is a copied passage.
SENTENCE_WORDS = 8
SENTENCE_CJK = 15
RUN_WORDS = 16
RUN_CJK = 24
# The sets were written with two ways of cutting sentences (the later also cuts at ; and :); a sentence
# cut either way counts, as do its words split on spaces or as \w runs, so no earlier check is lost.
SENTENCE_BREAKS = (
    re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])|\n+"),
    re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？；：])|\n+"),
)
BULLET = re.compile(r"^[\s\-•—–*]+")
WORD = re.compile(r"\w+")
HYPHENATED_WORD = re.compile(r"\w+(?:[-'’]\w+)*")

# Notices from Japan and Taiwan often date by era (平成26年 = 2014) or Minguo year (111年 = 2022).
FOUR_DIGIT_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
JAPANESE_ERA_YEAR = re.compile(r"(昭和|平成|令和)(\d{1,2})年")
ERA_START = {"昭和": 1925, "平成": 1988, "令和": 2018}
MINGUO_YEAR = re.compile(r"(?<!\d)(\d{2,3})年")


@dataclass(frozen=True)
class Mix:
    """The make-up a set's brief asked for."""

    min_items: int
    positives: tuple[int, int]
    negatives: tuple[int, int]
    english_share: tuple[float, float]
    single_languages: frozenset[str]  # languages that need at least one item
    min_per_category: int = 3  # positives for each of REQUIRED_CATEGORIES
    min_per_language: tuple[tuple[str, int], ...] = (("zh", 6), ("es", 5), ("pt", 4))
    min_jurisdictions: int = 0
    min_positive_jurisdictions: int = 0
    traditional_chinese: tuple[int, int | None] = (1, 2)  # how many zh items are Traditional: at least, at most
    min_simplified_chinese: int = 1


@dataclass(frozen=True)
class HoldoutSet:
    """What differs between the held-out sets."""

    path: Path
    id_prefix: str  # ids look like <prefix>-<issuer>-<slug>
    mix: Mix
    hard_negative_words: re.Pattern[str]  # measure vocabulary: a negative that uses it is a hard case
    min_hard_negatives: int
    earlier: tuple[str, ...] = ()  # the sets in tests/assets written before this one
    hs_code: re.Pattern[str] | None = HS_CODE_DOTTED  # the shape of every labelled hs code (None: any)
    read_era_years: bool = False  # a Japanese era or Minguo year counts as the year of a date
    # Besides ids, urls, titles and sentences, no run of RUN_WORDS words may be shared with another set.
    no_shared_passages: bool = True


def fail_on(problems: list[str]) -> None:
    """Report every problem at once, so one run shows all the slips in the file."""
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


@cache
def load(path: Path) -> tuple[dict, ...]:
    """The records of a JSONL file, in file order."""
    return tuple(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def is_country(code: object) -> bool:
    return isinstance(code, str) and len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


def is_date(value: object) -> bool:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_rate(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1000)


def size(record: dict) -> int:
    """Words, or ideographs and kana for Chinese and Japanese."""
    text = record["text"]
    return len(CJK.findall(text)) if record["language"] in CJK_LANGUAGES else len(text.split())


def rate_is_written(rate: float, text: str) -> bool:
    forms = {f"{rate:g}", f"{rate:.1f}", f"{rate:.2f}"}
    forms |= {f.replace(".", ",") for f in forms}  # decimal commas in the Romance-language, German, Turkish items
    return any(re.search(rf"(?<![\d.,]){re.escape(f)}(?!\d)", text) for f in forms)


def years_in(record: dict, *, eras: bool = True) -> set[int]:
    """Calendar years a text names; with `eras`, Japanese era years and Taiwan's Minguo years as well."""
    text = record["text"]
    years = {int(y) for y in FOUR_DIGIT_YEAR.findall(text)}
    if eras:
        years |= {ERA_START[era] + int(n) for era, n in JAPANESE_ERA_YEAR.findall(text)}
        if record["jurisdiction"] == "TW":
            years |= {1911 + int(n) for n in MINGUO_YEAR.findall(text)}
    return years


def _long_enough(sentence: str) -> bool:
    words = max(len(sentence.split()), len(WORD.findall(sentence)))
    return words >= SENTENCE_WORDS or len(CJK.findall(sentence)) >= SENTENCE_CJK


def sentences(text: str) -> set[str]:
    """The sentences of a text long enough to count as reusable, lower-cased with spaces collapsed."""
    found = set()
    for breaks in SENTENCE_BREAKS:
        for piece in breaks.split(text):
            for form in {piece, BULLET.sub("", piece)}:
                sentence = " ".join(form.lower().split())
                if _long_enough(sentence):
                    found.add(sentence)
    return found


def runs(text: str) -> set[str]:
    """Every run of RUN_WORDS words and of RUN_CJK ideographs and kana: a shared one is a copied passage."""
    found = set()
    # Words cut two ways, as the sets were checked: hyphenated words kept whole, or every \w run on its own.
    for words in ([w.lower() for w in HYPHENATED_WORD.findall(text)], WORD.findall(text.lower())):
        found.update(" ".join(words[i : i + RUN_WORDS]) for i in range(len(words) - RUN_WORDS + 1))
    ideographs = "".join(CJK.findall(text))
    found.update(ideographs[i : i + RUN_CJK] for i in range(len(ideographs) - RUN_CJK + 1))
    return found


def shared_with(mine: Iterable[dict], others: Iterable[dict], *, passages: bool = True) -> list[str]:
    """Everything `mine` shares with `others`: ids, urls, titles, sentences and (with `passages`) long runs."""
    mine, others = list(mine), list(others)
    problems = []
    for key in ("id", "url", "title"):
        theirs = {o[key] for o in others}
        problems += [f"{m['id']}: {key} already used: {m[key]!r}" for m in mine if m[key] in theirs]
    their_sentences = set().union(*(sentences(o["text"]) for o in others))
    their_runs = set().union(*(runs(o["text"]) for o in others)) if passages else set()
    for m in mine:
        problems += [f"{m['id']}: shared sentence {s!r}" for s in sorted(sentences(m["text"]) & their_sentences)]
        if passages:
            problems += [f"{m['id']}: shared passage {s!r}" for s in sorted(runs(m["text"]) & their_runs)]
    return problems


def _sources(holdout: HoldoutSet) -> list:
    """What a set must share nothing with: each earlier set, then the dev corpus (a `corpus` test)."""
    earlier = [pytest.param(ASSETS / name, id=name) for name in holdout.earlier]
    return [*earlier, pytest.param(CORPUS, id="dev-corpus", marks=pytest.mark.corpus)]


class HoldoutChecks:
    """The checks every held-out set passes; a test module subclasses this with its `SET`."""

    SET: ClassVar[HoldoutSet]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "other" in metafunc.fixturenames:
            metafunc.parametrize("other", _sources(self.SET))

    @pytest.fixture(scope="class")
    @classmethod
    def records(cls) -> tuple[dict, ...]:
        """Every bulletin of the set, in file order."""
        return load(cls.SET.path)

    @pytest.fixture(scope="class")
    @classmethod
    def positives(cls, records: tuple[dict, ...]) -> list[dict]:
        """The bulletins labelled as announcing a change."""
        return [r for r in records if r["labels"]["is_change"] is True]

    @pytest.fixture(scope="class")
    @classmethod
    def negatives(cls, records: tuple[dict, ...]) -> list[dict]:
        """The bulletins labelled as announcing nothing."""
        return [r for r in records if r["labels"]["is_change"] is False]

    def test_every_line_is_a_json_object(self) -> None:
        text = self.SET.path.read_text(encoding="utf-8")
        assert text.endswith("\n"), "the file must end with a newline"
        problems = []
        for number, line in enumerate(text.split("\n")[:-1], start=1):
            if not line.strip():
                problems.append(f"line {number}: blank line")
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {number}: not JSON ({exc})")
                continue
            if not isinstance(value, dict):
                problems.append(f"line {number}: {type(value).__name__}, not an object")
        fail_on(problems)

    def test_fields_are_exactly_the_dev_schema(self, records: tuple[dict, ...]) -> None:
        # The same keys as the dev corpus, in the same order.
        problems = []
        for r in records:
            if tuple(r) != RECORD_KEYS:
                problems.append(f"{r.get('id')}: fields {list(r)}")
            elif not isinstance(r["labels"], dict) or tuple(r["labels"]) != LABEL_KEYS:
                problems.append(f"{r['id']}: label fields {list(r['labels'])}")
        fail_on(problems)

    def test_ids_are_unique_prefixed_and_name_the_issuer(self, records: tuple[dict, ...]) -> None:
        shape = re.compile(rf"{self.SET.id_prefix}-(?P<issuer>[a-z]{{2,3}})(?:-[a-z0-9]+)+")
        problems = [f"{i}: used {n} times" for i, n in Counter(r["id"] for r in records).items() if n > 1]
        for r in records:
            match = shape.fullmatch(r["id"])
            if match is None:
                problems.append(f"{r['id']}: ids must look like {self.SET.id_prefix}-<issuer>-<slug>")
            elif match["issuer"] != str(r["jurisdiction"]).lower():
                problems.append(f"{r['id']}: id names issuer {match['issuer']!r}, jurisdiction is {r['jurisdiction']}")
        fail_on(problems)

    @pytest.mark.parametrize("key", ["url", "title"])
    def test_urls_and_titles_are_unique(self, records: tuple[dict, ...], key: str) -> None:
        repeated = sorted(v for v, n in Counter(r[key] for r in records).items() if n > 1)
        assert not repeated, f"repeated {key}: {repeated}"

    def test_metadata_fields(self, records: tuple[dict, ...]) -> None:
        problems = []
        for r in records:
            rid = r["id"]
            if r["jurisdiction"] not in ISSUERS_THAT_ARE_NOT_COUNTRIES and not is_country(r["jurisdiction"]):
                problems.append(f"{rid}: jurisdiction {r['jurisdiction']!r} is not ISO alpha-2, EU or WTO")
            if not isinstance(r["language"], str) or pycountry.languages.get(alpha_2=r["language"]) is None:
                problems.append(f"{rid}: language {r['language']!r} is not ISO 639-1")
            if r["published"] is not None and not is_date(r["published"]):
                problems.append(f"{rid}: published {r['published']!r} is not an ISO date")
            if not isinstance(r["url"], str) or not URL.fullmatch(r["url"]):
                problems.append(f"{rid}: url {r['url']!r} is not an http(s) address")
            problems += [
                f"{rid}: {key} is empty or padded"
                for key in ("source", "title", "text")
                if not isinstance(r[key], str) or not r[key].strip() or r[key] != r[key].strip()
            ]
            if "\n" in str(r["title"]):
                problems.append(f"{rid}: multi-line title")
        fail_on(problems)

    def test_script_matches_the_language_tag(self, records: tuple[dict, ...]) -> None:
        problems = []
        for r in records:
            language, text = r["language"], r["text"]
            cjk = len(CJK.findall(text))
            if language in CJK_LANGUAGES and cjk < CJK_RANGE[0]:
                problems.append(f"{r['id']}: tagged {language} but has only {cjk} CJK characters")
            if language not in {*CJK_LANGUAGES, "ko"} and cjk:
                problems.append(f"{r['id']}: tagged {language} but contains CJK characters")
            if language == "ko" and len(HANGUL.findall(text)) < MIN_HANGUL:
                problems.append(f"{r['id']}: tagged ko but has little Hangul")
            if language == "ja" and not KANA.search(text):
                problems.append(f"{r['id']}: tagged ja but has no kana")
        fail_on(problems)

    def test_text_length_is_like_a_real_notice(self, records: tuple[dict, ...]) -> None:
        problems = []
        for r in records:
            low, high = CJK_RANGE if r["language"] in CJK_LANGUAGES else WORD_RANGE
            if not low <= size(r) <= high:
                problems.append(f"{r['id']}: length {size(r)} outside {low}-{high}")
        fail_on(problems)

    def test_negatives_carry_empty_labels(self, negatives: list[dict]) -> None:
        problems = []
        for r in negatives:
            wrong = {k: r["labels"][k] for k, empty in EMPTY_LABELS.items() if r["labels"][k] != empty}
            if wrong:
                problems.append(f"{r['id']}: negative with non-empty labels {wrong}")
        fail_on(problems)

    def test_positive_labels_use_the_contract_vocabulary(
        self, records: tuple[dict, ...], positives: list[dict]
    ) -> None:
        problems = [
            f"{r['id']}: is_change must be a boolean" for r in records if not isinstance(r["labels"]["is_change"], bool)
        ]
        for r in positives:
            lab, rid = r["labels"], r["id"]
            if lab["category"] not in CATEGORIES:
                problems.append(f"{rid}: category {lab['category']!r} is not a DESIGN category")
            if lab["direction"] not in DIRECTIONS:
                problems.append(f"{rid}: direction {lab['direction']!r}")
            if lab["severity"] not in SEVERITIES:
                problems.append(f"{rid}: severity {lab['severity']!r}")
            if lab["effective_date"] is not None and not is_date(lab["effective_date"]):
                problems.append(f"{rid}: effective_date {lab['effective_date']!r} is not an ISO date")
            problems += [f"{rid}: {key} {lab[key]!r} is not a percentage" for key in RATE_KEYS if not is_rate(lab[key])]
        fail_on(problems)

    def test_directions_agree_with_categories_and_rates(self, positives: list[dict]) -> None:
        problems = []
        for r in positives:
            lab = r["labels"]
            fixed = FIXED_DIRECTION.get(lab["category"])
            if fixed and lab["direction"] != fixed:
                problems.append(f"{r['id']}: {lab['category']} must be {fixed}, not {lab['direction']}")
            new, old = lab["new_rate_percent"], lab["old_rate_percent"]
            if old is not None and new is None:
                problems.append(f"{r['id']}: an old rate without a new one")
            if lab["category"] in RATE_CATEGORIES and None not in (new, old) and new != old:
                moved = Direction.TIGHTEN.value if new > old else Direction.LOOSEN.value
                if lab["direction"] != moved:
                    problems.append(f"{r['id']}: rate {old} -> {new} contradicts direction {lab['direction']}")
        fail_on(problems)

    def test_list_labels_and_notes(self, records: tuple[dict, ...]) -> None:
        problems = []
        for r in records:
            lab, rid = r["labels"], r["id"]
            origins, codes = lab["affected_countries"], lab["hs_codes"]
            if not isinstance(origins, list) or len(set(origins)) != len(origins):
                problems.append(f"{rid}: affected_countries {origins!r} is not a list without repeats")
            problems += [
                f"{rid}: unknown origin {c!r}"
                for c in origins
                if c not in ORIGINS_THAT_ARE_NOT_COUNTRIES and not is_country(c)
            ]
            # An issuer does not aim a measure at its own goods: an origin equal to it is a labelling slip.
            if r["jurisdiction"] in origins:
                problems.append(f"{rid}: jurisdiction {r['jurisdiction']} listed among its own targets")
            if not isinstance(codes, list) or len(set(codes)) != len(codes):
                problems.append(f"{rid}: hs_codes {codes!r} is not a list without repeats")
            if self.SET.hs_code is not None:
                problems += [f"{rid}: hs code {c!r} is not a code" for c in codes if not self.SET.hs_code.fullmatch(c)]
            # hs_codes are "as written in the text", so each must be found there verbatim.
            problems += [f"{rid}: hs code {c!r} not in the text" for c in codes if c not in r["text"]]
            if not isinstance(lab["notes"], str) or not lab["notes"].strip() or "\n" in lab["notes"]:
                problems.append(f"{rid}: notes must be one non-empty line")
        fail_on(problems)

    def test_labelled_rates_and_years_are_stated_in_the_text(self, positives: list[dict]) -> None:
        problems = []
        for r in positives:
            lab = r["labels"]
            # Zero is often written as a word ("zero", "nil", "alíquota zero", 零税率), so it is not searched for.
            problems += [
                f"{r['id']}: {key} {lab[key]} is not written in the text"
                for key in RATE_KEYS
                if lab[key] not in (None, 0) and not rate_is_written(lab[key], r["text"])
            ]
            date = lab["effective_date"]
            if date and int(DATE.fullmatch(date)["year"]) not in years_in(r, eras=self.SET.read_era_years):
                problems.append(f"{r['id']}: the year of effective_date {date} is not in the text")
        fail_on(problems)

    def test_the_mix_matches_the_brief(
        self, records: tuple[dict, ...], positives: list[dict], negatives: list[dict]
    ) -> None:
        mix = self.SET.mix
        assert len(records) >= mix.min_items, len(records)
        assert mix.positives[0] <= len(positives) <= mix.positives[1], len(positives)
        assert mix.negatives[0] <= len(negatives) <= mix.negatives[1], len(negatives)
        per_category = Counter(r["labels"]["category"] for r in positives)
        thin = {c: per_category[c] for c in REQUIRED_CATEGORIES if per_category[c] < mix.min_per_category}
        assert not thin, f"categories with fewer than {mix.min_per_category} positives: {thin}"
        languages = Counter(r["language"] for r in records)
        assert mix.english_share[0] <= languages["en"] / len(records) <= mix.english_share[1], languages
        assert all(languages[code] >= n for code, n in mix.min_per_language), languages
        assert mix.single_languages <= set(languages), languages
        assert len({r["jurisdiction"] for r in records}) >= mix.min_jurisdictions
        assert len({r["jurisdiction"] for r in positives}) >= mix.min_positive_jurisdictions

    def test_chinese_items_include_traditional_script(self, records: tuple[dict, ...]) -> None:
        low, high = self.SET.mix.traditional_chinese
        chinese = [r for r in records if r["language"] == "zh"]
        traditional = [r["id"] for r in chinese if TRADITIONAL_ONLY & set(r["text"])]
        assert low <= len(traditional) <= (high if high is not None else len(chinese)), traditional
        assert len(chinese) - len(traditional) >= self.SET.mix.min_simplified_chinese, "too few Simplified items"

    def test_negatives_include_hard_cases_with_measure_vocabulary(self, negatives: list[dict]) -> None:
        hard = [r["id"] for r in negatives if self.SET.hard_negative_words.search(r["text"])]
        assert len(hard) >= self.SET.min_hard_negatives, hard

    def test_no_sentence_is_repeated_inside_the_set(self, records: tuple[dict, ...]) -> None:
        # Each bulletin is written on its own; a sentence in two items would be a template showing through.
        owner: dict[str, str] = {}
        problems = []
        for r in records:
            for sentence in sorted(sentences(r["text"])):
                first = owner.setdefault(sentence, r["id"])
                if first != r["id"]:
                    problems.append(f"{r['id']} repeats {first}: {sentence!r}")
        fail_on(problems)

    def test_is_disjoint_from(self, records: tuple[dict, ...], other: Path) -> None:
        # No id, url, title, sentence or long passage is shared with the dev corpus or an earlier set.
        if not other.is_file():
            pytest.skip(f"{other} is not present")
        fail_on(shared_with(records, load(other), passages=self.SET.no_shared_passages))
