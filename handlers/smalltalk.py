"""Greetings, thanks, goodbyes and "ok": a short friendly answer in the user's language instead of "I have no
answer, shall I pass it to a coordinator?". A greeting also shows the main menu. Only a message made of
nothing but such words is small talk ("hola, ¿cómo presento una idea?" is a question for the FAQ), so this
fallback runs before the FAQ's and never fills the coordinators' unanswered list.

any text → greeting | thanks | goodbye | acknowledgement → its answer;  anything else → the next fallback
"""

from __future__ import annotations

import re

from bot.engine import Context
from bot.router import Router
from bot.services import users
from bot.services.knowledge.text import fold

router = Router("smalltalk")

# Folded (no accents, lower case) and with repeated letters collapsed, like the user's words (see `tokens`).
KINDS: dict[str, frozenset[str]] = {
    "greeting": frozenset(
        "hola holi ola buenas buenos dias tardes noches buen dia saludos que tal hey hi hello helo hiya "
        "good morning afternoon evening day greetings howdy yo qutal ke onda".split()
    ),
    "thanks": frozenset(
        "gracias grax grasias thx thanks thank you ty tnx muchas mil muy amable te lo agradezco "
        "agradecido agradecida so much a lot cheers".split()
    ),
    "goodbye": frozenset(
        "chao chau adios adio hasta luego pronto manana nos vemos bye goodbye see you later cya "
        "talk soon take care".split()
    ),
    "ack": frozenset(
        "ok okay okey oki vale listo perfecto entendido dale genial bien claro super de acuerdo si acepto "
        "sure got it great cool fine nice alright understood perfect good yes agree i".split()
    ),
}
# Words that go with any kind ("hola bot", "ok gracias amigo") without making the message a question.
COMPANIONS = frozenset("bot amigo amiga a todos todas y and e pues oh ah muy very much".split())
ORDER = ("greeting", "thanks", "goodbye", "ack")  # "ok gracias" thanks; "hola gracias" greets
MAX_WORDS = 8
WORD = re.compile(r"[a-zñ]+")


def tokens(text: str) -> list[str]:
    """Folded words with letter runs collapsed: "Holaaa!!", "GRACIAAS 🙏" → ["hola"], ["gracias"]."""
    return [re.sub(r"(.)\1+", r"\1", word) for word in WORD.findall(fold(text))]


_COLLAPSED = {kind: frozenset(re.sub(r"(.)\1+", r"\1", w) for w in words) for kind, words in KINDS.items()}
_COMPANIONS = frozenset(re.sub(r"(.)\1+", r"\1", w) for w in COMPANIONS)


def kind_of(text: str) -> str | None:
    """The kind of small talk ``text`` is, or None when it says anything else."""
    words = tokens(text)
    if not words or len(words) > MAX_WORDS:
        return None
    known = set().union(*_COLLAPSED.values()) | _COMPANIONS
    if any(word not in known for word in words):
        return None
    for kind in ORDER:
        if any(word in _COLLAPSED[kind] for word in words):
            return kind
    return None


@router.fallback()
async def small_talk(ctx: Context) -> None:
    kind = kind_of(ctx.text)
    if kind is None:
        return  # not small talk: the FAQ's fallback answers
    if kind == "greeting":
        known = users.name_to_greet(ctx.user, ctx.incoming)
        name = f" {known}" if known else ""
        ctx.reply(ctx.t("smalltalk.greeting", name=name), ctx.menu())
    else:
        ctx.reply(ctx.t(f"smalltalk.{kind}"))
