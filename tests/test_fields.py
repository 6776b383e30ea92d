"""extract_fields: every attribute of a change record, read from a prepared bulletin with the engine's evidence."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policywatch.extract.fields import Fields, extract_fields, sections, tiers
from policywatch.extract.prepare import Prepared, prepare
from policywatch.models import Document

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "bulletins-dev.jsonl"


def _doc(text: str, title: str = "", jurisdiction: str | None = None, published: str | None = None,
         language: str | None = "en") -> Prepared:
    return prepare(Document(id="t", text=text, title=title, jurisdiction=jurisdiction, published=published,
                            language=language))


def _index(doc: Prepared, fragment: str) -> int:
    return next(i for i, s in enumerate(doc.sentences) if fragment in s)


def test_fields_is_a_frozen_record() -> None:
    fields = extract_fields(_doc("Nothing here."), "other_regulation", [])
    assert fields == Fields((), (), None, None, None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fields.hs_codes = ("8471",)  # type: ignore[misc]


def test_a_canadian_surtax_on_us_goods() -> None:
    doc = _doc(
        "Canada has adopted these surtaxes as a response to the tariffs that the United States (U.S.) has imposed "
        "on certain Canadian steel, at 25% since March 2018.\n"
        "From July 1, 2018, certain U.S.-origin goods bear a surtax of 10% calculated on their value for duty.",
        title="Customs Notice 18-08: surtaxes on certain goods of United States origin",
        jurisdiction="CA", published="2018-06-29",
    )
    fields = extract_fields(doc, "tariff_increase", [])
    assert fields.affected_countries == ("US",)
    assert fields.jurisdiction == "CA"
    # the 25% is the foreign measure Canada answers, not Canada's own rate
    assert fields.new_rate_percent == 10.0
    assert fields.effective_date == "2018-07-01"


def test_a_chinese_retaliation_in_chinese() -> None:
    doc = _doc(
        "美国政府于2025年2月1日宣布,对中国输往美国的全部商品加征25%关税。\n"
        "对部分原产于美国的进口商品,于2025年2月10日起加征关税。\n"
        "一、煤炭、液化天然气,加征关税15%。\n"
        "二、原油、农业机械,加征关税10%。",
        title="国务院关税税则委员会公告:对部分美国原产进口商品加征关税",
        jurisdiction="CN", published="2025-02-04", language="zh",
    )
    fields = extract_fields(doc, "tariff_increase", [])
    assert fields == Fields(("US",), (), 15.0, None, "2025-02-10", "CN")


def test_a_decrease_keeps_the_higher_rate_as_the_old_one() -> None:
    doc = _doc("The additional tariff on goods originating in the United States will be adjusted from 34% to 10% "
               "with effect from May 14, 2025.", jurisdiction="CN", published="2025-05-13")
    fields = extract_fields(doc, "tariff_decrease", [])
    assert (fields.new_rate_percent, fields.old_rate_percent) == (10.0, 34.0)
    assert fields.affected_countries == ("US",)
    assert fields.effective_date == "2025-05-14"
    # a decrease written the other way round still reads the higher rate as the old one
    swapped = extract_fields(_doc("The rate moves from 10% to 34% under the old schedule."), "tariff_decrease", [])
    assert (swapped.new_rate_percent, swapped.old_rate_percent) == (10.0, 34.0)


def test_evidence_sentences_come_first() -> None:
    doc = _doc(
        "Imports of steel from Japan are subject to a 50% duty.\n"
        "Filler sentence one.\nFiller sentence two.\nFiller sentence three.\n"
        "From 1 July 2026 a 10% duty applies to kegs originating in China.",
        jurisdiction="EU", published="2026-05-01",
    )
    with_evidence = extract_fields(doc, "tariff_increase", [_index(doc, "kegs")])
    assert with_evidence.new_rate_percent == 10.0
    assert with_evidence.effective_date == "2026-07-01"
    without = extract_fields(doc, "tariff_increase", [])
    assert without.new_rate_percent == 50.0  # the whole text: the headline (highest) rate
    assert set(without.affected_countries) == {"JP", "CN"}


def test_evidence_out_of_range_is_ignored() -> None:
    doc = _doc("A 25% surtax applies to goods originating in China.", jurisdiction="CA")
    assert extract_fields(doc, "tariff_increase", [42, -1]) == extract_fields(doc, "tariff_increase", [])


def test_categories_without_rates_report_none() -> None:
    doc = _doc("Entities held 50% or more by listed parties need a licence; a 0% duty suspension applies to "
               "others. Effective date: September 29, 2025.", jurisdiction="US")
    fields = extract_fields(doc, "export_control", [])
    assert (fields.new_rate_percent, fields.old_rate_percent) == (None, None)
    assert fields.effective_date == "2025-09-29"


def test_a_de_minimis_exemption_is_a_zero_rate() -> None:
    doc = _doc(
        "A partir de 1º de agosto de 2023, o governo não cobrará mais o imposto de importação em compras de até "
        "US$ 50. Se a empresa não aderir, a Receita Federal cobrará o imposto de importação, equivalente a 60% do "
        "valor.",
        title="Compras internacionais de até US$ 50 deixam de pagar imposto de importação",
        jurisdiction="BR", language="pt",
    )
    fields = extract_fields(doc, "de_minimis", [])
    assert (fields.new_rate_percent, fields.old_rate_percent) == (0.0, 60.0)
    assert fields.affected_countries == ()  # "dólares dos Estados Unidos" is a currency, not an origin
    assert fields.effective_date == "2023-08-01"


def test_a_trade_remedy_keeps_the_residual_rate() -> None:
    doc = _doc(
        "Imports of electric bicycles originating in China are subject to a definitive anti-dumping duty.\n"
        "The product is declared under CN code 8711 60 10 or ex 8711 60 90.\n"
        "Company A / C382 / 58,3 %\nCompany B / C463 / 70,1 %\nAll other companies / C999 / 62,1 %",
        jurisdiction="EU", published="2019-01-18",
    )
    fields = extract_fields(doc, "trade_remedy", [0])
    assert fields.new_rate_percent == 62.1
    assert fields.hs_codes == ("87116010", "87116090")
    assert fields.affected_countries == ("CN",)
    assert fields.effective_date is None  # nothing says when it applies


def test_background_sections_do_not_give_rates_or_dates() -> None:
    doc = _doc(
        "Section 232 duties apply to the steel derivative products listed below.\n"
        "BACKGROUND\n"
        "Proclamation 10896 imposes, with effect from June 23, 2025, a tariff of 25 percent ad valorem.\n"
        "ENTRY FILING INSTRUCTIONS\n"
        "The instructions apply to goods entered from 12:01 a.m. EDT, August 18, 2025 onward.",
        title="CSMS # 65936570 - GUIDANCE: Additional Steel Derivative Products", jurisdiction="US",
    )
    background, unrelated = sections(doc.sentences)
    assert background == frozenset({_index(doc, "Proclamation")}) and unrelated == frozenset()
    fields = extract_fields(doc, "tariff_increase", [])
    assert fields.new_rate_percent is None
    assert fields.effective_date == "2025-08-18"
    assert fields.hs_codes == ()  # neither the CSMS number nor the proclamation number


def test_a_related_news_block_is_not_read() -> None:
    doc = _doc(
        "As of March 14, 2022, merchandise produced by a named company is being detained.\n"
        "Other media releases\n"
        "Baltimore officers stop a shipment of 29,000 fake filters from China, HTS 8421.21.00.",
        title="CBP takes enforcement action", jurisdiction="US",
    )
    fields = extract_fields(doc, "import_restriction", [])
    assert fields == Fields((), (), None, None, "2022-03-14", "US")
    assert tiers(doc, [])[1] == [doc.sentences[0]]


def test_a_relayed_us_order_on_a_hong_kong_circular() -> None:
    doc = _doc(
        "An executive order signed on 12 May 2025 by the US President sets the reciprocal tariff applicable to "
        "articles of China, articles of Hong Kong included, at 10% as from 14 May 2025.",
        title="United States: executive order cutting the reciprocal tariff on articles of China (Hong Kong "
              "included) to 10%",
        jurisdiction="HK", published="2025-05-13",
    )
    assert extract_fields(doc, "tariff_decrease", []) == Fields(("CN", "HK"), (), 10.0, None, "2025-05-14", "US")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Notification: G/TBT/N/ARG/269 | Member: Argentina | Products covered: Feeding bottles", "AR"),
        ("1. | 通报方:台澎金马单独关税区 |\n4. | 涵盖产品:玩具(HS编码:95)", "TW"),
        ("The Committee discussed 30 trade concerns.", None),
    ],
)
def test_wto_notifications_name_their_member(text: str, expected: str | None) -> None:
    fields = extract_fields(_doc(text, title="TBT notification", jurisdiction="WTO"), "product_requirement", [])
    assert fields.jurisdiction == expected
    assert fields.affected_countries == ()


_PIECES = st.sampled_from([
    "from 1 July 2026", "25%", "HTS 8471.30.01", "originating in China", "美国", "8月24日起", "US$ 50",
    "No. 61 of 2025", "G/TBT/N/ARG/269", "between 5% and 10%", "Chapter 72", "a partir del 1 de enero",
    "自即日起", "|", "\n", ". ",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=20)), max_size=12), st.sampled_from(
    ["tariff_increase", "tariff_decrease", "trade_remedy", "de_minimis", "import_tax", "export_control", "sanctions",
     "product_requirement"]), st.sampled_from([None, "US", "CN", "EU", "WTO", "HK"]),
    st.lists(st.integers(-2, 12), max_size=3))
def test_any_text_gives_contract_shaped_fields(pieces, category, jurisdiction, evidence) -> None:
    doc = _doc(" ".join(pieces), title=" ".join(pieces[:2]), jurisdiction=jurisdiction, published="2025-03-01")
    fields = extract_fields(doc, category, evidence)
    assert all(re.fullmatch(r"\d[\d.]*", code) for code in fields.hs_codes)
    assert all(code == "EU" or re.fullmatch(r"[A-Z]{2}", code) for code in fields.affected_countries)
    assert fields.jurisdiction is None or fields.jurisdiction == "EU" or re.fullmatch(r"[A-Z]{2}", fields.jurisdiction)
    assert fields.jurisdiction != "WTO"
    assert fields.effective_date is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields.effective_date)
    for rate in (fields.new_rate_percent, fields.old_rate_percent):
        assert rate is None or 0 <= rate <= 1000


def test_extractors_do_not_import_spacy() -> None:
    code = ("import sys, policywatch.extract.fields; "
            "sys.exit(1 if any(m == 'spacy' or m.startswith('spacy.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1]).returncode == 0


# --- the labelled corpus --------------------------------------------------------------------------

def _same(field: str, want, got) -> bool:
    if field == "affected_countries":
        return set(want) == set(got)
    if field == "hs_codes":
        return {re.sub(r"\D", "", c) for c in want} == {re.sub(r"\D", "", c) for c in got}
    if field.endswith("_percent"):
        return (want is None and got is None) or (want is not None and got is not None and abs(want - got) < 0.01)
    return want == got


@pytest.mark.corpus
def test_corpus_positives_field_accuracy() -> None:
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    positives = [r for r in rows if r["labels"]["is_change"]]
    fields = ("affected_countries", "hs_codes", "new_rate_percent", "old_rate_percent", "effective_date")
    hits = dict.fromkeys(fields, 0)
    for row in positives:
        doc = prepare(Document(id=row["id"], text=row["text"], title=row.get("title") or "",
                               language=row.get("language"), jurisdiction=row.get("jurisdiction"),
                               published=row.get("published")))
        got = extract_fields(doc, row["labels"]["category"], [])
        for field in fields:
            hits[field] += _same(field, row["labels"][field], getattr(got, field))
    accuracy = {field: hits[field] / len(positives) for field in fields}
    assert all(value >= 0.9 for value in accuracy.values()), accuracy
