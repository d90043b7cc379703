"""Questions the bot could not answer, answered by a coordinator (moved here from handlers/faq.py, which passes
them on):

    /unanswered      open questions, oldest first; the same question asked by several members is one line
                     with how many asked it
    /answer N TEXT   the answer reaches every member who asked that question (question N and the open ones
                     worded the same), each in their language; all of them are marked answered;
                     📚 button → a knowledge-base entry drafted from the question and the answer
    📚 (kbd:draft:N) writes ``<knowledge dir>/.drafts/<id>.md`` (hidden folders are never loaded) and shows what
                     the knowledge base's checker still misses (the other language, more ways of asking)
    ✅ (kbd:ok:N)    checks the draft again: when it passes, it becomes ``<knowledge dir>/<id>.md`` and the
                     knowledge base is reloaded; otherwise what is still missing, and the draft stays
"""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Unanswered, User
from bot.engine import Context
from bot.i18n import translate
from bot.messages import Button, Reply
from bot.router import Router
from bot.services import kb_drafts
from bot.services.display import shown

router = Router("admin.answers")

LIST_LIMIT = 10


@router.command("unanswered", describe="cmd.unanswered", coordinator=True)
async def list_unanswered(ctx: Context) -> None:
    rows = (await ctx.session.execute(
        select(Unanswered, User.display_name).join(User, User.id == Unanswered.user_id)
        .where(Unanswered.status == "open").order_by(Unanswered.created_at, Unanswered.id).limit(500)
    )).all()
    if not rows:
        ctx.reply(ctx.t("faq.unanswered_none"))
        return
    groups: dict[str, list[tuple[Unanswered, str | None]]] = {}
    for question, name in rows:
        groups.setdefault(kb_drafts.same_question(question.question), []).append((question, name))
    lines = [ctx.t("faq.unanswered_title")]
    for asked in list(groups.values())[:LIST_LIMIT]:
        first, name = asked[0]
        line = f"#{first.id} · {shown(name, '?')} ({first.language}): {shown(first.question[:300])}"
        if len(asked) > 1:
            line += " " + ctx.t("answers.asked_by", count=len(asked))
        lines.append(line)
    lines.append(ctx.t("faq.unanswered_howto"))
    ctx.reply("\n".join(lines), link_preview=False)  # what members typed: no bidi controls, no link previews


@router.command("answer", describe="cmd.answer", coordinator=True)
async def answer_unanswered(ctx: Context) -> None:
    number, _, text = ctx.incoming.command_args.partition(" ")
    text = text.strip()
    if not number.lstrip("#").isdigit() or not text:
        ctx.reply(ctx.t("faq.answer_usage"))
        return
    question = await ctx.session.get(Unanswered, int(number.lstrip("#")), with_for_update=True)
    if question is None or question.status != "open":
        ctx.reply(ctx.t("faq.answer_unknown", number=number.lstrip("#")[:9]))
        return
    wording = kb_drafts.same_question(question.question)
    others = await ctx.session.scalars(select(Unanswered).where(Unanswered.status == "open",
                                                                Unanswered.id != question.id))
    asked = [question] + [other for other in others if kb_drafts.same_question(other.question) == wording]
    now = ctx.clock.now()
    told: set[int] = set()
    for item in asked:
        item.status, item.reply, item.answered_by, item.answered_at = "answered", text, ctx.user.id, now
        asker = await ctx.session.get(User, item.user_id)
        if asker is not None and asker.id not in told:  # one message per member, however often they asked
            told.add(asker.id)
            message = translate("faq.answer_for_you", asker.language, question=item.question[:300], answer=text)
            await ctx.notify(asker, [Reply(text=message)])
    ctx.audit("unanswered.answer", f"unanswered:{question.id}", questions=[item.id for item in asked],
              members=len(told))
    ctx.reply(ctx.t("answers.sent", number=question.id, count=len(told)),
              [Button(ctx.t("answers.to_knowledge"), f"kbd:draft:{question.id}")])


@router.button("kbd", coordinator=True)
async def draft_pressed(ctx: Context) -> None:
    _, action, number = ((ctx.incoming.payload or "").split(":") + ["", ""])[:3]
    question = await ctx.session.get(Unanswered, int(number)) if number.isdigit() and len(number) < 10 else None
    if question is None or question.status != "answered" or action not in ("draft", "ok"):
        ctx.reply(ctx.t("core.button_expired"))
        return
    if action == "draft":
        others = await ctx.session.scalars(select(Unanswered).where(Unanswered.reply == question.reply,
                                                                    Unanswered.status == "answered"))
        wording = kb_drafts.same_question(question.question)
        asked = [item for item in others if kb_drafts.same_question(item.question) == wording] or [question]
        path = kb_drafts.write_draft(ctx.settings.knowledge_dir, question, asked, now=ctx.clock.now())
        ctx.audit("kb.draft", f"unanswered:{question.id}")
    else:
        path = kb_drafts.draft_path(ctx.settings.knowledge_dir, question.id)
        if not path.exists():
            ctx.reply(ctx.t("core.button_expired"))
            return
    problems = kb_drafts.problems(path)
    if not problems and action == "ok":
        entry_path = kb_drafts.publish(ctx.settings.knowledge_dir, path)
        await ctx.engine.reload_content()
        ctx.audit("kb.publish", entry_path.stem)
        ctx.reply(ctx.t("answers.published", entry=entry_path.name))
        return
    missing = "\n".join(f"• {problem}" for problem in problems[:8]) or ctx.t("answers.nothing_missing")
    ctx.reply(ctx.t("answers.draft", path=str(path), missing=missing),
              [Button(ctx.t("answers.confirm"), f"kbd:ok:{question.id}")])
