"""Finding the entry that answers a question, or saying honestly that none does.

0. Words: chat abbreviations written out ("xq" -> "por qué", `lexicon.CHAT_ABBREVIATIONS`; "4" -> "for" where
   English chat writes it between two words, `text.chat_digits`), a capitalised word that is a name of the
   entries without its vowels taken for it ("Lb" for "Lab", `_skeleton_of`), and a word
   neither the entries nor the lexicon know corrected against that vocabulary (names of places, events
   and organisations included): first by how it sounds (`text.phonetic`: "kien", "Comiyas", "formalisación"),
   then within a number of edits that grows with its length (a word too short for that only to an
   interrogative or function word chat writes without a vowel, "whn"). A corrected word counts for less. A
   word set apart before the question that nobody knows ("pana, ...") is the person addressed, and the
   language a name is asked in ("en castellano") says how to answer: neither counts as an unknown word.
1. Candidates: an inverted index of matching keys (stems and bilingual concepts, `text.py`) scored
   BM25F-style, question variants, titles and tags weighing more than the answer text, at a cost that
   follows the words of the question, not the size of the knowledge base (rapidfuzz over 10,000 choices
   costs tens of milliseconds per question, see DESIGN.md).
2. Closeness: each candidate gets a score in 0..1 from how much of the question it covers (rare words count
   more, unknown words count against it, and so does lacking a word nearly every entry has) and how close
   the question is to its nearest question variant (key overlap plus rapidfuzz similarity of the folded
   text; a variant asked another way is less near: what can be for what was, whether something holds for
   what it was, another interrogative: "when" for "how many"). An entry about another name than the one
   asked about ("CAINCO's services" against Cooperactivas' services) loses a share of it, and so does one
   that cannot answer what is asked: no figure in its answer of what "how many" (or "the budget of") counts,
   in one sentence with it or asked for by one of its questions; a number the question names that it never
   states; no date for "when", no "how do I" among its questions for a procedure, no mention of a question
   word that other entries are about, or being about the contrary of what is asked (the opening seminar for
   the closing one).
3. Decision: a logistic model over the closest entry's `Signals` (its closeness, its lead over the
   runner-up, the share of the question in words nobody in the knowledge base uses, and in words it
   uses elsewhere; and in amounts, what the entry shares with the question, so that a paraphrase padded
   with words of its own keeps the credit of the rare words it shares) gives the probability that the
   entry answers the question. Fitted by cross-validation on question sets the matcher was not built
   from (`bench/faq_calibration.py`), it decides: "answer";
   "confirm" (the answer, asking "is this what you asked?" with the runner-ups as buttons); "suggest"
   (a few entries to choose from, no answer); "none". An entry that cannot hold the kind of fact asked
   for, or is about another name, is never answered, whatever its score: the bot never stretches an
   entry to a question it does not cover. That includes the asked attribute: "who", "where" or "when"
   of something (or "in which city") is answered only by an entry with a question of its own asking it,
   or with an answer sentence about it that names someone the question does not, places it somewhere
   the question does not name, or dates it (a date to come for "when will the next one be"; a month for "in
   which month"; of an opening or an ending only where it speaks of it, `lexicon.CONTRASTS`). So does an
   attribute asked by its word (the age, what a study concluded: `lexicon.ATTRIBUTE_WORDS`), answered only
   by an entry using that word (a rate, "the interest rate", `lexicon.RATE_WORDS`: also by one writing a
   percentage), and a value asked "of" something ("the population of Palencia", "la web
   de X": `lexicon.VALUE_OF_WORDS`), answered only by a figure of it or an address. A number the question
   writes is stated only written whole, or as the first part of one ("goal 10" of "10.4", not "goal 4"), and
   is no figure for its "how many", nor is a number that is part of a name ("Al-Invest 6.0"); a count of a
   name the entry mentions only in passing is in a sentence naming it; "how do I <verb>" needs an entry
   speaking of the verb.

The question's language is guessed from its function words so that each word is read in that
language first; the answer's language is the one asked for, whichever language matched. A word only the
other language's texts write is a term borrowed from them and is read in theirs ("the 'socios' of X"), and a
term in quotes in each language whose texts write it: the entries keep names and terms of the sources in
the language they were written in, and prose in the other language translates them or keeps them.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Indel

from bot.services.knowledge.entries import Entry
from bot.services.knowledge.lexicon import (
    ATTRIBUTE_WORDS,
    BESIDES_WORDS,
    CHOICE_ASKERS,
    CITING_ASKED,
    CITING_WORDS,
    COMMON_WORDS,
    CONCEPTS,
    CONTRASTS,
    DAY_WORDS,
    DETAIL_WORDS,
    DIGIT_WORDS,
    EXACT_WORDS,
    FINDING_VERBS,
    FUTURE_WORDS,
    HOUR_CONCEPTS,
    INTENT_WORDS,
    KIND_ASKERS,
    LANGUAGE_AFTER,
    LANGUAGE_BEFORE,
    LANGUAGE_WORDS,
    LEADING_INTENT_WORDS,
    LOCATIVE_WORDS,
    MONTH_ASKED,
    MONTH_WORDS,
    NAMED_BODY_CONCEPTS,
    PEOPLE_CONCEPTS,
    PERIOD_WORDS,
    PLACE_CONCEPTS,
    QUANTITY_CONCEPTS,
    RATE_WORDS,
    STOPWORDS,
    TIME_CONCEPTS,
    VALUE_OF,
    VALUE_OF_WORDS,
)
from bot.services.knowledge.text import (
    ASKED_INTENTS,
    CLAUSE_BREAK,
    FACT_INTENTS,
    LANGUAGES,
    MAX_QUERY_TOKENS,
    YEAR_RE,
    Token,
    analyse,
    analyse_words,
    answer_facts,
    aspect,
    capitalised_words,
    chat_digits,
    clean_query,
    content_keys,
    expand_chat,
    fold,
    guess_language,
    key,
    keys_any,
    lexicon_vocabulary,
    lowercase_words,
    phonetic,
    proper_names,
    query_words,
    question_form,
    quoted_words,
    words,
)

Outcome = Literal["answer", "confirm", "suggest", "none"]

MAX_SUGGESTIONS = 3
# Alongside a sure answer, runner-ups at most this much less close are offered too.
CLOSE_RUNNER_UP = 0.1

# Adverbs of a whole ("en total", "in total"): their last word weighs as an interrogative does.
ALTOGETHER: frozenset[tuple[str, str]] = frozenset({("en", "total"), ("in", "total")})
# BM25F field weights: a word in a question variant or the title is what the entry is about; a word of
# the answer text may be a passing mention.
FIELD_WEIGHTS = {"questions": 3.0, "title": 2.0, "tags": 2.0, "answer": 1.0}
K1 = 1.2
B = 0.75
CANDIDATES = 25
# Credit for a question word found only in the answer text, relative to one found in a question.
ANSWER_CREDIT = 0.5
# A question word weighs its idf to this power: rare words count more, but one rare modifier ("main",
# "overall") must not outweigh the subject it modifies (0.75 beat 1.0 and 0.5 in cross-validation).
IDF_POWER = 0.75
# Interrogatives ("when", "how many") steer between entries on one subject but never make a match.
INTENT_WEIGHT = 0.5
ABSENCE_WEIGHT = 1.0
NAME_CONFLICT = 0.7
# An entry whose answer holds no number for "how many", no date for "when" (see `lexicon.NUMBER_WORDS`),
# or none of whose questions asks "how do I" when the user does.
INTENT_MISMATCH = 0.75
# An entry about the contrary of a question's concept (`lexicon.CONTRASTS`) and not about the concept.
CONTRAST_CONFLICT = 0.6
FUNCTION_WORDS = STOPWORDS | frozenset(INTENT_WORDS) | frozenset(LEADING_INTENT_WORDS)
_CONTRARY: dict[str, str] = {**dict(CONTRASTS), **{b: a for a, b in CONTRASTS}}
# A variant asking what can be ("can new entities join?") for a question about what was ("which entities
# joined?"), or the other way round, is that much less near (`text.aspect`).
ASPECT_MISMATCH = 0.8
# A variant asking whether something holds ("were synergies analysed in Cantabria?") for a question
# asking what it was ("what was analysed in Cantabria?"), or the other way round, is that much less near
# (`text.question_form`): the yes / no variant names one fact of the subject while the question asks for
# it, so an entry asking "what" of the subject answers it better than one confirming a detail.
FORM_MISMATCH = 0.8
# A variant asking another interrogative than the question's ("¿Cuándo fue el taller?" for "¿Cuántos fueron al
# taller?"): the two share the subject but ask different facts of it, so the variant is that much less near.
# Only when both ask one (`INTERROGATIVES`): "X 2017" or "what does X do" ask none. Not "how", which any
# description of the subject answers (comparing it too lost in-scope questions in cross-validation).
INTERROGATIVE_MISMATCH = 0.85
# The interrogatives compared, each standing for the facts asking it ("?day" and "?hour" are a "when").
INTERROGATIVES: dict[str, str] = {"?who": "?who", "?when": "?when", "?day": "?when", "?hour": "?when",
                                  "?when-next": "?when", "?where": "?where", "?why": "?why", "?qty": "?qty",
                                  "?dur": "?qty"}
# "Who", "why" or "how many" asked of a subject is answered by the entry one of whose questions asks it
# ("¿Por qué se sumó la Fundación Carolina?"), rather than by the entry about the subject whose questions
# never do ("¿Qué entidades se sumaron?"): an entry that is not asked it says it at most in passing. Not
# "when" and "where" (an answer stating a date or a place is checked for them, `_states`), nor "how",
# which any description of the subject answers, nor "how do I" (`ASKED_INTENTS`).
UNASKED_ATTRIBUTES: frozenset[str] = frozenset({"?who", "?why", "?qty"})
UNASKED_ATTRIBUTE = 0.85
# An entry that spells out a name (tagged "full name" or "acronym") answers what the name is and nothing
# else: a question that also asks of something the entry never mentions ("what role did the <name in
# full> have", "CAINCO's budget") asks about the organisation, not its name, even when it writes the name
# in full and so shares many words with the entry's "what is <name in full>?".
NAME_ENTRY_TAGS: tuple[str, ...] = ("full name", "nombre completo", "acronym", "siglas")
# Words asking what a thing is called, besides the tags ("¿cómo se llama en español?", "what does X stand for").
NAME_ASKING_WORDS: frozenset[str] = frozenset(
    "name names named nombre nombres called call llama llaman llamaba stand stands significa significan mean means "
    "meaning acronym siglas sigla abbreviation abreviatura abrevia".split())
NAME_ENTRY_ASIDE = 0.6
# A question word that other entries are about (in their questions, titles or tags) but this entry never
# mentions: "How is X funded?" against the entry about X, when funding is another entry's subject.
# Confidence loses this much per unit of the word's share of the question.
MISSING_TOPIC = 1.0
# A word is a subject of the knowledge base when this many entries have it in their questions, title or
# tags; a word of one entry's variants only is that entry's wording, as likely missing from a paraphrase.
TOPIC_MIN_ENTRIES = 2
BETA2 = 4.0  # F-beta with beta = 2
# Confidence = COVERAGE_SHARE * coverage + the rest * nearest variant, which is itself
# OVERLAP_SHARE * key overlap + the rest * rapidfuzz similarity.
COVERAGE_SHARE = 0.5
OVERLAP_SHARE = 0.75
# Spelling: a word neither the entries nor the lexicon know is corrected to the nearest known word that
# sounds alike (`text.phonetic`), else to one within a number of edits that grows with the word's length
# (two letters swapped below `TYPO1_MIN_LEN`, one edit from it, two from `TYPO2_MIN_LEN`). A corrected word
# counts for less: `SOUND_CREDIT` when it sounds the same, and 1 - TYPO_COST * edits / length otherwise.
TYPO_MIN_LEN = 3
TYPO1_MIN_LEN = 5  # four letters one edit from a known word are as often another word ("siva", "cita")
TYPO2_MIN_LEN = 8
VOWELS = frozenset("aeiou")  # folded: no accents
TYPO_MAX_LEN = 30  # no word is longer; a pasted token is not worth correcting
SOUND_CREDIT = 0.95
TYPO_COST = 1.5
# A correctly written common word of either language (`lexicon.COMMON_WORDS`) that the entries never use is
# more often a word the knowledge base lacks than a slip for one of its words ("mundo" is not "mando",
# "autor" not "actor", "recién" not "reciben"): its correction keeps only this share of its credit, below
# `CROSS_LANGUAGE_CREDIT`, so that it pulls the question little and, alone, is nothing to go on. Not a
# sound-alike ("tubo" for "tuvo": Spanish writes one sound several ways), nor another ending of the word
# ("advisor" / "advisory", "distingue" / "distinguió").
COMMON_WORD_CREDIT = 0.3
# A name in at least this share of the entries is the knowledge base's own subject (`_Term.everywhere`).
EVERYWHERE_SHARE = 0.3
# A key is a name's (`KnowledgeIndex._name_keys`) when at least this share of its uses in the entries'
# prose are the name's.
NAME_KEY_SHARE = 0.5
# Credit for a word of a question in one language that the index knows only as a stem of the other.
CROSS_LANGUAGE_CREDIT = 0.5
# Endings a word of one language (the key) shares with its cognate of the other: "-ción" / "-tion",
# "-dad" / "-ty" ("universidad", "university"). Plural forms first, so "entidades" becomes "entities".
_SPANISH_ENGLISH_ENDINGS: tuple[tuple[str, str], ...] = (
    ("ciones", "tions"), ("cion", "tion"), ("idades", "ities"), ("idad", "ity"), ("dades", "ties"), ("dad", "ty"),
    ("ismo", "ism"), ("ista", "ist"), ("istas", "ists"))
COGNATE_ENDINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "es": _SPANISH_ENGLISH_ENDINGS, "en": tuple((en, es) for es, en in _SPANISH_ENGLISH_ENDINGS)}
# Credit of a cognate found by its ending: as sure as a word read in the other language's concept.
COGNATE_CREDIT = 0.9
# A posting list longer than this only scores the candidates gathered so far (or brings its best this many).
RESTRICT_AFTER = 128


class Signals(NamedTuple):
    """What the decision is made from, for the closest entry: the features of `Calibration`, and whether
    the entry lacks the kind of fact asked for (a veto, not a feature)."""

    closeness: float = 0.0  # of the question to the entry, 0..1 (coverage and nearest variant, checked)
    lead: float = 0.0  # closeness over the runner-up's: a clear favourite or several alike
    unknown: float = 0.0  # share of the question in words the knowledge base does not know at all
    unmatched: float = 0.0  # share in words the knowledge base knows but this entry never uses
    # No number for "how many", no date for "when", no procedure for "how do I", about another name than
    # the one asked about (another programme's budget), or the question names something no entry knows:
    # the entry cannot hold the fact asked for.
    lacks_fact: bool = False
    # Not shares but amounts, so that a long paraphrase ("What was the initiative ultimately after for the
    # regions, in terms of inequality...") is not judged by its filler alone: the weight (idf) of the
    # question's words the entry has (in units of the weight of a word no entry has, so that it means the
    # same in a knowledge base of any size), and how many content words the question has (log(1 + n)).
    matched: float = 0.0
    length: float = 0.0

    @property
    def features(self) -> tuple[float, ...]:
        return self.closeness, self.lead, self.unknown, self.unmatched, self.matched, self.length


NO_SIGNALS = Signals()


@dataclass(frozen=True)
class Calibration:
    """A logistic model of "the closest entry answers the question" over `Signals`, and the probabilities
    that decide the outcome. Fitted by cross-validation on question sets the matcher was not built from
    (`bench/faq_calibration.py`, which prints the figures on folds not used for fitting)."""

    weights: tuple[float, ...]
    bias: float
    answer: float  # at or above: answer
    confirm: float  # at or above: answer, asking "is this what you asked?" with the runner-ups as buttons
    suggest: float  # at or above: "did you mean", no answer

    def probability(self, signals: Signals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# Fitted by `bench/faq_calibration.py` on faq_dev, faq_dev2 and tests/eval/fresh to fresh6 (1,494 questions, 256
# entries); the figures on folds not used for fitting are in bench/README.md.
CALIBRATION = Calibration(weights=(11.324, 2.011, 0.342, 3.659, -0.28, 3.886), bias=-13.223, answer=0.863,
                          confirm=0.098, suggest=0.098)


@dataclass(frozen=True)
class SearchResult:
    outcome: Outcome
    entry: Entry | None
    score: float  # the probability that `entry` (or the first suggestion) answers the question
    suggestions: list[Entry] = field(default_factory=list)
    signals: Signals = NO_SIGNALS

    @property
    def matched(self) -> bool:
        """An answer is given: outright, or as a best guess the user is asked to confirm."""
        return self.outcome in ("answer", "confirm")


def decide(ranked: Sequence[tuple[Entry, float]], signals: Signals, calibration: Calibration) -> SearchResult:
    """The outcome for a question from its closest entries and the calibrated probability that the first
    one answers it. Alongside a sure answer, only runner-ups nearly as close; alongside a best guess or
    among "did you mean", the next few."""
    if not ranked:
        return SearchResult("none", None, 0.0, [], signals)
    p = calibration.probability(signals)
    best = ranked[0][0]
    score = round(p, 4)
    if signals.lacks_fact:  # about the subject, not what is asked of it: at most among "did you mean"
        if p >= calibration.suggest:
            return SearchResult("suggest", None, score, [e for e, _ in ranked[:MAX_SUGGESTIONS]], signals)
        return SearchResult("none", None, score, [], signals)
    if p >= calibration.answer:
        related = [e for e, c in ranked[1:] if c >= signals.closeness - CLOSE_RUNNER_UP][:MAX_SUGGESTIONS]
        return SearchResult("answer", best, score, related, signals)
    if p >= calibration.confirm:
        return SearchResult("confirm", best, score, [e for e, _ in ranked[1:MAX_SUGGESTIONS + 1]], signals)
    if p >= calibration.suggest:
        return SearchResult("suggest", None, score, [e for e, _ in ranked[:MAX_SUGGESTIONS]], signals)
    return SearchResult("none", None, score, [], signals)


class _Variant(NamedTuple):
    text: str  # folded content words, for rapidfuzz
    words: tuple[tuple[str, float], ...]  # per word: its key, its weight (idf)
    keys: frozenset[str]
    total: float
    aspect: str | None = None  # "modal" or "past" (`text.aspect`)
    form: str | None = None  # "wh" or "yn" (`text.question_form`)
    asks: frozenset[str] = frozenset()  # its interrogatives ("?who", "?why")
    interrogatives: frozenset[str] = frozenset()  # what it asks, as `INTERROGATIVES` compares it


@dataclass(slots=True)
class _Doc:
    entry: Entry
    strong: frozenset[str]  # keys of questions, title and tags
    weak: frozenset[str]  # keys found only in the answer text
    variants: list[_Variant]
    facts: frozenset[str] = frozenset()  # intents it can satisfy at all ("?qty", "?when", "?howto")
    # Keys of what it gives an amount of, per answer sentence holding a figure and per question variant
    # asking "how many" ("how many consultancies"): not "finalists" when the figure is of the
    # consultancies offered to them, in another sentence (`_quantified`).
    figures: tuple[tuple[frozenset[str], bool], ...] = ()
    # For "who", "where" and "when": per answer sentence, its keys, the names and places it states and
    # whether it holds a date; and per such intent the keys of the question variants asking it
    # (`_attributes`).
    sentences: tuple[_Sentence, ...] = ()
    asks: dict[str, frozenset[str]] = field(default_factory=dict)
    title_names: frozenset[str] = frozenset()  # keys of the names its title uses
    name_tag_keys: frozenset[str] = frozenset()  # keys of its `NAME_ENTRY_TAGS`: an entry spelling out a name
    # The numbers it writes whole ("10.4", "2021": `_NUMBER_RE`) and the first part of each ("10" of "10.4":
    # target 4 of goal 10 is of goal 10, not goal 4).
    numbers: frozenset[str] = frozenset()


class _Sentence(NamedTuple):
    """One sentence of an entry's answer, as the asked-attribute check reads it."""

    keys: frozenset[str]
    names: frozenset[str]  # the names it writes capitalised, folded (who: an organisation, a person)
    places: frozenset[str]  # the names it places something in, folded ("en Jalisco", "in Dakar")
    dated: bool  # a year or a date word
    clock: bool  # a time of day ("9:30", "5 pm")
    future: bool  # about something to come (`lexicon.FUTURE_WORDS`)


