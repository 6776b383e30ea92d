"""The attribute fields of a change record, read from a prepared bulletin once the engine knows its category.

The engine decides whether a bulletin announces a change and of what kind; this module fills in every
other field (origins, HS codes, rates, effective date, issuer). Values come preferentially from the
evidence sentences and the title, then from the sentences around the evidence, then from the rest;
"Background" sections (earlier measures) and trailing "Related news" blocks are read last or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from policywatch.extract import dates, rates
from policywatch.extract.countries import affected_countries, foreign_actor, issuer
from policywatch.extract.hscodes import find_hs_codes
from policywatch.extract.prepare import Prepared

# Categories whose records carry a rate; for the others (bans, licences, labels, procedures) a percentage
# in the text is a threshold or a statistic ("50% ownership", "0% duty suspension applies").
RATE_CATEGORIES = frozenset({"tariff_increase", "tariff_decrease", "trade_remedy", "de_minimis", "import_tax",
                             "sanctions"})
# Categories where a notice that "goods no longer pay duty" means a new rate of zero.
_ZERO_CATEGORIES = frozenset({"de_minimis", "tariff_decrease", "import_tax"})
_NEIGHBOURS = 2

_HEADING_END = re.compile(r"[.;:!?。：；,，]\s*$")
_LETTERS = re.compile(r"[^\W\d_]{2}")
# Issuers that write numeric dates month first (02/11/2025 is 11 February).
_MONTH_FIRST = frozenset({"US", "PH"})
_BACKGROUND = re.compile(r"^(?:[\dIVXivx]+[.)]?\s*)*(?:background|earlier|previous|prior|history|historical"
                         r"|antecedentes|histórico|hintergrund|vorgeschichte|背景|沿革)\b", re.IGNORECASE)
_TODAY = re.compile(
    r"\b(?:today|this\s+day|on\s+the\s+day\s+of\s+(?:its\s+)?publication|upon\s+publication|on\s+publication)\b"
    r"|\b(?:hoy|hoje|aujourd'hui|heute)\b|本日|今日|今天|即日|公布之日",
    re.IGNORECASE,
)
_RELATED = re.compile(
    r"^(?:related|other|more|latest|recent|see\s+also|further)\s+(?:news|media\s+releases|press\s+releases|releases"
    r"|articles|stories|items|updates|links|content|publications)\b|^(?:noticias|notícias)\s+relacionadas"
    r"|^(?:otras|outras)\s+not[ií]cias|^相关(?:新闻|链接|阅读)|^weitere\s+(?:meldungen|nachrichten)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Fields:
    """The attribute fields of one change record (DESIGN, "A change record")."""

    affected_countries: tuple[str, ...]
    hs_codes: tuple[str, ...]
    new_rate_percent: float | None
    old_rate_percent: float | None
    effective_date: str | None  # ISO YYYY-MM-DD
    jurisdiction: str | None  # alpha-2 or "EU" or None


def _is_heading(sentence: str) -> bool:
    return (len(sentence) < 90 and "|" not in sentence and not _HEADING_END.search(sentence)
            and bool(_LETTERS.search(sentence)))


def sections(sentences: Sequence[str]) -> tuple[frozenset[int], frozenset[int]]:
    """(background, unrelated) sentence indexes: under a "Background"-style heading, or after "Related news".

    A background section runs from its heading to the next heading; an index page's "Related news" or
    "Other media releases" block runs to the end.
    """
    background: set[int] = set()
    in_background = False
    for i, sentence in enumerate(sentences):
        stripped = sentence.strip(" •-–—*#")
        if _is_heading(stripped):
            if _RELATED.search(stripped):
                return frozenset(background), frozenset(range(i, len(sentences)))
            in_background = bool(_BACKGROUND.search(stripped))
        elif in_background:
            background.add(i)
    return frozenset(background), frozenset()


def tiers(doc: Prepared, evidence: Sequence[int], demote: frozenset[int] = frozenset(),
          layout: tuple[frozenset[int], frozenset[int]] | None = None) -> list[list[str]]:
    """The texts of doc by relevance: [title + evidence, their neighbours, the rest, background sections].

    Without evidence the whole text is the second tier. Sentences in demote, and background ones even when
    the engine cites them, lose their place: the first join the rest, the others the background. Unrelated
    blocks are left out unless cited. layout: sections(doc.sentences), when already known.
    """
    n = len(doc.sentences)
    background, unrelated = layout or sections(doc.sentences)
    chosen = [i for i in dict.fromkeys(evidence) if 0 <= i < n and i not in background and i not in demote]
    skip = set(chosen) | background | unrelated | demote
    if chosen:
        near = sorted({j for i in chosen for j in range(i - _NEIGHBOURS, i + _NEIGHBOURS + 1)
                       if 0 <= j < n and j not in skip})
    else:
        near = [j for j in range(n) if j not in skip]
    taken = set(near) | set(chosen) | background | unrelated
    rest = [j for j in range(n) if j not in taken]
    first = ([doc.title] if doc.title else []) + [doc.sentences[i] for i in chosen]
    return [first, [doc.sentences[j] for j in near], [doc.sentences[j] for j in rest],
            [doc.sentences[j] for j in sorted(background)]]


def _rates(texts: list[list[str]], category: str, evidence_given: bool) -> tuple[float | None, float | None]:
    if category not in RATE_CATEGORIES:
        return None, None
    found = [[m for text in tier for m in rates.find_rates(text)] for tier in texts[:3]]
    new, old = rates.choose_rates(found, prefer_residual=category == "trade_remedy")
    lead = texts[0][:2] if evidence_given else texts[0][:1] + texts[1][:1]
    if category in _ZERO_CATEGORIES and old is None and any(rates.zero_rate_cue(t) for t in lead):
        plain = [m.value for tier in found for m in tier if m.role in (rates.RATE, rates.OLD) and m.value > 0]
        return 0.0, (max(plain) if plain else None)
    if category == "tariff_decrease" and new is not None and old is not None and old < new:
        new, old = old, new  # a decrease ends lower than it began, however the sentence runs
    return new, old


def _date(texts: list[list[str]], doc: Prepared, day_first: bool) -> str | None:
    # (strength, tier, order, mention) for every cued date outside background sections.
    scored: list[tuple[int, int, int, dates.DateMention]] = []
    for tier_no, tier in enumerate(texts[:3]):
        for text in tier:
            for mention in dates.find_dates(text, doc.published, day_first):
                if mention.strength:
                    scored.append((mention.strength, tier_no, len(scored), mention))
    # Title, evidence and their neighbours first, then the rest: in each, the strongest cue, then the
    # nearer tier, then text order. An adoption date is the last resort.
    for wanted in ((0, 1), (2,)):
        best = [s for s in scored if s[0] >= dates.SENTENCE and s[1] in wanted]
        if best:
            return min(best, key=lambda s: (-s[0], s[1], s[2]))[3].date.isoformat()
    adopted = [s for s in scored if s[0] == dates.ADOPTED]
    if adopted:
        return min(adopted, key=lambda s: (s[1], s[2]))[3].date.isoformat()
    # No date is stated, but the measure acts now ("Today the President issued ...", "in force today",
    # "day of publication"): it takes effect on the bulletin's date.
    if doc.published and any(_TODAY.search(text) for text in (*texts[0], *texts[1][:3])):
        return doc.published.isoformat()
    return None


def extract_fields(doc: Prepared, category: str, evidence: Sequence[int]) -> Fields:
    """Every field of a change record but category/direction/severity, for a change of category in doc.

    evidence: indexes into doc.sentences where the engine's rules fired, strongest first (may be empty:
    then the title and the whole text are read).
    """
    jurisdiction = issuer(doc.title, doc.sentences, doc.jurisdiction)
    layout = sections(doc.sentences)
    texts = tiers(doc, evidence, layout=layout)
    # Rates and dates of a measure another country took (the one a retaliation answers) are not this one's.
    foreign = frozenset(i for i, s in enumerate(doc.sentences) if foreign_actor(s, jurisdiction))
    own = tiers(doc, evidence, foreign, layout) if foreign else texts
    evidence_given = any(0 <= i < len(doc.sentences) for i in evidence)
    day_first = jurisdiction not in _MONTH_FIRST
    new, old = _rates(own, category, evidence_given)
    hs_lines = [doc.title, *(s for i, s in enumerate(doc.sentences) if i not in layout[1])]
    return Fields(
        affected_countries=affected_countries(texts[:3], category, jurisdiction, texts[3]),
        hs_codes=find_hs_codes(hs_lines),
        new_rate_percent=new,
        old_rate_percent=old,
        effective_date=_date(own, doc, day_first),
        jurisdiction=jurisdiction,
    )
