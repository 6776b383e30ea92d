"""Rates: percentages in the forms notices use, which one is new and which old, and what is never a rate."""

from __future__ import annotations

import pytest

from policywatch.extract.rates import (
    DELTA,
    NEW,
    OLD,
    RATE,
    RateMention,
    chinese_number,
    choose_rates,
    find_rates,
    parse_number,
    zero_rate_cue,
)


def _read(text: str) -> list[tuple[float, str]]:
    return [(m.value, m.role) for m in find_rates(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a surtax equal to 25% of the value for duty", [(25.0, RATE)]),
        ("an ad valorem duty of 25 percent", [(25.0, RATE)]),
        ("a duty of 25 per cent is payable", [(25.0, RATE)]),
        ("an additional 10 percent ad valorem duty", [(10.0, RATE)]),
        ("VAT at 7% applies to low-value imports", [(7.0, RATE)]),
        ("the rate of duty will be increased from 10% to 25%", [(10.0, OLD), (25.0, NEW)]),
        ("the additional tariff will be lowered from 34% to 10% for 90 days", [(34.0, OLD), (10.0, NEW)]),
        ("the reciprocal tariff was increased to 145%", [(145.0, NEW)]),
        ("the 34% additional tariff is adjusted to 10%", [(34.0, OLD), (10.0, NEW)]),
        ("duties cut to 10% from 25%", [(10.0, NEW), (25.0, OLD)]),
        ("reduces the rate of Basic Customs Duty on motorcycles of heading 8711 from 50% to 40%",
         [(50.0, OLD), (40.0, NEW)]),
        ("eleva para 35% a alíquota. Atualmente a alíquota é de 18%.", [(35.0, NEW), (18.0, OLD)]),
        ("a rate of 15%, down from 20%", [(15.0, NEW), (20.0, OLD)]),
        ("raised by 10 percentage points", []),
        ("an increase of 5 percentage points", [(5.0, DELTA)]),
        ("aranceles de 25 por ciento", [(25.0, RATE)]),
        ("tasas de hasta 50% para productos de países sin tratado", [(50.0, RATE)]),
        ("el arancel pasará de 20% a 35%", [(20.0, OLD), (35.0, NEW)]),
        ("imposto de importação à alíquota de 60% (sessenta por cento)", [(60.0, RATE)]),
        ("imposto de 20 por cento", [(20.0, RATE)]),
        ("煤炭、液化天然气,加征关税15%。", [(15.0, RATE)]),
        ("对美加征10%关税", [(10.0, RATE)]),
        ("加征关税税率由34%调整为10%", [(34.0, OLD), (10.0, NEW)]),
        ("从10%提高到25%", [(10.0, OLD), (25.0, NEW)]),
        ("加征百分之十五的关税", [(15.0, RATE)]),
        ("Eşyanın doğrudan gelmesi durumunda %30", [(30.0, RATE)]),
        ("yüzde 20 ek vergi", [(20.0, RATE)]),
        ("la TVA de 20 % s'applique", [(20.0, RATE)]),
        ("Rate of definitive anti-dumping duty: 58,3 %", [(58.3, RATE)]),
        ("duties of 17.4-37.6% on battery electric vehicles", [(17.4, RATE), (37.6, RATE)]),
        ("rates lie between 62.6% and 69.6%", [(62.6, RATE), (69.6, RATE)]),
        ("an ad valorem duty ranging from 23,0 % to 74,9 %", [(23.0, RATE), (74.9, RATE)]),
    ],
)
def test_rate_forms(text: str, expected: list[tuple[float, str]]) -> None:
    assert _read(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a flat-rate customs duty of EUR 3 per item in the parcel",  # a specific duty, not a percentage
        "€2 per parcel will be charged",
        "a duty of USD 0.50 per kg",
        "where the value of Chinese content is at least 0.1% of the value of the item",
        "entities owned 50 percent or more by listed parties",
        "an ownership share of at least 50 percent",
        "antimony oxides of a purity not less than 99.99%",
        "compounds whose purity exceeds 99.999%",
        "investment to reach 28% del PIB",
        "llevar el contenido nacional al 15%",
        "the industry's output fell 3.1 per cent",
        "retrocedió 3.1 por ciento en términos acumulados",
        "exports grew by 12% year-on-year",
        "出口额增长7.1%",
        "a rise of 15.7 per cent on last year",
        "equal to 44.4 per cent of the estimate assigned",
        "9.2 per cent more than in the same period",
        "a further 20 percent tax is added to these rates",
        "the rate of 60% remains unchanged",
        "abarca 1,463 fracciones arancelarias",
    ],
)
def test_not_a_rate(text: str) -> None:
    assert _read(text) == []