@dataclass(frozen=True, slots=True)
class _Term:
    """A question word with the keys it may match, each with its credit (below 1 for typo matches)."""

    surface: str
    keys: tuple[tuple[str, float], ...]
    weight: float
    absence: float = 0.0  # what an entry without the word loses (large for a word nearly all entries have)
    name: bool = False  # a name the entries write capitalised ("CAINCO")
    topic: bool = False  # some entry is about it (a key of its questions, title or tags)
    lexical: tuple[str, ...] = ()  # its keys whether the index knows them or not ("horario": ~schedule)
    # A name a large share of the entries use (the network's own, "LÍDERES"): the knowledge base's subject,
    # so an entry not repeating it is not about something else.
    everywhere: bool = False
    # An unknown word that begins a word the knowledge base uses ("pros", "orgs"): maybe a clipping of it,
    # so not surely something no entry speaks of.
    clipped: bool = False
    # A value asked of something ("the population of Palencia", `lexicon.VALUE_OF_WORDS`): its kind of fact.
    value: str | None = None
    # Right after "which" or "what" ("which organisation"): the kind of thing the question asks for.
    kind: bool = False
    # Right after an interrogative or a content word, no article between ("quiénes impartieron", "which cities
    # hosted"): a verb or a modifier of what comes before, not a noun of its own ("who is the president").
    attached: bool = False


CHECKED_INTENTS = FACT_INTENTS | ASKED_INTENTS
# Per attribute word (`lexicon.ATTRIBUTE_WORDS`), the keys of every word of its attribute in either language.
_RATE_KEYS = frozenset(k for w in RATE_WORDS for k in keys_any(w))


def _attribute_keys(attribute_words: Iterable[str]) -> frozenset[str]:
    """The keys that say an attribute: its words' stems, and a concept of the lexicon only when every word
    of the concept is one of them ("~age" is "edad", "age"). A concept that also holds other words says
    something else: "findings" shares "~find" with "buscar" and "look for", and an entry saying what a
    workshop sought ("buscaba") states no finding of it."""
    said = frozenset(attribute_words)
    whole = {concept for concept, es_words, en_words in CONCEPTS if set(es_words) | set(en_words) <= said}
    return frozenset(k for w in said for k in keys_any(w) if not k.startswith("~") or k in whole)


_ATTRIBUTE_KEYS: dict[str, frozenset[str]] = {
    word: _attribute_keys(w for w, a in ATTRIBUTE_WORDS.items() if a == attribute)
    for word, attribute in ATTRIBUTE_WORDS.items()
} | dict.fromkeys(RATE_WORDS, _RATE_KEYS)
# "The exact day" (`lexicon.DAY_WORDS`): a day of the month, even of a name with "Day" in it.
EXACT_DAY = "?exact-day"
# A percentage written in an answer ("20 %", "el 15 por ciento", "15 percent"): a rate stated.
_PERCENT_RE = re.compile(r"\d\s*%|\bpor\s+ciento\b|\bper\s*cent\b", re.IGNORECASE)
# Interrogatives that ask something other than an amount of what they name.
OTHER_ATTRIBUTES: frozenset[str] = frozenset({"?who", "?where", "?when", "?from"})


