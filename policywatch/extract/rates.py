"""Rates: the percentages a notice states, which of them is the new (and the old) rate of a measure.

A rate here is always a percentage ("25%", "25 per cent", "25 por ciento", "%30", "百分之十五"). A specific
duty ("EUR 3 per item") is not a percentage and is never read as one. Thresholds and statistics that
happen to be percentages ("at least 0.1% of the value", "owned 50 percent or more", "purity of 99.99%",
"28% del PIB", "fell 3.1 per cent") are dropped at the source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RATE = "rate"  # a rate stated plainly: "a surtax equal to 25%"
NEW = "new"  # the rate something becomes: "increased to 145%", "from 34% to 10%" (10)
OLD = "old"  # the rate something was: "from 34% to 10%" (34)
DELTA = "delta"  # a change in rate, not a rate: "10 percentage points"

_NUM = r"\d{1,3}(?:[.,]\d{1,3})?(?!\d)|\d{1,4}(?![\d,.])"
_CN_DIGITS = "零〇一二两三四五六七八九十百点"
_PERCENT = re.compile(
    rf"(?<![A-Za-z0-9.,])(?P<num>{_NUM})\s?(?P<unit>%|percent(?:age\s+points?)?\b|per\s?cent\b|pct\b"
    r"|por\s+ciento|por\s+cento|pour\s?cent|prozent\b|persen\b|个百分点|puntos\s+porcentuales|pontos\s+percentuais"
    r"|points?\s+de\s+pourcentage)"
    rf"|(?<![A-Za-z0-9])%\s?(?P<pre>{_NUM})"
    rf"|(?<![\w])yüzde\s+(?P<tr>{_NUM})"
    rf"|百分之(?P<cn>[{_CN_DIGITS}\d.]+)",
    re.IGNORECASE,
)
# "17.4-37.6%": the low end of a range written with one percent sign.
_RANGE_LOW = re.compile(r"(?<![A-Za-z0-9.,])(\d{1,3}(?:[.,]\d{1,3})?)\s?[-–]\s?$")

# Said just before a percentage that is a threshold or a statistic, not a rate.
_PRE_EXCLUDE = re.compile(
    r"(?:at\s+least|not\s+less\s+than|no\s+less\s+than|minimum\s+of|a\s+minimum|al\s+menos|por\s+lo\s+menos"
    r"|pelo\s+menos|no\s+menos\s+de|exceed(?:s|ing)?|purity|pureza|owned|ownership|stake|share\s+of|content"
    r"|contenido|conteúdo|concentration|by\s+weight|不低于|不少于|纯度|含量|rose|grew|fell|dropped|declined|jumped"
    r"|surged|growth\s+of|decline\s+of|rise\s+of|retroce\w*|creci\w*|cay[óo]|caiu|cresceu|recuou|增长|下降|上升|下滑"
    r"|回落|增速|提高了|降低了|同比|环比|分别)[^%\n]{0,30}$|\b(?:by|up|down)\s*$"
    # a rate said to stay as it is belongs to what does not change
    r"|\b(?:continu\w*|remain\w*|unchanged|sigue|siguen|permanece\w*|mant[ée]m|mantiene\w*|stays?|still)"
    r"(?:\s+[\w-]+){0,2}?\s*(?:at|de|en|em|a|in)?\s*$",
    re.IGNORECASE,
)
_POST_EXCLUDE = re.compile(
    r"\s*(?:(?:remains?|stays?|continues?|is\s+unchanged)\b"
    r"|(?:[^\W\d]+\s+)?(?:is\s+|are\s+)?added\s+to\s+(?:these|the|this|those)\s+rates?|eklen\w*|on\s+top\s+of"
    r"|or\s+(?:more|greater|higher|above)|and\s+above|o\s+más|ou\s+mais|以上|及以上|del\s+PIB|do\s+PIB"
    r"|of\s+(?:the\s+)?(?:GDP|shares?|equity|votes?|ownership)|en\s+términos|in\s+terms|year[- ]on[- ]year|y/y"
    r"|同比|环比|of\s+(?:all\s+)?(?:imports|exports|trade|the\s+market|respondents|households|the\s+total"
    r"|the\s+estimate|the\s+target)|(?:more|less|higher|lower)\s+than|(?:higher|lower)\b)",
    re.IGNORECASE,
)
_CHANGE_VERB = (
    r"\b(?:increas\w*|rais\w*|hik\w*|lift\w*|lower\w*|reduc\w*|cut|cuts|cutting|decreas\w*|adjust\w*|chang\w*"
    r"|amend\w*|modif\w*|revis\w*|bring|brings|brought|mov\w*|ris\w*|rose|fall\w*|fell|drop\w*|climb\w*|jump\w*"
    r"|doubl\w*|halv\w*|aument\w*|sub(?:e|en|ir|irá|irán|ió|iu)|baj(?:a|an|ará|arán|ó)|elev\w*|pas(?:a|an|ará|arán|ó)"
    r"|passa\w*|ajust\w*|reduz\w*|diminu\w*|disminu\w*|increment\w*|alter\w*|sob(?:e|em)|cai|caem|augment\w*"
    r"|relev\w*|abaiss\w*|erhöh\w*|senk\w*|steig\w*|stieg\w*|sink\w*|pass\w*|naik\w*|turun\w*|menjadi"
    r"|ridott\w*|ridur\w*|aumentat\w*)"
)
_CHANGE_NEAR = re.compile(_CHANGE_VERB, re.IGNORECASE)
_FROM_END = re.compile(r"(?:\bfrom|\bde|\bdesde|\bvon|\bdu|\bdal|\bdall'|\bdari|由|从)\s*$", re.IGNORECASE)
_RANGE_CUE = re.compile(r"(?:rang\w*|vary\w*|between|entre|spanning|anywhere)\b[^%]{0,25}$|\brange\s+of\s*$",
                        re.IGNORECASE)
_TO_GAP = re.compile(
    r"\s*(?:to|down\s+to|up\s+to|→|->|a|al|alla|para|à|au|auf|menjadi|ke|为|至|到|(?:调整|提高|降低|下调|上调|降|提|增加|减少|改)(?:为|至|到)"
    r"|(?:调整|提高|降低|下调|上调))\s*",
    re.IGNORECASE,
)
_BACK_GAP = re.compile(  # "to 10% from 34%", "10%, down from 34%", "10% instead of 25%"
    r"\s*\)?,?\s*(?:from|desde|(?:down|up)\s+from|instead\s+of|rather\s+than|replacing|compared\s+(?:with|to)"
    r"|en\s+lugar\s+de|em\s+vez\s+de|frente\s+a|(?:au\s+lieu|contre)\s+de?)\s*",
    re.IGNORECASE,
)
_VERB_TO_END = re.compile(  # "… adjusted to " right before the new rate
    _CHANGE_VERB + r"(?:\s+(?!to\b)[\w-]+){0,4}?\s+(?:to|at|a|al|para|hasta|até)\s*$"
    r"|(?:提高|调整|降低|下调|上调|降|提|增加|减少|改)(?:为|至|到)\s*$",
    re.IGNORECASE,
)
# A rate said to be the one in force now or before: the old rate of a change stated elsewhere.
_CURRENT = re.compile(r"\b(?:currently|at\s+present|presently|previously|formerly|actualmente|atualmente"
                      r"|anteriormente|hasta\s+ahora|até\s+então)\b[^%\n]{0,40}$|(?:现行|目前|原)[^%\n]{0,10}$",
                      re.IGNORECASE)
_RESIDUAL_PRE = re.compile(
    r"(?:all\s+other\s+(?:companies|producers|exporters|manufacturers|suppliers|imports)|all\s+others|residual"
    r"|any\s+other\s+(?:overseas\s+|foreign\s+)?(?:exporter|producer|company|manufacturer|supplier)"
    r"|todas\s+las\s+demás|demás\s+(?:empresas|productores|exportadores)|demais\s+(?:empresas|produtores|exportadores)"
    r"|其他(?:所有)?(?:公司|企业))[^%\n]{0,40}$",
    re.IGNORECASE,
)
_RESIDUAL_POST = re.compile(
    r"\s*(?:duty\s+)?(?:for|to|applies\s+to|on)\s+(?:all\s+other|any\s+other|the\s+residual|all\s+others)",
    re.IGNORECASE,
)
# The goods stop paying a duty: a zero new rate ("deixam de pagar imposto de importação").
_ZERO = re.compile(
    r"\b(?:no\s+longer|will\s+not|shall\s+not|won't)\s+(?:be\s+)?(?:pay|paid|charg|collect|levied|subject\s+to)\w*"
    r"[^.]{0,40}?\b(?:duty|duties|tax|taxes|tariffs?)\b"
    r"|deixa\w*\s+de\s+(?:pagar|cobrar|incidir)|não\s+(?:cobrará|será\s+cobrad\w+|incidirá|pagar\w*)(?:\s+mais)?\s+"
    r"(?:o\s+)?imposto|dejar\w*\s+de\s+(?:pagar|cobrar)|ya\s+no\s+pagar\w*"
    r"|no\s+pagar[áa]n?\s+(?:el\s+)?(?:arancel|impuesto)"
    r"|\b(?:duty|duties|tariffs?|surtax(?:es)?)\s+(?:is|are|will\s+be|shall\s+be|has\s+been|have\s+been)\s+"
    r"(?:removed|abolished|eliminated|scrapped|lifted|withdrawn|repealed|suspended)\b"
    r"|免征|不再征收",
    re.IGNORECASE,
)
_CN_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass(frozen=True)
class RateMention:
    """A percentage read from a text: its value, where it is, and what it is (RATE, NEW, OLD or DELTA)."""

    value: float
    start: int
    end: int
    role: str = RATE
    residual: bool = False  # said of "all other companies": the rate a trade remedy's label keeps
    other: float | None = None  # for a NEW rate read from a change, the OLD rate it replaces


def parse_number(raw: str) -> float | None:
    """A number as written in any of the corpus' conventions: "25", "37.6", "58,3", "1,463" (thousands)."""
    raw = raw.strip()
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
        raw = raw.replace(",", "")
    else:
        raw = raw.replace(",", ".")
    try:
        return float(raw)
    except ValueError:
        return None


