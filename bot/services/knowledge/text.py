"""Text normalisation shared by the index and the queries: folding, tokens, stems, concepts, intents.

Both sides must go through the same functions, otherwise "Qué" in a question never meets "que" in an
entry. Matching keys are stems (Snowball, per language) or language-neutral concepts from `lexicon`,
so "presupuestos", "presupuesto" and "budget" all meet on one key.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple, Protocol

import snowballstemmer

from bot.services.knowledge.lexicon import (
    APOCOPES,
    CHAT_ABBREVIATIONS,
    CONCEPTS,
    DATE_WORDS,
    DETAIL_WORDS,
    INTENT_WORDS,
    LEADING_INTENT_WORDS,
    MODAL_WORDS,
    MONTH_WORDS,
    NUMBER_WORDS,
    PAST_ENDINGS,
    PAST_WORDS,
    PHRASES,
    PLACE_OF_ORIGIN_VERBS,
    POST_PHRASES,
    PROCEDURE_FOLLOWERS,
    PROCEDURE_OPENERS,
    PROCEDURE_SUBJECTS,
    RELATIVE_WORDS,
    STOPWORDS,
    STOPWORDS_EN,
    STOPWORDS_ES,
    SURFACE_CONCEPTS,
    WH_WORDS,
    WORKINGS,
    YES_NO_OPENERS,
)

LANGUAGES: tuple[str, ...] = ("es", "en")
_STEMMER_NAMES = {"es": "spanish", "en": "english"}

# A question longer than this is cut before any work: nobody asks a FAQ in 500 characters, and the cost
# of a lookup must not grow with what a user pastes into the chat.
MAX_QUERY_CHARS = 500
MAX_QUERY_TOKENS = 40

_TAG_RE = re.compile(r"<[^<>]{0,200}>")
_COMBINING_RE = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def fold(text: str) -> str:
    """Lower case without accents ("Qué LÍDERES" -> "que lideres"): users type either way on phones."""
    if text.isascii():
        return text.lower()
    return _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text.casefold()))


def words(text: str) -> list[str]:
    """Folded words; a hyphenated word yields its parts and the joined form ("al-invest" -> "al", "invest",
    "alinvest") so that "AL-INVEST", "AL INVEST" and "alinvest" all meet on something."""
    folded = fold(text)
    found = _WORD_RE.findall(folded)
    if "-" not in folded:
        return found
    out: list[str] = []
    for word in found:
        if "-" in word:
            parts = word.split("-")
            out.extend(parts)
            out.append("".join(parts))
        else:
            out.append(word)
    return out


CLAUSE_BREAK = "|"  # in a question's words, where punctuation ended a clause ("X, ¿cuándo fue?")
_QUERY_TOKEN_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*|[,;:¿?!.]")


def query_words(text: str, known: Callable[[str], bool]) -> list[str]:
    """Folded words of a question, with `CLAUSE_BREAK` where punctuation ends a clause. A hyphenated word
    is its joined form when the knowledge base knows it ("AL-INVEST" -> "alinvest"), else its parts
    ("co-organised" -> "organised"): a joined form nobody wrote would count as an unknown word against
    every entry."""
    out: list[str] = []
    for word in _QUERY_TOKEN_RE.findall(fold(text)):
        if not word[0].isalnum():
            if out and out[-1] != CLAUSE_BREAK:
                out.append(CLAUSE_BREAK)
            continue
        if "-" not in word:
            out.append(word)
            continue
        joined = word.replace("-", "")
        if known(joined):
            out.append(joined)
        else:  # a fragment of two letters is a prefix ("co-", "ex-"), not a word to look for
            out.extend(part for part in word.split("-") if len(part) > 2 or part.isdigit())
    return out


class _Stemmer(Protocol):
    """What is used of a snowballstemmer stemmer (the package has no type information)."""

    def stemWord(self, word: str) -> str: ...  # snowballstemmer's name


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> _Stemmer:
    stemmer: _Stemmer = snowballstemmer.stemmer(_STEMMER_NAMES[lang])
    return stemmer


# Spanish verb endings whose accent Snowball needs to strip them ("borréis", "tenían"): a folded word is
# given its accent back before stemming, or "borreis" would stay whole and "tenian" keep its "i".
_SPANISH_ACCENTED_ENDINGS: tuple[tuple[str, str], ...] = (
    ("iamos", "íamos"), ("iais", "íais"), ("ian", "ían"), ("eis", "éis"), ("ais", "áis"),
)


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    """Snowball stem of a folded word in `lang` (cached: the vocabulary of a knowledge base is small)."""
    if lang == "es":
        word = APOCOPES.get(word, word)
        for ending, accented in _SPANISH_ACCENTED_ENDINGS:
            if word.endswith(ending) and len(word) > len(ending) + 2:
                word = word[: -len(ending)] + accented
                break
    return _stemmer(lang).stemWord(word)


def _build_concepts() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for concept, es_words, en_words in CONCEPTS:
        for lang, group in (("es", es_words), ("en", en_words)):
            for word in group:
                table.setdefault((lang, stem(fold(word), lang)), concept)
    return table


_CONCEPTS: dict[tuple[str, str], str] = _build_concepts()


@lru_cache(maxsize=200_000)
def key(word: str, lang: str) -> str:
    """Matching key of a folded word in a known language: its concept if it has one, else its stem."""
    if word in SURFACE_CONCEPTS:
        return SURFACE_CONCEPTS[word]
    stemmed = stem(word, lang)
    return _CONCEPTS.get((lang, stemmed), stemmed)


@lru_cache(maxsize=50_000)
def keys_any(word: str) -> tuple[str, ...]:
    """Keys of a word whose language is unknown (a user's question, a tag): one per language, deduplicated.
    A query word matches an entry when any of its keys does."""
    out: list[str] = []
    for lang in LANGUAGES:
        k = key(word, lang)
        if k not in out:
            out.append(k)
    return tuple(out)


class Token(NamedTuple):
    """A content word of a text: its folded surface (for typo matching) and its matching keys.
    (A named tuple: the index makes hundreds of thousands of them for a large knowledge base.)
    `credit` is below 1 for a word the user misspelt and the index corrected: a guess counts less."""

    surface: str
    keys: tuple[str, ...]
    intent: bool = False
    credit: float = 1.0


def _is_content(word: str) -> bool:
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


def expand_chat(ws: Iterable[str]) -> list[str]:
    """Words with chat abbreviations written out (`lexicon.CHAT_ABBREVIATIONS`): "pa q" -> "para que",
    which the phrase table then reads as "why"; laughter and "btw" disappear."""
    out: list[str] = []
    for w in ws:
        expansion = CHAT_ABBREVIATIONS.get(w)
        if expansion is None:
            out.append(w)
        else:
            out.extend(expansion.split())
    return out


# English chat writes "for" and "to" as the digits that sound like them ("free 4 members", "how 2 join").
_DIGIT_SOUNDS: dict[str, str] = {"4": "for", "2": "to"}


def chat_digits(ws: list[str], lang: str | None) -> list[str]:
    """Words with a digit English chat writes for "for" or "to" written out: in an English question, a "4"
    or "2" that counts nothing, because a word that is no plural follows it ("give 4 free", "how 2 apply").
    The word stands between two words of one clause, as "for" does: one before a plural ("4 seminars"),
    ending a clause ("how many seminars, 2?") or after a number or a stop (target "10.4") is the figure,
    and so is any digit of a question in another language."""
    if lang != "en":
        return ws
    return [_DIGIT_SOUNDS[w] if w in _DIGIT_SOUNDS and 0 < i + 1 < len(ws) and ws[i - 1].isalpha()
            and ws[i + 1].isalpha() and not ws[i + 1].endswith("s") else w
            for i, w in enumerate(ws)]


_PHONETIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"ph", "f"),
        (r"ch", "C"),  # kept apart from the c and h rules below
        (r"sh", "S"),
        (r"h", ""),  # silent in Spanish, dropped in chat: "ay fotos", "ablame"
        (r"qu(?=[ei])", "k"),
        (r"q", "k"),
        (r"c(?=[ei])", "s"),
        (r"c", "k"),
        (r"z", "s"),
        (r"ll", "y"),
        (r"v", "b"),
        (r"gu(?=[ei])", "g"),
        (r"g(?=[ei])", "j"),
        (r"(.)\1+", r"\1"),  # doubled letters: "colaboration", "programm", "Monterey"
    )
)


@lru_cache(maxsize=200_000)
def phonetic(word: str) -> str:
    """A folded word as it sounds, roughly, in Spanish and in chat: the spellings people swap for one
    another meet on one form ("kien" / "quien", "yama" / "llama", "formalisacion" / "formalizacion",
    "oficial" / "official"). Used only to correct words the index does not know."""
    for pattern, replacement in _PHONETIC_RULES:
        word = pattern.sub(replacement, word)
    return word


def analyse(text: str, lang: str | None = None, *, intents: bool = True) -> list[Token]:
    """Content tokens of `text`. With `lang` (an entry's own text) each word gets the key of that
    language; without it (a question, a tag) it gets the keys of every language. Interrogatives become
    intent tokens ("?when", "?qty") when `intents` is set: they tell apart "when was X" from "how many
    came to X", which share every other word. Known two-word phrases become one token (`PHRASES`).
    Chat abbreviations are written out first (`expand_chat`)."""
    return analyse_words(expand_chat(words(text)), lang, intents=intents)


def analyse_words(ws: list[str], lang: str | None = None, *, intents: bool = True,
                  credits: list[float] | None = None) -> list[Token]:
    """`analyse` on words already split (and corrected: `credits`, one per word, say how sure each
    correction is)."""
    out: list[Token] = []
    i = 0
    clause_start = 0  # index of the first word of the current clause (`CLAUSE_BREAK` ends one)
    while i < len(ws):
        word = ws[i]
        if word == CLAUSE_BREAK:
            i += 1
            clause_start = i
            continue
        phrase = PHRASES.get((word, ws[i + 1])) if i + 1 < len(ws) else None
        if phrase is not None:
            if (word, ws[i + 1]) in POST_PHRASES and any(t.surface == "?who" for t in out):
                phrase = DETAIL_WORDS["director"]
            elif phrase == "?from" and ((i + 2 < len(ws) and ws[i + 2] in PLACE_OF_ORIGIN_VERBS)
                                        or (i > clause_start and ws[i - 1] in PLACE_OF_ORIGIN_VERBS)):
                phrase = "?where"
            if phrase.startswith("?"):
                if intents:
                    out.append(Token(phrase, (phrase,), True))
            elif phrase:
                credit = min(credits[i], credits[i + 1]) if credits else 1.0
                out.append(Token(f"{word} {ws[i + 1]}", (phrase,), False, credit))
            i += 2
            continue
        intent = INTENT_WORDS.get(word) or (LEADING_INTENT_WORDS.get(word) if i == clause_start else None)
        if intent and word in RELATIVE_WORDS and any(_is_content(w) for w in ws[clause_start:i]):
            i += 1  # "... when it was launched": a clause about the subject, not what is asked
            continue
        if intent == "?how" and ((i + 2 < len(ws) and ws[i + 1] in PROCEDURE_OPENERS
                                   and ws[i + 2] in PROCEDURE_SUBJECTS)
                                  or (i + 1 < len(ws) and ws[i + 1] in PROCEDURE_FOLLOWERS)):
            intent = "?howto"
        if intent:
            if intents:
                out.append(Token(intent, (intent,), True))
        elif _is_content(word):
            out.append(Token(word, (key(word, lang),) if lang else keys_any(word), False,
                             credits[i] if credits else 1.0))
        i += 1
    if intents and not WORKINGS.isdisjoint(ws):
        out = [t for t in out if t.surface != "?how"]
    return out


_ES_INTENTS = frozenset({"cuanto", "cuanta", "cuantos", "cuantas", "cuando", "donde", "adonde", "quien",
                         "quienes", "porque", "xq", "pq", "porq", "numero", "cantidad", "tamano", "monto",
                         "importe"})
_MARKERS = {
    "es": (STOPWORDS_ES - STOPWORDS_EN) | _ES_INTENTS,
    "en": (STOPWORDS_EN - STOPWORDS_ES) | (frozenset(INTENT_WORDS) - _ES_INTENTS),
}
_SPANISH_SIGNS_RE = re.compile("[¿¡ñÑáéíóúÁÉÍÓÚ]")


def guess_language(text: str, ws: list[str] | None = None) -> str | None:
    """The language a question is written in, from its function words ("what", "the" / "qué", "el")
    and Spanish punctuation and accents; None when it does not say ("cainco budget"). A word is then
    read in that language first, so the English "funded" is not taken for the Spanish "fundó".
    `ws`: the question's words once abbreviations are written out and typos corrected, when known."""
    ws = words(text) if ws is None else ws
    es = sum(w in _MARKERS["es"] for w in ws) + min(2, len(_SPANISH_SIGNS_RE.findall(text)))
    en = sum(w in _MARKERS["en"] for w in ws)
    if es > en:
        return "es"
    if en > es:
        return "en"
    return None


def aspect(text: str) -> str | None:
    """"modal" when a question asks what can or will be ("can new entities join?"), "past" when it asks
    what was ("which entities joined?"), None when it does not say. Modal wins: "what could they have
    done" is not about what was done."""
    ws = words(text)
    if not MODAL_WORDS.isdisjoint(ws):
        return "modal"
    if not PAST_WORDS.isdisjoint(ws) or any(len(w) > 5 and w.endswith(PAST_ENDINGS) for w in ws):
        return "past"
    return None


def question_form(text: str) -> str | None:
    """"wh" when a question asks for something ("what was analysed?", "¿qué se analizó?"), "yn" when it
    asks whether something holds ("were synergies analysed?", "¿se analizaron sinergias?": no
    interrogative, and an English auxiliary first or a question mark), None when it does not say ("tell me
    about X", "beneficiarios directos")."""
    ws = expand_chat(words(text))
    if not ws:
        return None
    if not WH_WORDS.isdisjoint(ws):
        return "wh"
    if ws[0] in YES_NO_OPENERS or "?" in text:
        return "yn"
    return None


# Intents an answer can only satisfy with a fact of their kind in it.
FACT_INTENTS: frozenset[str] = frozenset({"?qty", "?when", "?dur", "?hour", "?day", *DETAIL_WORDS.values()})
# Intents an entry satisfies only when one of its own questions asks the same ("how do I ...").
ASKED_INTENTS: frozenset[str] = frozenset({"?howto"})
YEAR_RE = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
# A web address, an e-mail or a phone number.
_CONTACT_RE = re.compile(r"https?://|\bwww\.|\b[\w-]+\.(?:org|com|net|eu|es|mx|bo|gob|edu)\b|\S+@\S+\.\w+"
                         r"|\+?\d(?:[ ()-]?\d){8,}")
_NUMERIC_DATE_RE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
_DIGIT_RE = re.compile(r"\d")
# A time of day: "9:30", "10 h", "5 pm", "a las 18 horas".
_CLOCK_RE = re.compile(r"\b(?:[01]?\d|2[0-3])(?::[0-5]\d\b|\s?(?:h|hrs|horas|hours|am|pm|a\.m\.|p\.m\.)(?!\w))")
# "How long": a number, digits or words ("one" and "un" included), of a unit of time.
_DURATION_RE = re.compile(
    r"\b(?:\d+|one|a|an|un|una|" + "|".join(sorted(NUMBER_WORDS)) + r")\s+(?:\w+\s+)?(?:year|month|week|day|hour"
    r"|ano|anos|mes|meses|semana|dia|hora)s?\b")


def answer_facts(answers: Iterable[str]) -> frozenset[str]:
    """The fact intents (`FACT_INTENTS`) that answer texts, in any language, can satisfy: "?qty" with a
    number in digits (not a year) or words, "?when" with a year or a date word, "?dur" (how long) with a
    number of a unit of time ("one year", "dos meses"), "?hour" with a time of day ("9:30", "5 pm"), "?day"
    with a date finer than a year (a month, or a date in digits), the kinds of `DETAIL_WORDS` ("?person",
    "?address", "?winner") with a word of that kind, and "?contact" with a web address, an e-mail or a phone
    number (not the word "website")."""
    facts: set[str] = set()
    for text in answers:
        ws = set(words(text))
        # A year is a date, not a quantity: "how many came to the 2019 workshop" is not answered by "2019".
        if _DIGIT_RE.search(YEAR_RE.sub(" ", text)) or not NUMBER_WORDS.isdisjoint(ws):
            facts.add("?qty")
        if YEAR_RE.search(text) or not DATE_WORDS.isdisjoint(ws):
            facts.add("?when")
        if _DURATION_RE.search(fold(text)):
            facts.add("?dur")
        if _CLOCK_RE.search(fold(text)):
            facts.add("?hour")
        facts.update(DETAIL_WORDS[w] for w in ws if w in DETAIL_WORDS and DETAIL_WORDS[w] != "?contact")
        if _CONTACT_RE.search(text):  # an address to reach, not the word "website"
            facts.add("?contact")
        if not MONTH_WORDS.isdisjoint(ws) or _NUMERIC_DATE_RE.search(text):
            facts.add("?day")
    return frozenset(facts)


def content_keys(text: str, lang: str) -> list[tuple[str, str]]:
    """(surface, key) of the content words of a text in `lang`, no intents: the fast path for answer
    texts, the bulk of what the index reads."""
    return [(w, key(w, lang)) for w in words(text)
            if w not in STOPWORDS and w not in INTENT_WORDS and (len(w) > 1 or w.isdigit())]


# A capitalised word after a word and one space, or just after an opening bracket or quote: not the
# start of a sentence nor of a line.
_MID_SENTENCE_CAPITAL_RE = re.compile(r"(?:(?<=[\w,;)\]»”%] )|(?<=[(\[«“\"'/]))[^\W\d_a-zß-ÿ][\w-]*")


def capitalised_words(text: str) -> frozenset[str]:
    """Folded words a question writes capitalised in mid-sentence ("en Brasil", "the Grameen Bank"):
    names, when the knowledge base does not know them, of something it is not about."""
    return frozenset(ws[-1] for name in _MID_SENTENCE_CAPITAL_RE.findall(text) if (ws := words(name)))


# A span in quotes: an opening quote not inside a word ("What's" has none) and its closing one not followed by
# a letter.
_QUOTED_RE = re.compile(r"(?<!\w)['\"«“‘]([^'\"«»“”‘’]{2,120}?)['\"»”’](?!\w)")


def quoted_words(text: str) -> frozenset[str]:
    """Folded words a question writes in quotes ("the 'cuotas anuales'"): a term it copies from the
    texts, in the language they write it."""
    return frozenset(w for span in _QUOTED_RE.findall(text) for w in words(span))


_LOWER_WORD_RE = re.compile(r"(?<![\w-])[a-zß-ÿ][\w-]*")
_UPPER_WORD_RE = re.compile(r"(?<![\w-])[^\W\d_a-zß-ÿ][\w-]*")


def lowercase_words(text: str) -> frozenset[str]:
    """Folded words a question writes in lower case only, when it writes some word capitalised in
    mid-sentence: its writer capitalises names, so these it uses as common words ("the Bolivian chamber",
    "una institución educativa") even where the entries write them in a name ("Chamber of Industry").
    Empty for a question written all in lower case (chat), whose names look like any other word."""
    if not capitalised_words(text):
        return frozenset()
    upper = {w for name in _UPPER_WORD_RE.findall(text) for w in words(name)}
    return frozenset(w for word in _LOWER_WORD_RE.findall(text) for w in words(word) if w not in upper)


def proper_names(texts: Iterable[str]) -> frozenset[str]:
    """Folded words the texts mostly write capitalised in mid-sentence ("CAINCO", "Cooperactivas",
    "Jalisco"): the names a question can be about. Give it edited prose (titles, answers), not the
    casual lower-case question variants. A hyphenated name counts as its joined form ("alinvest")."""
    seen: Counter[str] = Counter()
    capitalised: Counter[str] = Counter()
    for text in texts:
        seen.update(words(text))
        capitalised.update(words(name)[-1] for name in _MID_SENTENCE_CAPITAL_RE.findall(text))
    return frozenset(w for w, n in capitalised.items()
                     if n >= 2 and n >= 0.6 * seen[w] and w not in STOPWORDS and len(w) > 2)


def clean_query(text: str) -> str:
    """A user's question made safe to analyse: bounded length, markup tags dropped (a pasted
    `<b>presupuesto</b>` still asks about the budget; `<script>` asks about nothing)."""
    text = _TAG_RE.sub(" ", (text or "")[: MAX_QUERY_CHARS * 2])
    if len(text) > MAX_QUERY_CHARS:
        # Cut at a space: half a word would count as an unknown word against every entry.
        text = text[:MAX_QUERY_CHARS].rsplit(None, 1)[0] if " " in text[:MAX_QUERY_CHARS] else ""
    return text


def lexicon_vocabulary() -> frozenset[str]:
    """Every word the lexicon knows, function words included: a question word among them is spelt
    right even when no entry uses it, and a misspelt word may be corrected to one ("teh" -> "the")."""
    vocabulary: set[str] = set(STOPWORDS) | set(INTENT_WORDS) | set(LEADING_INTENT_WORDS) | set(WORKINGS)
    vocabulary |= {w for pair in PHRASES for w in pair} | NUMBER_WORDS | DATE_WORDS | MODAL_WORDS | PAST_WORDS
    vocabulary |= set(SURFACE_CONCEPTS) | PROCEDURE_OPENERS | PROCEDURE_SUBJECTS | PROCEDURE_FOLLOWERS
    vocabulary |= set(DETAIL_WORDS)
    vocabulary |= {w for expansion in CHAT_ABBREVIATIONS.values() for w in expansion.split()}
    for _, es_words, en_words in CONCEPTS:
        vocabulary.update(fold(w) for w in es_words + en_words)
    return frozenset(vocabulary)