class _Query:
    """What every candidate is compared with, computed once per question."""

    __slots__ = ("terms", "total", "credit", "key_terms", "text", "intents", "contrasts", "aspect", "counted",
                 "asked", "surfaces", "procedure", "form", "besides", "attributes", "interrogatives",
                 "languages", "numbers")

    def __init__(self, terms: list[_Term]) -> None:
        self.terms = terms
        self.total = sum(t.weight for t in terms) or 1.0
        self.credit: dict[str, float] = {}  # key -> best credit any question word gives it
        self.key_terms: dict[str, list[tuple[int, float]]] = defaultdict(list)  # key -> (word, credit)
        for i, term in enumerate(terms):
            for k, c in term.keys:
                self.credit[k] = max(self.credit.get(k, 0.0), c)
                self.key_terms[k].append((i, c))
        self.text = " ".join(t.surface for t in terms if not t.surface.startswith("?"))
        self.intents = frozenset(t.surface for t in terms if t.surface in CHECKED_INTENTS)
        # Words that are amounts or times ask "how much" or "when" without saying it: "the budget of X",
        # "el horario de X" (known to the lexicon, whether or not an entry uses them).
        concepts = {k for t in terms for k in t.lexical}
        # Not when the question asks another attribute of the amount outright ("who pays the annual
        # fee", "when is the budget approved"): the amount is then what is spoken of, not what is asked.
        amount_asked = "?qty" in self.intents or all(t.surface not in OTHER_ATTRIBUTES for t in terms)
        if amount_asked and not QUANTITY_CONCEPTS.isdisjoint(concepts):
            self.intents |= {"?qty"}
        if any(not t.name and not TIME_CONCEPTS.isdisjoint(t.lexical) for t in terms):
            self.intents |= {"?when"}  # not from a name with a date word in it ("Changemaker Day")
        if not HOUR_CONCEPTS.isdisjoint(concepts):
            self.intents |= {"?hour"}
        self.intents |= {DETAIL_WORDS[t.surface] for t in terms if t.surface in DETAIL_WORDS}
        # "When" of something the question dates by its year already asks a finer date.
        if "?when" in self.intents and any(YEAR_RE.fullmatch(t.surface) for t in terms):
            self.intents |= {"?day"}
        self.counted = _counted(terms, "?qty" in self.intents) if amount_asked else ()
        # The value of something asked ("the population of Palencia"): a figure of that measure, an address.
        self.intents |= {t.value for t in terms if t.value}
        self.counted += tuple(t.lexical for t in terms if t.value == "?qty")
        self.asked = _asked(terms)
        # Attributes asked of the subject ("the founder's age"): an entry with no word of one does not state it.
        self.attributes = tuple(_ATTRIBUTE_KEYS[t.surface] | frozenset(t.lexical)
                                for t in terms if t.surface in _ATTRIBUTE_KEYS)
        self.surfaces = frozenset(t.surface for t in terms)
        # What "how do I" asks to do: the word right after it, when the knowledge base knows it ("suscribo").
        verb = next(itertools.islice(itertools.dropwhile(lambda t: t.surface != "?howto", terms), 1, 2), None)
        self.procedure = (frozenset(k for k, _ in verb.keys) if verb is not None and not verb.name
                          and not verb.surface.startswith("?") else frozenset())
        self.aspect: str | None = None  # "modal" or "past" (`text.aspect`)
        self.form: str | None = None  # "wh" or "yn" (`text.question_form`)
        self.besides = False  # asks for others than the ones it names ("where else", "aparte de Burgos")
        # Languages it names as the language of a name or text ("in English"): not what it is about.
        self.languages: frozenset[str] = frozenset()
        self.numbers: frozenset[str] = frozenset()  # the numbers it writes whole (`_NUMBER_RE`)
        # What it asks, as `INTERROGATIVES` compares it: its interrogatives, the facts its words ask ("the
        # budget", "the date") and "which" of a body with a name ("who").
        self.interrogatives = frozenset(
            INTERROGATIVES[i] for i in (*self.surfaces, *self.intents, *(a for a, _, _ in self.asked))
            if i in INTERROGATIVES)
        # Concepts asked about fully (not a typo's guess) whose contrary an entry may be about instead.
        self.contrasts = frozenset(k for k, c in self.credit.items()
                                   if c >= 1.0 and k in _CONTRARY and _CONTRARY[k] not in self.credit)