def chinese_number(raw: str) -> float | None:
    """A small number in Chinese numerals ("十五", "一百二十五", "三十四点五"), or in digits; None if unreadable."""
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return float(raw)
    whole, _, frac = raw.partition("点")
    total, current = 0, 0
    for ch in whole:
        if ch in _CN_VALUE:
            current = _CN_VALUE[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    total += current
    if frac:
        digits = "".join(str(_CN_VALUE[ch]) for ch in frac if ch in _CN_VALUE)
        return float(f"{total}.{digits}") if digits else None
    return float(total) if whole else None


_UNIT_KEYS = ("%", "cent", "ciento", "百分", "prozent", "persen", "yüzde", "point", "pontos", "puntos")


def _raw_mentions(text: str) -> list[RateMention]:
    out: list[RateMention] = []
    lower = text.lower()
    if not any(key in lower for key in _UNIT_KEYS):
        return out
    for m in _PERCENT.finditer(text):
        if m.group("cn"):
            value = chinese_number(m.group("cn"))
        else:
            value = parse_number(m.group("num") or m.group("pre") or m.group("tr"))
        if value is None or value > 1000:
            continue
        unit = (m.group("unit") or "").lower()
        role = DELTA if ("point" in unit or "百分点" in unit or "puntos" in unit or "pontos" in unit) else RATE
        before = text[max(0, m.start() - 60) : m.start()]
        if _PRE_EXCLUDE.search(before) or _POST_EXCLUDE.match(text, m.end()):
            continue
        residual = bool(_RESIDUAL_PRE.search(text[max(0, m.start() - 60) : m.start()])) or bool(
            _RESIDUAL_POST.match(text, m.end())
        )
        low = _RANGE_LOW.search(before) if m.group("num") else None
        if low:
            low_value = parse_number(low.group(1))
            if low_value is not None:
                start = m.start() - len(before) + low.start(1)
                out.append(RateMention(low_value, start, start + len(low.group(1)), role, residual))
        out.append(RateMention(value, m.start(), m.end(), role, residual))
    return out


def find_rates(text: str) -> list[RateMention]:
    """Every rate in text, in order, with changes resolved: "from 34% to 10%" gives OLD 34 and NEW 10."""
    mentions = _raw_mentions(text)
    out = list(mentions)
    for i in range(len(mentions) - 1):
        a, b = mentions[i], mentions[i + 1]
        if a.role == DELTA or b.role == DELTA:
            continue
        gap = text[a.end : b.start]
        before = text[max(0, a.start - 90) : a.start]
        if _TO_GAP.fullmatch(gap):
            if _FROM_END.search(before) and not _RANGE_CUE.search(before):
                is_change = before.rstrip().endswith(("由", "从")) or bool(_CHANGE_NEAR.search(before))
                is_change = is_change or bool(re.search(r"(?:调整|提高|降低|下调|上调|降|提)", gap))
                if is_change:
                    out[i] = RateMention(a.value, a.start, a.end, OLD, a.residual)
                    out[i + 1] = RateMention(b.value, b.start, b.end, NEW, b.residual, a.value)
            elif re.search(r"(?:调整|提高|降低|下调|上调|降|提)", gap):
                out[i] = RateMention(a.value, a.start, a.end, OLD, a.residual)
                out[i + 1] = RateMention(b.value, b.start, b.end, NEW, b.residual, a.value)
        elif _BACK_GAP.fullmatch(gap) and (
            re.search(r"\b(?:to|a|para|al)\s*$", before) or not re.fullmatch(r"\W*(?:from|desde)\W*", gap, re.I)
        ):
            out[i] = RateMention(a.value, a.start, a.end, NEW, a.residual, b.value)
            out[i + 1] = RateMention(b.value, b.start, b.end, OLD, b.residual)
        elif len(gap) <= 90 and _VERB_TO_END.search(gap) and out[i].role == RATE:
            # "the 34% additional tariff … will be adjusted to 10%"
            out[i] = RateMention(a.value, a.start, a.end, OLD, a.residual)
            out[i + 1] = RateMention(b.value, b.start, b.end, NEW, b.residual, a.value)
    for i, m in enumerate(out):
        if m.role != RATE:
            continue
        before = text[max(0, m.start - 60) : m.start]
        if _VERB_TO_END.search(before):
            out[i] = RateMention(m.value, m.start, m.end, NEW, m.residual)
        elif _CURRENT.search(before):
            out[i] = RateMention(m.value, m.start, m.end, OLD, m.residual)
    return out


def zero_rate_cue(text: str) -> bool:
    """True when text says goods stop paying a duty or tax ("no longer pay import duty", "免征")."""
    return bool(_ZERO.search(text))


def choose_rates(
    tiers: Iterable[Sequence[RateMention]], prefer_residual: bool = False
) -> tuple[float | None, float | None]:
    """(new, old) from rate mentions grouped in tiers, most relevant tier first.

    The first tier with any rate decides the new rate: a resolved change first, then a stated new rate,
    then, among plain rates, the highest (notices headline the top rate: "up to 50%", "between 62.6% and
    69.6%"). With prefer_residual (trade remedies) the "all other companies" rate wins wherever it is.
    The old rate comes from a change anywhere that ends at that new rate, else from a rate said to be
    the current or previous one ("currently 18%").
    """
    grouped = [list(t) for t in tiers]
    everything = [m for tier in grouped for m in tier]
    new: float | None = None
    residual_anywhere = [m for m in everything if m.residual and m.role == RATE]
    if prefer_residual and residual_anywhere and not any(m.role == NEW for m in everything):
        # A trade remedy's table of company rates ends with the rate for "all other companies": that is
        # the rate of the measure, wherever the table sits.
        grouped = [residual_anywhere]
    for tier in grouped:
        usable = [m for m in tier if m.role != DELTA]
        if not usable:
            continue
        changes = [m for m in usable if m.role == NEW and m.other is not None]
        news = [m for m in usable if m.role == NEW]
        plain = [m for m in usable if m.role == RATE]
        residual = [m for m in plain if m.residual]
        if changes:
            return changes[0].value, changes[0].other
        if news:
            new = news[0].value
        elif prefer_residual and residual:
            new = residual[0].value
        elif plain:
            new = max(m.value for m in plain)
        else:
            continue
        break
    if new is None:
        return None, None
    for m in everything:
        if m.role == NEW and m.other is not None and abs(m.value - new) < 0.01:
            return new, m.other
    standalone = [m.value for m in everything if m.role == OLD and abs(m.value - new) >= 0.01]
    return new, (standalone[0] if standalone else None)
