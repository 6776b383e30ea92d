"""HS / HTS / CN codes: the forms notices use, and the many numbers that are never codes."""

from __future__ import annotations

import pytest

from policywatch.extract.hscodes import find_hs_codes, hs_codes_in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vehicles of HTS 8703.80.00 are covered.", ("8703.80.00",)),
        ("Laptops are classified under HTSUS 8471.30.0100.", ("8471.30.0100",)),
        ("Heading 9903.01.63: articles the product of China", ("9903.01.63",)),
        ("9903.01.63: Articles the product of China will be assessed 125%.", ("9903.01.63",)),
        ("Flat-rolled products of heading 7208 are included.", ("7208",)),
        ("Transformers of subheading 8504.40 are excluded.", ("8504.40",)),
        ("Iron and steel products of Chapter 72.", ("72",)),
        ("Articles of chapters 72 and 73 of the HTSUS", ("72", "73")),
        ("Import policy for HSN 8471 personal computers is revised.", ("8471",)),
        ("The product is declared under CN code 8711 60 10 or ex 8711 60 90.", ("87116010", "87116090")),
        ("(the latter at TARIC level 8711 60 90 10)", ("8711609010",)),
        ("Gallium metal (reference customs commodity codes: 8112929010, 8112929090 and 8112999000).",
         ("8112929010", "8112929090", "8112999000")),
        ("Antimony oxides (Customs commodity code for reference: 2825800010)", ("2825800010",)),
        ("Goods of subheadings 8471.30 to 8471.50 are covered.", ("8471.30", "8471.50")),
        ("Flat-rolled steel of headings 7208–7212.", ("7208", "7212")),
        ("Toys (every item falling within 95030010, 950300 20 and 95030090, the relevant EXIM Codes)",
         ("95030010", "95030020", "95030090")),
        ("涵盖产品:玩具(HS编码:95)", ("95",)),
        ("税则号列8471.30项下的商品", ("8471.30",)),
        ("la fracción arancelaria 6403.99.99 del TIGIE", ("6403.99.99",)),
        ("produtos classificados no código NCM 8517.12.31", ("8517.12.31",)),
        ("HTS 8471.30.01, 8471.41 and 8471.50 are listed", ("8471.30.01", "8471.41", "8471.50")),
        ("Subheadings 9903.01.20 and 9903.01.20 again", ("9903.01.20",)),  # de-duplicated
        ("CN code 8711 60 10, also written 8711.60.10 in HTS form", ("87116010",)),
    ],
)
def test_code_forms(text: str, expected: tuple[str, ...]) -> None:
    assert hs_codes_in(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Published in the Federal Register on March 5, 2025 (90 FR 11249).",
        "Docket number 2025-00704 was assigned.",
        "Commission Implementing Regulation (EU) 2019/73 of 17 January 2019",
        "The United States Surtax Order (Steel and Aluminum), SOR/2018-152, applies.",
        "MOFCOM Announcement No. 61 of 2025",
        "For questions call 1-800-232-5378 or (202) 325-8000.",
        "CSMS # 64082249 - UPDATED GUIDANCE",
        "with the exception of products covered in CSMS 64680374",
        "El decreto abarca 1,463 fracciones arancelarias.",
        "An additional 25% duty applies in 2025.",
        "the administrative exemption at 19 U.S.C. 1321(a)(2)(C)",
        "under 50 U.S.C. 1702(b)",
        "Proclamation 10896 of February 10, 2025",
        "purchases of up to US$ 3,000.00 and R$ 236",
        "Chapter 84, Schedule I, ITC(HS), 2022, under Policy Condition no. 4",
        "toys meeting ISO 8124 or IS 9873 or EN 71",
        "the 2025.02.10 announcement",
        "Business suspensions – measure type 103, additional codes 2700-2704",
        "document codes 9Y11 and 9Y12 are used",
        "the HS 2022 nomenclature",
        "Chapter 3 of the Customs Act",
        "See Chapter 4, Section 2 of the handbook.",
        "The Treaty of 1992 and 2015-2020 policy",
    ],
)
def test_not_a_code(text: str) -> None:
    assert hs_codes_in(text) == ()


def test_codes_in_a_table_under_a_commodity_code_header() -> None:
    lines = [
        "The countervailing duty covers the commodity codes listed below:",
        "Commodity code | Description",
        "7323930010 | Ironing boards — of stainless steel",
        "8516900051 | Legs, tops and iron rests for ironing boards",
        "Importers should note the following.",
        "2024 | a year, after the table ended",
    ]
    assert find_hs_codes(lines) == ("7323930010", "8516900051")


def test_a_chapter_is_dropped_when_finer_codes_are_named() -> None:
    lines = [
        "Chapter 95 of ITC (HS), 2017 - Schedule - 1 (Import Policy): amendment",
        "Toys (every item falling within 95030010 and 95030090, the relevant EXIM Codes)",
    ]
    assert find_hs_codes(lines) == ("95030010", "95030090")