class KnowledgeIndex:
    """Built once per load of the knowledge base; `search` is read-only and safe to share."""

    def __init__(self) -> None:
        self.calibration = CALIBRATION
        self._docs: list[_Doc] = []
        self._postings: dict[str, dict[int, float]] = {}  # key -> {entry: BM25F contribution}
        self._champions: dict[str, list[tuple[int, float]]] = {}  # long postings' best RESTRICT_AFTER
        self._idf: dict[str, float] = {}
        self._df: dict[str, int] = {}
        self._topics: frozenset[str] = frozenset()  # keys some entry's questions, title or tags have
        self._unknown_idf = 0.0
        self._surfaces: dict[str, tuple[str, ...]] = {}  # known word -> its keys
        # Per language, the keys and the words the entries' texts in it write (tags have no language).
        self._written: dict[str, frozenset[str]] = {}
        self._written_words: dict[str, frozenset[str]] = {}
        self._known: frozenset[str] = frozenset()  # words of the entries and of the lexicon
        self._ordered: tuple[str, ...] = ()  # `_known` in order, to find the words a clipping begins
        self._sounds: dict[str, str] = {}  # phonetic form -> the most used known word with it
        self._rank: dict[str, int] = {}  # phonetic form -> its place in that order (ties between corrections)
        self._deletes: dict[str, list[str]] = {}  # phonetic form minus one letter -> phonetic forms
        self._by_shape: dict[tuple[str, int], list[str]] = {}  # (first letter, length) -> phonetic forms
        self._names: frozenset[str] = frozenset()  # folded words the entries write capitalised
        self._ordered_names: tuple[str, ...] = ()  # `_names` in order, to find the names a clipping begins
        self._name_keys: frozenset[str] = frozenset()
        # A name's key -> the keys of that name in either language ("cantabri", "cantabria"): the name is
        # said when any of them is.
        self._name_groups: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._docs)

    @classmethod
    def build(cls, entries: Iterable[Entry], calibration: Calibration | None = None) -> KnowledgeIndex:
        index = cls()
        index.calibration = calibration or CALIBRATION
        index._build(list(entries))
        return index

    # -- building -----------------------------------------------------------------------------------

    def _build(self, entries: list[Entry]) -> None:
        fields_per_doc: list[dict[str, Counter[str]]] = []
        variant_tokens: list[list[list[Token]]] = []
        variant_aspects: list[list[tuple[str | None, str | None]]] = []
        variant_texts: list[list[str]] = []
        surfaces: dict[str, set[str]] = defaultdict(set)
        written: dict[str, set[str]] = defaultdict(set)  # language -> the keys its texts write
        written_words: dict[str, set[str]] = defaultdict(set)  # language -> the words its texts write
        for entry in entries:
            fields: dict[str, Counter[str]] = {name: Counter() for name in FIELD_WEIGHTS}
            variants: list[list[Token]] = []
            aspects: list[tuple[str | None, str | None]] = []  # per variant: `text.aspect`, `text.question_form`
            for lang, texts in entry.questions.items():
                for text in texts:
                    variants.append(analyse(text, lang))
                    aspects.append((aspect(text), question_form(text)))
                    written[lang].update(t.keys[0] for t in variants[-1])
                    written_words[lang].update(t.surface for t in variants[-1])
            questions_end = len(variants)
            for lang, text in entry.title.items():
                variants.append(analyse(text, lang))
                aspects.append((aspect(text), question_form(text)))
                written[lang].update(t.keys[0] for t in variants[-1])
                written_words[lang].update(t.surface for t in variants[-1])
            for i, tokens in enumerate(variants):
                fields["questions" if i < questions_end else "title"].update(t.keys[0] for t in tokens)
                for t in tokens:
                    if not t.intent:
                        surfaces[t.surface].add(t.keys[0])
            for tag in entry.tags:
                fields["tags"].update(k for t in analyse(tag, intents=False) for k in t.keys)
            for lang, text in entry.answers.items():
                pairs = content_keys(text, lang)
                fields["answer"].update(k for _, k in pairs)
                for surface, k in pairs:
                    surfaces[surface].add(k)
                written[lang].update(k for _, k in pairs)
                written_words[lang].update(s for s, _ in pairs)
            fields_per_doc.append(fields)
            variant_tokens.append(variants)
            variant_texts.append([*(q for qs in entry.questions.values() for q in qs), *entry.title.values()])
            variant_aspects.append(aspects)

        n = len(entries)
        df: Counter[str] = Counter()
        for fields in fields_per_doc:
            df.update(set().union(*fields.values()))
        self._df = dict(df)
        self._idf = {k: math.log(1 + (n - d + 0.5) / (d + 0.5)) for k, d in df.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0

        avg_len = {name: max(1.0, sum(f[name].total() for f in fields_per_doc) / max(1, n))
                   for name in FIELD_WEIGHTS}
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        idf = self._idf
        for doc_id, fields in enumerate(fields_per_doc):
            tf: dict[str, float] = defaultdict(float)
            for name, counts in fields.items():
                scale = FIELD_WEIGHTS[name] / (1 - B + B * counts.total() / avg_len[name])
                for k, count in counts.items():
                    tf[k] += count * scale
            for k, weight in tf.items():
                postings[k][doc_id] = idf[k] * weight * (K1 + 1) / (weight + K1)
            strong = frozenset().union(fields["questions"], fields["title"], fields["tags"])
            weak = frozenset(fields["answer"]) - strong
            self._docs.append(_Doc(entries[doc_id], strong, weak,
                                   [self._variant(tokens, a, text) for tokens, a, text
                                    in zip(variant_tokens[doc_id], variant_aspects[doc_id], variant_texts[doc_id],
                                           strict=True)
                                    if tokens],
                                   answer_facts(entries[doc_id].answers.values())
                                   | {t.surface for ts in variant_tokens[doc_id] for t in ts
                                      if t.surface in ASKED_INTENTS}
                                   # An entry about the hours may give them in words ("mornings").
                                   | ({"?hour"} if not HOUR_CONCEPTS.isdisjoint(strong) else set()),
                                   figures=_quantified(entries[doc_id], variant_tokens[doc_id])))
        strong_df = Counter(k for doc in self._docs for k in doc.strong)
        self._topics = frozenset(k for k, n in strong_df.items() if n >= TOPIC_MIN_ENTRIES)
        self._postings = dict(postings)
        self._champions = {k: heapq.nlargest(RESTRICT_AFTER, p.items(), key=lambda item: item[1])
                           for k, p in self._postings.items() if len(p) > RESTRICT_AFTER}
        self._surfaces = {s: tuple(sorted(keys)) for s, keys in surfaces.items()}
        self._written = {lang: frozenset(written[lang]) for lang in LANGUAGES}
        self._written_words = {lang: frozenset(written_words[lang]) for lang in LANGUAGES}
        self._names = proper_names(text for e in entries for text in (*e.title.values(), *e.answers.values()))
        self._name_keys = self._keys_of_names(entries)
        self._ordered_names = tuple(sorted(self._names))
        groups: dict[str, set[str]] = defaultdict(set)
        for name in self._names:
            keys = self._name_keys.intersection(self._surfaces.get(name, ()))
            for k in keys:
                groups[k] |= keys
        self._name_groups = {k: frozenset(g) for k, g in groups.items()}
        for doc, doc_variants, doc_texts in zip(self._docs, variant_tokens, variant_texts, strict=True):
            doc.sentences, doc.asks = _attributes(doc.entry, doc_variants, doc_texts, self._names)
            doc.title_names = frozenset(t.keys[0] for lang, text in doc.entry.title.items()
                                        for t in analyse(text, lang) if t.keys[0] in self._name_keys)
            doc.name_tag_keys = frozenset(k for tag in doc.entry.tags if tag.lower() in NAME_ENTRY_TAGS
                                          for t in analyse(tag, intents=False) for k in t.keys)
            texts = (*doc.entry.title.values(), *doc.entry.answers.values(), *doc.entry.tags,
                     *(q for qs in doc.entry.questions.values() for q in qs))
            doc.numbers = frozenset(n for whole in _numbers(" ".join(texts))
                                    for n in (whole, _number_parts(whole)[0]))
        self._build_speller(entries)

    def _keys_of_names(self, entries: list[Entry]) -> frozenset[str]:
        """The keys of the names (`_names`) that the entries' prose mostly uses as names: not the key a
        name shares with a common word ("Estudios Superiores" and "visitas de estudio", "Fondo" in a
        fund's name and "fondos"), which would make every entry with the common word about a name."""
        uses: Counter[str] = Counter()
        named: Counter[str] = Counter()
        for entry in entries:
            for lang in entry.answers:
                for text in (entry.title.get(lang, ""), entry.answers[lang]):
                    for surface, k in content_keys(text, lang):
                        uses[k] += 1
                        named[k] += surface in self._names
        return frozenset(k for name in self._names for k in self._surfaces.get(name, ())
                         if named[k] >= NAME_KEY_SHARE * uses[k])

    def _build_speller(self, entries: list[Entry]) -> None:
        """The vocabulary misspelt words are corrected against: every word of the entries (names of
        places, events and organisations included) and of the lexicon, by sound and by deletions."""
        uses: Counter[str] = Counter()
        for entry in entries:
            texts = (*entry.title.values(), *entry.answers.values(), *entry.tags,
                     *(q for qs in entry.questions.values() for q in qs))
            uses.update({w for text in texts for w in words(text)})
        lexicon = lexicon_vocabulary()
        self._known = frozenset(self._surfaces) | lexicon
        self._ordered = tuple(sorted(self._known))
        sounds: dict[str, str] = {}
        # Most used first, so that of two words sounding alike the common one is the correction; the
        # lexicon's function words before all ("ke" is "que").
        for word in sorted(self._known, key=lambda w: (w not in lexicon, -uses[w], w)):
            if not word.isdigit():
                sounds.setdefault(phonetic(word), word)
        self._sounds = sounds
        self._rank = {form: i for i, form in enumerate(sounds)}
        deletes: dict[str, list[str]] = defaultdict(list)
        by_shape: dict[tuple[str, int], list[str]] = defaultdict(list)
        for form in sounds:
            if len(form) >= TYPO_MIN_LEN - 1:
                for d in _deletes(form):
                    deletes[d].append(form)
                by_shape[(form[0], len(form))].append(form)
        self._deletes = dict(deletes)
        self._by_shape = dict(by_shape)

    def _variant(self, tokens: list[Token],
                 shape: tuple[str | None, str | None] = (None, None), text: str = "") -> _Variant:
        """A question variant or title; its words have one key each (their language is known)."""
        weights: dict[str, float] = {}
        for t in tokens:
            weights[t.keys[0]] = self._idf.get(t.keys[0], 0.0) * (INTENT_WEIGHT if t.intent else 1.0)
        # A variant naming an amount asks it ("Presupuesto de Colmena"), as a question naming one does.
        asks = {t.surface for t in tokens if t.intent}
        if any(not QUANTITY_CONCEPTS.isdisjoint(t.keys) for t in tokens):
            asks.add("?qty")
        # What it asks, as `INTERROGATIVES` compares it: a date word asks "when" ("What year was X funded?"),
        # and "which" of a body with a name "who" ("Which association funded X?", as `_asked` reads it).
        interrogatives = {INTERROGATIVES[a] for a in asks if a in INTERROGATIVES}
        if any(not TIME_CONCEPTS.isdisjoint(t.keys) for t in tokens):
            interrogatives.add("?when")
        if _asks_named_body(tokens, text):
            interrogatives.add("?who")
        folded = " ".join(t.surface for t in tokens if not t.intent)
        return _Variant(folded, tuple(weights.items()), frozenset(weights), sum(weights.values()) or 1.0, *shape,
                        frozenset(asks), frozenset(interrogatives))

    # -- searching ----------------------------------------------------------------------------------

    def search(self, question: str, lang: str = "es") -> SearchResult:
        """The entry answering `question`, a few to suggest, or none. `lang` is the language the answer
        will be given in; the question may be written in any language the knowledge base has. Never
        raises on user input: empty, huge, emoji-only or markup text simply finds nothing."""
        ranked, signals = self.assess(question)
        return decide(ranked, signals, self.calibration)

    def rank(self, question: str, limit: int = MAX_SUGGESTIONS + 1) -> list[tuple[Entry, float]]:
        """The best entries for `question` with their closeness, best first (for tools and tuning)."""
        return self.assess(question, limit)[0]

    def assess(self, question: str, limit: int = MAX_SUGGESTIONS + 1) -> tuple[list[tuple[Entry, float]], Signals]:
        """The best entries with their closeness, and what the decision is made from (`Signals`)."""
        if not isinstance(question, str) or not self._docs:
            return [], NO_SIGNALS
        terms = self._terms(question)
        if not any(not t.surface.startswith("?") and any(c > CROSS_LANGUAGE_CREDIT for _, c in t.keys)
                   for t in terms):
            return [], NO_SIGNALS  # only interrogatives, unknown words or weak guesses: nothing to go on
        query = _Query(terms)
        cleaned = clean_query(question)
        query.aspect = aspect(cleaned)
        query.form = question_form(cleaned)
        said = words(cleaned)
        query.besides = not BESIDES_WORDS.isdisjoint(said)
        # Not a digit chat writes for a word ("2 the", "4 free": `text.chat_digits`).
        query.numbers = frozenset(n for n in _numbers(cleaned)
                                  if all(p in query.surfaces for p in _number_parts(n)))
        query.languages = _named_languages(said)
        if "?when" in query.intents and not EXACT_WORDS.isdisjoint(said):
            query.intents |= {"?day"}  # "the exact date": a day, not a year
        if any({a, b} & EXACT_WORDS and {a, b} & DAY_WORDS for a, b in itertools.pairwise(said)):
            query.intents |= {"?when", "?day", EXACT_DAY}
        if any(a in KIND_ASKERS and b in MONTH_ASKED for a, b in itertools.pairwise(said)):
            query.intents |= {"?when", "?day"}  # "in which month": not a year (the one of a name in passing)
        if query.form == "yn" and "?qty" in query.intents and all(t.surface != "?qty" for t in terms):
            # "Are annual fees one of its resources?": an amount named in a yes / no question is what is
            # asked about, not a figure asked for (nor is "how much" asked: it would be an interrogative).
            query.intents -= {"?qty"}
            query.counted = ()
        if query.aspect == "past" and query.form == "wh":  # "what did the survey find": its findings
            # Or the verb's own words, as an attribute word's are ("find" is "~find": "what did X set out to find").
            query.attributes += tuple(_ATTRIBUTE_KEYS["findings"] | frozenset(t.lexical)
                                      for t in terms if t.surface in FINDING_VERBS)
        best = self._closest(query, limit)
        ranked = [(self._docs[d].entry, c) for c, _, d in best]
        signals = self._signals(query, best)
        unknown = {t.surface for t in terms if not t.keys and not t.surface.startswith("?")}
        capitals = capitalised_words(cleaned)
        if any(not self._clipped_name(w) for w in (unknown & capitals) - query.languages):
            # A name nobody in the knowledge base writes ("¿Qué hace Ashoka en Brasil?"): the question is
            # about something the entries are not, however much else it shares with one.
            signals = signals._replace(lacks_fact=True)
        elif any(before in CHOICE_ASKERS and after in unknown and not self._clipping(after)
                 and not any(n.startswith(after) for n in capitals)  # "French-speaking"
                 for before, after in itertools.pairwise(said)):
            # "Which hotel...", "which speakers...": the kind of thing to pick is a word no entry uses, so
            # no entry names one, whatever else the question shares with it (as `_asked` reads "who is the
            # rector of X"). Not a capitalised word ("which French-speaking region"): it qualifies the kind.
            signals = signals._replace(lacks_fact=True)
        return ranked, signals

    def _closest(self, query: _Query, limit: int) -> list[tuple[float, float, int]]:
        """(closeness, BM25F, doc) of the `limit` closest entries, closest first."""
        bounded = []
        for d, bm25 in self._candidates(query.terms):
            coverage, strong, missing_topic, missing_name = self._coverage(self._docs[d], query)
            # A variant's words are among the entry's strong keys, so its recall is at most `strong`.
            ceiling = OVERLAP_SHARE * _f_beta(1.0, strong) + (1 - OVERLAP_SHARE)
            # The penalty does not depend on the variant: bounding with it spares rapidfuzz calls.
            penalty = self._penalty(self._docs[d], query, missing_topic, missing_name)
            bounded.append(((COVERAGE_SHARE * coverage + (1 - COVERAGE_SHARE) * ceiling) * penalty,
                            coverage, penalty, bm25, d))
        bounded.sort(reverse=True)
        # Min-heap of the `limit` best (confidence, BM25F, doc). Equal confidences (a one-word question
        # matching several one-word variants) go to the entry most about the question's words.
        best: list[tuple[float, float, int]] = []
        for bound, coverage, penalty, bm25, d in bounded:
            if len(best) >= limit and bound < best[0][0]:
                break  # even its nearest variant at best could not lift it (or any after it) into the top
            confidence = penalty * (COVERAGE_SHARE * coverage + (1 - COVERAGE_SHARE) * self._nearest_variant(
                self._docs[d], query))
            item = (round(confidence, 6), bm25, -d)
            if len(best) < limit:
                heapq.heappush(best, item)
            elif item > best[0]:
                heapq.heapreplace(best, item)
        return [(c, bm25, -d) for c, bm25, d in sorted(best, reverse=True)]

    def _signals(self, query: _Query, best: list[tuple[float, float, int]]) -> Signals:
        """What tells a right best entry from a wrong one, beyond its closeness: its lead over the next,
        how much of the question nobody in the knowledge base speaks of, and how much of what the
        knowledge base speaks of this entry leaves out (the fact asked for may be in no entry)."""
        if not best:
            return NO_SIGNALS
        top, doc = best[0][0], self._docs[best[0][2]]
        second = best[1][0] if len(best) > 1 else 0.0
        unknown = unmatched = matched = 0.0
        words = 0
        for term in query.terms:
            if term.surface.startswith("?"):
                continue
            words += 1
            if not term.keys:
                unknown += term.weight
            else:  # a word the entry has only as a guess (a typo, the other language) is partly missing
                found = max((c for k, c in term.keys if k in doc.strong or k in doc.weak), default=0.0)
                unmatched += term.weight * (1.0 - found)
                matched += term.weight * found
        lacks_fact = (any(_lacks_intent(doc, query, intent) for intent in query.intents)
                      or any(_lacks_attribute(doc, keys) for keys in query.attributes)
                      or any(not _figure_of(doc, query, keys) for keys in query.counted)
                      or ("?qty" in query.intents and not _counts_besides(doc, query))
                      or any(not _states(doc, query, *asked) for asked in query.asked)
                      or self._names_conflict(doc, query)
                      # A number the entry never states: another year's edition, another target.
                      or any(term.surface.isdigit() and not any(k in doc.strong or k in doc.weak
                                                                for k in (*(k for k, _ in term.keys),
                                                                          *_digit_keys(term.surface)))
                             for term in query.terms)
                      # A number it writes only inside another ("the SDG 4" in the entry on target 10.4).
                      or any(n not in doc.numbers and not any(k in doc.strong or k in doc.weak for k in _digit_keys(n))
                             for n in query.numbers))
        unit = self._unknown_idf ** IDF_POWER  # the weight of the rarest word: amounts in any base's scale
        return Signals(top, top - second, unknown / query.total, unmatched / query.total, lacks_fact,
                       matched / unit, math.log1p(words))

    def _terms(self, question: str) -> list[_Term]:
        terms: list[_Term] = []
        seen: set[str] = set()
        seen_keys: set[tuple[str, ...]] = set()
        text = clean_query(question)
        fixed: list[str] = []
        credits: list[float] = []
        named = capitalised_words(text)
        chat = expand_chat(query_words(text, self._knows))
        if len(chat) > 2 and chat[1] == CLAUSE_BREAK and not self._knows(chat[0]) and chat[0] not in COMMON_WORDS:
            # A word set apart before the question, that neither the knowledge base nor either language's
            # common words know ("pana, ¿en qué regiones...?", "che, ..."): the person addressed or an
            # interjection, not what is asked about.
            chat = chat[2:]
        for word in chat_digits(chat, guess_language(text, chat))[: MAX_QUERY_TOKENS * 3]:
            correction, credit = self._correct(word)
            as_name = self._correct_name(word) if word in named else None
            if as_name is not None and (correction == word or as_name[1] > credit):
                correction, credit = as_name
            fixed.append(correction)
            credits.append(credit)
        kept = _uncited(fixed)  # once corrected: "acording to the text"
        # "How many were there in total": "in total" says the count is of all of them, not a subject of its
        # own (the entries about a total budget), so it steers like an interrogative (`_Term.weight`).
        altogether = {fixed[i] for i in kept if i and (fixed[i - 1], fixed[i]) in ALTOGETHER}
        fixed, credits = [fixed[i] for i in kept], [credits[i] for i in kept]
        kinds = {after for before, after in itertools.pairwise(fixed) if before in KIND_ASKERS}
        attached = {after for before, after in itertools.pairwise(fixed)
                    if before != CLAUSE_BREAK and (before in INTENT_WORDS or before not in STOPWORDS)}
        values = {w: VALUE_OF_WORDS[w] for w, after in itertools.pairwise(fixed)
                  if w in VALUE_OF_WORDS and after in VALUE_OF}
        lang = guess_language(text, fixed)
        quoted = quoted_words(text)
        # The language a name is asked in ("¿cómo se llama en castellano?") says how to answer, not what
        # about: where no entry uses its word, it is no unknown word counting against every entry.
        languages = _named_languages(fixed)
        common = lowercase_words(text)
        # Two name words side by side are a name written in lower case ("changemaker day").
        common = common.difference(*({a, b} for a, b in itertools.pairwise(words(text))
                                     if {a, b} <= common and {a, b} <= self._names))
        for token in analyse_words(fixed, credits=credits):
            if token.surface in seen:
                continue
            seen.add(token.surface)
            keys = self._keys_in(token, lang, token.surface in quoted)
            keys += self._cognate_keys(token, lang, keys)
            if not keys and token.surface in languages:
                continue
            if token.surface in DIGIT_WORDS:  # "2 seminarios" is "dos seminarios", "3 visits" "three visits"
                keys += tuple((k, 1.0) for k in dict.fromkeys(_digit_keys(token.surface))
                              if k in self._idf and all(k != known for known, _ in keys))
            # Synonyms in one question ("fondo ... financió", "programa ... iniciativa") count once, like
            # a repeated word: compared on the keys the index knows, the others never match anything.
            known = tuple(k for k, _ in keys) or token.keys
            if known in seen_keys:
                continue
            seen_keys.add(known)
            if keys:
                weight = min(self._idf[k] for k, _ in keys) ** IDF_POWER
            else:
                weight = self._unknown_idf ** IDF_POWER
            absence = 0.0
            if token.intent or token.surface in altogether:
                weight *= INTENT_WEIGHT
            elif keys:
                # A word nearly every entry has ("lideres") tells little where it is, much where it is
                # missing: the few entries without it are about something else.
                present = max(self._df[k] for k, _ in keys)
                absence = ABSENCE_WEIGHT * math.log((len(self._docs) + 1) / (len(self._docs) - present + 1))
            topic = any(k in self._topics for k, _ in keys) and not token.intent and token.surface not in altogether
            everywhere = bool(keys) and max(self._df[k] for k, _ in keys) >= EVERYWHERE_SHARE * len(self._docs)
            # A word the entries write capitalised is a name only where they mostly use it as one: not
            # "chamber" ("the Bolivian chamber") for "Chamber of Industry", nor "report" for a report's title.
            # Nor a word the question writes in lower case where it capitalises names ("the Bolivian chamber").
            name = (token.surface in self._names and token.surface not in common
                    and any(k in self._name_keys for k, _ in keys))
            clipped = not keys and not token.intent and self._clipping(token.surface)
            terms.append(_Term(token.surface, keys, weight, absence, name, topic,
                               token.keys, everywhere, clipped, values.get(token.surface), token.surface in kinds,
                               token.surface in attached))
            if len(terms) >= MAX_QUERY_TOKENS:
                break
        return terms

    def _keys_in(self, token: Token, lang: str | None, quoted: bool = False) -> tuple[tuple[str, float], ...]:
        """The keys of a question word the index knows. In a question whose language is known, the word is
        read in that language: its own key if the index has it; else the other language's key only at
        `CROSS_LANGUAGE_CREDIT`, unless that key is a concept of the lexicon (a real word of the other
        language, "presupuesto" in "what is the presupuesto") or the word itself is written in the entries
        (a name, "fundacion"). Otherwise the English "media" would be the Spanish "medio".
        A word that only the other language's texts write is read as they write it, in full: the user
        copied it from them ("who were the 'socios' of X", "los stakeholders"), and its own-language key, if
        the index has one at all, comes from a tag that has no language ("beneficiario" read as English).
        A word in quotes (`quoted`, a term the question copies from the texts: "what did the 'Economía
        Social' network do") is read in each language whose texts write it, since the entries answering in
        the question's language may write it only in the other's key ("Economía" is "~economy" in Spanish
        prose, "economia" where English prose keeps the Spanish name)."""
        credit = token.credit
        keys = tuple((k, credit) for k in token.keys if k in self._idf)
        if not lang or token.intent or not keys or credit < 1.0:
            return keys  # a corrected word is whichever known word it sounds like, in either language
        own = key(token.surface, lang)
        other = "en" if lang == "es" else "es"
        theirs = key(token.surface, other)
        if (token.surface in self._written_words[other] and token.surface not in self._written_words[lang]
                and own not in self._written[lang]):
            return ((theirs, credit),)
        if own in self._idf:
            if quoted and theirs != own and token.surface in self._written_words[other]:
                return ((own, credit), (theirs, credit))
            return ((own, credit),)
        if token.surface in self._surfaces:
            return keys
        # Only a word of the other language is that language's concept: "vist" in an English question is
        # a slip for "visit", not the Spanish "vista" it shares a stem with.
        full = 1.0 if self._a_word(token.surface) else CROSS_LANGUAGE_CREDIT
        return tuple((k, credit * (full if k.startswith("~") else CROSS_LANGUAGE_CREDIT)) for k, _ in keys)

    def _cognate_keys(self, token: Token, lang: str | None,
                      keys: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
        """Keys of the question language's cognate of a word written in the other language ("the
        asociación" is "the association", "las communities" "las comunidades"), found by the regular
        endings the two languages share (`COGNATE_ENDINGS`) and spelt as the entries spell it (`_correct`).
        An entry answering in the question's language says the cognate, not the word the user borrowed,
        so without it a borrowed word counts as missing from the very entry that answers. Credited
        `COGNATE_CREDIT` of the spelling's own credit: an ending may match by chance."""
        if not lang or token.intent or token.credit < 1.0:
            return ()
        other = "en" if lang == "es" else "es"
        for source, target in COGNATE_ENDINGS[other]:
            if not token.surface.endswith(source) or len(token.surface) - len(source) < 3:
                continue
            cognate = token.surface[:-len(source)] + target
            word, credit = self._correct(cognate)
            own = key(word, lang)
            if own in self._idf and all(own != k for k, _ in keys):
                return ((own, credit * COGNATE_CREDIT),)
        return ()

    def _a_word(self, word: str) -> bool:
        """`word`, or it less a plural ending, is a word of the lexicon, the entries or either language's
        common words: not only a stem some word of them has."""
        return any(w in self._known or w in COMMON_WORDS
                   for w in (word, word[:-1] if word.endswith("s") else word, word[:-2] if word.endswith("es")
                             else word))

    def _clipping(self, word: str) -> bool:
        """`word` (less a plural "s") begins a longer word of the entries or the lexicon: "pros" may be
        "professionals"; "calories" begins none."""
        stem = word[:-1] if word.endswith("s") and len(word) > 3 else word
        return _begins_longer(self._ordered, stem, word)

    def _clipped_name(self, word: str) -> bool:
        """`word` begins a longer name the entries write capitalised: "Leo" cut short of "León" is that name,
        not one nobody in the knowledge base writes. (Only names: "Ana" begins "análisis", no name.)"""
        return _begins_longer(self._ordered_names, word, word)

    def _knows(self, word: str) -> bool:
        """A word of the entries or the lexicon, or another form of one (its stem is a key)."""
        return word in self._known or any(k in self._idf for k in keys_any(word))

    def _correct(self, word: str) -> tuple[str, float]:
        """`word`, or the known word it misspells with the credit the guess deserves (`SOUND_CREDIT`,
        `TYPO_COST`). A word nothing is near stays as it is: unknown, it counts against every entry."""
        if word.isdigit() or not TYPO_MIN_LEN <= len(word) <= TYPO_MAX_LEN or self._knows(word):
            return word, 1.0
        form = phonetic(word)
        if form in self._sounds:
            return self._sounds[form], SOUND_CREDIT
        correction, credit = self._misspelt(word, form)
        if correction != word and word in COMMON_WORDS and not _another_ending(word, correction):
            return correction, credit * COMMON_WORD_CREDIT
        return correction, credit

    def _misspelt(self, word: str, form: str) -> tuple[str, float]:
        """The known word `word` (`form` as it sounds) is one or two slips of writing from, with its credit,
        or `word` itself."""
        if len(form) < TYPO_MIN_LEN:
            # Too short a sound to guess a content word from, but chat leaves a vowel out of an
            # interrogative or a function word ("whn" for "when"): as that word it steers the question or
            # drops from it, where left unknown it would count against every entry as the heaviest word.
            dropped = [known for known in self._deletes.get(form, ())
                       if _vowel_dropped(form, known) and self._sounds[known] in FUNCTION_WORDS
                       and self._sounds[known][0] == word[0]]
            if dropped:
                return self._sounds[min(dropped, key=self._rank.__getitem__)], SOUND_CREDIT
            return word, 1.0
        max_edits = 2 if len(word) >= TYPO2_MIN_LEN else 1
        best: tuple[int, str] | None = None
        for d in _deletes(form):
            for known in self._deletes.get(d, ()):
                edits = OSA.distance(form, known, score_cutoff=max_edits)
                if edits <= max_edits and self._plausible(word, form, known) and (
                        best is None or (edits, self._rank[known]) < (best[0], self._rank[best[1]])):
                    best = (edits, known)
        if best is None and max_edits > 1:
            best = self._far_correction(form)
        if best is None:
            # Two letters swapped can change how a word sounds ("Mexcio": "meksio" against "mexiko"), so
            # the sound-alike forms miss it: a swap that sounds like a known word is one edit.
            swapped = (word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1))
            sound = next((phonetic(w) for w in swapped if phonetic(w) in self._sounds), None)
            if sound is not None and len(word) >= TYPO1_MIN_LEN and _written_near(word, self._sounds[sound]):
                return self._sounds[sound], max(0.0, 1.0 - TYPO_COST / len(word))
            return word, 1.0
        edits, known = best
        correction = self._sounds[known]
        if not _written_near(word, correction, edits):
            # Two slips in one word are rarer than a word the entries never use ("parecido" is not "precio"),
            # and so is a word one sound off but three letters off in writing ("hecho" is not "CEO").
            return word, 1.0
        return correction, max(0.0, 1.0 - TYPO_COST * edits / len(word))

    def _correct_name(self, word: str) -> tuple[str, float] | None:
        """A word the question writes capitalised in mid-sentence, as a name, that no entry uses: the one
        name of the entries it writes with every letter but in another order, or with "i" for "y"
        (`_name_slip`), even where it is short or sounds like a common word ("GESF" for "GSEF", "Changemaker
        Dai" rather than "día"). People misremember the order of a name's letters more than a common
        word's; with every letter there, it is as sure a guess as a sound-alike (`SOUND_CREDIT`). So is a
        name written with its consonants only ("Lb" for "Lab", `_skeleton_of`), as chat shortens a word. Any
        other letter left out or added is not guessed here: too many short names are one letter from another
        word."""
        if self._knows(word) or word in STOPWORDS:
            return None
        found = [name for name in self._names if _name_slip(word, name) or _skeleton_of(word, name)]
        if len(found) != 1:
            return None  # two names as near: nothing tells which one was meant
        return found[0], SOUND_CREDIT

    def _plausible(self, word: str, form: str, known: str) -> bool:
        """A short word leaves too little to guess from, and a content word one letter from a function
        word ("time" / "tiene") is more likely a word the entries never use than a typo: then only two
        swapped letters ("teh") or a vowel left out, as chat writing does ("totl", "pra"), are a typo.
        Otherwise the first sound must be right: people rarely mistype it, and a word that starts
        otherwise is another word ("whole" is not "role")."""
        if sorted(form) == sorted(known) or _vowel_dropped(form, known):
            return True
        return (len(word) >= TYPO1_MIN_LEN and form[0] == known[0]
                and self._sounds[known] not in FUNCTION_WORDS)

    def _far_correction(self, form: str) -> tuple[int, str] | None:
        """Two edits the deletion neighbourhood misses ("iniative" for "initiative"): a bounded scan of
        the known forms with the same first letter and nearly the same length."""
        best: tuple[int, str] | None = None
        for length in range(len(form) - 2, len(form) + 3):
            choices = self._by_shape.get((form[0], length))
            if not choices:
                continue
            found = process.extractOne(form, choices, scorer=OSA.distance, score_cutoff=2)
            if found is not None and self._sounds[found[0]] not in FUNCTION_WORDS and (
                    best is None or (found[1], self._rank[found[0]]) < (best[0], self._rank[best[1]])):
                best = (int(found[1]), found[0])
        return best

    def _candidates(self, terms: Sequence[_Term]) -> list[tuple[int, float]]:
        """The entries with the best BM25F scores, at a cost bounded by the words of the question.
        Rarest words first. A word found in many entries only adds to the entries gathered so far, or
        if there are none yet, brings its best-scoring few (its "champions"): a common word selects
        nothing by itself, and walking its whole posting list would cost as much as a full scan.
        Interrogatives only ever add to gathered entries."""
        totals: dict[int, float] = {}
        ordered = sorted((t for t in terms if t.keys),
                         key=lambda t: (t.surface.startswith("?"),
                                        min(len(self._postings.get(k, ())) for k, _ in t.keys)))
        for term in ordered:
            if term.surface.startswith("?") and not totals:
                break
            best: dict[int, float] = {}
            for k, credit in term.keys:
                postings = self._postings.get(k)
                if not postings:
                    continue
                if len(postings) <= RESTRICT_AFTER:
                    pairs: Iterable[tuple[int, float]] = postings.items()
                elif totals:
                    pairs = ((d, postings[d]) for d in totals if d in postings)
                else:
                    pairs = self._champions[k]
                for doc_id, contrib in pairs:
                    value = contrib * credit
                    if value > best.get(doc_id, 0.0):
                        best[doc_id] = value
            for doc_id, value in best.items():
                totals[doc_id] = totals.get(doc_id, 0.0) + value
        return heapq.nlargest(CANDIDATES, totals.items(), key=lambda item: item[1])

    def _coverage(self, doc: _Doc, query: _Query) -> tuple[float, float, float, bool]:
        """Share of the question (by word weight) found in the entry: in its questions, title or tags
        fully, in its answer text partly. Unknown words count against every entry. Also the share
        found in questions, title and tags alone (a bound for `_nearest_variant`), the weight of the
        question's topic words (`_Term.topic`) found nowhere in the entry, and whether a name is."""
        covered = strong_covered = missing = missing_topic = 0.0
        missing_name = False
        for term in query.terms:
            credit = strong = 0.0
            for k, c in term.keys:
                if k in doc.strong:
                    strong = max(strong, c)
                elif k in doc.weak:
                    credit = max(credit, c * ANSWER_CREDIT)
            covered += term.weight * max(credit, strong)
            strong_covered += term.weight * strong
            if not credit and not strong:
                missing += term.absence
                if term.topic:
                    missing_topic += term.weight
                missing_name = missing_name or term.name
        total = query.total + missing
        return covered / total, strong_covered / total, missing_topic, missing_name

    def _penalty(self, doc: _Doc, query: _Query, missing_topic: float, missing_name: bool) -> float:
        """What is left of an entry's confidence once it is checked against what the question asks:
        a fact its answer lacks, a subject of other entries it never mentions (`missing_topic`, their
        weight), a name it is not about (when `missing_name`, the question has a name it lacks), the
        contrary of a concept asked about (`lexicon.CONTRASTS`: the opening seminar for the closing one),
        and none of its questions asking the "who", "why" or "how many" asked (`UNASKED_ATTRIBUTES`)."""
        factor = 1.0
        for intent in query.intents:
            if _lacks_intent(doc, query, intent):
                factor *= INTENT_MISMATCH
        for keys in query.attributes:
            if _lacks_attribute(doc, keys):
                factor *= INTENT_MISMATCH
        if missing_topic:
            factor *= max(0.0, 1.0 - MISSING_TOPIC * missing_topic / query.total)
        if missing_name and self._names_conflict(doc, query):
            factor *= NAME_CONFLICT
        for k in query.contrasts:
            if k not in doc.strong and _CONTRARY[k] in doc.strong:
                factor *= CONTRAST_CONFLICT
        for t in query.terms:
            if t.surface in UNASKED_ATTRIBUTES and not any(t.surface in v.asks for v in doc.variants):
                factor *= UNASKED_ATTRIBUTE
        if doc.name_tag_keys and self._asks_beside_name(doc, query):
            factor *= NAME_ENTRY_ASIDE
        return factor

    @staticmethod
    def _asks_beside_name(doc: _Doc, query: _Query) -> bool:
        """The question asks something of a name other than what the name is: it does not ask for the name
        ("full name", "siglas", "what is it called") and has a content word the entry spelling the name out
        never mentions, other than a language it asks the name in ("in English")."""
        if any(t.surface in NAME_ASKING_WORDS or any(k in doc.name_tag_keys for k, _ in t.keys)
               for t in query.terms):
            return False
        return any(t.keys and not t.name and not t.surface.startswith("?") and t.surface not in query.languages
                   and not any(k in doc.strong or k in doc.weak for k, _ in t.keys)
                   for t in query.terms)

    def _names_conflict(self, doc: _Doc, query: _Query) -> bool:
        """The question names something the entry never mentions, and the entry is about a name the
        question does not use: "¿Qué servicios ofrece CAINCO?" against Cooperactivas' services."""
        # A language the question asks in ("what is X in English") is no name the entry must mention.
        missing = [term for term in query.terms
                   if term.name and term.surface not in query.languages
                   and not any(k in doc.strong or k in doc.weak for k, _ in term.keys)]
        if any(not term.everywhere for term in missing):
            return any(self._unsaid(k, query) for k in doc.strong & self._name_keys)
        # The knowledge base's own subject ("LÍDERES") left unsaid by an entry about a part of it is no
        # conflict; by an entry whose title is about another name (another organisation's money), it is,
        # unless the question asks "who" or "where": the names it does not say are what it asks for.
        if not missing or any(intent in ("?who", "?where") for intent, _, _ in query.asked):
            return False
        # A name of several words ("Tecnológico de Monterrey") is said when one of them is ("Tec de Monterrey").
        return bool(doc.title_names) and all(self._unsaid(k, query) for k in doc.title_names)

    def _unsaid(self, name_key: str, query: _Query) -> bool:
        """The question says the name of `name_key` in neither language."""
        return self._name_groups.get(name_key, frozenset((name_key,))).isdisjoint(query.credit)

    def _nearest_variant(self, doc: _Doc, query: _Query) -> float:
        """Closeness of the question to the entry's nearest question variant or title: key overlap
        (recall-weighted) and, for the overlap's best, rapidfuzz similarity of the folded words."""
        best = 0.0
        credit, key_terms, terms = query.credit, query.key_terms, query.terms
        for variant in doc.variants:
            shared = variant.keys.intersection(credit)
            if not shared:
                continue
            hit = 0.0
            for k, w in variant.words:
                if k in shared:
                    hit += w * credit[k]
            found: dict[int, float] = {}
            for k in shared:
                for i, c in key_terms[k]:
                    if c > found.get(i, 0.0):
                        found[i] = c
            recall = sum(terms[i].weight * c for i, c in found.items()) / query.total
            overlap = _f_beta(hit / variant.total, recall)
            if OVERLAP_SHARE * overlap + (1 - OVERLAP_SHARE) <= best:
                continue  # rapidfuzz could not make this variant the nearest: skip the call
            # Both sides are folded already (text.analyse), hence no processor; rapidfuzz's default
            # would keep case and accents.
            similarity = fuzz.token_sort_ratio(query.text, variant.text, processor=None) / 100
            closeness = OVERLAP_SHARE * overlap + (1 - OVERLAP_SHARE) * similarity
            if query.aspect and variant.aspect and query.aspect != variant.aspect:
                closeness *= ASPECT_MISMATCH
            if query.form and variant.form and query.form != variant.form:
                closeness *= FORM_MISMATCH
            if query.interrogatives and variant.interrogatives and query.interrogatives.isdisjoint(
                    variant.interrogatives):
                closeness *= INTERROGATIVE_MISMATCH
            best = max(best, closeness)
        return best


_SENTENCE_END_RE = re.compile(r"(?<=[.!?;])\s+")
# A number written right after a name in mid-sentence is part of the name: "Al-Invest 6.0", "(AL-INVEST 6.0)",
# "SDG 10": no amount of anything the sentence speaks of ("how many companies" is not "6.0").
_NAME_NUMBER_RE = re.compile(r"(?:(?<=[\w,;)\]»”%] )|(?<=[(\[«“\"'/]))[^\W\d_a-zß-ÿ][\w-]*\s+\d+(?:[.,]\d+)*(?![\d\w])")


def _quantified(entry: Entry, variants: Sequence[Sequence[Token]]) -> tuple[tuple[frozenset[str], bool], ...]:
    """`_Doc.figures`: per answer sentence that holds a figure (not the number of a name: `_NAME_NUMBER_RE`),
    and per question variant that asks for one, its keys, and whether it is a variant. Kept apart, so that
    the figure asked of one thing is not taken from a sentence about another (`_figure_of`)."""
    figures: list[tuple[frozenset[str], bool]] = []
    for lang, text in entry.answers.items():
        for sentence in _SENTENCE_END_RE.split(text):
            if "?qty" in answer_facts([_NAME_NUMBER_RE.sub("", sentence)]):
                # "74,739.29 €" gives an amount in euros: "how many euros" is answered by it, though the
                # sign is no word.
                sentence = sentence.replace("€", " euros ")
                figures.append((frozenset(k for _, k in content_keys(sentence, lang)), False))
    for tokens in variants:
        if any(t.surface == "?qty" for t in tokens):
            figures.append((frozenset(t.keys[0] for t in tokens if not t.intent), True))
    return tuple(figures)


def _named_keys(query: _Query) -> set[str]:
    """Keys of the names the question uses, less the knowledge base's own subject (`_Term.everywhere`),
    which most answer sentences leave unsaid: what a sentence must name to be about what is asked."""
    return {k for t in query.terms if t.name and not t.everywhere for k, _ in t.keys}


def _counts_besides(doc: _Doc, query: _Query) -> bool:
    """The entry has a figure other than the numbers the question writes: "how many companies joined the
    AL-INVEST 6.0 programme" is not answered by the "6.0" of the programme's name, nor "how many came in
    2021" by the year. One of its questions asking "how many" will do."""
    if not query.numbers or any(asked for _, asked in doc.figures):
        return True
    return "?qty" in answer_facts(_NUMBER_RE.sub(lambda m: "" if m.group() in query.numbers else m.group(), text)
                                  for text in doc.entry.answers.values())


def _passing(doc: _Doc, query: _Query) -> set[str]:
    """Keys of the names the question uses (`_named_keys`) that the entry mentions only in its answer, not
    in its questions, title or tags: not what it is about, so a fact of them is stated only by a sentence
    naming them."""
    return (_named_keys(query) - doc.strong) & doc.weak


def _figure_of(doc: _Doc, query: _Query, keys: Sequence[str]) -> bool:
    """The entry gives an amount of one of `keys` (`_Query.counted`): one of its questions asks it, or a
    sentence of its answer has a figure and the word. When the word is an amount (a budget, a fee:
    `lexicon.QUANTITY_CONCEPTS`), no question of the entry asks it and the question names what it is of
    ("the ADELANTE Window's total budget"), the sentence with the figure must name it too: a budget
    stated in passing, in a sentence about the initiative ADELANTE funded, is the initiative's. Not a
    count ("how many objectives"): the sentence counting the entry's own items seldom repeats its subject,
    unless the question counts those of a name the entry only mentions in passing, in its answer (`_passing`:
    "how many enterprises did <the agency an entry on a visit names> incubate"): the sentence counting them
    names it. Nor the name of the knowledge base's subject (`_Term.everywhere`), which most sentences leave
    unsaid."""
    if any(asked and not figure.isdisjoint(keys) for figure, asked in doc.figures):
        return True
    if QUANTITY_CONCEPTS.isdisjoint(keys):
        passing = _passing(doc, query)
        return any(not figure.isdisjoint(keys) and (not passing or not figure.isdisjoint(passing))
                   for figure, _ in doc.figures)
    named = _named_keys(query)
    return any(not figure.isdisjoint(keys) and (not named or not figure.isdisjoint(named))
               for figure, _ in doc.figures)


# "en Jalisco", "in the Basque Country": a capitalised name after a locative word (and an article).
_PLACE_RE = re.compile(r"\b(?:" + "|".join(sorted(LOCATIVE_WORDS)) + r")\s+(?:(?:el|la|los|las|the)\s+)?"
                       r"([^\W\d_a-zß-ÿ][\w-]*)")
_APPOSITIVE_RE = re.compile(r"([^\W\d_a-zß-ÿ][\w-]*),\s+([^\W\d_a-zß-ÿ][\w-]*)")
# What "who", "where" and "when" ask for, and the concepts that ask it without the interrogative.
ATTRIBUTE_INTENTS: frozenset[str] = frozenset({"?who", "?where", "?when", "?hour"})
FUTURE = "?when-next"  # "when will the next one be": a date of something to come
# Seeing or finding something: "where" of it asks where to look (a page, a gallery), not a place.
SOURCE_CONCEPTS: frozenset[str] = frozenset({"~see", "~find"})
# Kinds of place: one named after "where" or "in which city" is part of the place asked for.
PLACE_KINDS: frozenset[str] = PLACE_CONCEPTS | {"~region", "~country"}


def _attributes(entry: Entry, variants: Sequence[Sequence[Token]], texts: Sequence[str],
                names: frozenset[str]) -> tuple[tuple[_Sentence, ...], dict[str, frozenset[str]]]:
    """`_Doc.sentences` and `_Doc.asks`: each answer sentence with the names, places and dates it states,
    and per attribute intent the keys of the question variants that ask it ("who organised ...", "which
    body organised ...": `_asked`)."""
    sentences = []
    for lang, text in entry.answers.items():
        for sentence in _SENTENCE_END_RE.split(text):
            pairs = content_keys(sentence, lang)
            named = capitalised_words(sentence) | {w for w, _ in pairs if w in names}
            places = {w for m in _PLACE_RE.finditer(sentence) for w in words(m.group(1))[-1:]}
            # "from Oporto, Portugal", "en Burgos, España": the name after a place and a comma is its country.
            places |= {w for m in _APPOSITIVE_RE.finditer(sentence) if (ws := words(m.group(1)))
                       and ws[-1] in places for w in words(m.group(2))[-1:]}
            facts = answer_facts([sentence])
            sentences.append(_Sentence(frozenset(k for _, k in pairs), frozenset(named), frozenset(places),
                                       "?when" in facts, "?hour" in facts,
                                       not FUTURE_WORDS.isdisjoint(w for w, _ in pairs)))
    asks: dict[str, set[str]] = defaultdict(set)
    for tokens, text in zip(variants, texts, strict=True):
        intents = {t.surface for t in tokens if t.surface in ATTRIBUTE_INTENTS}
        if _asks_named_body(tokens, text):
            intents.add("?who")
        if "?when" in intents and not FUTURE_WORDS.isdisjoint(t.surface for t in tokens):
            intents.add(FUTURE)
        if any(t.keys[0] in PLACE_CONCEPTS and all(u.keys[0] != KIND for u in tokens[:i])
               for i, t in enumerate(tokens)) and not _place_described(text):
            intents.add("?where")
        if any(t.keys[0] in HOUR_CONCEPTS for t in tokens):
            intents.add("?hour")
        for intent in intents:
            asks[intent].update(t.keys[0] for t in tokens if not t.intent)
    return tuple(sentences), {i: frozenset(ks) for i, ks in asks.items()}


# "What kind of place", "¿qué tipo de espacio?": a place word after it asks what the place is like, not where.
KIND = "~kind"
# What joins a relative clause to a place word ("a place where members meet", "un lugar en el que ..."):
# the place is then described, not asked for.
_PLACE_RELATIVES: tuple[tuple[str, ...], ...] = (
    ("where",), ("donde",), ("adonde",), ("in", "which"), ("en", "que"), ("en", "el", "que"), ("en", "la", "que"),
    ("en", "los", "que"), ("en", "las", "que"))


def _place_described(text: str) -> bool:
    """A place word of `text` is followed by a relative clause ("Does X want to create a place where its
    members meet?", "¿X quiere ser un espacio donde ...?"): it says what kind of place something is, not
    asks where something is, so the question does not ask "where" by it, though it names a place."""
    ws = words(fold(text))
    return any(not PLACE_CONCEPTS.isdisjoint(keys_any(w)) and tuple(ws[i + 1:i + 1 + len(r)]) == r
               for i, w in enumerate(ws) for r in _PLACE_RELATIVES)


def _asked(terms: Sequence[_Term]) -> tuple[tuple[str, tuple[tuple[str, ...], ...], bool], ...]:
    """What a question asks "who", "where", "when" or "at what time" of: per such intent (or a place or
    hours concept: "in which city", "the office hours"), the keys of each word after it that is no name
    and that the knowledge base knows ("who organised the workshop": "organised", "workshop"), and
    whether one of those words is a subject of some entry (`_Term.topic`). No words at all when the first
    of them is unknown ("who is the president of the fair", "quién es el rector del Tec"): a relation no
    entry speaks of; unless it comes right after what asks (`_Term.attached`: "quiénes impartieron ..."),
    a verb, and the words after it are what is asked of. "When" with a word of what is to come ("will",
    "próxima") asks `FUTURE`. An intent nothing follows is left out ("y el AL-INVEST ese de quién es").
    "Which" of a body that has a name ("which organisation presented", "¿qué fundación se sumó?":
    `lexicon.NAMED_BODY_CONCEPTS`) asks "who" of that body and the words after it."""
    asked = []
    for i, term in enumerate(terms):
        if term.surface in ATTRIBUTE_INTENTS:
            intent = term.surface
        elif not PLACE_CONCEPTS.isdisjoint(k for k, _ in term.keys) and not any(
                KIND in t.lexical for t in terms[:i]):  # "what kind of place": a description, not where
            intent = "?where"
        elif not HOUR_CONCEPTS.isdisjoint(term.lexical):
            intent = "?hour"
        elif term.kind and not NAMED_BODY_CONCEPTS.isdisjoint(k for k, _ in term.keys):
            intent = "?who"  # "which organisation presented", "¿qué universidad participa?": a name
        else:
            continue
        following = [term] if intent == "?who" and term.kind else []  # "which foundation": one with a name
        for after in terms[i + 1:]:
            if after.surface.startswith("?"):
                break
            # "Which city and region is X from": a kind of place after "where" is more of what is asked,
            # not what it is asked of.
            if intent == "?where" and not PLACE_KINDS.isdisjoint(after.lexical):
                continue
            if not after.name:
                following.append(after)
        if intent == "?where" and any(not SOURCE_CONCEPTS.isdisjoint(t.lexical) for t in following):
            continue  # "where can I see the photos", "dónde encuentro el informe": a source, not a place
        if following:
            if intent == "?when" and any(t.surface in FUTURE_WORDS for t in terms):
                intent = FUTURE
            # The first word is what is asked of the rest ("the president of the fair"): one the knowledge
            # base does not know is a relation no entry states, whatever the rest. Not a word right after
            # the interrogative or the thing asked for (`_Term.attached`: "quiénes impartieron las sesiones",
            # "which cities hosted the trainings"): a verb the entries say in other words ("gave", "held").
            # With each word's concept ("training" read as Spanish is "~training" too): the answer's sentences
            # are keyed by the concept, whichever language the question was read in.
            focus = tuple(tuple(dict.fromkeys((*(k for k, _ in t.keys), *(k for k in t.lexical if k.startswith("~")))))
                          for t in following if t.keys) if following[0].keys or following[0].attached else ()
            asked.append((intent, focus, any(t.topic for t in following)))
    return tuple(asked)


def _states(doc: _Doc, query: _Query, intent: str, focus: tuple[tuple[str, ...], ...], topical: bool) -> bool:
    """The entry states the attribute asked of the `focus` words (`_asked`): one of its questions asks it
    of one of them, or one sentence of its answer has one of them with a name the question does not
    already use and that is not a place (who: "experiences from Oporto, Portugal" name no organisation),
    a place it does not already name (where), a date (when; one to come for `FUTURE`) or a time of day
    (hours). When the entry has none of the focus words, the question says
    them in words of its own ("when did X kick off"), and any question of the entry asking the attribute
    will do, unless one of them is what other entries are about (`topical`: "the market's hours" against
    the shop's) or the attribute is "where" (the place of a thing the entry never mentions). Of the
    sentences about it, "where" reads the one sharing most of the question's words: the place of the
    event asked about, not of another event the entry lists ("the fair was in Castile, but in which city?"
    against the sentence placing the other fairs in Burgos and Soria), unless the question asks for the
    others ("where else"). No focus word the knowledge base knows: not stated."""
    if not focus:
        return False
    held = {k for keys in focus for k in keys if k in doc.strong or k in doc.weak}
    # "When does X end": the date of one of two contraries (`lexicon.CONTRASTS`: an opening, an ending) is
    # stated only by an entry speaking of it, not by one dating X's start in other words.
    if intent in ("?when", FUTURE) and any(k in _CONTRARY and k not in held for keys in focus for k in keys):
        return False
    asks = doc.asks.get(intent, frozenset())
    if not held:
        # Not "where": a place is of a thing the entry must speak of; its questions asking where place
        # something else ("where did X hold fairs" for "where is X's seat").
        return bool(asks) and not topical and intent != "?where"
    if not asks.isdisjoint(held) and _names_asked(doc, query):
        return True
    # Of the sentences about what is asked, those naming most of what the question names: the one about
    # the workshop with INAES, not the one about GSEF's other workshops.
    named = _named_keys(query)
    about = [s for s in doc.sentences if not s.keys.isdisjoint(held)]

    def closeness(s: _Sentence) -> tuple[int, int]:
        # "Where" of an event: the sentence sharing most of the question's words is about that event, not
        # another one the entry lists with its own places.
        # Not "where else": the places of the others are what is asked.
        shared = len(s.keys.intersection(query.credit)) if intent == "?where" and not query.besides else 0
        return len(s.keys & named), shared

    most = max((closeness(s) for s in about), default=(0, 0))
    for sentence in about:
        if closeness(sentence) < most:
            continue
        if intent == "?who" and (any(_new_name(w, query) for w in sentence.names - sentence.places)
                                 or any(k in PEOPLE_CONCEPTS and k not in query.credit for k in sentence.keys)):
            return True
        if intent == "?where" and any(_new_name(w, query) for w in sentence.places):
            return True
        if intent == "?when" and sentence.dated:
            return True
        if intent == FUTURE and sentence.dated and sentence.future:
            return True
        if intent == "?hour" and sentence.clock:
            return True
    return False


def _lacks_intent(doc: _Doc, query: _Query, intent: str) -> bool:
    """The entry cannot give the kind of fact `intent` asks for. "How do I subscribe" is answered by an
    entry none of whose questions asks "how do I" when one asks whether one can do it ("can I subscribe?")
    and its answer speaks of doing it ("its page lets you subscribe")."""
    if intent == EXACT_DAY:  # of what the question names: not the day of another event the entry dates
        named = _named_keys(query)
        return not any(_day_of_month(words(sentence)) and (not named or not named.isdisjoint(
            k for _, k in content_keys(sentence, lang)))
            for lang, text in doc.entry.answers.items() for sentence in _SENTENCE_END_RE.split(text))
    if intent == "?howto" and query.procedure and query.procedure.isdisjoint(doc.strong | doc.weak):
        return True  # "how do I file my taxes": a procedure for doing what the entry never speaks of
    if intent in doc.facts:
        return False
    return not (intent == "?howto" and query.procedure
                and any(v.aspect == "modal" and not v.keys.isdisjoint(query.procedure) for v in doc.variants)
                and any(not s.keys.isdisjoint(query.procedure) for s in doc.sentences))


def _day_of_month(ws: Sequence[str]) -> bool:
    """The words give a day of a month ("27 y 28 de noviembre", "May 3"), not only a month or a year."""
    for i, w in enumerate(ws):
        if w.isdigit() and 1 <= int(w) <= 31:
            near = [*ws[max(0, i - 1):i], *ws[i + 1:i + 4]]
            if not MONTH_WORDS.isdisjoint(near):
                return True
    return False


def _lacks_attribute(doc: _Doc, keys: frozenset[str]) -> bool:
    """The entry never speaks of the attribute asked (`lexicon.ATTRIBUTE_WORDS`), so it does not state it.
    A rate (`lexicon.RATE_WORDS`) is also stated by a percentage its answer writes."""
    if _RATE_KEYS <= keys and any(_PERCENT_RE.search(a) for a in doc.entry.answers.values()):
        return False
    return doc.strong.isdisjoint(keys) and doc.weak.isdisjoint(keys)


def _names_asked(doc: _Doc, query: _Query) -> bool:
    """The names the question uses are what the entry is about (in its questions, title or tags), so its
    questions asking the attribute ask it of them: not a name its answer mentions in passing ("where
    did GSEF hold workshops" asks where of the series, not of the workshop with INAES its answer names)."""
    return all(any(k in doc.strong for k, _ in term.keys) or not any(k in doc.weak for k, _ in term.keys)
               for term in query.terms if term.name and not term.everywhere)


# A number written whole: "10.4", "6.0", "1.500", "2021"; not the "4" of "10.4", nor "3rd".
_NUMBER_RE = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)*(?![\d\w])")


