"""Turn an extraction input into the normalised form every extractor reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from policywatch.models import Document
from policywatch.text import detect_language, html_to_text, normalize, split_sentences


@dataclass(frozen=True)
class Prepared:
    """A document ready for extraction: normalised title, body sentences, language, issuer, date."""

    id: str
    title: str
    sentences: tuple[str, ...]
    language: str
    jurisdiction: str | None
    published: dt.date | None


def parse_published(value: str | None) -> dt.date | None:
    """The date part of an ISO 8601 date or datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


_T2S = None


def to_simplified(text: str) -> str:
    """Traditional Chinese characters converted to Simplified, so one set of Chinese rules reads both."""
    global _T2S
    if _T2S is None:
        import opencc

        _T2S = opencc.OpenCC("t2s")
    return _T2S.convert(text)


def prepare(doc: Document) -> Prepared:
    """Normalise a document: HTML stripped, whitespace tidied, split into sentences, language known."""
    body = html_to_text(doc.text) if "<" in doc.text else normalize(doc.text)
    title = normalize(doc.title).replace("\n", " ")
    language = (doc.language or "").strip().lower()[:2] or detect_language(f"{title}\n{body}")
    if language == "zh":
        title, body = to_simplified(title), to_simplified(body)
    return Prepared(
        id=doc.id,
        title=title,
        sentences=tuple(split_sentences(body)),
        language=language,
        jurisdiction=(doc.jurisdiction or None),
        published=parse_published(doc.published),
    )
