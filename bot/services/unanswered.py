"""Questions and requests passed to the coordinators, answered later with /answer (handlers/faq.py)."""

from __future__ import annotations

from bot.db.models import Unanswered
from bot.engine import Context
from bot.i18n import translate
from bot.messages import Reply
from bot.services import users
from bot.services.display import shown

MAX_STORED_QUESTION = 2000


async def pass_to_coordinators(ctx: Context, text: str) -> Unanswered:
    """Store ``text`` as an open question of the user and tell every coordinator, in their language,
    through the outbox (committed with the caller's transaction)."""
    pending = Unanswered(
        user_id=ctx.user.id, question=text[:MAX_STORED_QUESTION], language=ctx.lang, created_at=ctx.clock.now()
    )
    ctx.session.add(pending)
    await ctx.session.flush()
    for coordinator in await users.coordinators(ctx.session):
        notice = translate(
            "faq.coordinator_new_question",
            coordinator.language,
            number=pending.id,
            name=shown(ctx.user.display_name, "?"),
            question=shown(pending.question),
        )
        await ctx.notify(coordinator, [Reply(text=notice, link_preview=False)])
    return pending

