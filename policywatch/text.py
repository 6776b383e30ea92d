"""Text hygiene shared by every stage: HTML to text, whitespace, control characters, sentences, language.

Everything here is pure and cheap; nothing imports spaCy.
"""

from __future__ import annotations

import re
import unicodedata

# C0/C1 control characters except tab and newline, plus the zero-width and bidi-override characters
# that can hide or reorder text in a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_ALL_WS = re.compile(r"\s+")

_BLOCK_TAGS = (
    "p",
    "div",
    "br",
    "li",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "table",
    "ul",
    "ol",
)


def strip_controls(text: str) -> str:
    """Remove ANSI escape sequences and control characters, keeping newlines and tabs."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def normalize(text: str) -> str:
    """NFKC-normalise, drop control characters, and tidy whitespace while keeping paragraph breaks.

    NFKC folds full-width digits and punctuation (common in Chinese and Japanese notices) to their
    ASCII forms, so one set of patterns reads both.
    """
    text = unicodedata.normalize("NFKC", strip_controls(text)).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def collapse(text: str) -> str:
    """Collapse every whitespace run (newlines included) to one space: the form a one-line display wants."""
    return _ALL_WS.sub(" ", text).strip()


def looks_like_html(text: str) -> bool:
    """True when the text carries markup worth parsing (a tag or an entity)."""
    return "<" in text and ">" in text or "&" in text and ";" in text


def html_to_text(html: str) -> str:
    """Turn an HTML fragment or page into clean text, one paragraph per block element.

    A separator between blocks matters: without it "2027.</p><p>Effective" glues into one word. lxml (C)
    does the parsing when it can (four times faster than beautifulsoup4 on feed bodies, same text);
    beautifulsoup4 takes whatever lxml refuses.
    """
    if not looks_like_html(html):
        return normalize(html)
    try:
        return _lxml_text(html)
    except Exception:  # lxml rejects some odd markup outright (ParserError, ValueError ...): bs4 copes with it
        return _bs4_text(html)


_DROP_TAGS = ("script", "style", "noscript", "template", "head")


def _lxml_text(html: str) -> str:
    import lxml.html  # imported here: most commands never parse HTML
    from lxml import etree

    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in list(root.iter(*_DROP_TAGS)):
        element.drop_tree()
    for element in root.iter(etree.Comment, etree.ProcessingInstruction):
        element.text = ""
    blocks = set(_BLOCK_TAGS)
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in blocks:
            element.tail = "\n" + (element.tail or "")
            if element.text is not None or len(element):
                element.text = "\n" + (element.text or "")
    return normalize(root.text_content())


def _bs4_text(html: str) -> str:
    from bs4 import BeautifulSoup  # imported here: most commands never parse HTML, and bs4 is slow to import

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(list(_DROP_TAGS)):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return normalize(soup.get_text())


# --- sentences -------------------------------------------------------------------------------------

# Abbreviations after which a full stop does not end a sentence (matched case-insensitively on the
# word before the stop).
_ABBREVIATIONS = frozenset(
    """
    u.s u.k e.u p.r.c no nos art arts para paras reg regs sec secs ch chap fig figs vol pp p cf ca
    e.g i.e etc vs v mr mrs ms dr prof st inc ltd co corp jan feb mar apr jun jul aug sep sept oct
    nov dec approx dept gov govt est a.m p.m op cit ibid viz nr n° nº núm art° sr sra lic ing
    """.split()
)
# Dotted initialisms ("U.S.C.", "C.F.R.", "e.g.") end in a stop that does not end the sentence.
_DOTTED = re.compile(r"^(?:[a-z]\.)+[a-z]$")
_LATIN_END = re.compile(r"[.!?;](?:[\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-ZÀ-ÖØ-ÞĀ-Ž0-9¿¡])")
_CJK_END = re.compile(r"(?<=[。！？；!?])(?![」』”’)）])")


def _latin_splits(line: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for m in _LATIN_END.finditer(line):
        stop = m.start()
        if line[stop] == ".":
            word = line[start:stop].rsplit(None, 1)[-1] if line[start:stop].strip() else ""
            word = word.lstrip("(\"'“[").lower()
            # "U.S." / "No." / an initial like "J." / a section number like "1." do not end a sentence.
            # A number ends no sentence when it opens the line ("1. The purpose ..."): that is a list number.
            numbering = word.isdigit() and not line[start:stop].strip()[: -len(word)].strip()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or numbering or _DOTTED.match(word):
                continue
        piece = line[start : m.end()].strip()
        if piece:
            parts.append(piece)
        start = m.end()
    tail = line[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def split_sentences(text: str) -> list[str]:
    """Split normalised text into sentences: every line break ends one, and so does sentence punctuation.

    Headings and list items in notices often carry no final stop, so a line break is always a boundary.
    """
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        for chunk in _CJK_END.split(line):
            chunk = chunk.strip()
            if chunk:
                out.extend(_latin_splits(chunk))
    return out


# --- language ---------------------------------------------------------------------------------------

_STOPWORDS = {
    "en": "the of and to in is for on that by with are be this from as at or which shall will".split(),
    "es": "el la de que los las del en por para con una se al es su como más sus desde".split(),
    "pt": "o a de que os as do da dos das em por para com uma não ao é se na no pelo".split(),
    "fr": "le la les de des du et en un une est pour que dans sur par au aux qui sont".split(),
    "de": "der die das und zu den von mit ist für auf im dem nicht ein eine des sich bei".split(),
    "it": "il la di che e per un una del della sono con non gli le dei nel alla".split(),
    "nl": "de het een van en in is op dat te voor met zijn niet aan door".split(),
    "id": "yang dan di ke dari untuk dengan ini itu dalam pada tidak akan oleh atau".split(),
    "tr": "ve bir bu ile için de da olarak olan gibi daha ile çok en veya göre".split(),
}
_STOPSETS = {lang: frozenset(words) for lang, words in _STOPWORDS.items()}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str) -> str:
    """Guess an ISO 639-1 code from script and common words; "en" when nothing is conclusive.

    Bulletins are long enough that script and stopword counts decide reliably; a tiny classifier keeps
    policywatch free of model downloads.
    """
    sample = text[:4000]
    han = sum(1 for ch in sample if "\u4e00" <= ch <= "\u9fff")
    kana = sum(1 for ch in sample if "\u3040" <= ch <= "\u30ff")
    hangul = sum(1 for ch in sample if "\uac00" <= ch <= "\ud7a3")
    letters = sum(1 for ch in sample if ch.isalpha()) or 1
    if kana > 0.05 * letters:
        return "ja"
    if hangul > 0.2 * letters:
        return "ko"
    if han > 0.2 * letters:
        return "zh"
    words = [w.lower() for w in _WORD.findall(sample)]
    if not words:
        return "en"
    scores = {lang: sum(1 for w in words if w in stops) for lang, stops in _STOPSETS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] > 0 else "en"
