"""Questions answered from the knowledge base, and passed to a coordinator when it has no answer.

free text       → answer (confident) | "did you mean" with up to three buttons | not found
not found       → offer to pass the question on; "yes" stores it in `unanswered` and tells the coordinators
/unanswered     → (coordinators) the open questions
/answer N TEXT  → (coordinators) the answer reaches the asker in their language
/kb_reload      → (coordinators) reload the knowledge base without a restart
The bot never invents an answer: outside the knowledge base it says so.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from bot.config import Settings
from bot.db.models import AuditLog, Unanswered, User
from bot.engine import Context, Router, main_menu
from bot.i18n import translate
from bot.messages import Button, Reply
from bot.services import unanswered
from bot.services.knowledge.entries import load_knowledge
from bot.services.knowledge.index import KnowledgeIndex
from bot.services.knowledge.text import words
from handlers.start import ensure_consent

router = Router("faq")
log = logging.getLogger("handlers.faq")

ASKING = "faq"  # flow: the user was offered to pass a question on; the next text is a new question
LIST_LIMIT = 10


@router.content_loader
def load_knowledge_base(settings: Settings, services: dict[str, Any]) -> dict[str, Any]:
    """Build the index once per load; a bad file is skipped and reported as ``file:line: problem``."""
    loaded = load_knowledge(settings.knowledge_dir)
    for problem in loaded.problems:
        log.warning("knowledge entry skipped", extra={"problem": problem})
    services["knowledge"] = KnowledgeIndex.build(loaded.entries)
    services["knowledge_entries"] = {entry.id: entry for entry in loaded.entries}
    return {"knowledge_entries": len(loaded.entries), "knowledge_problems": list(loaded.problems)}


def index(ctx: Context) -> KnowledgeIndex:
    return ctx.services["knowledge"]


@router.fallback()
async def answer_question(ctx: Context) -> None:
    question = ctx.text
    if not words(question):
        ctx.reply(ctx.t("faq.no_words"), main_menu(ctx))
        return
    result = index(ctx).search(question, ctx.lang)
    if result.outcome == "answer" and result.entry is not None:
        ctx.end_flow()
        ctx.reply(result.entry.answer(ctx.lang))
        return
    ctx.start_flow(ASKING, "offered", {"question": question[:unanswered.MAX_STORED_QUESTION]})
    if result.outcome == "suggest" and result.suggestions:
        buttons = [Button(entry.title_for(ctx.lang), f"faq:entry:{entry.id}") for entry in result.suggestions[:3]]
        buttons.append(Button(ctx.t("faq.none_of_these"), "faq:forward"))
        ctx.reply(ctx.t("faq.did_you_mean"), buttons)
        return
    ctx.reply(
        ctx.t("faq.not_found"),
        [Button(ctx.t("faq.forward_yes"), "faq:forward"), Button(ctx.t("faq.forward_no"), "faq:no")],
    )


@router.flow(ASKING)
async def next_question(ctx: Context) -> None:
    """After an offer the user typed something else: that is a new question."""
    ctx.end_flow()
    await answer_question(ctx)


@router.button("faq")
async def faq_button(ctx: Context) -> None:
    action, _, argument = (ctx.incoming.payload or "").partition(":")[2].partition(":")
    if action == "entry":
        entry = ctx.services["knowledge_entries"].get(argument)
        if entry is None:
            ctx.reply(ctx.t("core.button_expired"))
            return
        ctx.end_flow()
        ctx.reply(entry.answer(ctx.lang))
    elif action == "forward" and ctx.state.flow == ASKING and ctx.state.data.get("question"):
        if not await ensure_consent(ctx, resume="faq:forward"):  # the question waits in the state
            return
        await forward_to_coordinators(ctx, ctx.state.data["question"])
    elif action == "no" and ctx.state.flow == ASKING:
        ctx.end_flow()
        ctx.reply(ctx.t("faq.forward_declined"), main_menu(ctx))
    else:
        ctx.reply(ctx.t("core.button_expired"))


async def forward_to_coordinators(ctx: Context, question: str) -> None:
    ctx.end_flow()
    pending = await unanswered.pass_to_coordinators(ctx, question)
    ctx.reply(ctx.t("faq.forwarded", number=pending.id), main_menu(ctx))


@router.command("unanswered", coordinator=True)
async def list_unanswered(ctx: Context) -> None:
    rows = (
        await ctx.session.execute(
            select(Unanswered, User.display_name)
            .join(User, User.id == Unanswered.user_id)
            .where(Unanswered.status == "open")
            .order_by(Unanswered.created_at, Unanswered.id)
            .limit(LIST_LIMIT)
        )
    ).all()
    if not rows:
        ctx.reply(ctx.t("faq.unanswered_none"))
        return
    lines = [ctx.t("faq.unanswered_title")]
    lines += [f"#{q.id} · {name or '?'} ({q.language}): {q.question[:300]}" for q, name in rows]
    lines.append(ctx.t("faq.unanswered_howto"))
    ctx.reply("\n".join(lines))


@router.command("answer", coordinator=True)
async def answer_unanswered(ctx: Context) -> None:
    number, _, text = ctx.incoming.command_args.partition(" ")
    text = text.strip()
    if not number.lstrip("#").isdigit() or not text:
        ctx.reply(ctx.t("faq.answer_usage"))
        return
    question = await ctx.session.get(Unanswered, int(number.lstrip("#")), with_for_update=True)
    if question is None or question.status != "open":
        ctx.reply(ctx.t("faq.answer_unknown", number=number.lstrip("#")))
        return
    question.status, question.reply = "answered", text
    question.answered_by, question.answered_at = ctx.user.id, ctx.clock.now()
    asker = await ctx.session.get(User, question.user_id)
    if asker is not None:
        message = translate("faq.answer_for_you", asker.language, question=question.question[:300], answer=text)
        await ctx.notify(asker, [Reply(text=message)])
    ctx.session.add(
        AuditLog(actor_id=ctx.user.id, action="unanswered.answer", target=f"unanswered:{question.id}",
                 created_at=ctx.clock.now())
    )
    ctx.reply(ctx.t("faq.answer_sent", number=question.id))


@router.command("kb_reload", coordinator=True)
async def reload_knowledge(ctx: Context) -> None:
    summary = ctx.engine.load_content()
    ctx.session.add(AuditLog(actor_id=ctx.user.id, action="kb.reload", created_at=ctx.clock.now()))
    problems = summary.get("knowledge_problems", [])
    text = ctx.t("faq.reloaded", entries=summary.get("knowledge_entries", 0), problems=len(problems))
    ctx.reply("\n".join([text, *problems[:10]]))
