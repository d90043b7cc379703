"""Questions answered from the knowledge base, and passed to a coordinator when it has no answer.

free text       → answer (confident) | best guess: its answer, "is this what you asked?" and the next
                  likeliest entries as buttons | "did you mean" with up to three buttons | not found
not found       → offer to pass the question on; "yes" stores it in `unanswered` and tells the coordinators
/unanswered, /answer N TEXT → (coordinators) handlers/admin/answers.py
/kb_reload      → (coordinators) reload the knowledge base without a restart
The bot never invents an answer: outside the knowledge base it says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import Settings
from bot.db.models import AuditLog
from bot.engine import Context
from bot.messages import Button
from bot.router import Router
from bot.services import unanswered
from bot.services.knowledge.entries import Entry, load_knowledge
from bot.services.knowledge.index import KnowledgeIndex
from bot.services.knowledge.text import words

router = Router("faq")
log = logging.getLogger("handlers.faq")

ASKING = "faq"  # flow: the user was offered to pass a question on; the next text is a new question


@dataclass(frozen=True)
class KnowledgeBase:
    """The loaded entries and their index, swapped in whole on a reload."""

    index: KnowledgeIndex
    entries: dict[str, Entry]
    problems: tuple[str, ...]

    def summary(self) -> dict[str, object]:
        return {"knowledge_entries": len(self.entries), "knowledge_problems": list(self.problems)}


@router.content_loader
def load_knowledge_base(settings: Settings, _previous: object | None) -> KnowledgeBase:
    """Build the index once per load; a bad file is skipped and reported as ``file:line: problem``."""
    loaded = load_knowledge(settings.knowledge_dir)
    for problem in loaded.problems:
        log.warning("knowledge entry skipped", extra={"problem": problem})
    entries = {entry.id: entry for entry in loaded.entries}
    return KnowledgeBase(KnowledgeIndex.build(loaded.entries), entries, tuple(loaded.problems))


def index(ctx: Context) -> KnowledgeIndex:
    return ctx.content(KnowledgeBase).index


@router.menu_item("ask", label="menu.ask", order=20)
@router.button("faq:ask")
async def ask_prompt(ctx: Context) -> None:
    ctx.reply(ctx.t("menu.ask_prompt"))


@router.fallback()
async def answer_question(ctx: Context) -> None:
    question = ctx.text
    if not words(question):
        ctx.reply(ctx.t("faq.no_words"), ctx.menu())
        return
    result = index(ctx).search(question, ctx.lang)
    if result.outcome == "answer" and result.entry is not None:
        ctx.end_flow()
        ctx.reply(result.entry.answer(ctx.lang))
        return
    ctx.start_flow(ASKING, "offered", {"question": question[:unanswered.MAX_STORED_QUESTION]})
    if result.outcome == "confirm" and result.entry is not None:
        answer_best_guess(ctx, result.entry, result.suggestions)
        return
    if result.outcome == "suggest" and result.suggestions:
        ctx.reply(ctx.t("faq.did_you_mean"), topic_buttons(ctx, result.suggestions[:3]))
        return
    ctx.reply(
        ctx.t("faq.not_found"),
        [Button(ctx.t("faq.forward_yes"), "faq:forward"), Button(ctx.t("faq.forward_no"), "faq:no")],
    )


CONFIRM_ALTERNATIVES = 2  # with "none of these", three buttons: WhatsApp's limit for reply buttons


def answer_best_guess(ctx: Context, entry: Entry, alternatives: Sequence[Entry]) -> None:
    """The likeliest entry's answer, asking whether it is what the user meant, in one message: the next
    likeliest entries are a tap away and "none of these" passes the question on. The flow stays open,
    so that a new text is a new question and the question waits to be passed on."""
    text = f"{entry.answer(ctx.lang)}\n\n{ctx.t('faq.is_this_it')}"
    ctx.reply(text, topic_buttons(ctx, alternatives[:CONFIRM_ALTERNATIVES]))


def topic_buttons(ctx: Context, entries: Sequence[Entry]) -> list[Button]:
    """One button per entry (its title answers it), then "none of these: pass it to a coordinator"."""
    buttons = [Button(entry.title_for(ctx.lang), f"faq:entry:{entry.id}") for entry in entries]
    buttons.append(Button(ctx.t("faq.none_of_these"), "faq:forward"))
    return buttons


@router.flow(ASKING)
async def next_question(ctx: Context) -> None:
    """After an offer the user typed something else: a new message, for every fallback ("gracias" too)."""
    ctx.end_flow()
    await ctx.engine.run_fallbacks(ctx)


@router.button("faq")
async def faq_button(ctx: Context) -> None:
    action, _, argument = (ctx.incoming.payload or "").partition(":")[2].partition(":")
    if action == "entry":
        entry = ctx.content(KnowledgeBase).entries.get(argument)
        if entry is None:
            ctx.reply(ctx.t("core.button_expired"))
            return
        ctx.end_flow()
        ctx.reply(entry.answer(ctx.lang))
    elif action == "no" and ctx.state.flow == ASKING:
        ctx.end_flow()
        ctx.reply(ctx.t("faq.forward_declined"), ctx.menu())
    else:
        ctx.reply(ctx.t("core.button_expired"))


@router.button("faq:forward", consent=True)  # without consent the question waits in the state meanwhile
async def forward_pressed(ctx: Context) -> None:
    question = ctx.state.data.get("question")
    if ctx.state.flow != ASKING or not isinstance(question, str) or not question:
        ctx.reply(ctx.t("core.button_expired"))
        return
    await forward_to_coordinators(ctx, question)


async def forward_to_coordinators(ctx: Context, question: str) -> None:
    ctx.end_flow()
    pending = await unanswered.pass_to_coordinators(ctx, question)
    ctx.reply(ctx.t("faq.forwarded", number=pending.id), ctx.menu())


@router.command("kb_reload", describe="cmd.kb_reload", coordinator=True)
async def reload_knowledge(ctx: Context) -> None:
    await ctx.engine.reload_content()
    ctx.session.add(AuditLog(actor_id=ctx.user.id, action="kb.reload", created_at=ctx.clock.now()))
    knowledge = ctx.content(KnowledgeBase)
    text = ctx.t("faq.reloaded", entries=len(knowledge.entries), problems=len(knowledge.problems))
    ctx.reply("\n".join([text, *knowledge.problems[:10]]))