def _numbers(text: str) -> list[str]:
    """The numbers `text` writes whole (`_NUMBER_RE`)."""
    return _NUMBER_RE.findall(text)


def _number_parts(number: str) -> list[str]:
    """The digit groups of a number written whole: "10" and "4" of "10.4", "1" and "500" of "1,500"."""
    return re.split(r"[.,]", number)


def _digit_keys(digits: str) -> tuple[str, ...]:
    """The keys of a small number written in words ("3": "tres", "three")."""
    return tuple(k for word in DIGIT_WORDS.get(digits, ()) for k in keys_any(word))


def _named_languages(ws: Sequence[str]) -> frozenset[str]:
    """The languages `ws` names as the language of a name or a text ("in English", "la versión en
    castellano", `lexicon.LANGUAGE_WORDS`)."""
    return frozenset(w for i, w in enumerate(ws) if w in LANGUAGE_WORDS
                     and ((i and ws[i - 1] in LANGUAGE_BEFORE) or (i + 1 < len(ws) and ws[i + 1] in LANGUAGE_AFTER)))


def _new_name(word: str, query: _Query) -> bool:
    """A name the question does not already use, in either language ("México" is in "Mexican city")."""
    return word not in query.surfaces and all(k not in query.credit for k in keys_any(word))


def _written_near(word: str, known: str, sounds: int = 1) -> bool:
    """`word`, `sounds` sound-alike edits from `known`, is written near enough to be a misspelling of it: a
    likely slip, or one sound off and at most two letters off in writing."""
    return _likely_slip(word, known) or (sounds <= 1 and OSA.distance(word, known, score_cutoff=3) <= 2)


