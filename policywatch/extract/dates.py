"""Effective dates: find the dates a text gives and how strongly each is said to be the day a measure applies.

Compact regexes and a month-name table instead of dateparser: a call costs microseconds, not a millisecond.
A date counts as an effective date only when a cue says so ("effective", "from", "a partir del", "自…起",
"ab dem", "itibaren"); dates of signature, publication, comment deadlines and past events carry no such cue
and are left out. Year-less dates ("8月24日起", "desde el 25 de octubre") take the published year.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Strength of the evidence that a date is the day a measure takes effect.
STRONG = 3  # a cue right at the date: "effective", "from", "a partir del", "自…起"
SENTENCE = 2  # an effect verb elsewhere in the sentence: "tritt … am 13.12.2024 … in Kraft"
ADOPTED = 1  # the day a measure was adopted, a last resort: "On 25 February the Council gave its approval"

_MONTHS: dict[str, int] = {}


def _months(month: int, names: str) -> None:
    for name in names.split():
        _MONTHS[name] = month


# en, es, pt, fr, de, it, nl, id, tr, lower case; abbreviations may be followed by a dot in the text.
_months(1, "january jan enero janeiro janvier januar jänner gennaio januari ocak")
_months(2, "february feb febrero fevereiro février fevrier februar febbraio februari şubat subat")
_months(3, "march mar marzo março marco mars märz maerz maart maret mart")
_months(4, "april apr abril avril aprile nisan")
_months(5, "may mayo maio mai maggio mei mayıs mayis")
_months(6, "june jun junio junho juin juni giugno haziran")
_months(7, "july jul julio julho juillet juli luglio temmuz")
_months(8, "august aug agosto août aout agustus ağustos agustos")
_months(9, "september sep sept septiembre setiembre setembro septembre settembre eylül eylul")
_months(10, "october oct octubre outubro octobre oktober ottobre ekim")
_months(11, "november nov noviembre novembro novembre novembre kasım kasim")
_months(12, "december dec diciembre dezembro décembre decembre dezember dicembre desember aralık aralik")

# Numeric and CJK forms; a month name is matched as any short word and looked up in _MONTHS, which keeps
# the scan to cheap character classes.
_NUMBERS = re.compile(
    r"(?<![\d/.-])(?:(?P<iy>(?:19|20)\d\d)(?P<isep>[-/.])(?P<im>[01]?\d)(?P=isep)(?P<id>[0-3]?\d)(?!\d)"  # 2025-02-10
    r"|(?P<ky>(?:19|20)\d\d)\.\s+(?P<km>[01]?\d)\.\s+(?P<kd>[0-3]?\d)\.?(?!\d)"  # 2025. 1. 1.
    r"|(?P<na>[0-3]?\d)(?P<nsep>[/.])(?P<nb>[0-3]?\d)(?P=nsep)(?P<ny>(?:19|20)\d\d)(?![\d/]))"  # 02/11/2025
)
_CJK_DATE = re.compile(r"(?:((?:19|20)\d\d|令和\s*(?:元|\d{1,2}))\s*年\s*)?(?<!\d)([01]?\d)\s*月\s*([0-3]?\d)\s*[日号]")
_KO_DATE = re.compile(r"((?:19|20)\d\d)\s*년\s*([01]?\d)\s*월\s*([0-3]?\d)\s*일")
_MDY = re.compile(r"(?<![\w])([^\W\d_]{3,10})\.?\s+([0-3]?\d)(?:st|nd|rd|th)?(?![\d:])(?:,?\s*((?:19|20)\d\d))?(?!\d)")
_DMY = re.compile(r"(?<![\w.])([0-3]?\d)(?:\.?(?:st|nd|rd|th|º|°|ª|o|er)|\.)?\s*(?:day\s+of\s+|de\s+|of\s+)?"
                  r"([^\W\d_]{3,10})\.?(?![\w])(?:,?\s*(?:de\s+|del\s+|of\s+)?((?:19|20)\d\d)(?!\d))?")
_DIGIT = re.compile(r"\d")
_IMMEDIATE_KEYS = ("immedia", "即日", "之日起", "sofort", "immédiat", "publica", "issu", "signature")

_TIME = (  # "12:01 a.m. eastern daylight time on", "12:01 a.m. ET,"
    r"(?:(?:at\s+)?\d{1,2}[:.]\d{2}\s*(?:a\.?m\.?|p\.?m\.?|hrs?|h)?\s*(?:\([^)]{0,40}\)|[A-Za-z .]{0,32}?)?"
    r"\s*(?:on\s+|,\s*)?)?"
)
_WEEKDAY = (
    r"(?:(?:next|this|coming|próxim[oa]|pr[oó]xim[oa])\s+)?"
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|lunes|martes|miércoles|jueves|viernes|"
    r"sábado|domingo|segunda|terça|quarta|quinta|sexta)(?:-feira)?,?\s+"
)
_PRE_STRONG = re.compile(
    r"(?<![^\W\d_])(?:"
    r"effective(?:\s+date)?(?:\s+of\s+(?:this|the)\s+\w+)?(?:\s+(?:on|from|as\s+of|as\s+from|beginning))?\s*:?"
    r"|with\s+effect\s+(?:from|on|as\s+of)|(?:takes?|took|taking|take)\s+effect\s+(?:on|from|as\s+of)"
    r"|(?:enters?|entered|entering|comes?|came|coming)\s+into\s+(?:force|effect|operation)(?:\s+(?:on|from|as\s+of))?"
    r"|(?:in\s+force|in\s+effect|applicable|appl(?:y|ies|ied)|apply|valid)\s+(?:from|on|as\s+of|as\s+from|since)"
    r"|as\s+of|as\s+from|from|since|beginning(?:\s+on)?|starting(?:\s+(?:on|from))?|commencing(?:\s+on)?"
    r"|on\s+or\s+after|at\s+or\s+after|from\s+and\s+after"
    r"|a\s+partir\s+d(?:e|el|a|o)(?:\s+(?:dia|día))?|desde(?:\s+el)?(?:\s+(?:dia|día))?"
    r"|a\s+contar\s+d(?:e|el|a|o)|con\s+efectos?\s+(?:a\s+partir\s+)?d(?:e|el)|com\s+efeitos?\s+a\s+partir\s+d[eao]"
    r"|entr(?:a|ará|ó|ou|ar[aá])\s+(?:en|em)\s+vig(?:or|encia|ência)\s+(?:el|em|no|a\s+partir\s+d(?:e|el|a|o))"
    r"|vigente\s+(?:a\s+partir\s+del|desde\s+el)|à\s+compter\s+du|a\s+compter\s+du|à\s+partir\s+du|dès\s+le"
    r"|(?:entre|entrera)\s+en\s+vigueur\s+le|ab(?:\s+dem)?|mit\s+Wirkung\s+(?:vom|zum|ab)|seit(?:\s+dem)?|gilt\s+ab"
    r"|(?:mulai|berlaku|sejak|terhitung)(?:\s+(?:berlaku|mulai|sejak|efektif|pada|tanggal))*"
    r"|a\s+partire\s+dal|a\s+decorrere\s+dal|con\s+effetto\s+dal|in\s+vigore\s+dal|entra\s+in\s+vigore\s+il|dal"
    r")\s*,?\s*" + _TIME + r"(?:" + _WEEKDAY + r")?$"
    r"|(?:拟)?(?:生效|实施|施行|執行|执行)日(?:期)?\s*[:：]?\s*$|施行日\s*[:：]?\s*$",
    re.IGNORECASE,
)
_PRE_ADOPTED = re.compile(r"\b(?:adopted|approved|agreed)(?:\s+\w+){0,3}\s+on\s*$", re.IGNORECASE)
_PRE_ON = re.compile(r"(?:^|[.;:]\s*)on\s*$", re.IGNORECASE)
# A date that names an act ("Regulation … of 8 June 2016", "Decreto-Lei nº 1.804, de 3 de setembro de 1980").
_PRE_CITATION = re.compile(r"(?:\bof|\bdated|\bde|\bdu|\bvom|\bdel|\bdo|\bda)\s*,?\s*$", re.IGNORECASE)
_POST_ADOPTED = re.compile(r"^,?\s+(?:the\s+)?[A-Z][\w-]*(?:\s+\w+){0,3}\s+(?:adopted|approved|gave\s+its\s+approval"
                           r"|agreed|decided)\b")
_POST_STRONG = re.compile(
    r"^(?:\s*(?:\d{1,2}\s*[时時点:]\s*(?:\d{1,2}\s*分)?\s*)?(?:\([^)]{0,12}\))?\s*(?:起|开始|開始|以后|以後|生效|施行|实施|から|以降|より|부터)"
    r"|\s*(?:,?\s*(?:and\s+)?onwards?\b|\s+and\s+thereafter)"
    r"|'?\s*(?:[dt][ae]n|tarihinden)\s+itibaren|\s+tarihinde\s+yürürlüğe"
    r"|[^.;]{0,60}?\bin\s+Kraft\b)",
    re.IGNORECASE,
)
# "…, the date on which ACE started processing …": an apposition that defines the date as a start.
_POST_DEFINES = re.compile(
    r",?\s+the\s+(?:date|day)\s+(?:on\s+which|when|from\s+which)\b[^.;]{0,80}?"
    r"\b(?:start|began|begin|resum|commenc|took\s+effect|takes\s+effect|appl)",
    re.IGNORECASE,
)
# Said before a date that ends, limits or records something: never an effective date.
_PRE_NEGATIVE = re.compile(
    r"(?<![^\W\d_])(?:\buntil|\btill|\bthrough|\bthru|\bto|\bbefore|\bby|\bno\s+later\s+than|\bnot\s+later\s+than"
    r"|\bdeadline"
    r"|\bexpir\w*(?:\s+on)?|\bend(?:s|ed|ing)?\s+on|\bhasta(?:\s+el)?|\baté|\bjusqu'au|\bbis(?:\s+zum)?"
    r"|\bsigned(?:\s+\w+){0,3}\s+on|\bpublished(?:\s+\w+){0,3}\s+on|\bissued(?:\s+\w+){0,3}\s+on"
    r"|\bannounced(?:\s+\w+){0,3}\s+on|\bperiod\s+of\s+(?:review|investigation)\b[^.;]{0,20}?\bfrom"
    r"|\b(?:POR|POI|investigation\s+period|review\s+period)\)?\s+from)\s*,?\s*$|(?:至|截至|截止|到)\s*,?\s*$",
    re.IGNORECASE,
)
# A date that records an event ("carried it on Jan. 7", "publicado el 3 de marzo").
_PRE_RECORD = re.compile(r"\b(?:carried|published|printed|signed|issued|announced|released|publicad[oa]|publicou"
                         r"|firmad[oa]|veröffentlicht)\b[^.;]{0,20}$", re.IGNORECASE)
_POST_NEGATIVE = re.compile(r"^\s*(?:\(?\s*(?:评议截止|截止|止|评论截止|意见截止))")
_SENTENCE_EFFECT = re.compile(
    r"\b(?:enter(?:s|ed)?\s+into\s+force|come(?:s)?\s+into\s+force|came\s+into\s+force|take(?:s)?\s+effect"
    r"|took\s+effect|effective|apply|applies|shall\s+apply|in\s+force|entra(?:rá)?\s+en\s+vigor|vigencia"
    r"|em\s+vigor|vigência|in\s+Kraft|gilt|tritt|wirksam|entre(?:ra)?\s+en\s+vigueur|berlaku|yürürlüğe)\b"
    r"|生效|施行|实施",
    re.IGNORECASE,
)
_IMMEDIATE = re.compile(
    r"with\s+immediate\s+effect|effective\s+immediately|takes?\s+effect\s+immediately|immediately\s+effective"
    r"|con\s+efecto\s+inmediato|de\s+efecto\s+inmediato|com\s+efeito\s+imediato|ab\s+sofort|mit\s+sofortiger\s+Wirkung"
    r"|avec\s+effet\s+immédiat|即日起|自即日|自(?:公布|发布|印发|公告|發布)之日起|from\s+the\s+date\s+of\s+(?:its\s+)?"
    r"(?:publication|issuance|issue|signature)|a\s+partir\s+de\s+(?:la\s+fecha\s+de\s+)?su\s+publicación"
    r"|a\s+partir\s+da\s+(?:data\s+de\s+)?sua\s+publicação|dès\s+sa\s+publication",
    re.IGNORECASE,
)
_ARTICLE_END = re.compile(r"\s+the\s+$", re.IGNORECASE)
_THIS_YEAR = re.compile(r"\s*(?:of\s+)?this\s+year|\s*(?:de\s+)?este\s+año|\s*deste\s+ano", re.IGNORECASE)
_REIWA = re.compile(r"令和\s*(元|\d{1,2})")


@dataclass(frozen=True)
class DateMention:
    """A date found in a text: its value, where it is, and how strongly it is said to be an effective date."""

    date: dt.date
    start: int
    end: int
    strength: int  # 0 (no cue), ADOPTED, SENTENCE or STRONG


def _year(raw: str | None, published: dt.date | None) -> int | None:
    if raw:
        era = _REIWA.match(raw)
        if era:
            return 2018 + (1 if era.group(1) == "元" else int(era.group(1)))
        return int(raw)
    return published.year if published else None


def _make(year: int | None, month: int, day: int, yearless: bool, published: dt.date | None) -> dt.date | None:
    if year is None:
        return None
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None
    if yearless and published:
        # A year-less date far behind publication is next year's ("from 5 January", published on
        # 20 December); one almost a year ahead is last year's ("entered into force on 20 December",
        # published on 5 January). Notices announce measures months ahead, so the window is lopsided.
        if (published - value).days > 183:
            value = _make(year + 1, month, day, False, None) or value
        elif (value - published).days > 300:
            value = _make(year - 1, month, day, False, None) or value
    return value


def _month_of(name: str, text: str) -> int | None:
    month = _MONTHS.get(name.lower())
    # "may" and "mar" are also ordinary words: only a capitalised "May" / "Mar." is a month.
    if month in (3, 5) and name[:1].islower() and name.lower() in ("may", "mar"):
        return None
    return month


def _named(text: str, m: re.Match[str], month_group: int, day_group: int, published: dt.date | None) -> dt.date | None:
    name = m.group(month_group)
    month = _month_of(name, text)
    if month is None:
        return None
    raw_year = m.group(3)
    day = int(m.group(day_group))
    if raw_year is None and published and _THIS_YEAR.match(text, m.end()):
        return _make(published.year, month, day, False, None)
    return _make(_year(raw_year, published), month, day, raw_year is None, published)


def _numeric(m: re.Match[str], published: dt.date | None, day_first: bool) -> dt.date | None:
    a, b = int(m.group("na")), int(m.group("nb"))
    # Dotted dates are always day first (13.12.2024); slashed ones follow the issuer's custom, unless one
    # part cannot be a month.
    first = (day_first or m.group("nsep") == "." or a > 12) and b <= 12
    day, month = (a, b) if first else (b, a)
    return _make(int(m.group("ny")), month, day, False, published)


def iter_dates(
    text: str, published: dt.date | None = None, day_first: bool = True
) -> Iterator[tuple[dt.date, int, int]]:
    """Every calendar date in text as (date, start, end), in order; year-less ones only when published is known."""
    if not _DIGIT.search(text):
        return
    found: list[tuple[int, int, dt.date]] = []
    for m in _NUMBERS.finditer(text):
        if m.group("iy"):
            value = _make(int(m.group("iy")), int(m.group("im")), int(m.group("id")), False, published)
        elif m.group("ky"):
            value = _make(int(m.group("ky")), int(m.group("km")), int(m.group("kd")), False, published)
        else:
            value = _numeric(m, published, day_first)
        if value:
            found.append((m.start(), m.end(), value))
    if "月" in text:
        for m in _CJK_DATE.finditer(text):
            raw_year = (m.group(1) or "").strip() or None
            value = _make(_year(raw_year, published), int(m.group(2)), int(m.group(3)), raw_year is None, published)
            if value:
                found.append((m.start(), m.end(), value))
    if "월" in text:
        for m in _KO_DATE.finditer(text):
            value = _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), False, published)
            if value:
                found.append((m.start(), m.end(), value))
    for m in _MDY.finditer(text):
        value = _named(text, m, 1, 2, published)
        if value:
            found.append((m.start(), m.end(), value))
    for m in _DMY.finditer(text):
        value = _named(text, m, 2, 1, published)
        if value:
            found.append((m.start(), m.end(), value))
    found.sort(key=lambda f: (f[0], -f[1]))
    last_end = -1
    for start, end, value in found:
        if start >= last_end:
            last_end = end
            yield value, start, end


def _strength(text: str, start: int, end: int, effects: Sequence[int]) -> int:
    before = text[max(0, start - 70) : start]
    if text[start : start + 1].isdigit() and _ARTICLE_END.search(before):
        before = before[: _ARTICLE_END.search(before).start()] + " "  # "on the 2nd day of February"
    after = text[end : end + 120]
    if _POST_DEFINES.match(after):
        return STRONG
    if _PRE_NEGATIVE.search(before) or _POST_NEGATIVE.match(after):
        return 0
    if _PRE_STRONG.search(before) or _POST_STRONG.match(after):
        return STRONG
    if _PRE_CITATION.search(before):
        return 0
    if any(start - 50 <= pos <= start or end <= pos <= end + 30 for pos in effects) and not _PRE_RECORD.search(
        before[-30:]
    ):
        return SENTENCE
    if _PRE_ADOPTED.search(before) or (_PRE_ON.search(before) and _POST_ADOPTED.match(after)):
        return ADOPTED
    return 0


def find_dates(text: str, published: dt.date | None = None, day_first: bool = True) -> list[DateMention]:
    """Every date in text with its effective-date strength (0 when nothing says it is an effective date).

    A "with immediate effect" / "自即日起" phrase counts as a strong mention of the published date.
    """
    found = list(iter_dates(text, published, day_first))
    effects = [m.start() for m in _SENTENCE_EFFECT.finditer(text)] if found else []
    out = [DateMention(value, start, end, _strength(text, start, end, effects)) for value, start, end in found]
    lower = text.lower()
    if published is not None and any(key in lower for key in _IMMEDIATE_KEYS):
        out.extend(DateMention(published, m.start(), m.end(), STRONG) for m in _IMMEDIATE.finditer(text))
        out.sort(key=lambda d: d.start)
    return out


def effective_date(text: str, published: dt.date | None = None, day_first: bool = True) -> dt.date | None:
    """The best-cued effective date in one text (first of the strongest), or None when none is cued."""
    best: DateMention | None = None
    for mention in find_dates(text, published, day_first):
        if mention.strength and (best is None or mention.strength > best.strength):
            best = mention
    return best.date if best else None
