"""/stats: counts by status, region, SDG, language, source and week, and the same as one PNG chart, so a
coordinator sees the competition at a glance. Sections come from ``bot.services.stats`` (features add theirs
with ``@section``); the chart is drawn in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio

from bot.engine import Context
from bot.messages import Attachment
from bot.router import Router
from bot.services import stats
from bot.services.display import shown
from bot.services.submissions import LoadedForm

router = Router("admin.stats")


@router.command("stats", describe="cmd.stats", coordinator=True)
async def stats_command(ctx: Context) -> None:
    now = ctx.clock.now()
    context = stats.StatsContext(ctx.session, ctx.content(LoadedForm).form, ctx.lang, now)
    sections = await stats.collect(context)
    if not sections:
        ctx.reply(ctx.t("stats.empty"))
        return
    title = ctx.t("stats.title", date=now.date().isoformat())
    png = await asyncio.to_thread(stats.chart, sections, title)
    ctx.reply(shown(f"{title}\n\n{stats.as_text(sections)}"), link_preview=False)  # sources are user text
    ctx.reply(title, picture=Attachment("photo", filename=f"stats-{now:%Y-%m-%d}.png", mime_type="image/png",
                                        size=len(png), data=png))
