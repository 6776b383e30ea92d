"""The rule engine: rules compiled into spaCy matchers, one blank pipeline per language, run with nlp.pipe.

How a document is read:
1. It is normalised and split into sentences (the title counts as sentence 0).
2. Every phrase and token pattern of every rule for its language is matched once, by one PhraseMatcher
   (on NORM: lower case, accents folded, a Snowball stem) and one Matcher.
3. A measure rule *hits* a sentence where all its groups match (within N tokens when it says so) and none
   of its `unless` groups does; `title`, `lead` and `document` scopes widen or narrow where it looks.
4. Each category scores its best hit (a title hit counts 2.5 times, one in the first sentences a quarter
   more), plus a little for every other rule that agrees and for every further sentence it hits; exclude
   rules (maintenance notices, statistics, consultations...) subtract their weight.
5. The best category at or above the threshold becomes the document's change; its fields are read from the
   evidence sentences, and its severity derived from the rule's spec.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from policywatch.extract.prepare import Prepared, prepare
from policywatch.extract.severity import derive_severity
from policywatch.models import Category, Change, Document
from policywatch.rules import Rule, RuleSet
from policywatch.text import collapse
from policywatch.yamlio import Problem

THRESHOLD = 1.0
TITLE_BOOST = 2.5
LEAD_BOOST = 1.25
LEAD_SENTENCES = 3
AGREEMENT_BONUS = 0.25
AGREEMENT_CAP = 1.0
REPEAT_BONUS = 0.1
REPEAT_CAP = 0.5
BACKGROUND_FACTOR = 0.4

# spaCy has no dependency-free tokenizer for some languages: Japanese reads well character by character
# (as Chinese does), and space-separated scripts fall back to the multi-language tokenizer. French,
# Indonesian and Dutch have one, but importing it costs seconds (large exception tables); the
# multi-language tokenizer plus elision handling in `fold` reads their notices as well.
_SPACY_LANG = {"ja": "zh", "ko": "xx", "th": "xx", "vi": "xx", "fr": "xx", "id": "xx", "nl": "xx"}
#: Languages read character by character: token windows there are counted in characters, so they widen.
_WINDOW_SCALE = {"zh": 3, "ja": 3}
#: In a phrase, `*` stands for up to GAP_WORDS other words ("additional * duty").
GAP = "*"
GAP_WORDS = 4
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)
_STEMMERS = {
    "en": "english",
    "es": "spanish",
    "pt": "portuguese",
    "fr": "french",
    "de": "german",
    "it": "italian",
    "nl": "dutch",
    "id": "indonesian",
    "tr": "turkish",
    "ru": "russian",
}


def fold(word: str) -> str:
    """Lower case with accents removed: the base every phrase and token is compared on."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Hit:
    """A rule that fired: where (sentence index; 0 is the title) and on which tokens."""

    rule: Rule
    sentence: int
    start: int
    end: int


@dataclass
class Analysis:
    """Everything the engine saw in one document: for `eval`, `rules test` and debugging."""

    prepared: Prepared
    hits: list[Hit] = field(default_factory=list)
    vetoes: list[Hit] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    sentences: list[str] = field(default_factory=list)  # index 0 is the title ("" when none)
    groups: dict[str, frozenset[int]] = field(default_factory=dict)  # each group found -> its sentences
    background: set[int] = field(default_factory=set)  # sentences that recount earlier measures
    context: list[Hit] = field(default_factory=list)  # the background rules' hits

    def best(self) -> tuple[str, float] | None:
        """The winning category and its score, if any reaches the threshold."""
        if not self.scores:
            return None
        category = max(self.scores, key=lambda c: (self.scores[c], -_CATEGORY_ORDER.get(c, 99)))
        score = self.scores[category]
        return (category, score) if score >= THRESHOLD else None

    def fired(self, rule_id: str) -> bool:
        """Whether a rule (measure or exclude) fired anywhere in the document."""
        return any(h.rule.id == rule_id for h in (*self.hits, *self.vetoes, *self.context))


#: Ties between equally scored categories go to the one listed first in the contract (models.Category).
_CATEGORY_ORDER: dict[str, int] = {c.value: i for i, c in enumerate(Category)}


