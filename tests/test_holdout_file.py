"""The held-out labelled set (tests/assets/holdout.jsonl): schema, label consistency, mix, independence.

These tests check the file only; they never run the extraction engine. The set measures whether the rules
generalise, so nobody tunes rules on it (see tests/assets/HOLDOUT.md).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pycountry
import pytest

from policywatch.models import Category, Direction, Severity

ROOT = Path(__file__).resolve().parents[1]
HOLDOUT = ROOT / "tests" / "assets" / "holdout.jsonl"
DEV = ROOT.parent / "shared" / "corpus" / "bulletins-dev.jsonl"

TOP_KEYS = {"id", "url", "source", "jurisdiction", "language", "published", "title", "text", "labels"}
LABEL_KEYS = {
    "is_change",
    "category",
    "direction",
    "affected_countries",
    "hs_codes",
    "new_rate_percent",
    "old_rate_percent",
    "effective_date",
    "severity",
    "notes",
}
# The ten measure categories the brief asks the set to cover; other_regulation is allowed but not required.
REQUIRED_CATEGORIES = {c.value for c in Category} - {Category.OTHER_REGULATION.value}
ID = re.compile(r"ho-[a-z0-9]+(?:-[a-z0-9]+)+")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
URL = re.compile(r"https?://[^\s/]+\.[^\s/]+/?\S*")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# Characters that exist only in Traditional Chinese; one of them marks a text as Traditional.
TRADITIONAL_ONLY = set("關稅務貨價額網國門與為這們來時說會買賣郵臺灣點規訊於對發")
WORD_RANGE = (80, 350)
CJK_CHAR_RANGE = (150, 1000)  # zh/ja are not space-delimited: count ideographs and kana instead of words
MIN_DEV_SENTENCE_WORDS = 8
MIN_DEV_SENTENCE_CJK = 15  # a Chinese or Japanese sentence of this many characters counts as reusable text
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])|\n+")

needs_dev = pytest.mark.skipif(not DEV.is_file(), reason="../shared/corpus is not present")


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return _load(HOLDOUT)


def _fail_on(problems: list[str]) -> None:
    # Report every problem at once, not just the first one.
    assert not problems, "\n".join(problems)


def _is_country(code: str) -> bool:
    return pycountry.countries.get(alpha_2=code) is not None


def _is_date(value: str) -> bool:
    if not ISO_DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_rate(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1000)


def _size(record: dict) -> int:
    text = record["text"]
    return len(CJK.findall(text)) if record["language"] in {"zh", "ja"} else len(text.split())


def _sentences(text: str) -> set[str]:
    normal = (" ".join(p.lower().split()) for p in SENTENCE_END.split(text))
    return {
        s for s in normal if len(s.split()) >= MIN_DEV_SENTENCE_WORDS or len(CJK.findall(s)) >= MIN_DEV_SENTENCE_CJK
    }


def test_every_line_is_a_json_object() -> None:
    problems = []
    for number, line in enumerate(HOLDOUT.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc})")
            continue
        if not isinstance(value, dict):
            problems.append(f"line {number}: not an object")
    _fail_on(problems)


def test_fields_are_exactly_the_dev_schema(records: list[dict]) -> None:
    problems = []
    for r in records:
        if set(r) != TOP_KEYS:
            problems.append(f"{r.get('id')}: top-level keys {sorted(set(r) ^ TOP_KEYS)} differ")
        elif set(r["labels"]) != LABEL_KEYS:
            problems.append(f"{r['id']}: label keys {sorted(set(r['labels']) ^ LABEL_KEYS)} differ")
    _fail_on(problems)


def test_ids_are_unique_and_well_formed(records: list[dict]) -> None:
    ids = [r["id"] for r in records]
    duplicated = sorted(i for i, n in Counter(ids).items() if n > 1)
    malformed = sorted(i for i in ids if not ID.fullmatch(i))
    assert not duplicated, f"duplicate ids: {duplicated}"
    assert not malformed, f"ids must look like ho-<slug>: {malformed}"


def test_metadata_fields(records: list[dict]) -> None:
    problems = []
    for r in records:
        rid = r["id"]
        jur = r["jurisdiction"]
        if jur not in {"EU", "WTO"} and not _is_country(jur):
            problems.append(f"{rid}: jurisdiction {jur!r} is not ISO alpha-2, EU or WTO")
        if pycountry.languages.get(alpha_2=r["language"]) is None:
            problems.append(f"{rid}: language {r['language']!r} is not ISO 639-1")
        if r["published"] is not None and not _is_date(r["published"]):
            problems.append(f"{rid}: published {r['published']!r} is not an ISO date")
        if not URL.fullmatch(r["url"]):
            problems.append(f"{rid}: url {r['url']!r} is not an http(s) address")
        empty = [key for key in ("source", "title", "text") if not isinstance(r[key], str) or not r[key].strip()]
        problems += [f"{rid}: {key} is empty" for key in empty]
    _fail_on(problems)


def test_text_length_is_like_a_real_notice(records: list[dict]) -> None:
    problems = []
    for r in records:
        low, high = CJK_CHAR_RANGE if r["language"] in {"zh", "ja"} else WORD_RANGE
        size = _size(r)
        if not low <= size <= high:
            problems.append(f"{r['id']}: length {size} outside {low}-{high}")
    _fail_on(problems)


def test_negatives_carry_empty_labels(records: list[dict]) -> None:
    problems = []
    for r in (r for r in records if not r["labels"]["is_change"]):
        lab = r["labels"]
        expected = {
            "category": "none",
            "direction": None,
            "severity": None,
            "affected_countries": [],
            "hs_codes": [],
            "new_rate_percent": None,
            "old_rate_percent": None,
            "effective_date": None,
        }
        wrong = {k: lab[k] for k, v in expected.items() if lab[k] != v}
        if wrong:
            problems.append(f"{r['id']}: negative with non-empty labels {wrong}")
    _fail_on(problems)


def test_positive_labels_use_the_contract_vocabulary(records: list[dict]) -> None:
    categories = {c.value for c in Category}
    directions = {d.value for d in Direction}
    severities = {s.value for s in Severity}
    problems = []
    for r in records:
        lab = r["labels"]
        rid = r["id"]
        if not isinstance(lab["is_change"], bool):
            problems.append(f"{rid}: is_change must be a boolean")
            continue
        if not lab["is_change"]:
            continue
        if lab["category"] not in categories:
            problems.append(f"{rid}: category {lab['category']!r} is not a DESIGN category")
        if lab["direction"] is not None and lab["direction"] not in directions:
            problems.append(f"{rid}: direction {lab['direction']!r}")
        if lab["severity"] not in severities:
            problems.append(f"{rid}: severity {lab['severity']!r}")
        if lab["effective_date"] is not None and not _is_date(lab["effective_date"]):
            problems.append(f"{rid}: effective_date {lab['effective_date']!r} is not an ISO date")
        bad = [key for key in ("new_rate_percent", "old_rate_percent") if not _is_rate(lab[key])]
        problems += [f"{rid}: {key} {lab[key]!r} is not a percentage number" for key in bad]
    _fail_on(problems)


def test_list_labels(records: list[dict]) -> None:
    problems = []
    for r in records:
        lab = r["labels"]
        rid = r["id"]
        countries = lab["affected_countries"]
        if len(set(countries)) != len(countries):
            problems.append(f"{rid}: duplicate affected_countries {countries}")
        problems += [f"{rid}: unknown origin {c!r}" for c in countries if c != "EU" and not _is_country(c)]
        # hs_codes are "as written in the text", so each must be found there verbatim.
        problems += [f"{rid}: hs code {h!r} not in text" for h in lab["hs_codes"] if h not in r["text"]]
        if not isinstance(lab["notes"], str) or not lab["notes"].strip():
            problems.append(f"{rid}: notes are empty")
    _fail_on(problems)


def test_labelled_rates_and_years_are_stated_in_the_text(records: list[dict]) -> None:
    problems = []
    for r in (r for r in records if r["labels"]["is_change"]):
        lab = r["labels"]
        text = r["text"]
        for key in ("new_rate_percent", "old_rate_percent"):
            value = lab[key]
            if value is None or value == 0:
                continue  # zero is often written as a word ("zero", "alíquota zero"), so it is not searched for
            shown = {f"{value:g}", f"{value:.1f}", f"{value:.2f}"}
            shown |= {s.replace(".", ",") for s in shown}
            if not any(s in text for s in shown):
                problems.append(f"{r['id']}: {key} {value} is not written in the text")
        if lab["effective_date"] and lab["effective_date"][:4] not in text:
            problems.append(f"{r['id']}: the year of effective_date {lab['effective_date']} is not in the text")
    _fail_on(problems)


def test_the_mix_matches_the_brief(records: list[dict]) -> None:
    positives = [r for r in records if r["labels"]["is_change"]]
    negatives = [r for r in records if not r["labels"]["is_change"]]
    covered = {r["labels"]["category"] for r in positives}
    languages = Counter(r["language"] for r in records)
    assert len(records) >= 70
    assert 40 <= len(positives) <= 55, len(positives)
    assert 20 <= len(negatives) <= 30, len(negatives)
    assert REQUIRED_CATEGORIES <= covered, f"categories without a positive: {REQUIRED_CATEGORIES - covered}"
    assert 0.6 <= languages["en"] / len(records) <= 0.8, languages
    assert languages["zh"] >= 6 and languages["es"] >= 5 and languages["pt"] >= 4, languages
    assert {"fr", "de", "id", "ja"} <= set(languages), languages


def test_chinese_items_include_traditional_script(records: list[dict]) -> None:
    chinese = [r for r in records if r["language"] == "zh"]
    traditional = [r["id"] for r in chinese if TRADITIONAL_ONLY & set(r["text"])]
    assert traditional, "no Traditional Chinese item"
    assert len(traditional) < len(chinese), "no Simplified Chinese item"


def test_negatives_include_hard_cases_with_measure_vocabulary(records: list[dict]) -> None:
    vocabulary = re.compile(r"tariff|dut(?:y|ies)|de minimis|export control|anti-dumping|反倾销|免稅|imposto", re.I)
    hard = [r["id"] for r in records if not r["labels"]["is_change"] and vocabulary.search(r["text"])]
    assert len(hard) >= 10, hard


@needs_dev
@pytest.mark.corpus
def test_holdout_is_disjoint_from_the_dev_corpus(records: list[dict]) -> None:
    dev = _load(DEV)
    shared_ids = {r["id"] for r in records} & {d["id"] for d in dev}
    shared_urls = {r["url"] for r in records} & {d["url"] for d in dev}
    assert not shared_ids, shared_ids
    assert not shared_urls, shared_urls


@needs_dev
@pytest.mark.corpus
def test_no_sentence_is_reused_from_the_dev_corpus(records: list[dict]) -> None:
    dev_sentences = set().union(*(_sentences(d["text"]) for d in _load(DEV)))
    problems = [f"{r['id']}: reuses {s!r}" for r in records for s in sorted(_sentences(r["text"]) & dev_sentences)]
    _fail_on(problems)
