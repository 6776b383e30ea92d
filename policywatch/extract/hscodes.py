"""HS / HTS / CN codes: the tariff classifications a notice names, as digits with dots.

Precision first: a false code is worse than a missed one. A dotted code in HTS form ("8703.80.00",
"9903.01.63") stands on its own; any other number ("8471", "8112929010", "8711 60 10", "8504.40") is a
code only next to a cue that says so ("HSN 8471", "CN code 8711 60 10", "commodity codes: …", "…, the
relevant EXIM Codes") or in a table under a "Commodity code" header. Years, dates, dockets, Federal
Register and U.S.C. citations, regulation and CSMS numbers, amounts and percentages are never codes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

_TOKEN = re.compile(
    r"(?:(?<![A-Za-z0-9.,/#\-])|(?<=\bex))"  # "ex 8711 60 90" and "ex8711": the ex prefix is dropped
    r"(?:(?P<dot>\d{4}\.\d{2}(?:\.\d{2,4}){0,2}|\d{4}\.\d{4})"
    r"|(?P<sp>\d{4}(?: \d{2}){1,3}|\d{6}(?: \d{2}){1,2})"
    r"|(?P<bare>\d{10}|\d{9}|\d{8}|\d{6}|\d{4}))"
    r"(?![\d%]|[.,/\-:]\d|\s?(?:%|percent|per\s?cent))",
    re.IGNORECASE,
)
# Words that announce a tariff classification. The acronyms are matched in capitals only ("CN code", not "cn").
_CUE = re.compile(
    r"(?<![A-Za-z0-9])(?:(?-i:\b(?:HS|HTS|HTSUS|HTSA|HSN|CN|TARIC|NCM|SH|CTH|CTSH|ITC\s*\(HS\)|H\.S\.))"
    r"(?:\s*(?:codes?|headings?|subheadings?|numbers?|nos?\.?|items?|lines?|classifications?|编码|编号))?"
    r"|\b(?:commodity|tariff|customs|EXIM|statistical|nomenclature|product)\s+(?:commodity\s+|product\s+)?"
    r"(?:codes?|numbers?|lines?|items?|headings?|subheadings?)\b"
    r"|\bsub-?headings?\b|\bheadings?\b|\btariff\s+(?:provisions?|classifications?)\b"
    r"|\bfracci(?:ón|on|ones)(?:\s+arancelarias?)?|\bsub-?partidas?\b|\bpartidas?(?:\s+arancelarias?)?"
    r"|\bposici(?:ón|ones)\s+arancelarias?|\bc[óo]digos?\s+(?:NCM|SA|HS|arancelarios?)\b|\bnomenclatura\b)"
    r"|海关商品编号|商品编号|商品编码|税则号列|税则号|税号|税目|品目",
    re.IGNORECASE,
)
# Codes that are not HS codes even when they sit near the word "code".
_NOT_CUE = re.compile(
    r"\b(?:additional|document|measure|control|TARIC\s+additional|security|postal|zip)\s+(?:codes?|type)|管制编码",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"\s*(?:,|;|/|、|，|\band\b|\bor\b|\by\b|\be\b|\bet\b|\bund\b|和|及|与|或|\bto\b|\bthrough\b|\bthru\b|-|–|—|至|到"
    r"|\ba\b|\bal\b)\s*(?:(?:and|or)\s+)?(?:ex\s*)?",
    re.IGNORECASE,
)
_PRE_NEGATIVE = re.compile(
    r"(?:CSMS|#|\bNos?\.?|\bNr\.?|nº|n°|núm\.?|\bFR|Proclamation|\bOrder|E\.O\.|Regulation|Decision|Notice"
    r"|Notification|Circular|Decree|Decreto|\bLaw|\bAct|Section|\bSec\.|§|U\.S\.C\.|C\.F\.R\.|\bCFR|Annex|Article"
    r"|\bArt\.|paragraph|\bpara\.|\bISO|\bIS|\bEN|ASTM|\bCNS|\bGB|\bBS|\bDIN|\bIEC|\bUL|\bICS|\bpage|\bp\.|\bpp\."
    r"|\btel\.?|phone|\bfax|\bext\.?|\$|€|£|¥|\bUSD|\bEUR|R\$|\bRp|Views:?|第|\bvol\.?|\bissue)\s*[:(]?\s*$",
    re.IGNORECASE,
)
_POST_NEGATIVE = re.compile(
    r"\s*(?:FR\b|U\.S\.C|CFR\b|号|年|元|个|件|种|種|euros?\b|dollars?\b|USD\b|EUR\b|baht\b|yuan\b|km\b|kg\b|tons?\b|tonnes\b"
    r"|units\b|pieces\b|fracciones\b|entities\b|entries\b|people\b|jobs\b|empleos\b)",
    re.IGNORECASE,
)
_CHAPTER = re.compile(
    r"(?P<cue>(?-i:\b(?:HS|HTS|HTSUS|CN)\s+))?\b[Cc]hapters?\s+(?P<first>\d{1,2})\b(?!\d|\.\d)"
    r"(?P<more>(?:\s*(?:,|and|or|to|through|-|–)\s*\d{1,2}\b(?!\d|\.\d))*)"
)
_CHAPTER_AFTER_OK = re.compile(
    r"\s*(?:\(|of\s+the\s+(?:HTSUS|HTS|HS|Harmonized|CN|Combined\s+Nomenclature|(?:customs\s+)?tariff)"
    r"|of\s+(?:the\s+)?HTS)",
    re.IGNORECASE,
)
_CHAPTER_AFTER_NOT = re.compile(r"\s*(?:,\s*Schedule|of\s+(?:the\s+)?ITC|of\s+(?:the\s+)?(?:Act|Regulation|Code|Law|"
                                r"Title|Treaty|Directive|Decree|Agreement))", re.IGNORECASE)
_CHAPTER_BARE_OK = re.compile(r"\s*(?:$|[,;:)]|\.(?!\d)|(?:goods|products|articles|items|steel|iron)\b)", re.IGNORECASE)
_GOODS_WORDS = re.compile(r"\b(?:tariffs?|goods|products?|articles?|imports?|exports?|dut(?:y|ies)|items?"
                          r"|commodit\w+|steel|iron|HS|HTS|HTSUS)\b", re.IGNORECASE)
_CHINESE_CHAPTER = re.compile(r"(?:HS编码|HS编号|HS\s*code)\s*[:：]\s*(\d{2})(?!\d)", re.IGNORECASE)
_TABLE_HEADER = re.compile(r"(?:commodity|tariff|hs|hts|cn|customs)\s+(?:codes?|numbers?|items?|headings?)"
                           r"|\bsubheadings?\b|\bheadings?\b", re.IGNORECASE)
# "HS 2022", "CN 2024": an edition of the nomenclature, not a heading.
_EDITION_CUE = re.compile(r"(?:HS|HTS|HTSUS|HSN|CN|TARIC|NCM|SH)\)?\s*,?\s*$")
_ROW_START = re.compile(r"\s*(?P<code>\d{4}\.\d{2}(?:\.\d{2,4}){0,2}|\d{4}(?: \d{2}){1,3}|\d{10}|\d{8}|\d{6}|\d{4})"
                        r"(?=\s*(?:\||\t|:|\s[A-Za-z(]))")
_DIGIT = re.compile(r"\d")
_CUE_ACRONYMS = ("HS", "HTS", "CN", "TARIC", "NCM", "SH", "CTH", "CTSH", "ITC", "H.S.")
_CUE_WORDS = ("code", "heading", "number", "line", "item", "fracci", "partida", "posici", "código", "nomenclat", "编号",
              "编码", "税则", "税号", "税目", "品目")


def _maybe_cue(line: str) -> bool:
    """A cheap test that a line may hold a cue, before the full pattern runs."""
    if any(acronym in line for acronym in _CUE_ACRONYMS):
        return True
    lower = line.lower()
    return any(word in lower for word in _CUE_WORDS)


def _normal(code: str) -> str:
    code = code.strip()
    return code.replace(" ", "") if " " in code else code


def _looks_like_date(code: str) -> bool:
    parts = code.split(".")
    if len(parts) != 3 or len(parts[0]) != 4 or not parts[0].startswith(("19", "20")):
        return False
    try:
        dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return False
    return True


def _is_year(code: str) -> bool:
    return len(code) == 4 and code.isdigit() and 1900 <= int(code) <= 2099


def _cue_before(line: str, start: int) -> tuple[bool, bool]:
    """(a cue precedes the list, the cue is right before it with nothing but spaces or a colon between).

    A cue right before a year ("HS 2022") names an edition, so it does not count as tight.
    """
    window = line[max(0, start - 60) : start]
    cut = max(window.rfind("."), window.rfind(";"), window.rfind("。"))
    if cut >= 0 and not re.search(r"(?:No|Nos|ex|U\.S)\.\s*$", window[: cut + 1]):
        window = window[cut + 1 :]
    cues = list(_CUE.finditer(window))
    if not cues:
        return False, False
    last = cues[-1]
    if _NOT_CUE.search(window[max(0, last.start() - 25) : last.end()]):
        return False, False
    gap = window[last.end() :]
    if re.search(r"\d", gap):
        return False, False
    tight = bool(re.fullmatch(r"[\s:：#]*(?:nos?\.\s*)?", gap, re.IGNORECASE))
    if tight and _EDITION_CUE.search(window[: last.end()]) and _is_year(line[start : start + 4]):
        return False, False
    return True, tight


def _cue_after(line: str, end: int) -> bool:
    window = line[end : end + 40]
    m = _CUE.search(window)
    return bool(m) and not re.search(r"[\d.;。]", window[: m.start()]) and not _NOT_CUE.search(window[: m.end() + 10])


def _lists(line: str) -> list[list[re.Match[str]]]:
    """Code-like tokens grouped into lists joined by separators ("A, B and C", "A to B")."""
    groups: list[list[re.Match[str]]] = []
    for m in _TOKEN.finditer(line):
        if groups and _SEPARATOR.fullmatch(line[groups[-1][-1].end() : m.start()]):
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def _codes_in_line(line: str) -> list[str]:
    out: list[str] = []
    has_cue = _maybe_cue(line) and bool(_CUE.search(line))
    for group in _lists(line):
        cue, tight = _cue_before(line, group[0].start()) if has_cue else (False, False)
        cue = cue or (has_cue and _cue_after(line, group[-1].end()))
        strong = any(m.group("dot") and m.group("dot").count(".") >= 2 and not _looks_like_date(m.group("dot"))
                     for m in group)
        for i, m in enumerate(group):
            code = m.group("dot") or m.group("sp") or m.group("bare")
            if m.group("dot"):
                ok = cue or (strong and not _looks_like_date(code))
            else:
                ok = cue
            if m.group("bare") and _is_year(code) and not (i > 0 or tight):
                ok = False
            if not ok or _POST_NEGATIVE.match(line, m.end()):
                continue
            if not (cue and tight and i == 0) and _PRE_NEGATIVE.search(line[max(0, m.start() - 25) : m.start()]):
                continue
            out.append(_normal(code))
    return out


def _chapters(line: str) -> list[str]:
    out: list[str] = []
    if "hapter" not in line and "HS" not in line:
        return out
    for m in _CHAPTER.finditer(line):
        after = line[m.end() :]
        if _CHAPTER_AFTER_NOT.match(after):
            continue
        if not (m.group("cue") or _CHAPTER_AFTER_OK.match(after) or _cue_before(line, m.start())[0]):
            # A bare "Chapter 72" still names HS chapter 72 in a sentence about goods, when goods follow
            # or the phrase ends there ("Chapter 3 of the Act" has been turned away above).
            if not (_CHAPTER_BARE_OK.match(after) and _GOODS_WORDS.search(line)):
                continue
        out.append(m.group("first"))
        out.extend(re.findall(r"\d{1,2}", m.group("more")))
    out.extend(m.group(1) for m in _CHINESE_CHAPTER.finditer(line))
    return out


def find_hs_codes(lines: Iterable[str]) -> tuple[str, ...]:
    """The HS/HTS codes named in lines (a title and sentences), de-duplicated on their digits, in text order.

    Codes keep their dots as written ("8703.80.00"); space-separated nomenclature is joined ("8711 60 10"
    -> "87116010"); an "ex" prefix is dropped. A chapter ("Chapter 72" -> "72") is reported only when no
    finer code is named, since a notice that lists codes cites its chapter as a place, not as the scope.
    """
    codes: list[str] = []
    chapters: list[str] = []
    table = False
    for line in lines:
        if table:
            row = _ROW_START.match(line)
            if row:
                codes.append(_normal(row.group("code")))
                continue
            table = False
        if len(line) < 100 and (
            "|" in line or "\t" in line or re.search(r"\bdescription\b|描述|品名", line, re.IGNORECASE)
        ) and _TABLE_HEADER.search(line) and not _TOKEN.search(line):
            table = True
            continue
        if not _DIGIT.search(line):
            continue
        codes.extend(_codes_in_line(line))
        chapters.extend(_chapters(line))
    unique: dict[str, str] = {}  # digits -> the first way the code was written
    for code in codes or chapters:
        unique.setdefault(code.replace(".", ""), code)
    return tuple(unique.values())


def hs_codes_in(text: str) -> tuple[str, ...]:
    """find_hs_codes over the lines of one text."""
    return find_hs_codes(text.splitlines() or [text])
