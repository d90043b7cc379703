"""/stop: a member leaves the network's broadcasts; /start (handlers/start.py) brings them back.

Personal messages (an answer to their question, news about their idea, their reminders) still reach them: /stop
is about announcements to many. The outbox checks the flag when each broadcast row is claimed, so /stop in the
middle of a broadcast of thousands stops it for them from the next message on.
"""

from __future__ import annotations

from bot.engine import Context
from bot.router import Router

router = Router("stop")


@router.command("stop", describe="cmd.stop")
async def stop(ctx: Context) -> None:
    if ctx.user.broadcast_opt_out:
        ctx.reply(ctx.t("stop.already"))
        return
    ctx.user.broadcast_opt_out = True
    ctx.reply(ctx.t("stop.done"))