def _likely_slip(word: str, known: str) -> bool:
    """`word`, two sounds from `known`, is written as a misspelling of it: one slip from it (a letter
    dropped, doubled, swapped or mistyped: "particparon"), letters of it left out ("iniative"), or
    another ending of it ("cántabro" / "Cantabria")."""
    if OSA.distance(word, known, score_cutoff=1) <= 1:
        return True
    if len(word) < len(known) and Indel.distance(word, known) == len(known) - len(word):
        return True
    shorter = min(len(word), len(known))
    return len(os.path.commonprefix((word, known))) >= shorter - 2


def _another_ending(word: str, known: str) -> bool:
    """`known` is `word` with another ending: they share at least four letters and differ only in the last
    two of each ("advisor" / "advisory", "distingue" / "distinguio"; not "recien" / "reciben")."""
    prefix = len(os.path.commonprefix((word, known)))
    return prefix >= 4 and max(len(word), len(known)) - prefix <= 2


def _name_slip(word: str, name: str) -> bool:
    """`word` is `name` with one slip of writing that keeps its letters: one letter moved or two swapped
    ("Cantrabia", "GESF"), or "i" for "y" ("Dai"), which sound alike. The first letter is right."""
    if len(word) != len(name) or len(word) < 2 or word[0] != name[0]:
        return False
    return (word.replace("y", "i") == name.replace("y", "i")
            or (sorted(word) == sorted(name) and Indel.distance(word, name) == 2))