class _Language:
    """The compiled matchers for one language."""

    def __init__(self, lang: str, rules: list[Rule], problems: list[Problem]):
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher

        self.lang = lang
        self.window_scale = _WINDOW_SCALE.get(lang, 1)
        code = _SPACY_LANG.get(lang, lang)
        try:
            self.nlp = spacy.blank(code)
        except (ImportError, OSError, ValueError):
            self.nlp = spacy.blank("xx")
        if hasattr(self.nlp.tokenizer, "suffix_search") and self.nlp.Defaults.suffixes is not None:
            from spacy.util import compile_suffix_regex

            # "25%" reads as "25" "%" in every language, so one percent pattern serves them all.
            suffixes = [*self.nlp.Defaults.suffixes, r"%"]
            self.nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
        self.stemmer = None
        if lang in _STEMMERS:
            import snowballstemmer

            self.stemmer = snowballstemmer.stemmer(_STEMMERS[lang])
        self._normed: set[int] = set()
        self.rules = rules
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="NORM")
        self.tokens = Matcher(self.nlp.vocab, validate=True)
        self.has_token_patterns = False
        self.gaps: list[tuple[str, tuple[str, ...]]] = []  # (group key, the keys of its pieces in order)
        self._gap_pieces: set[str] = set()
        added: set[str] = set()
        for rule in rules:
            mentions = [g for a in (rule.severity.adjust if rule.severity else ()) for g in a.mentions]
            for group in (*rule.groups, *rule.unless, *rule.unless_near, *rule.unless_document, *mentions):
                if group.key in added:
                    continue
                added.add(group.key)
                phrase_docs = []
                for entry in group.entries.get(lang, ()):
                    tokens = entry.tokens
                    if entry.phrase is not None and GAP not in entry.phrase.split():
                        phrase_docs.append(self.norms(self.nlp.make_doc(entry.phrase)))
                        continue
                    if entry.phrase is not None:
                        self.add_gap_phrase(group.key, entry.phrase)
                        continue
                    if tokens is not None:
                        try:
                            self.tokens.add(group.key, [list(tokens)])
                            self.has_token_patterns = True
                        except Exception as exc:  # spaCy raises MatchPatternError / ValueError subclasses
                            first = str(exc).strip().splitlines()
                            problems.append(
                                Problem(
                                    entry.path or rule.path,
                                    entry.line,
                                    f"rule {rule.id}: invalid token pattern: {first[-1] if first else exc}",
                                )
                            )
                if phrase_docs:
                    self.phrases.add(group.key, phrase_docs)

    def add_gap_phrase(self, key: str, phrase: str) -> None:
        """A phrase with `*` gaps ("additional * duty"): each `*` skips up to GAP_WORDS words.

        Its pieces go to the PhraseMatcher like any phrase; `gap_matches` joins them in order afterwards. A token
        pattern with optional tokens would do the same in spaCy's Matcher, at several times the cost.
        """
        pieces = [p.strip() for p in f" {phrase} ".split(f" {GAP} ") if p.strip()]
        piece_keys = []
        for piece in pieces:
            piece_key = f"{key}#{piece}"
            if piece_key not in self._gap_pieces:
                self._gap_pieces.add(piece_key)
                self.phrases.add(piece_key, [self.norms(self.nlp.make_doc(piece))])
            piece_keys.append(piece_key)
        self.gaps.append((key, tuple(piece_keys)))

    def norm_of(self, text: str) -> str:
        """The NORM this pipeline gives a word: folded, elision removed, stemmed."""
        word = fold(text)
        if self.lang in ("fr", "it"):
            word = _ELISION.sub("", word)
        if self.stemmer is not None and word.isalpha():
            word = self.stemmer.stemWord(word)
        return word

    def norms(self, doc: Any) -> Any:
        """Set each new word's NORM to its folded stem (once per vocabulary entry, so it is cached)."""
        from spacy.attrs import ORTH

        fresh = set(doc.to_array(ORTH).tolist()) - self._normed
        if fresh:
            vocab, strings = self.nlp.vocab, self.nlp.vocab.strings
            for orth in fresh:
                vocab[orth].norm_ = self.norm_of(strings[orth])
            self._normed |= fresh
        return doc