def test_residual_rate_of_a_trade_remedy_table() -> None:
    text = "All other companies / C999 / 62,1 %"
    assert find_rates(text)[0].residual
    assert not find_rates("Bodo Vehicle Group Co., Ltd. / C382 / 58,3 %")[0].residual


@pytest.mark.parametrize(
    ("raw", "value"),
    [("25", 25.0), ("37.6", 37.6), ("58,3", 58.3), ("1,463", 1463.0), ("0.1", 0.1)],
)
def test_parse_number(raw: str, value: float) -> None:
    assert parse_number(raw) == value


@pytest.mark.parametrize(
    ("raw", "value"),
    [("十五", 15.0), ("十", 10.0), ("二十五", 25.0), ("一百二十五", 125.0), ("三十四点五", 34.5), ("15", 15.0),
     ("甲", None)],
)
def test_chinese_number(raw: str, value: float | None) -> None:
    assert chinese_number(raw) == value


def _m(value: float, role: str = RATE, residual: bool = False, other: float | None = None) -> RateMention:
    return RateMention(value, 0, 1, role, residual, other)


@pytest.mark.parametrize(
    ("tiers", "prefer_residual", "expected"),
    [
        ([[_m(15), _m(10)]], False, (15.0, None)),  # the headline (highest) rate
        ([[], [_m(7)]], False, (7.0, None)),  # an empty first tier passes to the next
        ([[_m(10)], [_m(50)]], False, (10.0, None)),  # the first tier with a rate decides
        ([[_m(34, OLD), _m(10, NEW, other=34)]], False, (10.0, 34.0)),
        ([[_m(10, NEW)], [_m(34, OLD), _m(10, NEW, other=34)]], False, (10.0, 34.0)),  # old from a later change
        ([[_m(58.3), _m(70.1)], [_m(62.1, residual=True)]], True, (62.1, None)),  # the residual rate wins
        ([[_m(58.3), _m(70.1)], [_m(62.1, residual=True)]], False, (70.1, None)),
        ([[_m(5, DELTA)]], False, (None, None)),  # a change in points is not a rate
        ([[_m(35, NEW), _m(18, OLD)]], False, (35.0, 18.0)),  # "raised to 35%; currently 18%"
        ([], False, (None, None)),
    ],
)
def test_choose_rates(tiers, prefer_residual: bool, expected) -> None:
    assert choose_rates(tiers, prefer_residual=prefer_residual) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Compras internacionais de até US$ 50 deixam de pagar imposto de importação", True),
        ("o Governo Federal não cobrará mais o imposto de importação em compras de até US$ 50", True),
        ("Parcels under EUR 150 will no longer pay customs duty", True),
        ("免征进口关税", True),
        ("From 1 July 2024 the duty is removed.", True),
        ("the duty exemption is removed for parcels under EUR 150", False),
        ("imported goods previously exempt from VAT will be liable to VAT at 7%", False),
        ("goods will no longer be tax exempt", False),
    ],
)
def test_zero_rate_cue(text: str, expected: bool) -> None:
    assert zero_rate_cue(text) is expected