def _begins_longer(ordered: tuple[str, ...], stem: str, word: str) -> bool:
    """A word of `ordered` (sorted) other than `word` begins with `stem`, at least `TYPO_MIN_LEN` letters:
    `word` may be a clipping of it (`KnowledgeIndex._clipping`, `_clipped_name`)."""
    if len(stem) < TYPO_MIN_LEN:
        return False
    i = bisect.bisect_left(ordered, stem)
    return i < len(ordered) and ordered[i].startswith(stem) and ordered[i] != word


def _asks_named_body(tokens: Sequence[Token], text: str) -> bool:
    """A question variant asking "which" of a body with a name ("Which association funded X?"): it asks
    who, as `_asked` reads a question (`lexicon.KIND_ASKERS`, `NAMED_BODY_CONCEPTS`)."""
    kinds = {after for before, after in itertools.pairwise(words(text)) if before in KIND_ASKERS}
    return any(t.surface in kinds and t.keys[0] in NAMED_BODY_CONCEPTS for t in tokens)


def _skeleton_of(word: str, name: str) -> bool:
    """`word` is `name` written without its vowels, as chat writes a short word ("Lb" for "Lab", "Dkr" for
    "Dakar"): a word of consonants only, the name's consonants in order, its first letter right and at most
    two vowels left out (more, and too many names share a skeleton)."""
    if len(word) < 2 or any(c in VOWELS for c in word) or word[0] != name[0]:
        return False
    return 0 < len(name) - len(word) <= 2 and "".join(c for c in name if c not in VOWELS) == word