class Engine:
    """Rules compiled for extraction. Build it once per process; it compiles each language on first use."""

    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        self.problems: list[Problem] = []
        self._languages: dict[str, _Language | None] = {}

    def language(self, lang: str) -> _Language | None:
        """The compiled matchers for a language, or None when no rule is written for it."""
        if lang not in self._languages:
            rules = [r for r in self.ruleset.rules if lang in r.languages]
            self._languages[lang] = _Language(lang, rules, self.problems) if rules else None
        return self._languages[lang]

    def compile_all(self) -> list[Problem]:
        """Compile every language now (for `rules lint`); return the pattern problems found."""
        for lang in self.ruleset.languages:
            self.language(lang)
        return list(self.problems)

    # analysis ----------------------------------------------------------------------------------------

    def analyze(self, documents: Iterable[Document], batch_size: int = 64) -> Iterator[Analysis]:
        """Match every rule against each document, in input order."""
        batch: list[Prepared] = []
        for document in documents:
            batch.append(prepare(document))
            if len(batch) >= batch_size:
                yield from self._analyze_batch(batch)
                batch = []
        if batch:
            yield from self._analyze_batch(batch)

    def _analyze_batch(self, batch: list[Prepared]) -> list[Analysis]:
        results: list[Analysis | None] = [None] * len(batch)
        by_lang: dict[str, list[int]] = defaultdict(list)
        for index, prepared in enumerate(batch):
            by_lang[prepared.language].append(index)
        for lang, indexes in by_lang.items():
            compiled = self.language(lang)
            if compiled is None:
                for index in indexes:
                    results[index] = Analysis(
                        prepared=batch[index], sentences=[batch[index].title, *batch[index].sentences]
                    )
                continue
            texts = []
            offsets = []
            for index in indexes:
                sentences = [batch[index].title, *batch[index].sentences]
                starts = []
                position = 0
                for sentence in sentences:
                    starts.append(position)
                    position += len(sentence) + 1
                texts.append(" ".join(sentences))
                offsets.append((sentences, starts))
            for index, doc, (sentences, starts) in zip(
                indexes, compiled.nlp.pipe(texts, batch_size=256), offsets, strict=True
            ):
                compiled.norms(doc)
                results[index] = self._score(compiled, batch[index], doc, sentences, starts)
        return [r for r in results if r is not None]

    def _score(
        self, compiled: _Language, prepared: Prepared, doc: Any, sentences: list[str], starts: list[int]
    ) -> Analysis:
        import numpy as np
        from spacy.attrs import IDX

        strings = compiled.nlp.vocab.strings
        offsets = doc.to_array(IDX).astype(np.int64)
        token_sentence = (np.searchsorted(np.asarray(starts, dtype=np.int64), offsets, side="right") - 1).tolist()
        found: Found = defaultdict(lambda: defaultdict(list))
        for match_id, start, end in compiled.phrases(doc):
            found[strings[match_id]][token_sentence[start]].append((start, end))
        if compiled.has_token_patterns:
            for match_id, start, end in compiled.tokens(doc):
                found[strings[match_id]][token_sentence[start]].append((start, end))
        for key, pieces in compiled.gaps:
            _join_gaps(found, key, pieces)
        groups = {key: frozenset(by_sentence) for key, by_sentence in found.items()}
        analysis = Analysis(prepared=prepared, sentences=sentences, groups=groups)
        n_sentences = len(sentences)
        has_title = bool(prepared.title)
        for rule in compiled.rules:
            if rule.jurisdictions and prepared.jurisdiction not in rule.jurisdictions:
                continue
            for hit in _rule_hits(rule, found, n_sentences, has_title, compiled.window_scale):
                if rule.kind == "exclude":
                    analysis.vetoes.append(hit)
                elif rule.kind == "background":
                    analysis.context.append(hit)
                    analysis.background.add(hit.sentence)
                else:
                    analysis.hits.append(hit)
        # A sentence an exclude rule claims (a maintenance notice's title, a reminder's lead) announces nothing.
        vetoed = {hit.sentence for hit in analysis.vetoes if hit.rule.cancels}
        analysis.hits = [hit for hit in analysis.hits if hit.sentence not in vetoed]
        analysis.background.discard(0)  # a title is never background
        _fill_scores(analysis)
        return analysis

    # extraction --------------------------------------------------------------------------------------

    def extract(self, documents: Iterable[Document], batch_size: int = 64) -> Iterator[list[Change]]:
        """The changes in each document, in input order (at most one per document: its main measure)."""
        for analysis in self.analyze(documents, batch_size=batch_size):
            change = self.decide(analysis)
            yield [change] if change is not None else []

    def decide(self, analysis: Analysis, identity: str | None = None) -> Change | None:
        """Turn an analysis into its change record, or None when nothing reaches the threshold."""
        from policywatch.extract.fields import extract_fields

        best = analysis.best()
        if best is None:
            return None
        category = best[0]
        hits = sorted(
            (h for h in analysis.hits if h.rule.category == category),
            key=lambda h: (-hit_weight(h, analysis.background), h.sentence),
        )
        rule = hits[0].rule
        body_hits = [h for h in hits if h.sentence > 0]
        evidence_index = list(dict.fromkeys(h.sentence - 1 for h in body_hits))
        prepared = analysis.prepared
        fields = extract_fields(prepared, category, evidence_index)
        if body_hits:
            quoted = list(dict.fromkeys(prepared.sentences[h.sentence - 1] for h in body_hits[:2]))
            evidence = " … ".join(quoted)
        else:
            evidence = prepared.title
        direction = rule.direction
        severity_rule = rule
        flipped = _rate_direction(category, fields.new_rate_percent, fields.old_rate_percent)
        if flipped is not None:
            # "From 34% to 10%" settles whether a tariff went up or down, whatever verbs surround it.
            category, direction = flipped
            severity_rule = next((r for r in self.ruleset.rules if r.category == category and r.severity), rule)
        assert severity_rule.severity is not None
        severity = derive_severity(
            severity_rule.severity,
            new=fields.new_rate_percent,
            old=fields.old_rate_percent,
            origins=fields.affected_countries,
            hs_codes=fields.hs_codes,
            direction=direction,
            jurisdiction=fields.jurisdiction,
            mentioned=_mentioned(analysis, body_hits),
        )
        key = f"{identity or prepared.id}\x1f{category}\x1f{collapse(evidence)}"
        return Change(
            id=hashlib.sha256(key.encode("utf-8")).hexdigest()[:16],
            bulletin_id=prepared.id,
            rule_id=rule.id,
            rules_version=self.ruleset.version,
            category=category,
            direction=direction,
            severity=severity.value,
            jurisdiction=fields.jurisdiction,
            affected_countries=tuple(fields.affected_countries),
            hs_codes=tuple(fields.hs_codes),
            new_rate_percent=fields.new_rate_percent,
            old_rate_percent=fields.old_rate_percent,
            effective_date=fields.effective_date,
            evidence=evidence,
        )


