"""The second, final held-out set (tests/assets/holdout2.jsonl): schema, label consistency, mix, independence.

These tests read the file only and never run the extraction engine: the set exists to report honest
generalisation figures, so nobody tunes rules on it (see tests/assets/HOLDOUT2.md). The checks are written
out here rather than imported from test_holdout_file.py so that the two sets can evolve separately.
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
HOLDOUT2 = ROOT / "tests" / "assets" / "holdout2.jsonl"
HOLDOUT1 = ROOT / "tests" / "assets" / "holdout.jsonl"
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
EMPTY_LABELS = {
    "category": "none",
    "direction": None,
    "severity": None,
    "affected_countries": [],
    "hs_codes": [],
    "new_rate_percent": None,
    "old_rate_percent": None,
    "effective_date": None,
}
# The brief asks for every measure category; other_regulation is allowed but not required.
REQUIRED_CATEGORIES = {c.value for c in Category} - {Category.OTHER_REGULATION.value}
# Categories whose direction is fixed by their name, and those where the two rates must agree with it.
FIXED_DIRECTION = {Category.TARIFF_INCREASE.value: "tighten", Category.TARIFF_DECREASE.value: "loosen"}
RATE_CATEGORIES = {Category.TARIFF_INCREASE.value, Category.TARIFF_DECREASE.value, Category.IMPORT_TAX.value}
SINGLE_LANGUAGES = {"fr", "de", "id", "ja", "ko", "tr"}

ID = re.compile(r"h2-[a-z0-9]+(?:-[a-z0-9]+)+")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
URL = re.compile(r"https?://[^\s/]+\.[^\s/]+/?\S*")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# Characters found only in Traditional Chinese; one of them marks a text as Traditional.
TRADITIONAL_ONLY = set("關稅務貨價額網國門與為這們來時說會買賣郵臺灣點規訊於對發際貿業")
WORD_RANGE = (80, 350)
CJK_CHAR_RANGE = (150, 1000)  # zh/ja are not space-delimited, so ideographs and kana are counted instead
SHARED_SENTENCE_WORDS = 8
SHARED_SENTENCE_CJK = 15
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])|\n+")
# A negative is "hard" when it uses the vocabulary of a measure in one of the set's languages.
MEASURE_WORDS = re.compile(
    r"tariff|dut(?:y|ies)|de minimis|export control|anti-dumping|countervailing|surtax|sanction"
    r"|关税|關稅|反补贴|反倾销|出口管制|arancel|impuesto|imposto|alíquota|derechos de importación|KC 인증|면세",
    re.IGNORECASE,
)

needs_dev = pytest.mark.skipif(not DEV.is_file(), reason="../shared/corpus is not present")


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    """Every bulletin of the second held-out set, in file order."""
    return _load(HOLDOUT2)


def _fail_on(problems: list[str]) -> None:
    # Report every problem at once rather than stopping at the first.
    assert not problems, "\n".join(problems)


def _is_country(code: str) -> bool:
    return pycountry.countries.get(alpha_2=code) is not None


def _is_date(value: object) -> bool:
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
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
    normal = (" ".join(part.lower().split()) for part in SENTENCE_END.split(text))
    return {s for s in normal if len(s.split()) >= SHARED_SENTENCE_WORDS or len(CJK.findall(s)) >= SHARED_SENTENCE_CJK}


def _rate_is_written(value: float, text: str) -> bool:
    shown = {f"{value:g}", f"{value:.1f}", f"{value:.2f}"}
    shown |= {s.replace(".", ",") for s in shown}  # decimal commas in es/pt/de/fr/tr texts
    return any(s in text for s in shown)


def test_every_line_is_a_json_object() -> None:
    problems = []
    for number, line in enumerate(HOLDOUT2.read_text(encoding="utf-8").splitlines(), start=1):
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


def test_ids_are_unique_and_prefixed(records: list[dict]) -> None:
    ids = [r["id"] for r in records]
    duplicated = sorted(i for i, n in Counter(ids).items() if n > 1)
    malformed = sorted(i for i in ids if not ID.fullmatch(i))
    assert not duplicated, f"duplicate ids: {duplicated}"
    assert not malformed, f"ids must look like h2-<slug>: {malformed}"


def test_urls_and_titles_are_unique(records: list[dict]) -> None:
    for key in ("url", "title"):
        repeated = sorted(v for v, n in Counter(r[key] for r in records).items() if n > 1)
        assert not repeated, f"repeated {key}: {repeated}"


def test_metadata_fields(records: list[dict]) -> None:
    problems = []
    for r in records:
        rid = r["id"]
        if r["jurisdiction"] not in {"EU", "WTO"} and not _is_country(r["jurisdiction"]):
            problems.append(f"{rid}: jurisdiction {r['jurisdiction']!r} is not ISO alpha-2, EU or WTO")
        if pycountry.languages.get(alpha_2=r["language"]) is None:
            problems.append(f"{rid}: language {r['language']!r} is not ISO 639-1")
        if r["published"] is not None and not _is_date(r["published"]):
            problems.append(f"{rid}: published {r['published']!r} is not an ISO date")
        if not URL.fullmatch(r["url"]):
            problems.append(f"{rid}: url {r['url']!r} is not an http(s) address")
        problems += [
            f"{rid}: {key} is empty"
            for key in ("source", "title", "text")
            if not isinstance(r[key], str) or not r[key].strip()
        ]
    _fail_on(problems)


def test_text_length_is_like_a_real_notice(records: list[dict]) -> None:
    problems = []
    for r in records:
        low, high = CJK_CHAR_RANGE if r["language"] in {"zh", "ja"} else WORD_RANGE
        if not low <= _size(r) <= high:
            problems.append(f"{r['id']}: length {_size(r)} outside {low}-{high}")
    _fail_on(problems)


def test_negatives_carry_empty_labels(records: list[dict]) -> None:
    problems = []
    for r in records:
        lab = r["labels"]
        if lab["is_change"] is False:
            wrong = {k: lab[k] for k, v in EMPTY_LABELS.items() if lab[k] != v}
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
        problems += [
            f"{rid}: {key} {lab[key]!r} is not a percentage number"
            for key in ("new_rate_percent", "old_rate_percent")
            if not _is_rate(lab[key])
        ]
    _fail_on(problems)


def test_directions_agree_with_categories_and_rates(records: list[dict]) -> None:
    problems = []
    for r in (r for r in records if r["labels"]["is_change"]):
        lab = r["labels"]
        fixed = FIXED_DIRECTION.get(lab["category"])
        if fixed and lab["direction"] != fixed:
            problems.append(f"{r['id']}: {lab['category']} must be {fixed}, not {lab['direction']}")
        new, old = lab["new_rate_percent"], lab["old_rate_percent"]
        if lab["category"] in RATE_CATEGORIES and new is not None and old is not None:
            moved = "tighten" if new > old else "loosen"
            if new != old and lab["direction"] != moved:
                problems.append(f"{r['id']}: rate {old} -> {new} contradicts direction {lab['direction']}")
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
        # The issuer does not target itself: an origin equal to the jurisdiction is a labelling slip.
        if r["jurisdiction"] in countries:
            problems.append(f"{rid}: jurisdiction {r['jurisdiction']} listed among its own targets")
        # hs_codes are "as written in the text", so each must be found there verbatim.
        problems += [f"{rid}: hs code {h!r} not in text" for h in lab["hs_codes"] if h not in r["text"]]
        if len(set(lab["hs_codes"])) != len(lab["hs_codes"]):
            problems.append(f"{rid}: duplicate hs codes")
        if not isinstance(lab["notes"], str) or not lab["notes"].strip() or "\n" in lab["notes"]:
            problems.append(f"{rid}: notes must be one non-empty line")
    _fail_on(problems)


def test_labelled_rates_and_years_are_stated_in_the_text(records: list[dict]) -> None:
    problems = []
    for r in (r for r in records if r["labels"]["is_change"]):
        lab = r["labels"]
        for key in ("new_rate_percent", "old_rate_percent"):
            value = lab[key]
            # Zero is often a word ("alíquota zero", "nil"), so it is not searched for.
            if value not in (None, 0) and not _rate_is_written(value, r["text"]):
                problems.append(f"{r['id']}: {key} {value} is not written in the text")
        if lab["effective_date"] and lab["effective_date"][:4] not in r["text"]:
            problems.append(f"{r['id']}: the year of effective_date {lab['effective_date']} is not in the text")
    _fail_on(problems)


def test_the_mix_matches_the_brief(records: list[dict]) -> None:
    positives = [r for r in records if r["labels"]["is_change"]]
    negatives = [r for r in records if not r["labels"]["is_change"]]
    per_category = Counter(r["labels"]["category"] for r in positives)
    languages = Counter(r["language"] for r in records)
    assert len(records) >= 60
    assert 35 <= len(positives) <= 45, len(positives)
    assert 20 <= len(negatives) <= 28, len(negatives)
    thin = {c: per_category[c] for c in REQUIRED_CATEGORIES if per_category[c] < 3}
    assert not thin, f"categories with fewer than three positives: {thin}"
    assert 0.6 <= languages["en"] / len(records) <= 0.7, languages
    assert languages["zh"] >= 6 and languages["es"] >= 5 and languages["pt"] >= 4, languages
    assert SINGLE_LANGUAGES <= set(languages), languages
    assert len({r["jurisdiction"] for r in records}) >= 20


def test_chinese_items_include_one_or_two_traditional(records: list[dict]) -> None:
    chinese = [r for r in records if r["language"] == "zh"]
    traditional = [r["id"] for r in chinese if TRADITIONAL_ONLY & set(r["text"])]
    assert 1 <= len(traditional) <= 2, traditional
    assert len(traditional) < len(chinese), "no Simplified Chinese item"


def test_negatives_include_hard_cases_with_measure_vocabulary(records: list[dict]) -> None:
    hard = [r["id"] for r in records if not r["labels"]["is_change"] and MEASURE_WORDS.search(r["text"])]
    assert len(hard) >= 15, hard


def test_holdout2_is_disjoint_from_the_first_holdout(records: list[dict]) -> None:
    first = _load(HOLDOUT1)
    for key in ("id", "url", "title"):
        shared = {r[key] for r in records} & {h[key] for h in first}
        assert not shared, f"{key}s shared with holdout.jsonl: {shared}"
    first_sentences = set().union(*(_sentences(h["text"]) for h in first))
    _fail_on([f"{r['id']}: reuses {s!r}" for r in records for s in sorted(_sentences(r["text"]) & first_sentences)])


@needs_dev
@pytest.mark.corpus
def test_holdout2_is_disjoint_from_the_dev_corpus(records: list[dict]) -> None:
    dev = _load(DEV)
    for key in ("id", "url", "title"):
        shared = {r[key] for r in records} & {d[key] for d in dev}
        assert not shared, f"{key}s shared with the dev corpus: {shared}"
    dev_sentences = set().union(*(_sentences(d["text"]) for d in dev))
    _fail_on([f"{r['id']}: reuses {s!r}" for r in records for s in sorted(_sentences(r["text"]) & dev_sentences)])
