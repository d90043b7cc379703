"""Finding the entry that answers a question, or saying honestly that none does.

Two passes so that the cost of a lookup follows the words of the question, not the size of the knowledge
base (rapidfuzz over 10,000 choices costs tens of milliseconds per question, see DESIGN.md):

1. Candidates: an inverted index of matching keys (stems and bilingual concepts, `text.py`) scored
   BM25F-style, question variants, titles and tags weighing more than the answer text. A question word
   the index does not know is looked up among the known words within one or two typos (a deletion
   neighbourhood, confirmed with rapidfuzz).
2. Confidence: each candidate gets a score in 0..1 from how much of the question it covers (rare words
   count more, unknown words count against it) and how close the question is to its nearest question
   variant (key overlap plus rapidfuzz similarity of the folded text).

The score decides the outcome: "answer" above `answer_threshold`, "suggest" (a few entries to choose
from, no answer) above `suggest_threshold`, "none" below. "none" always means no answer: the bot never
stretches an entry to a question it does not cover.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from bot.services.knowledge.entries import Entry
from bot.services.knowledge.text import MAX_QUERY_TOKENS, Token, analyse, clean_query

Outcome = Literal["answer", "suggest", "none"]

ANSWER_THRESHOLD = 0.55
SUGGEST_THRESHOLD = 0.35
MAX_SUGGESTIONS = 3

# BM25F field weights: a word in a question variant or the title is what the entry is about; a word of
# the answer text may be a passing mention.
FIELD_WEIGHTS = {"questions": 3.0, "title": 2.0, "tags": 2.0, "answer": 1.0}
K1 = 1.2
B = 0.75
CANDIDATES = 25
# Credit for a question word found only in the answer text, relative to one found in a question.
ANSWER_CREDIT = 0.5
# Interrogatives ("when", "how many") steer between entries on one subject but never make a match.
INTENT_WEIGHT = 0.5
BETA2 = 4.0  # F-beta with beta = 2
# Typo tolerance: shortest word corrected at all, shortest corrected with two edits, credit per edit.
TYPO_MIN_LEN = 5
TYPO2_MIN_LEN = 9
TYPO_CREDIT = (1.0, 0.85, 0.7)
# Keys in more than this share of a large knowledge base are skipped when gathering candidates: they
# select nothing, and their postings would make the first pass as slow as a full scan.
COMMON_SHARE = 0.2


@dataclass(frozen=True)
class SearchResult:
    outcome: Outcome
    entry: Entry | None
    score: float
    suggestions: list[Entry] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.outcome == "answer"


@dataclass(frozen=True, slots=True)
class _Variant:
    text: str  # folded content words, for rapidfuzz
    words: tuple[tuple[tuple[str, ...], float], ...]  # per word: its keys, its weight (idf)
    keys: frozenset[str]
    total: float


@dataclass(slots=True)
class _Doc:
    entry: Entry
    strong: frozenset[str]  # keys of questions, title and tags
    weak: frozenset[str]  # keys found only in the answer text
    variants: list[_Variant]


@dataclass(frozen=True, slots=True)
class _Term:
    """A question word with the keys it may match, each with its credit (below 1 for typo matches)."""

    surface: str
    keys: tuple[tuple[str, float], ...]
    weight: float


class KnowledgeIndex:
    """Built once per load of the knowledge base; `search` is read-only and safe to share."""

    def __init__(self) -> None:
        self.answer_threshold = ANSWER_THRESHOLD
        self.suggest_threshold = SUGGEST_THRESHOLD
        self._docs: list[_Doc] = []
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._idf: dict[str, float] = {}
        self._unknown_idf = 0.0
        self._surfaces: dict[str, tuple[str, ...]] = {}  # known word -> its keys
        self._deletes: dict[str, list[str]] = {}  # word minus one letter -> known words

    def __len__(self) -> int:
        return len(self._docs)

    @classmethod
    def build(cls, entries: Iterable[Entry], answer_threshold: float = ANSWER_THRESHOLD,
              suggest_threshold: float = SUGGEST_THRESHOLD) -> KnowledgeIndex:
        index = cls()
        index.answer_threshold = answer_threshold
        index.suggest_threshold = suggest_threshold
        index._build(list(entries))
        return index

    # -- building -----------------------------------------------------------------------------------

    def _build(self, entries: list[Entry]) -> None:
        fields_per_doc: list[dict[str, list[str]]] = []
        variant_tokens: list[list[list[Token]]] = []
        surfaces: dict[str, set[str]] = defaultdict(set)
        for entry in entries:
            fields: dict[str, list[str]] = {name: [] for name in FIELD_WEIGHTS}
            variants: list[list[Token]] = []
            for lang, texts in entry.questions.items():
                for text in texts:
                    tokens = analyse(text, lang)
                    variants.append(tokens)
                    fields["questions"].extend(k for t in tokens for k in t.keys)
            for lang, text in entry.title.items():
                tokens = analyse(text, lang)
                variants.append(tokens)
                fields["title"].extend(k for t in tokens for k in t.keys)
            for tag in entry.tags:
                fields["tags"].extend(k for t in analyse(tag, intents=False) for k in t.keys)
            for lang, text in entry.answers.items():
                tokens = analyse(text, lang, intents=False)
                fields["answer"].extend(k for t in tokens for k in t.keys)
                for t in tokens:
                    surfaces[t.surface].update(t.keys)
            for tokens in variants:
                for t in tokens:
                    if not t.intent:
                        surfaces[t.surface].update(t.keys)
            fields_per_doc.append(fields)
            variant_tokens.append(variants)

        n = len(entries)
        df: dict[str, int] = defaultdict(int)
        for fields in fields_per_doc:
            for k in {k for keys in fields.values() for k in keys}:
                df[k] += 1
        self._idf = {k: math.log(1 + (n - d + 0.5) / (d + 0.5)) for k, d in df.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0

        avg_len = {name: max(1.0, sum(len(f[name]) for f in fields_per_doc) / max(1, n))
                   for name in FIELD_WEIGHTS}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc_id, fields in enumerate(fields_per_doc):
            tf: dict[str, float] = defaultdict(float)
            for name, keys in fields.items():
                norm = 1 - B + B * len(keys) / avg_len[name]
                for k in keys:
                    tf[k] += FIELD_WEIGHTS[name] / norm
            for k, t in tf.items():
                postings[k].append((doc_id, self._idf[k] * t * (K1 + 1) / (t + K1)))
            strong = frozenset(k for name in ("questions", "title", "tags") for k in fields[name])
            weak = frozenset(fields["answer"]) - strong
            self._docs.append(_Doc(entries[doc_id], strong, weak,
                                   [self._variant(tokens) for tokens in variant_tokens[doc_id] if tokens]))
        self._postings = dict(postings)
        self._surfaces = {s: tuple(sorted(keys)) for s, keys in surfaces.items()}
        deletes: dict[str, list[str]] = defaultdict(list)
        for s in self._surfaces:
            if len(s) >= TYPO_MIN_LEN - 1 and not s.isdigit():
                for d in _deletes(s):
                    deletes[d].append(s)
        self._deletes = dict(deletes)

    def _variant(self, tokens: list[Token]) -> _Variant:
        words: dict[tuple[str, ...], float] = {}
        for t in tokens:
            weight = min(self._idf.get(k, 0.0) for k in t.keys)
            words[t.keys] = weight * (INTENT_WEIGHT if t.intent else 1.0)
        text = " ".join(t.surface for t in tokens if not t.intent)
        keys = frozenset(k for t in tokens for k in t.keys)
        return _Variant(text, tuple(words.items()), keys, sum(words.values()) or 1.0)

    # -- searching ----------------------------------------------------------------------------------

    def search(self, question: str, lang: str = "es") -> SearchResult:
        """The entry answering `question`, a few to suggest, or none. `lang` is the language the answer
        will be given in; the question may be written in any language the knowledge base has. Never
        raises on user input: empty, huge, emoji-only or markup text simply finds nothing."""
        ranked = self.rank(question)
        if not ranked or ranked[0][1] < self.suggest_threshold:
            return SearchResult("none", None, round(ranked[0][1], 4) if ranked else 0.0, [])
        best, score = ranked[0]
        if score >= self.answer_threshold:
            # Alongside an answer, only entries that would have been answers too: the user may have
            # meant one of them, while weaker ones would be noise under every reply.
            related = [e for e, s in ranked[1:] if s >= self.answer_threshold][:MAX_SUGGESTIONS]
            return SearchResult("answer", best, round(score, 4), related)
        others = [e for e, s in ranked[1:] if s >= self.suggest_threshold]
        return SearchResult("suggest", None, round(score, 4), [best, *others][:MAX_SUGGESTIONS])

    def rank(self, question: str, limit: int = MAX_SUGGESTIONS + 1) -> list[tuple[Entry, float]]:
        """The best entries for `question` with their confidence, best first (for tools and tuning)."""
        if not isinstance(question, str) or not self._docs:
            return []
        terms = self._terms(question)
        if not any(not t.surface.startswith("?") and t.keys for t in terms):
            return []  # only interrogatives or unknown words: nothing to go on
        candidates = self._candidates(terms)
        scored = [(self._docs[d].entry, self._confidence(self._docs[d], terms)) for d in candidates]
        return heapq.nlargest(limit, scored, key=lambda pair: pair[1])

    def _terms(self, question: str) -> list[_Term]:
        terms: list[_Term] = []
        seen: set[str] = set()
        seen_keys: set[tuple[str, ...]] = set()
        for token in analyse(clean_query(question)):
            # Synonyms in one question ("programa ... iniciativa") count once, like a repeated word.
            if token.surface in seen or token.keys in seen_keys:
                continue
            seen.add(token.surface)
            seen_keys.add(token.keys)
            keys = tuple((k, 1.0) for k in token.keys if k in self._idf)
            if not keys and not token.intent:
                keys = self._typo_keys(token.surface)
            if keys:
                weight = min(self._idf[k] for k, _ in keys)
            else:
                weight = self._unknown_idf
            if token.intent:
                weight *= INTENT_WEIGHT
            terms.append(_Term(token.surface, keys, weight))
            if len(terms) >= MAX_QUERY_TOKENS:
                break
        return terms

    def _typo_keys(self, word: str) -> tuple[tuple[str, float], ...]:
        """Keys of the known words one (or, for long words, two) edits away from an unknown `word`."""
        if len(word) < TYPO_MIN_LEN or word.isdigit():
            return ()
        max_edits = 2 if len(word) >= TYPO2_MIN_LEN else 1
        near: dict[str, int] = {}
        for d in _deletes(word):
            for known in self._deletes.get(d, ()):
                if known not in near:
                    near[known] = OSA.distance(word, known, score_cutoff=max_edits)
        best: dict[str, float] = {}
        for known, edits in near.items():
            if edits <= max_edits:
                for k in self._surfaces[known]:
                    best[k] = max(best.get(k, 0.0), TYPO_CREDIT[edits])
        return tuple(sorted(best.items(), key=lambda kv: -kv[1])[:6])

    def _candidates(self, terms: Sequence[_Term]) -> list[int]:
        n = len(self._docs)
        common = n * COMMON_SHARE if n > 200 else n + 1
        totals: dict[int, float] = defaultdict(float)
        for term in terms:
            best: dict[int, float] = {}
            for k, credit in term.keys:
                postings = self._postings.get(k, ())
                if len(postings) > common:
                    continue
                for doc_id, contrib in postings:
                    value = contrib * credit
                    if value > best.get(doc_id, 0.0):
                        best[doc_id] = value
            for doc_id, value in best.items():
                totals[doc_id] += value
        if not totals:  # every word is common: fall back on them rather than finding nothing
            for term in terms:
                for k, credit in term.keys:
                    for doc_id, contrib in self._postings.get(k, ())[:CANDIDATES * 40]:
                        totals[doc_id] += contrib * credit
        return heapq.nlargest(CANDIDATES, totals, key=totals.__getitem__)

    def _confidence(self, doc: _Doc, terms: Sequence[_Term]) -> float:
        coverage, variant = self._components(doc, terms)
        return 0.5 * coverage + 0.5 * variant

    def _components(self, doc: _Doc, terms: Sequence[_Term]) -> tuple[float, float]:
        """(share of the question the entry covers, closeness of the nearest question variant)."""
        total = sum(t.weight for t in terms) or 1.0
        covered = 0.0
        query_keys: dict[str, float] = {}
        for term in terms:
            credit = 0.0
            for k, c in term.keys:
                query_keys[k] = max(query_keys.get(k, 0.0), c)
                if k in doc.strong:
                    credit = max(credit, c)
                elif k in doc.weak:
                    credit = max(credit, c * ANSWER_CREDIT)
            covered += term.weight * credit
        coverage = covered / total
        query_text = " ".join(t.surface for t in terms if not t.surface.startswith("?"))
        best_variant = 0.0
        for variant in doc.variants:
            if variant.keys.isdisjoint(query_keys):
                continue
            hit = sum(w * max(query_keys.get(k, 0.0) for k in keys) for keys, w in variant.words)
            precision = hit / variant.total
            recall = sum(t.weight * max((c for k, c in t.keys if k in variant.keys), default=0.0)
                         for t in terms) / total
            overlap = _f_beta(precision, recall)
            # Inputs are folded already (text.analyse), hence no processor: the default would keep case
            # and accents only on the side that was not folded.
            similarity = fuzz.token_sort_ratio(query_text, variant.text, processor=None) / 100
            best_variant = max(best_variant, 0.75 * overlap + 0.25 * similarity)
        return coverage, best_variant


def _f_beta(precision: float, recall: float) -> float:
    """Recall-weighted F-score: a variant must explain the user's words more than the user must repeat
    all of the variant's (a short "what is X?" variant must not win every question that names X)."""
    if not precision or not recall:
        return 0.0
    return (1 + BETA2) * precision * recall / (BETA2 * precision + recall)


def _deletes(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}
