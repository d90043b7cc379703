"""/stop: a member leaves the network's broadcasts; /start (handlers/start.py) brings them back.

Personal messages (an answer to their question, news about their idea, their reminders) still reach them: /stop
is about announcements to many. Their waiting broadcast rows are skipped at once, and the outbox checks the flag
again when each row is claimed, so /stop in the middle of a broadcast of thousands stops it for them at once.
"""

from __future__ import annotations

from bot.engine import Context
from bot.router import Router
from bot.services import broadcasts

router = Router("stop")


@router.command("stop", describe="cmd.stop")
async def stop(ctx: Context) -> None:
    if ctx.user.broadcast_opt_out:
        ctx.reply(ctx.t("stop.already"))
        return
    await broadcasts.opt_out(ctx.session, ctx.user)
    ctx.reply(ctx.t("stop.done"))

