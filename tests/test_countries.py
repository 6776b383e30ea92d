"""Countries: names to alpha-2, origin contexts, the targeted origins of a measure, and its issuer."""

from __future__ import annotations

import pytest

from policywatch.extract.countries import (
    STRONG,
    WEAK,
    affected_countries,
    country_code,
    find_countries,
    foreign_actor,
    issuer,
    normalize_jurisdiction,
    origin_mentions,
)


def _codes(text: str) -> list[str]:
    return [m.code for m in find_countries(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("imports from the People's Republic of China", ["CN"]),
        ("the Republic of Korea and Viet Nam", ["KR", "VN"]),
        ("PRC export control law", ["CN"]),
        ("Hong Kong, Macau and Macao", ["HK", "MO", "MO"]),
        ("Hong Kong, China", ["HK"]),  # the WTO name is one member, not two
        ("Taiwan and Chinese Taipei", ["TW", "TW"]),
        ("Chinese-origin goods", ["CN"]),
        ("goods of Mexican origin", ["MX"]),
        ("Russian iron and steel", ["RU"]),
        ("U.S.-origin goods", ["US"]),
        ("the EU, the European Union and its Member States", ["EU", "EU", "EU"]),
        ("Türkiye (Turkey)", ["TR", "TR"]),
        ("美国、中国和日本", ["US", "CN", "JP"]),
        ("美方单边加征关税", ["US"]),
        ("原产于美国的进口商品", ["US"]),
        ("中国香港和中国台湾", ["HK", "TW"]),
        ("Estados Unidos, China, Corea del Sur, Filipinas, Tailandia y Taiwán", ["US", "CN", "KR", "PH", "TH", "TW"]),
        ("Japão e Estados Unidos", ["JP", "US"]),
        ("Volksrepublik China und Vereinigte Staaten", ["CN", "US"]),
        ("Tiongkok dan Amerika Serikat", ["CN", "US"]),
        ("Çin ve Avrupa Birliği", ["CN", "EU"]),
        ("Estados Unidos Mexicanos", ["MX"]),  # Mexico's official name
        ("SANCTIONS AGAINST RUSSIA", ["RU"]),
    ],
)
def test_names_to_codes(text: str, expected: list[str]) -> None:
    assert _codes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "let us know",  # the pronoun
        "CONTACT US",
        "purchases of up to US$ 50 and 100 US dollars",
        "USD 100 per unit",
        "três mil dólares dos Estados Unidos da América",
        "19 U.S.C. 1321(a)(2)(C)",
        "Vancouver, British Columbia",
        "Albuquerque, New Mexico",
        "Gwinnett County, Georgia",
        "Atlanta, Georgia",
        "roast turkey and turkey meat",
        "Turkey meat imports",
        "the Indian Ocean",
        "Latin American countries",
        "Bureau of Indian Standards",
        "发展中国家",  # "developing countries", not China
        "8月24日本公告",  # a day (日) followed by 本
        "以美元计价,欧元区",
    ],
)
def test_false_friends(text: str) -> None:
    assert _codes(text) == []


def test_short_eu_abbreviations_need_their_language() -> None:
    assert _codes("las medidas de la UE") == ["EU"]
    assert _codes("UE 2024 summary") == []
    assert _codes("AB ve ABD arasında") == ["EU", "US"]
    assert _codes("Volvo AB annual report") == []


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        ("A 25% surtax applies to goods originating in China.", "tariff_increase", [("CN", STRONG)]),
        ("surtaxes on certain goods of United States origin", "tariff_increase", [("US", STRONG)]),
        ("Only U.S.-origin goods are liable to the surtaxes.", "tariff_increase", [("US", STRONG)]),
        ("the China Surtax Order (2024)", "tariff_increase", [("CN", STRONG)]),
        ("provisional duties on battery electric vehicles imported from China", "trade_remedy", [("CN", STRONG)]),
        ("anti-dumping duties on kegs from China", "trade_remedy", [("CN", WEAK)]),
        ("Council adopts sanctions against Russia over its war of aggression against Ukraine", "sanctions",
         [("RU", STRONG)]),
        ("Articles the product of China, including products of Hong Kong and Macau", "tariff_increase",
         [("CN", STRONG), ("HK", STRONG), ("MO", STRONG)]),
        ("shipments that contain Chinese and Hong Kong products", "de_minimis", [("CN", STRONG), ("HK", STRONG)]),
        ("对部分原产于美国的进口商品加征关税", "tariff_increase", [("US", STRONG)]),
        ("全面暂停进口日本水产品", "import_restriction", [("JP", STRONG)]),
        ("对美国出口镓、锗等两用物项", "export_control", [("US", STRONG)]),
        ("commerce bureau: 对美加强出口管制", "export_control", [("US", STRONG)]),
        ("productos originarios de países como Corea del Sur, China e India", "tariff_increase",
         [("KR", STRONG), ("CN", STRONG), ("IN", STRONG)]),
        ("importações provenientes da China", "tariff_increase", [("CN", STRONG)]),
        ("produits originaires de Chine", "trade_remedy", [("CN", STRONG)]),
        ("placed on the Entity List with the destination China", "export_control", [("CN", STRONG)]),
        ("one entry listed with India as destination", "export_control", [("IN", STRONG)]),
        ("BIS adds 13 entities located in China to the Entity List", "export_control", [("CN", STRONG)]),
        ("Goods from Turkish companies attract a countervailing amount", "trade_remedy", [("TR", STRONG)]),
        ("provisional duties apply to Turkish producers", "trade_remedy", [("TR", WEAK)]),
        ("米国産の牛肉", "import_restriction", [("US", STRONG)]),
        # not origins
        ("Talks with China continue.", "trade_remedy", []),
        ("Russia's war of aggression against Ukraine", "sanctions", []),
        ("to a country or region other than China", "export_control", []),
        ("Goods of Canada and Mexico that qualify under USMCA are exempt.", "tariff_increase", []),
        ("imports from all countries, except Canada and Mexico", "tariff_increase", []),
        ("goods from EU countries are taxed at 30% and goods from any other country at 60%", "import_tax", []),
        ("the Supreme Court of the United States reviews the tariffs", "tariff_increase", []),
    ],
)
def test_origin_mentions(text: str, category: str, expected: list[tuple[str, int]]) -> None:
    assert origin_mentions(text, category) == expected