def _join_gaps(found: Found, key: str, pieces: tuple[str, ...]) -> None:
    """Add `key` matches where the pieces of a gap phrase follow each other, at most GAP_WORDS words apart."""
    if not all(piece in found for piece in pieces):
        return
    sentences = set(found[pieces[0]])
    for piece in pieces[1:]:
        sentences &= set(found[piece])
    for sentence in sentences:
        for start, end in found[pieces[0]][sentence]:
            last = end
            for piece in pieces[1:]:
                following = [e for s, e in found[piece][sentence] if last <= s <= last + GAP_WORDS]
                if not following:
                    break
                last = min(following)
            else:
                found[key][sentence].append((start, last))


Span = tuple[int, int]
Found = dict[str, dict[int, list[Span]]]


def _mentioned(analysis: Analysis, body_hits: list[Hit]) -> frozenset[str]:
    """The groups found where a change is stated (title, lead, evidence), not in background sentences.

    Severity conditions read these: "all goods" in a paragraph recounting another country's tariff says
    nothing about this one.
    """
    focus = {0, *range(1, LEAD_SENTENCES + 1), *(h.sentence for h in body_hits)} - analysis.background
    return frozenset(key for key, sentences in analysis.groups.items() if sentences & focus)


_TARIFF_DIRECTIONS = {"tariff_increase": "tighten", "tariff_decrease": "loosen"}


def _rate_direction(category: str, new: float | None, old: float | None) -> tuple[str, str] | None:
    """For a tariff change whose old and new rates contradict its category, the category the rates show."""
    if category not in _TARIFF_DIRECTIONS or new is None or old is None or new == old:
        return None
    shown = "tariff_increase" if new > old else "tariff_decrease"
    return (shown, _TARIFF_DIRECTIONS[shown]) if shown != category else None


