"""The third, final held-out set (tests/assets/holdout3.jsonl): schema, label consistency, mix, independence.

Only the file is read; the extraction engine is never imported or run. The set exists to give honest
generalisation figures after the rules were tuned on the dev corpus and both earlier held-out sets, so
nobody tunes on it (see tests/assets/HOLDOUT3.md). The checks are written out here, not imported from the
earlier holdout tests, so that each set can change on its own.
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
ASSETS = ROOT / "tests" / "assets"
HOLDOUT3 = ASSETS / "holdout3.jsonl"
EARLIER_HOLDOUTS = (ASSETS / "holdout.jsonl", ASSETS / "holdout2.jsonl")
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
NEGATIVE_LABELS = {
    "category": "none",
    "direction": None,
    "affected_countries": [],
    "hs_codes": [],
    "new_rate_percent": None,
    "old_rate_percent": None,
    "effective_date": None,
    "severity": None,
}
# Every measure category of the brief must be represented; other_regulation is allowed but not asked for.
REQUIRED_CATEGORIES = {c.value for c in Category} - {Category.OTHER_REGULATION.value}
MIN_PER_CATEGORY = 3
FIXED_DIRECTION = {Category.TARIFF_INCREASE.value: "tighten", Category.TARIFF_DECREASE.value: "loosen"}
# Categories where a stated old and new rate must move the way the direction says.
RATE_CATEGORIES = {Category.TARIFF_INCREASE.value, Category.TARIFF_DECREASE.value, Category.IMPORT_TAX.value}
SINGLE_LANGUAGES = {"fr", "de", "it", "id", "ja", "ko", "tr", "vi"}
NON_COUNTRY_ISSUERS = {"EU", "WTO"}

ID = re.compile(r"h3-(?P<issuer>[a-z]{2,3})-[a-z0-9]+(?:-[a-z0-9]+)*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
URL = re.compile(r"https?://[^\s/]+\.[^\s/]+/?\S*")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Characters that exist only in Traditional Chinese; any one of them marks a text as Traditional.
TRADITIONAL_ONLY = set("關稅務貨價額網國門與為這們來時說會買賣郵臺灣點規訊於對發際貿業實體區應課華")
WORD_RANGE = (80, 350)
CJK_RANGE = (150, 1000)  # Chinese and Japanese are not space-delimited, so ideographs and kana are counted
SENTENCE_WORDS = 8
SENTENCE_CJK = 15
# Beyond whole sentences, no long run of words may be shared: that would be a copied passage.
RUN_WORDS = 16
RUN_CJK = 24
SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？；：])|\n+")
WORD = re.compile(r"\w+(?:[-'’]\w+)*")
# A negative is "hard" when it speaks the vocabulary of a measure, in any language of the set.
MEASURE_WORDS = re.compile(
    r"tariff|dut(?:y|ies)|de minimis|export control|anti-dumping|countervailing|surtax|sanction|\bVAT\b|\bGST\b"
    r"|关税|關稅|反倾销|反補貼|出口管制|应课税|應課稅|arancel|impuesto|tributos|derechos de aduana|imposto|alíquota"
    r"|tarifa|gümrük vergisi|chống bán phá giá|thuế|関税|관세",
    re.IGNORECASE,
)
MIN_HARD_NEGATIVES = 18

needs_dev = pytest.mark.skipif(not DEV.is_file(), reason="../shared/corpus is not present")


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    """Every bulletin of the third held-out set, in file order."""
    return _load(HOLDOUT3)


@pytest.fixture(scope="module")
def positives(records: list[dict]) -> list[dict]:
    """The bulletins labelled as announcing a change."""
    return [r for r in records if r["labels"]["is_change"] is True]


def _fail_on(problems: list[str]) -> None:
    # Every problem is reported at once, so one run shows all the slips in the file.
    assert not problems, "\n".join(problems)


def _is_country(code: object) -> bool:
    return isinstance(code, str) and len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


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


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def _sentences(text: str) -> set[str]:
    parts = (_normal(p) for p in SENTENCE_END.split(text))
    return {p for p in parts if len(p.split()) >= SENTENCE_WORDS or len(CJK.findall(p)) >= SENTENCE_CJK}


def _runs(text: str) -> set[str]:
    words = [w.lower() for w in WORD.findall(text)]
    runs = {" ".join(words[i : i + RUN_WORDS]) for i in range(len(words) - RUN_WORDS + 1)}
    ideographs = "".join(CJK.findall(text))
    return runs | {ideographs[i : i + RUN_CJK] for i in range(len(ideographs) - RUN_CJK + 1)}


def _rate_is_written(value: float, text: str) -> bool:
    shown = {f"{value:g}", f"{value:.1f}", f"{value:.2f}"}
    shown |= {s.replace(".", ",") for s in shown}  # decimal commas in es/pt/de/it/fr texts
    return any(s in text for s in shown)


def test_every_line_is_a_json_object() -> None:
    problems = []
    for number, line in enumerate(HOLDOUT3.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            problems.append(f"line {number}: blank line")
            continue
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
            problems.append(f"{r.get('id')}: top-level keys differ by {sorted(set(r) ^ TOP_KEYS)}")
        elif not isinstance(r["labels"], dict) or set(r["labels"]) != LABEL_KEYS:
            problems.append(f"{r['id']}: label keys differ by {sorted(set(r['labels']) ^ LABEL_KEYS)}")
    _fail_on(problems)


def test_ids_are_unique_prefixed_and_name_the_issuer(records: list[dict]) -> None:
    ids = [r["id"] for r in records]
    duplicated = sorted(i for i, n in Counter(ids).items() if n > 1)
    assert not duplicated, f"duplicate ids: {duplicated}"
    problems = []
    for r in records:
        match = ID.fullmatch(r["id"])
        if match is None:
            problems.append(f"{r['id']}: ids must look like h3-<issuer>-<slug>")
        elif match["issuer"] != r["jurisdiction"].lower():
            problems.append(f"{r['id']}: id names issuer {match['issuer']!r}, jurisdiction is {r['jurisdiction']}")
    _fail_on(problems)


def test_urls_and_titles_are_unique(records: list[dict]) -> None:
    for key in ("url", "title"):
        repeated = sorted(v for v, n in Counter(r[key] for r in records).items() if n > 1)
        assert not repeated, f"repeated {key}: {repeated}"


def test_metadata_fields(records: list[dict]) -> None:
    problems = []
    for r in records:
        rid = r["id"]
        if r["jurisdiction"] not in NON_COUNTRY_ISSUERS and not _is_country(r["jurisdiction"]):
            problems.append(f"{rid}: jurisdiction {r['jurisdiction']!r} is not ISO alpha-2, EU or WTO")
        if not isinstance(r["language"], str) or pycountry.languages.get(alpha_2=r["language"]) is None:
            problems.append(f"{rid}: language {r['language']!r} is not ISO 639-1")
        if r["published"] is not None and not _is_date(r["published"]):
            problems.append(f"{rid}: published {r['published']!r} is not an ISO date")
        if not isinstance(r["url"], str) or not URL.fullmatch(r["url"]):
            problems.append(f"{rid}: url {r['url']!r} is not an http(s) address")
        problems += [
            f"{rid}: {key} is empty"
            for key in ("source", "title", "text")
            if not isinstance(r[key], str) or not r[key].strip()
        ]
    _fail_on(problems)


def test_script_matches_the_language_tag(records: list[dict]) -> None:
    problems = []
    for r in records:
        cjk = len(CJK.findall(r["text"]))
        if r["language"] in {"zh", "ja"} and cjk < CJK_RANGE[0]:
            problems.append(f"{r['id']}: tagged {r['language']} but has only {cjk} CJK characters")
        if r["language"] == "ko" and len(HANGUL.findall(r["text"])) < 100:
            problems.append(f"{r['id']}: tagged ko but has little Hangul")
        if r["language"] not in {"zh", "ja", "ko"} and cjk:
            problems.append(f"{r['id']}: tagged {r['language']} but contains CJK characters")
    _fail_on(problems)


def test_text_length_is_like_a_real_notice(records: list[dict]) -> None:
    problems = []
    for r in records:
        low, high = CJK_RANGE if r["language"] in {"zh", "ja"} else WORD_RANGE
        if not low <= _size(r) <= high:
            problems.append(f"{r['id']}: length {_size(r)} outside {low}-{high}")
    _fail_on(problems)


def test_negatives_carry_empty_labels(records: list[dict]) -> None:
    problems = []
    for r in records:
        lab = r["labels"]
        if lab["is_change"] is False:
            wrong = {k: lab[k] for k, v in NEGATIVE_LABELS.items() if lab[k] != v}
            if wrong:
                problems.append(f"{r['id']}: negative with non-empty labels {wrong}")
    _fail_on(problems)


def test_positive_labels_use_the_contract_vocabulary(records: list[dict], positives: list[dict]) -> None:
    categories = {c.value for c in Category}
    directions = {d.value for d in Direction}
    severities = {s.value for s in Severity}
    problems = [
        f"{r['id']}: is_change must be a boolean" for r in records if not isinstance(r["labels"]["is_change"], bool)
    ]
    for r in positives:
        lab, rid = r["labels"], r["id"]
        if lab["category"] not in categories:
            problems.append(f"{rid}: category {lab['category']!r} is not a DESIGN category")
        if lab["direction"] not in directions:
            problems.append(f"{rid}: direction {lab['direction']!r}")
        if lab["severity"] not in severities:
            problems.append(f"{rid}: severity {lab['severity']!r}")
        if lab["effective_date"] is not None and not _is_date(lab["effective_date"]):
            problems.append(f"{rid}: effective_date {lab['effective_date']!r} is not an ISO date")
        problems += [
            f"{rid}: {key} {lab[key]!r} is not a percentage"
            for key in ("new_rate_percent", "old_rate_percent")
            if not _is_rate(lab[key])
        ]
    _fail_on(problems)


def test_directions_agree_with_categories_and_rates(positives: list[dict]) -> None:
    problems = []
    for r in positives:
        lab = r["labels"]
        fixed = FIXED_DIRECTION.get(lab["category"])
        if fixed and lab["direction"] != fixed:
            problems.append(f"{r['id']}: {lab['category']} must be {fixed}, not {lab['direction']}")
        new, old = lab["new_rate_percent"], lab["old_rate_percent"]
        if lab["category"] in RATE_CATEGORIES and new is not None and old is not None and new != old:
            moved = "tighten" if new > old else "loosen"
            if lab["direction"] != moved:
                problems.append(f"{r['id']}: rate {old} -> {new} contradicts direction {lab['direction']}")
        if old is not None and new is None:
            problems.append(f"{r['id']}: an old rate without a new one")
    _fail_on(problems)


def test_list_labels_and_notes(records: list[dict]) -> None:
    problems = []
    for r in records:
        lab, rid = r["labels"], r["id"]
        countries = lab["affected_countries"]
        if len(set(countries)) != len(countries):
            problems.append(f"{rid}: duplicate affected_countries {countries}")
        problems += [f"{rid}: unknown origin {c!r}" for c in countries if c != "EU" and not _is_country(c)]
        # An issuer never targets its own goods, so an origin equal to the jurisdiction is a slip.
        if r["jurisdiction"] in countries:
            problems.append(f"{rid}: jurisdiction {r['jurisdiction']} listed among its own targets")
        # hs_codes are "as written in the text", so each must appear there verbatim.
        problems += [f"{rid}: hs code {h!r} not in the text" for h in lab["hs_codes"] if h not in r["text"]]
        problems += [
            f"{rid}: hs code {h!r} is not digits and dots"
            for h in lab["hs_codes"]
            if not re.fullmatch(r"\d[\d.]*\d", h)
        ]
        if len(set(lab["hs_codes"])) != len(lab["hs_codes"]):
            problems.append(f"{rid}: duplicate hs codes")
        if not isinstance(lab["notes"], str) or not lab["notes"].strip() or "\n" in lab["notes"]:
            problems.append(f"{rid}: notes must be one non-empty line")
    _fail_on(problems)


def test_labelled_rates_and_years_are_stated_in_the_text(positives: list[dict]) -> None:
    problems = []
    for r in positives:
        lab = r["labels"]
        for key in ("new_rate_percent", "old_rate_percent"):
            value = lab[key]
            # Zero is often written as a word ("sopprime", "nil", "alíquota zero"), so it is not searched for.
            if value not in (None, 0) and not _rate_is_written(value, r["text"]):
                problems.append(f"{r['id']}: {key} {value} is not written in the text")
        if lab["effective_date"] and lab["effective_date"][:4] not in r["text"]:
            problems.append(f"{r['id']}: the year of effective_date {lab['effective_date']} is not in the text")
    _fail_on(problems)


def test_the_mix_matches_the_brief(records: list[dict], positives: list[dict]) -> None:
    negatives = [r for r in records if r["labels"]["is_change"] is False]
    per_category = Counter(r["labels"]["category"] for r in positives)
    languages = Counter(r["language"] for r in records)
    assert len(records) >= 60, len(records)
    assert 35 <= len(positives) <= 44, len(positives)
    assert 20 <= len(negatives) <= 27, len(negatives)
    thin = {c: per_category[c] for c in REQUIRED_CATEGORIES if per_category[c] < MIN_PER_CATEGORY}
    assert not thin, f"categories with fewer than {MIN_PER_CATEGORY} positives: {thin}"
    assert 0.6 <= languages["en"] / len(records) <= 0.7, languages
    assert languages["zh"] >= 6 and languages["es"] >= 5 and languages["pt"] >= 4, languages
    assert SINGLE_LANGUAGES <= set(languages), languages
    assert len({r["jurisdiction"] for r in records}) >= 25
    assert len({r["jurisdiction"] for r in positives}) >= 18


def test_chinese_items_include_one_or_two_traditional(records: list[dict]) -> None:
    chinese = [r for r in records if r["language"] == "zh"]
    traditional = [r["id"] for r in chinese if TRADITIONAL_ONLY & set(r["text"])]
    assert 1 <= len(traditional) <= 2, traditional
    assert len(traditional) < len(chinese), "no Simplified Chinese item"


def test_negatives_are_mostly_hard(records: list[dict]) -> None:
    hard = [r["id"] for r in records if r["labels"]["is_change"] is False and MEASURE_WORDS.search(r["text"])]
    assert len(hard) >= MIN_HARD_NEGATIVES, hard


def test_no_sentence_is_repeated_inside_the_set(records: list[dict]) -> None:
    # Each bulletin is written on its own; a sentence shared by two items would mean a template.
    seen: dict[str, str] = {}
    problems = []
    for r in records:
        for s in sorted(_sentences(r["text"])):
            if s in seen and seen[s] != r["id"]:
                problems.append(f"{r['id']} and {seen[s]} share {s!r}")
            seen.setdefault(s, r["id"])
    _fail_on(problems)


def _assert_disjoint(records: list[dict], others: list[dict], name: str) -> None:
    for key in ("id", "url", "title"):
        shared = {r[key] for r in records} & {o[key] for o in others}
        assert not shared, f"{key}s shared with {name}: {shared}"
    other_sentences = set().union(*(_sentences(o["text"]) for o in others))
    other_runs = set().union(*(_runs(o["text"]) for o in others))
    problems = [
        f"{r['id']}: sentence from {name}: {s!r}"
        for r in records
        for s in sorted(_sentences(r["text"]) & other_sentences)
    ]
    problems += [
        f"{r['id']}: passage from {name}: {s!r}" for r in records for s in sorted(_runs(r["text"]) & other_runs)
    ]
    _fail_on(problems)


@pytest.mark.parametrize("path", EARLIER_HOLDOUTS, ids=lambda p: p.name)
def test_holdout3_is_disjoint_from_the_earlier_holdouts(records: list[dict], path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"{path.name} is not present")
    _assert_disjoint(records, _load(path), path.name)


@needs_dev
@pytest.mark.corpus
def test_holdout3_is_disjoint_from_the_dev_corpus(records: list[dict]) -> None:
    _assert_disjoint(records, _load(DEV), "the dev corpus")


def test_the_disjointness_check_can_fail(records: list[dict]) -> None:
    # A copied item must be caught, or the independence tests above prove nothing.
    copied = dict(records[0], id="h3-xx-copy", url="https://example.org/copy", title="copy")
    with pytest.raises(AssertionError):
        _assert_disjoint([copied], [records[0] | {"id": "x", "url": "https://example.org/x", "title": "x"}], "a copy")