@pytest.mark.parametrize(
    ("tiers", "category", "issuer_code", "expected"),
    [
        # the issuer is never an origin, however often it is named
        ([["Imports of steel into the United States from China"], ["products of the United States"]],
         "tariff_increase", "US", ("CN",)),
        # a weak hint is enough for a tariff, not for a de minimis change
        ([[], ["Some 4 million orders are sent each day from China to Vietnam."]], "de_minimis", "VN", ()),
        ([[], ["Some 4 million orders are sent each day from China to Vietnam."]], "tariff_increase", "VN", ("CN",)),
        # strong mentions outrank weak ones
        ([["duties on kegs from Japan"], ["kegs originating in China"]], "trade_remedy", "EU", ("CN",)),
        ([["GST on imported low-value goods"], ["goods bought from overseas"]], "import_tax", "AU", ()),
    ],
)
def test_affected_countries(tiers, category: str, issuer_code: str, expected: tuple[str, ...]) -> None:
    assert affected_countries(tiers, category, issuer_code) == expected


def test_background_is_read_only_when_the_rest_names_no_origin() -> None:
    background = ["imports originating in China"]
    assert affected_countries([["the extended duty"], []], "trade_remedy", "EU", background) == ("CN",)
    assert affected_countries([["imports originating in India"]], "trade_remedy", "EU", background) == ("IN",)


@pytest.mark.parametrize(
    ("title", "sentences", "jurisdiction", "expected"),
    [
        ("Customs Notice 24-36", ["surtax on goods originating in China"], "CA", "CA"),
        ("Tariff Stop Press Notice", [], "UK", "GB"),
        ("Council adopts sanctions", [], "EU", "EU"),
        ("United States: executive order of 12 May 2025 cutting the reciprocal tariff", [], "HK", "US"),
        ("Russia: guidance on sanctions", [], "GB", "GB"),  # a topic, not an issuer
        ("Abstract of WTO TBT notifications", ["Notification: G/TBT/N/ARG/269 | Member: Argentina | Products"],
         "WTO", "AR"),
        ("TBT通报:关于修订玩具法定检验规定的提案", ["1. | 通报方:台澎金马单独关税区 |"], "WTO", "TW"),
        ("TBT notification", ["See G/TBT/N/TPKM/524 for the earlier measure."], "WTO", "TW"),
        ("TBT notification", ["Symbol: G/TBT/N/USA/1234/Add.1"], "WTO", "US"),
        ("SPS notification", ["G/SPS/N/EU/800"], "WTO", "EU"),
        ("美国TBT通报:电子尼古丁释放系统", ["2. | 主管机构: |"], "WTO", "US"),
        ("Trade concerns raised in the Council for Trade in Goods", ["Members discussed 30 concerns."], "WTO", None),
        ("Notice", [], None, None),
    ],
)
def test_issuer(title: str, sentences: list[str], jurisdiction: str | None, expected: str | None) -> None:
    assert issuer(title, sentences, jurisdiction) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("US", "US"), ("uk", "GB"), ("EU", "EU"), ("WTO", None), ("CHN", "CN"), ("Japan", "JP"), ("", None),
     (None, None)],
)
def test_normalize_jurisdiction(value: str | None, expected: str | None) -> None:
    assert normalize_jurisdiction(value) == expected


def test_country_code() -> None:
    assert country_code("Argentina") == "AR"
    assert country_code("台澎金马单独关税区") == "TW"
    assert country_code("Atlantis") is None


@pytest.mark.parametrize(
    ("text", "issuer_code", "expected"),
    [
        ("the tariffs that the United States (U.S.) has imposed on Canadian steel", "CA", True),
        ("美国政府于2025年2月1日宣布,对中国输往美国的全部商品加征10%关税。", "CN", True),
        ("美方这种单边加征关税的行为严重违背世界贸易组织规则", "CN", True),
        ("the US President signed an executive order", "US", False),  # the issuer itself
        ("goods originating in the United States", "CN", False),
    ],
)
def test_foreign_actor(text: str, issuer_code: str, expected: bool) -> None:
    assert foreign_actor(text, issuer_code) is expected
