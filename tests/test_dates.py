"""Effective dates: the forms notices use in several languages, year-less dates, and dates that are not effective."""

from __future__ import annotations

import datetime as dt

import pytest

from policywatch.extract.dates import ADOPTED, SENTENCE, STRONG, effective_date, find_dates, iter_dates

PUBLISHED = dt.date(2025, 3, 1)


def _iso(text: str, published: dt.date | None = PUBLISHED, day_first: bool = True) -> str | None:
    value = effective_date(text, published, day_first)
    return value.isoformat() if value else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The surtax is effective March 4, 2025.", "2025-03-04"),
        ("GST will apply from 1 July 2026 to goods of low value.", "2026-07-01"),
        ("goods entered on or after 12:01 a.m. eastern daylight time on April 9, 2025", "2025-04-09"),
        ("from 12:01 a.m. ET, April 10, 2025 onward", "2025-04-10"),
        ("at or after 12:01 a.m. EST on February 24, 2026", "2026-02-24"),
        ("GST will apply with effect from 1 Jan 2023 to imported goods", "2023-01-01"),
        ("An amending Order entered into force on April 30, 2019.", "2019-04-30"),
        ("As of October 22, 2024, a surtax is payable.", "2024-10-22"),
        ("Beginning May 2, 2025, de minimis treatment ends.", "2025-05-02"),
        ("applies to goods entered on or after 2025-02-10", "2025-02-10"),
        ("Effective date of this rule: January 16, 2025.", "2025-01-16"),
        ("with effect from May 14, 2025 at 12:01", "2025-05-14"),
        ("the prohibition has applied since 30 September 2023", "2023-09-30"),
        ("Decision 01 enters into force on February 18, 2025.", "2025-02-18"),
        ("before February 7, 2025, the date on which ACE started processing de minimis clearances again",
         "2025-02-07"),
        ("A partir del 1 de enero de 2026, México ajustará sus aranceles.", "2026-01-01"),
        ("cambios que regirán desde el 25 de octubre", "2025-10-25"),
        ("A contar del 25 de octubre, el precio incluirá el IVA.", "2025-10-25"),
        ("a partir de 1º de agosto de 2023, o imposto deixa de ser cobrado", "2023-08-01"),
        ("A partir da próxima terça-feira, 1º de agosto, o governo não cobrará mais o imposto.", "2025-08-01"),
        ("对部分原产于美国的进口商品,于2025年2月10日起加征关税。", "2025-02-10"),
        ("自2025年5月14日12时01分起,加征关税税率由34%调整为10%。", "2025-05-14"),
        ("决定从2023年8月24日(含当日)开始,全面暂停进口", "2023-08-24"),
        ("海关总署宣布8月24日起全面暂停日本水产品进口", "2025-08-24"),
        ("拟生效日期: 2026-07-01 |", "2026-07-01"),
        ("令和7年4月1日から施行する。", "2025-04-01"),
        ("2025년 7월 1일부터 시행한다", "2025-07-01"),
        ("2025. 1. 1.부터 반덤핑 관세를 부과한다", "2025-01-01"),
        ("This notification shall come into force on the 2nd day of February, 2025.", "2025-02-02"),
        ("Die Pflichten gelten ab dem 13. Dezember 2024.", "2024-12-13"),
        ("Die Verordnung tritt am 13.12.2024 an die Stelle der Richtlinie.", "2024-12-13"),
        ("Ketentuan ini mulai berlaku pada tanggal 1 Januari 2026.", "2026-01-01"),
        ("Karar 1 Ocak 2026 tarihinden itibaren uygulanır.", "2026-01-01"),
        ("À compter du 1er janvier 2026, la TVA s'applique.", "2026-01-01"),
        ("With immediate effect, imports of laptops are restricted.", "2025-03-01"),
        ("商务部公告第二款自即日起暂停实施,至2026年11月27日止。", "2025-03-01"),
        ("The order entered into force on October 27 this year.", "2025-10-27"),
        ("From 14 April: suspensions move to measure type 112", "2025-04-14"),
    ],
)
def test_effective_forms(text: str, expected: str) -> None:
    assert _iso(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Comments must be received on or before May 5, 2025.",
        "Final date for comments: 14 October 2025",
        "评议截止日期:2025年10月14日",
        "美国政府于2025年2月1日宣布加征关税",  # a date a past event happened
        "The President announced on February 1, 2025 that duties would be imposed.",
        "Commission Implementing Regulation (EU) 2019/73 of 17 January 2019",
        "Portaria MF nº 156, de 24 de junho de 1999",
        "Bulletin sent by U.S. Customs and Border Protection on 02/11/2025 at 03:36 PM EST",
        "President Erdoğan signed it on Jan. 6, and the Official Gazette carried it on Jan. 7.",
        "The measures remain valid until December 31, 2024.",
        "for the period of review (POR) from February 1, 2017 to January 31, 2018",
        "Updated: 2023-08-18 Views: 697",
        "Notification No. 02/2025-Customs, dated the 1st February, 2025",
        "Importers may file in March 2025.",  # no day
    ],
)
def test_not_effective(text: str) -> None:
    assert _iso(text) is None


def test_a_range_gives_its_start_only() -> None:
    found = find_dates("from 1 July 2026 to 1 July 2028", PUBLISHED)
    assert [(d.date.isoformat(), d.strength) for d in found] == [("2026-07-01", STRONG), ("2028-07-01", 0)]


def test_strengths() -> None:
    assert find_dates("On 25 February the Council gave its approval to the package.", PUBLISHED)[0].strength == ADOPTED
    assert find_dates("Die Verordnung tritt am 13.12.2024 an die Stelle", PUBLISHED)[0].strength == SENTENCE


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("02/11/2025", False, "2025-02-11"),  # a US notice: month first
        ("02/11/2025", True, "2025-11-02"),
        ("28/06/2024", False, "2024-06-28"),  # a part over 12 decides
        ("13.12.2024", False, "2024-12-13"),  # dotted dates are day first everywhere
        ("2025.02.10", True, "2025-02-10"),
        ("March 4th, 2025", True, "2025-03-04"),
        ("Sept. 30, 2025", True, "2025-09-30"),
        ("the 1st of July 2026", True, "2026-07-01"),
        ("30 de septiembre de 2025", True, "2025-09-30"),
        ("1.º de março de 2024", True, "2024-03-01"),
        ("2025年04月04日", True, "2025-04-04"),
        ("31 June 2025", True, None),  # no such day
    ],
)
def test_date_forms(text: str, day_first: bool, expected: str | None) -> None:
    found = [d.isoformat() for d, _, _ in iter_dates(text, PUBLISHED, day_first)]
    assert found == ([expected] if expected else [])


def test_may_the_verb_is_not_a_month() -> None:
    assert list(iter_dates("importers may 5 times apply", PUBLISHED)) == []
    assert [d.isoformat() for d, _, _ in iter_dates("from May 5", PUBLISHED)] == ["2025-05-05"]


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("from 5 January", dt.date(2025, 12, 20), "2026-01-05"),  # next year, not eleven months ago
        ("entered into force on 20 December", dt.date(2026, 1, 5), "2025-12-20"),
        ("desde el 25 de octubre", dt.date(2025, 10, 3), "2025-10-25"),
        ("A partir da próxima terça-feira, 1º de agosto", None, None),  # no published date, no year
        ("with immediate effect", None, None),
    ],
)
def test_year_less_dates_take_the_published_year(text: str, published: dt.date | None, expected: str | None) -> None:
    assert _iso(text, published) == expected