def _in_scope(rule: Rule, sentence: int, has_title: bool) -> bool:
    if rule.scope == "title":
        return sentence == 0 and has_title
    if rule.scope == "lead":
        return sentence <= LEAD_SENTENCES
    return True


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _assign(groups: list[list[Span]], within: int | None, chosen: list[Span]) -> list[Span] | None:
    """One span per group, no two overlapping (a word cannot serve two groups), all within `within` tokens."""
    if len(chosen) == len(groups):
        return chosen
    for span in groups[len(chosen)]:
        if any(_overlaps(span, other) for other in chosen):
            continue
        if within is not None and chosen and abs(span[0] - chosen[0][0]) > within:
            continue
        found = _assign(groups, within, [*chosen, span])
        if found is not None:
            return found
    return None


def _blocked(rule: Rule, found: Found, sentence: int, chosen: list[Span], scale: int) -> bool:
    if any(sentence in found.get(b.key, {}) for b in rule.unless):
        return True
    if rule.unless_near:
        low = min(s for s, _ in chosen) - rule.near * scale
        high = max(e for _, e in chosen) + rule.near * scale
        for group in rule.unless_near:
            for start, end in found.get(group.key, {}).get(sentence, ()):
                # A blocker wider than a matched phrase blocks ("de minimis tariff" around "de minimis"); one
                # inside a matched phrase does not ("deixam de" inside "deixam de pagar").
                inside = any(c_start <= start and end <= c_end for c_start, c_end in chosen)
                if start < high and end > low and not inside:
                    return True
    return False


def _rule_hits(rule: Rule, found: Found, n_sentences: int, has_title: bool, scale: int = 1) -> list[Hit]:
    keys = [g.key for g in rule.groups]
    if any(found.get(g.key) for g in rule.unless_document):
        return []
    if rule.scope == "document":
        if not all(found.get(k) for k in keys) or any(found.get(b.key) for b in rule.unless):
            return []
        first = min(found[keys[0]])
        start, end = found[keys[0]][first][0]
        return [Hit(rule, first, start, end)]
    candidates = set(found[keys[0]]) if keys[0] in found else set()
    for key in keys[1:]:
        candidates &= set(found.get(key, {}))
    hits = []
    for sentence in sorted(candidates):
        if not _in_scope(rule, sentence, has_title):
            continue
        within = rule.within * scale if rule.within is not None else None
        chosen = _assign([found[k][sentence] for k in keys], within, [])
        if chosen is None or _blocked(rule, found, sentence, chosen, scale):
            continue
        hits.append(Hit(rule, sentence, min(s for s, _ in chosen), max(e for _, e in chosen)))
    return hits


def hit_weight(hit: Hit, background: set[int] | frozenset[int] = frozenset()) -> float:
    """A hit's weight: the rule's, boosted in the title (the headline states the main measure) and the lead,
    and cut in a sentence that recounts an earlier measure."""
    if hit.rule.scope == "document":
        return hit.rule.weight
    if hit.sentence == 0:
        return hit.rule.weight * TITLE_BOOST
    weight = hit.rule.weight * (LEAD_BOOST if hit.sentence <= LEAD_SENTENCES else 1.0)
    return weight * BACKGROUND_FACTOR if hit.sentence in background else weight


def _fill_scores(analysis: Analysis) -> None:
    best_by_rule: dict[str, float] = {}
    sentences_by_rule: dict[str, set[int]] = defaultdict(set)
    rules = {}
    for hit in analysis.hits:
        rules[hit.rule.id] = hit.rule
        sentences_by_rule[hit.rule.id].add(hit.sentence)
        best_by_rule[hit.rule.id] = max(best_by_rule.get(hit.rule.id, 0.0), hit_weight(hit, analysis.background))
    per_category: dict[str, list[float]] = defaultdict(list)
    for rule_id, weight in best_by_rule.items():
        # A theme that runs through the notice is more likely its subject than a passing mention.
        repeated = min(REPEAT_CAP, REPEAT_BONUS * (len(sentences_by_rule[rule_id]) - 1))
        category = rules[rule_id].category
        assert category is not None
        per_category[category].append(weight + repeated)
    veto = sum({h.rule.id: h.rule.weight for h in analysis.vetoes}.values())
    for category, weights in per_category.items():
        weights.sort(reverse=True)
        bonus = min(AGREEMENT_CAP, AGREEMENT_BONUS * sum(weights[1:]))
        analysis.scores[category] = round(weights[0] + bonus - veto, 3)