def _vowel_dropped(form: str, known: str) -> bool:
    """`form` is `known` less one vowel."""
    return len(known) == len(form) + 1 and any(
        known[i] in "aeiou" and known[:i] + known[i + 1:] == form for i in range(len(known)))


def _counted(terms: Sequence[_Term], amount: bool = True) -> tuple[tuple[str, ...], ...]:
    """What a question asks the amount of, as the keys of each such word: the word after "how many"
    ("how many participants") and an amount named ("the budget", "la cuota"), and the period an amount
    is asked per ("la cuota anual": `lexicon.PERIOD_WORDS`). An answer that never mentions it has no
    figure for it, whatever other figures it holds."""
    counted = [t.lexical for t in terms if not QUANTITY_CONCEPTS.isdisjoint(t.lexical)]
    named = bool(counted)
    if amount:
        counted.extend(t.lexical for t in terms if t.surface in PERIOD_WORDS)
    for before, after in itertools.pairwise(terms):
        # A word nobody in the knowledge base uses ("how many calories") counts what no entry speaks of,
        # as "who" asks a relation no entry states (`_asked`); not one that may be a clipping of a word it
        # uses ("how many pros": `_Term.clipped`). Nor the word after "cuánto" in a question that names the
        # amount ("cuánto sumaba su presupuesto"): that word is the verb, and the amount is the one named.
        # Nor a name: "how much did the ADELANTE Window contribute" counts what it gave, not ADELANTEs.
        if (before.surface == "?qty" and not named and after.lexical and (after.keys or not after.clipped)
                and not after.name and not after.surface.startswith("?")):
            counted.append(after.lexical)
    return tuple(counted)


def _uncited(ws: list[str]) -> list[int]:
    """The places of the words of a question less the source it cites ("según la ficha de LÍDERES",
    "according to the project description", up to the end of the clause): where the user read it, not
    what they ask about, and as like the words of an entry about that source as of the one answering. Not
    a source asked for ("¿según qué regla...?")."""
    kept: list[int] = []
    citing = False
    for i, w in enumerate(ws):
        if w == CLAUSE_BREAK:
            citing = False
        elif w in CITING_WORDS and not (i + 1 < len(ws) and ws[i + 1] in CITING_ASKED):
            citing = True
            continue
        if not citing:
            kept.append(i)
    return kept if any(ws[i] != CLAUSE_BREAK for i in kept) else list(range(len(ws)))


def _f_beta(precision: float, recall: float) -> float:
    """Recall-weighted F-score: a variant must explain the user's words more than the user must repeat
    all of the variant's (a short "what is X?" variant must not win every question that names X)."""
    if not precision or not recall:
        return 0.0
    return (1 + BETA2) * precision * recall / (BETA2 * precision + recall)


def _deletes(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}



