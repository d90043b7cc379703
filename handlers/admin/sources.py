"""/sources: which event or partner brought whom (the deep links of /start, e.g. an event poster's QR code).

Per source: how many people came, how many of them agreed to the privacy notice, and how many submitted an
idea, so coordinators can tell which event or partner brings entrepreneurs who go on to apply.
"""

from __future__ import annotations

from sqlalchemy import func, select

from bot.db.models import Submission, User
from bot.engine import Context
from bot.router import Router
from bot.services.display import shown

router = Router("admin.sources")

LIMIT = 30


@router.command("sources", describe="cmd.sources", coordinator=True)
async def sources(ctx: Context) -> None:
    applied = select(Submission.user_id).where(Submission.submitted_at.is_not(None)).distinct().subquery()
    rows = (
        await ctx.session.execute(
            select(
                User.source,
                func.count(User.id),
                func.count(User.consent_at),
                func.count(applied.c.user_id),
            )
            .outerjoin(applied, applied.c.user_id == User.id)
            .group_by(User.source)
            .order_by(func.count(User.id).desc(), User.source.asc().nulls_last())
            .limit(LIMIT)
        )
    ).all()
    ctx.audit("stats.sources")
    lines = [ctx.t("sources.title")]
    for source, people, consented, submitted in rows:
        name = shown(source) or ctx.t("sources.direct")
        lines.append(ctx.t("sources.line", source=name, people=people, consented=consented, submitted=submitted))
    ctx.reply("\n".join(lines), link_preview=False)
