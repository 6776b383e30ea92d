"""Countries: names to ISO 3166-1 alpha-2, the origins a measure targets, and who issues it.

pycountry gives the English names; the alias table below adds short forms, demonyms and the names used in
Chinese, Spanish, Portuguese, French, German, Indonesian, Turkish, Japanese and Korean notices. A mention
only counts as a targeted origin in an origin context ("originating in X", "X-origin", "imports from X",
"products of X", "sanctions against X", "原产于X", "对X", "originarios de X", "países … como X, Y y Z"),
and never for the issuer, whose own name is everywhere in its notices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pycountry

EU = "EU"
STRONG = 2  # an origin context: "originating in X", "X-origin", "对X", "products of X"
WEAK = 1  # a hint: "from X", "X producers"

# code: aliases separated by "|". "-" marks false friends: names that contain a country's but are not one.
_ALIAS_TABLE = """
US: United States|United States of America|U.S.|U.S.A.|USA|US|America|American|Americans|estadounidense|estadounidenses
US: Estados Unidos|Estados Unidos de América|Estados Unidos da América|EE.UU.|EE. UU.|EEUU|EUA|États-Unis|Etats-Unis
US: Vereinigte Staaten|Stati Uniti|Amerika Serikat|Amerika Birleşik Devletleri|ABD|美国|美國|米国|アメリカ|미국
CN: China|Chinese|PRC|P.R.C.|People's Republic of China|China, People's Republic of|Mainland China|Chine|Tiongkok|Cina
CN: Volksrepublik China|République populaire de Chine|República Popular China|República Popular da China|Çin
CN: 中国|中國|中华人民共和国|中國大陸|中国大陆|중국
HK: Hong Kong|Hong Kong, China|Hong Kong SAR|HKSAR|Hongkong|香港|中国香港|中國香港|홍콩
MO: Macau|Macao|Macao, China|Macau, China|Macanese|澳门|澳門|中国澳门|マカオ
TW: Taiwan|Taiwanese|Chinese Taipei|Taiwán|Separate Customs Territory of Taiwan, Penghu, Kinmen and Matsu|台湾|臺灣
TW: 中国台湾|台澎金马单独关税区|台澎金馬單獨關稅區|대만
JP: Japan|Japanese|Japón|Japão|Japon|Jepang|Japonya|日本|일본
KR: Korea|South Korea|Republic of Korea|Korean|South Korean|ROK|Corea del Sur|Coreia do Sul|Corée du Sud|Südkorea
KR: Korea Selatan|Güney Kore|韩国|韓國|韓国|한국
KP: North Korea|North Korean|DPRK|Corea del Norte|Coreia do Norte|朝鲜
RU: Russia|Russian|Russian Federation|Rusia|Rússia|Russie|Russland|Rusya|俄罗斯|ロシア|러시아
BY: Belarus|Belarusian|Bielorrusia|白俄罗斯
UA: Ukraine|Ukrainian|Ucrania|Ucrânia|乌克兰
GB: United Kingdom|UK|U.K.|Britain|Great Britain|British|Northern Ireland|Reino Unido|Royaume-Uni
GB: Vereinigtes Königreich|Inggris|Birleşik Krallık|İngiltere|英国|英國|영국
EU: EU|E.U.|European Union|Member States|EU Member States|Unión Europea|União Europeia|Union européenne|UE
EU: Europäische Union|Uni Eropa|Avrupa Birliği|AB|欧盟|歐盟|欧州連合|유럽연합
CA: Canada|Canadian|Canadá|Kanada|加拿大|カナダ|캐나다
MX: Mexico|Mexican|México|Mexique|Mexiko|Meksiko|Meksika|Estados Unidos Mexicanos|墨西哥|メキシコ|멕시코
IN: India|Indian|Índia|Inde|Indien|Hindistan|印度|インド
VN: Vietnam|Viet Nam|Vietnamese|Vietnã|Việt Nam|越南|ベトナム|베트남
TH: Thailand|Thai|Tailandia|Tailândia|Thaïlande|泰国|泰國
ID: Indonesia|Indonesian|Indonésia|Indonésie|Indonesien|Endonezya|印度尼西亚|印尼|インドネシア
MY: Malaysia|Malaysian|Malasia|Malásia|Malaisie|马来西亚
PH: Philippines|Philippine|Filipino|Filipinas|Filipina|菲律宾
SG: Singapore|Singaporean|Singapur|Singapura|新加坡
AU: Australia|Australian|Austrália|Australie|Australien|澳大利亚|澳洲
NZ: New Zealand|Nueva Zelanda|Nova Zelândia|新西兰
BR: Brazil|Brazilian|Brasil|Brésil|Brasilien|Brezilya|巴西
AR: Argentina|Argentine|Argentinian|Argentinean|阿根廷
CL: Chile|Chilean|智利
CO: Colombia|Colombian|哥伦比亚
PE: Peru|Peruvian|Perú|秘鲁
DE: Germany|German|Alemania|Alemanha|Allemagne|Deutschland|Jerman|Almanya|德国|ドイツ|독일
FR: France|French|Francia|França|Frankreich|Prancis|Fransa|法国|フランス
IT: Italy|Italian|Italia|Itália|Italie|Italien|意大利
ES: Spain|Spanish|España|Espanha|Espagne|Spanien|西班牙
PT: Portugal|Portuguese|葡萄牙
NL: Netherlands|Dutch|Holland|Países Bajos|Países Baixos|Pays-Bas|Niederlande|荷兰
BE: Belgium|Belgian|Bélgica|比利时
CH: Switzerland|Swiss|Suiza|Suíça|Suisse|Schweiz|瑞士
TR: Turkey|Türkiye|Turkiye|Turkish|Turquía|Turquia|Turquie|Türkei|Turki|土耳其
IR: Iran|Iranian|伊朗
IL: Israel|Israeli|以色列
SA: Saudi Arabia|Saudi|Arabia Saudita|沙特|沙特阿拉伯
AE: United Arab Emirates|UAE|Emirati|Emiratos Árabes Unidos|阿联酋
ZA: South Africa|South African|Sudáfrica|África do Sul|南非
EG: Egypt|Egyptian|Egipto|Egito|埃及
PK: Pakistan|Pakistani|巴基斯坦
BD: Bangladesh|Bangladeshi|孟加拉国
LK: Sri Lanka|Sri Lankan|斯里兰卡
KH: Cambodia|Cambodian|Camboya|Camboja|柬埔寨
MM: Myanmar|Burma|Burmese|缅甸
LA: Laos|Laotian|老挝
MN: Mongolia|Mongolian|蒙古
KZ: Kazakhstan|Kazakh|哈萨克斯坦
SY: Syria|Syrian|叙利亚
VE: Venezuela|Venezuelan|委内瑞拉
CU: Cuba|Cuban|古巴
PL: Poland|Polish|Polonia|波兰
SE: Sweden|Swedish|瑞典
NO: Norway|Norwegian|挪威
DK: Denmark|Danish|丹麦
FI: Finland|Finnish|芬兰
IE: Ireland|Irish|爱尔兰
AT: Austria|Austrian|奥地利
CZ: Czechia|Czech Republic|Czech|捷克
HU: Hungary|Hungarian|匈牙利
GR: Greece|Greek|希腊
-: New Mexico|New Jersey|British Columbia|British Virgin Islands|American Samoa|Latin America|Latin American
-: South America|South American|North America|North American|Central America|Central American|Indian Ocean
-: American Indian|Indian Standards|Guinea pig|Jersey City|Georgia Tech|New South Wales|East Timor Sea
"""

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")
_ALIASES: dict[str, str] = {}


def _build_aliases() -> None:
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if name:
                _ALIASES.setdefault(name.lower(), country.alpha_2)
    for line in _ALIAS_TABLE.strip().splitlines():
        code, _, names = line.partition(":")
        for name in names.split("|"):
            _ALIASES[name.strip().lower()] = "" if code.strip() == "-" else code.strip()


_build_aliases()


def _trie_regex(words: Iterable[str], capital_first: bool = False) -> str:
    """One regex alternation for many literals, shaped as a trie so matching stays linear and greedy.

    capital_first: the first character is matched in upper case only and the rest case-insensitively
    (country names are proper nouns; the scan then skips every lower-case position at once).
    """
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict) -> str:
        end = "" in node
        branches = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if end else body

    if not capital_first:
        return walk(trie)
    firsts = []
    for ch, child in sorted(trie.items()):
        rest = walk(child)
        upper = ch.upper() if len(ch.upper()) == 1 else ch
        firsts.append(re.escape(upper) + (f"(?i:{rest})" if rest else ""))
    return "(?:" + "|".join(firsts) + ")"


_LATIN_NAMES = re.compile(
    r"(?<![A-Za-zÀ-ɏ0-9])" + _trie_regex((a for a in _ALIASES if not _CJK.search(a)), capital_first=True)
    + r"(?![A-Za-zÀ-ɏ0-9])"
)
_CJK_NAMES = re.compile(_trie_regex(a for a in _ALIASES if _CJK.search(a)))
# Single-character abbreviations in Chinese, only where the grammar makes them a country: "对美", "美方", "中美".
_CJK_SHORT = re.compile(r"(?<=对)(?P<a>[美欧俄韩日])(?![元金洲术国本期常前后内起至益])|(?P<b>[美欧俄韩日])(?=方)"
                        r"|(?<=中)(?P<c>[美欧俄韩日])(?=[关贸经元两首间\s双])")
_CJK_SHORT_CODES = {"美": "US", "欧": EU, "俄": "RU", "韩": "KR", "日": "JP"}

_CURRENCY = re.compile(r"\s*(?:\$|dollars?\b|dólar)", re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"(?:d[óo]lar(?:es)?|dollars?)\s+(?:dos|de\s+los|de|of\s+the)\s+$", re.IGNORECASE)
_PRONOUN_BEFORE = re.compile(r"\b(?:CONTACT|ABOUT|JOIN|FOLLOW|EMAIL|CALL|HELP|TELL|LET|TO|FOR|WITH|OF|BY|GIVE|SEND"
                             r"|WRITE|VISIT|SHOW|ASK|AMONG|LIKE)\s+$")
_GEORGIA_STATE = re.compile(r"(?:County|City|Atlanta|Savannah|Augusta|Macon|Athens|Columbus),?\s+$")
_TURKISH = re.compile(r"[çğış]|\b(?:ve|ile|için)\b", re.IGNORECASE)
_ROMANCE = re.compile(r"[ãõáéíóúàèç]|\b(?:la|el|del|da|do|de|des|les|della)\b", re.IGNORECASE)
_TURKEY_FOOD = re.compile(r"\s+(?:meat|breasts?|wings?|legs?|thighs?|drumsticks?|cuts|carcass\w*|sausages?|bacon|"
                          r"roast|day|vultures?|sandwich\w*)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """A country named in a text: its alpha-2 code (or "EU") and where."""

    code: str
    start: int
    end: int


def _keep_latin(text: str, m: re.Match[str], code: str) -> bool:
    word = m.group(0)
    if not code or word[:1].islower():
        return False
    if word.upper() == "US" and (word != "US" or _PRONOUN_BEFORE.search(text[max(0, m.start() - 12) : m.start()])):
        return False
    if code in ("US", "CA") and _CURRENCY.match(text, m.end()):
        return False
    if _CURRENCY_BEFORE.search(text[max(0, m.start() - 25) : m.start()]):
        return False
    if word.lower() == "georgia" and (_GEORGIA_STATE.search(text[max(0, m.start() - 20) : m.start()])
                                      or re.match(r",?\s+(?:USA|U\.S\.|state)\b", text[m.end() :])):
        return False
    if word.lower() == "turkey" and _TURKEY_FOOD.match(text, m.end()):
        return False
    # "AB"/"ABD" (Turkish for EU/US) and "UE" (Romance EU) are too short to trust outside those languages.
    if word in ("AB", "ABD"):
        return bool(_TURKISH.search(text))
    return word != "UE" or bool(_ROMANCE.search(text))


def _keep_cjk(text: str, m: re.Match[str]) -> bool:
    word, before = m.group(0), text[max(0, m.start() - 1) : m.start()]
    after = text[m.end() : m.end() + 1]
    if word == "日本" and re.match(r"[\d一二三四五六七八九十〇]", before):  # "8月24日本公告": a day, then 本
        return False
    if word in ("中国", "中國") and (before in "其展集之当空" and before or after == "家" and
                                    text[m.end() : m.end() + 2] not in ("家电", "家具")):
        return False
    return not (word == "法国" and before in "合非违")


@lru_cache(maxsize=4096)
def _find(text: str) -> tuple[Mention, ...]:
    text = text.replace("’", "'")
    out: list[Mention] = []
    for m in _LATIN_NAMES.finditer(text):
        code = _ALIASES.get(m.group(0).lower(), "")
        if _keep_latin(text, m, code):
            out.append(Mention(code, m.start(), m.end()))
    if _CJK.search(text):
        for m in _CJK_NAMES.finditer(text):
            code = _ALIASES.get(m.group(0), "")
            if code and _keep_cjk(text, m):
                out.append(Mention(code, m.start(), m.end()))
        for m in _CJK_SHORT.finditer(text):
            ch = m.group("a") or m.group("b") or m.group("c")
            out.append(Mention(_CJK_SHORT_CODES[ch], m.start(), m.end()))
        out.sort(key=lambda x: x.start)
    return tuple(out)


def find_countries(text: str) -> list[Mention]:
    """Every country named in text, in order (false friends like "New Mexico" or "US dollars" left out)."""
    return list(_find(text))


def country_code(name: str) -> str | None:
    """The alpha-2 code (or "EU") of one country name or alias, None when unknown."""
    found = find_countries(name.strip())
    return found[0].code if found else None


def normalize_jurisdiction(value: str | None) -> str | None:
    """An input jurisdiction as the contract wants it: alpha-2 or "EU"; "UK" becomes GB; unknowns None."""
    if not value:
        return None
    value = value.strip()
    upper = value.upper()
    if upper in ("EU", "EUROPEAN UNION"):
        return EU
    if upper == "UK":
        return "GB"
    if len(upper) == 2 and pycountry.countries.get(alpha_2=upper):
        return upper
    if len(upper) == 3 and upper != "WTO" and pycountry.countries.get(alpha_3=upper):
        return pycountry.countries.get(alpha_3=upper).alpha_2
    return country_code(value) if upper != "WTO" else None


# --- origins -----------------------------------------------------------------------------------------

# What may stand between two countries of one list: "China, Hong Kong and Macau", "China (Hong Kong included)".
_JOIN = re.compile(
    r"[\s,;/、，()\[\]&]*(?:(?:and|or|as\s+well\s+as|y|e|et|und|ou|o|dan|ve|和|及|与|以及|including|incl\.|included"
    r"|inclusive|incluidos?|incluindo|products\s+of|articles\s+of|goods\s+of|the|articles|products)"
    r"[\s,;/、，()\[\]&]*)*",
    re.IGNORECASE,
)
_MEASURE = (r"(?:sanctions?|measures?|duties|duty|tariffs?|surtax\w*|restrictions?|bans?|embargo\w*|retaliat\w*"
            r"|countermeasures?|levies|levy|controls?|actions?|sanciones|medidas|aranceles|derechos|sanções|tarifas)")


def _tail(latin: str, cjk: str = "") -> re.Pattern[str]:
    """A pattern for the words right before a country: Latin alternatives start at a word boundary (which
    keeps the unanchored scan cheap), CJK ones are literal suffixes."""
    return re.compile(r"(?<![\w])(?:" + latin + ")" + (f"|(?:{cjk})$" if cjk else ""), re.IGNORECASE)


_PRE_STRONG = _tail(
    r"(?:originat\w*|origin|originari[oa]s?|origin[áa]ri[oa]s?|oriund[oa]s?|procedentes?|provenientes?|originaires?"
    r"|en\s+provenance)\s+(?:in|from|de|d[eao]s?|del|d'|du|des)\s*(?:the\s+|la\s+|el\s+|l')?$"
    r"|(?:produced|manufactured|made|grown|processed|mined|fabricated)\s+in\s+(?:the\s+)?$"
    r"|(?:products?|goods|articles?|merchandise|imports?|commodities|items|shipments|exports?|importaciones|importações"
    r"|productos|produtos|mercanc[ií]as|mercadorias|bienes|bens|art[ií]culos|importations|produits|marchandises"
    r"|Einfuhren|Waren|Erzeugnisse)(?:\s+[\w-]+){0,2}?\s+(?:of|from|de|d[eao]s?|del|desde|aus|en\s+provenance\s+de)"
    r"\s*(?:the\s+|la\s+|el\s+)?$"
    r"|(?:imported|coming|shipped|sourced|arriving|consigned|originating|importad[oa]s?)\s+(?:directly\s+|straight\s+)?"
    r"(?:from|de|desde)\s+(?:the\s+)?$"
    r"|product\s+of\s+(?:the\s+)?$|Ursprung\s+in\s+(?:der\s+|dem\s+)?$"
    r"|" + _MEASURE + r"\b[^.;]{0,30}?\b(?:against|on|targeting|contra|contre|gegen)\s+(?:the\s+|la\s+|el\s+)?"
    r"(?:(?:imports?|goods|products)\s+(?:of|from)\s+(?:the\s+)?)?$",
    r"原产于|原产自|产自|来自|进口自|对(?:原产于)?|(?:暂停|禁止)?进口",
)
_PRE_DESTINATION = _tail(
    r"(?:destination|destinations)\s*(?:of|:|,)?\s*(?:the\s+)?$|destined\s+(?:for|to)\s+(?:the\s+)?$"
    r"|(?:exports?|exporting|re-?exports?|shipments?|sales?|transfers?|exported)(?:\s+[\w-]+){0,2}?\s+to\s+(?:the\s+)?$"
    r"|end[- ]users?\s+in\s+(?:the\s+)?$|(?:located|based|registered|headquartered)\s+in\s+(?:the\s+)?$",
    r"出口至|出口到|输往|销往|向",
)
_PRE_LIST = _tail(r"(?:such\s+as|including|like|namely|incl\.|como|tales\s+como|incluidos?|incluyendo|entre\s+ell[oa]s"
                  r"|a\s+saber|incluindo|notamment|dont|wie|darunter|termasuk|seperti)\s*:?\s*$", r"包括|如")
_COUNTRIES_WORD = re.compile(r"\b(?:countries|nations|economies|trading\s+partners|países|naciones|nações|pays|Länder"
                             r"|negara|ülke\w*)\b|国家|经济体", re.IGNORECASE)
_PRE_WEAK = _tail(r"from\s+(?:the\s+)?$|aus\s+(?:der\s+|dem\s+)?$|dari\s+$")
_PRE_EXCLUDE = _tail(
    r"(?:except|excluding|other\s+than|apart\s+from|exception\s+of|excepto|salvo|excepción\s+de|exceto|exceção\s+de"
    r"|sauf|außer|ausgenommen|kecuali|non-)\s*(?:for\s+)?(?:the\s+)?(?:(?:goods|imports)\s+(?:from|of)\s+)?$",
    r"除|不包括",
)
_POST_STRONG = re.compile(
    r"[\s-]*(?:-?origin(?:ating)?\b|-made\b|-produced\b|-sourced\b|-manufactured\b|\s+made\b)"
    r"|\s*\(?\s*(?:surtax|sanctions?|retaliat\w*)\b"
    r"|(?:\s+[\w-]+){0,2}?\s+(?:products?|goods|imports|articles|merchandise|commodities|exports?|items|origin"
    r"|seafood|steel|aluminium|aluminum|iron)\b"
    r"|(?:原产|产|産|산|籍|[^\s,。，;；、]{0,4}?(?:商品|产品|货物|物项|进口|製品))",
    re.IGNORECASE,
)
_POST_DESTINATION = re.compile(r"\s+as\s+(?:the\s+|a\s+)?destination", re.IGNORECASE)
_POST_WEAK = re.compile(r"(?:\s+[\w-]+){0,2}?\s+(?:producers?|exporters?|manufacturers?|companies|company|firms?"
                        r"|entities|suppliers?|makers?|brands?|vehicles|cars)\b", re.IGNORECASE)
_POST_EXCLUDE = re.compile(r"[^.;]{0,60}?\b(?:is|are|remain|will\s+be|shall\s+be)\s+(?:exempt|excluded|not\s+subject"
                           r"|not\s+covered)|\s*(?:\)\s*)?(?:is|are)?\s*exempt(?:ed)?\s+from", re.IGNORECASE)
_ALL_ORIGINS = re.compile(
    r"any\s+other\s+country|all\s+(?:other\s+)?countries|every\s+country|all\s+origins|any\s+country\s+of\s+origin"
    r"|whatever\s+their\s+country|regardless\s+of\s+(?:the\s+)?(?:country|origin)|all\s+trading\s+partners"
    r"|every\s+trading\s+partner|todos\s+los\s+países|demás\s+países|otros\s+países|outros\s+países"
    r"|todos\s+os\s+países|其他国家|所有国家|başka\s+ülke",
    re.IGNORECASE,
)
_ALL_ORIGINS_KEYS = ("countr", "origin", "partner", "país", "国家", "ülke")
# The last word before a country must be one of these for any origin context to apply (a cheap gate
# before the full patterns).
_GATE_WORDS = frozenset(
    "in from de do da dos das del d' du des desde aus of against on targeting contra contre gegen der dem to for"
    " destination destinations destination: destination, except excluding than salvo excepto exceto sauf außer"
    " ausgenommen kecuali dari as including like namely como incluidos incluido incluyendo incluindo notamment dont"
    " wie darunter termasuk seperti incl. the la el l' a o ellos ellas saber".split()
)
_GATE_CHARS = frozenset("于自对口括除向往至到如:：,，(（-")


def _gate(before: str) -> bool:
    tail = before.rstrip()
    if not tail:
        return False
    if tail[-1] in _GATE_CHARS:
        return True
    return tail.rsplit(None, 1)[-1].lower() in _GATE_WORDS


# Categories whose measures name their target; for the others (de minimis, VAT, procedures) a weak hint
# such as "orders sent from China" is not a target.
TARGETING = frozenset({"tariff_increase", "tariff_decrease", "trade_remedy", "sanctions", "import_restriction",
                       "export_control"})
_DESTINATION_COUNTS = frozenset({"export_control", "sanctions", "import_restriction"})


def _groups(mentions: Sequence[Mention], text: str) -> list[list[Mention]]:
    groups: list[list[Mention]] = []
    for m in mentions:
        if groups and len(text[groups[-1][-1].end : m.start]) <= 40 and _JOIN.fullmatch(
            text[groups[-1][-1].end : m.start]
        ):
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def origin_mentions(text: str, category: str = "") -> list[tuple[str, int]]:
    """(code, strength) for each country that text presents as an origin (or, for export controls, a target)."""
    mentions = find_countries(text)
    if not mentions:
        return []
    lower = text.lower()
    if any(key in lower for key in _ALL_ORIGINS_KEYS) and _ALL_ORIGINS.search(text):
        return []
    text = text.replace("’", "'")
    out: list[tuple[str, int]] = []
    for group in _groups(mentions, text):
        before = text[max(0, group[0].start - 48) : group[0].start]
        after = text[group[-1].end : group[-1].end + 60]
        gated = _gate(before)
        if gated and _PRE_EXCLUDE.search(before) or _POST_EXCLUDE.match(after):
            continue
        strength = 0
        if gated and _PRE_STRONG.search(before) or _POST_STRONG.match(after) or (
            gated and len(group) > 1 and _PRE_LIST.search(before) and _COUNTRIES_WORD.search(text)
        ):
            strength = STRONG
        elif gated and _PRE_DESTINATION.search(before) or _POST_DESTINATION.match(after):
            strength = STRONG if category in _DESTINATION_COUNTS else WEAK
        elif gated and _PRE_WEAK.search(before) or _POST_WEAK.match(after):
            strength = WEAK
        if strength:
            out.extend((m.code, strength) for m in group)
    return out


def affected_countries(
    texts: Sequence[Sequence[str]], category: str, issuer_code: str | None, fallback: Sequence[str] = ()
) -> tuple[str, ...]:
    """The origins a measure targets, in order of first mention; () means all origins.

    texts: tiers of texts (title and evidence first) read together; fallback (e.g. background sections)
    is read only when they name nothing. Countries in an origin context count; when none is strong, hints
    ("from X", "X producers") are enough for measures that normally name a target (TARGETING).
    """
    for tiers in (texts, [fallback]):
        strong: list[str] = []
        weak: list[str] = []
        for tier in tiers:
            for text in tier:
                for code, strength in origin_mentions(text, category):
                    if code != issuer_code:
                        (strong if strength == STRONG else weak).append(code)
        if strong:
            return tuple(dict.fromkeys(strong))
        if weak and category in TARGETING:
            return tuple(dict.fromkeys(weak))
    return ()


_ACTOR_AFTER = re.compile(r"\s*(?:\([^)]{1,12}\)\s*)?(?:'s\s+)?(?:government|administration|president|has\s+imposed"
                          r"|had\s+imposed|imposed|announced|政府|方(?!面))", re.IGNORECASE)


def foreign_actor(text: str, issuer_code: str | None) -> bool:
    """True when text tells of another country acting ("the United States has imposed", "美国政府…宣布").

    Such sentences describe the measure a notice responds to; their rates and dates are not its own.
    """
    clean = text.replace("’", "'")
    return any(m.code != issuer_code and _ACTOR_AFTER.match(clean, m.end) for m in find_countries(text))


# --- issuer ------------------------------------------------------------------------------------------

_WTO_SYMBOL = re.compile(r"G/(?:TBT|SPS)/N/([A-Z]{2,4})/|/(?:TBT|SPS)/([A-Z]{3,4})/")
_WTO_SPECIAL = {"TPKM": "TW", "EU": EU, "EEC": EU, "EC": EU, "EUR": EU}
_MEMBER_FIELD = re.compile(r"(?:Notifying\s+Member|Member|通报方|通报成员|通報成員|Miembro(?:\s+notificante)?"
                           r"|Membre(?:\s+notifiant)?)\s*[:：]\s*([^|\n;,(（]{2,80})", re.IGNORECASE)
# After "United States:" at the head of a title, words that make the country the actor of the notice.
_TITLE_ISSUER = re.compile(r"\s*[:：]\s*(?:the\s+)?(?:executive\s+order|proclamation|presidential|president|government"
                           r"|ministry|customs|announces|imposes|decree|notifies|federal\s+register)", re.IGNORECASE)
_TITLE_NOTIFIES = re.compile(r"\s*(?:TBT|SPS)")


def _wto_code(symbol: str) -> str | None:
    if symbol in _WTO_SPECIAL:
        return _WTO_SPECIAL[symbol]
    country = pycountry.countries.get(alpha_3=symbol)
    return country.alpha_2 if country else None


def issuer(title: str, sentences: Sequence[str], jurisdiction: str | None) -> str | None:
    """Who imposes the measure: the input jurisdiction unless the text says otherwise; never "WTO".

    A WTO notification names its member ("Member: Argentina", "通报方:美国", "G/TBT/N/ARG/269"); a relayed
    notice leads with its issuer ("United States: executive order …" on a Hong Kong circular).
    """
    own = normalize_jurisdiction(jurisdiction)
    head = [title, *sentences[:40]]
    if (jurisdiction or "").strip().upper() == "WTO" or not own:
        for text in head:
            m = _MEMBER_FIELD.search(text)
            code = country_code(m.group(1)) if m else None
            if code:
                return code
        for text in head:
            for m in _WTO_SYMBOL.finditer(text):
                code = _wto_code(m.group(1) or m.group(2))
                if code:
                    return code
        lead = find_countries(title)
        if lead and lead[0].start == 0 and _TITLE_NOTIFIES.match(title, lead[0].end):
            return lead[0].code  # "美国TBT通报", "Japan SPS notification"
        return own
    lead = find_countries(title)
    if lead and lead[0].start == 0 and lead[0].code != own and _TITLE_ISSUER.match(title, lead[0].end):
        return lead[0].code
    return own
