"""Mentoring requests, until booking in the chat exists: the user says what they need, a coordinator
arranges it and answers through /answer (the same path as questions the bot could not answer).

/mentoring or 🤝 → consent if missing → "what do you need, and when can you?"
REQUEST          → any text: passed to the coordinators; /cancel leaves without sending anything
"""

from __future__ import annotations

from bot.engine import Context
from bot.router import Router
from bot.services import unanswered

router = Router("mentoring")

FLOW = "mentoring"
MIN_REQUEST = 10


@router.menu_item("mentoring", label="menu.mentoring", order=30)
@router.command("mentoring", describe="cmd.mentoring", consent=True)
async def mentoring(ctx: Context) -> None:
    ctx.start_flow(FLOW, "request")
    ctx.reply(ctx.t("mentoring.ask"))


@router.flow(FLOW)
async def request(ctx: Context) -> None:
    if ctx.incoming.attachment is not None or len(ctx.text) < MIN_REQUEST:
        ctx.reply(ctx.t("mentoring.too_short", minimum=MIN_REQUEST))
        return
    ctx.end_flow()
    pending = await unanswered.pass_to_coordinators(ctx, ctx.t("mentoring.request_prefix") + ctx.text)
    ctx.reply(ctx.t("mentoring.sent", number=pending.id), ctx.menu())
