"""/grant and /revoke: admins give and take roles in the chat (the command line does the same:
``lideres admin grant CHANNEL:ID ROLE``).

    /grant telegram:12345 coordinator   → the member's role changes; they are told in their language
    /revoke telegram:12345              → back to entrepreneur
    anything else                       → how to write it, with the roles
Only admins: the engine checks the coordinator role, then the "admin" guard here, at every call; a refusal
is audited and answered as an unknown command, revealing nothing.
"""

from __future__ import annotations

from bot.db.models import ROLES
from bot.engine import Context
from bot.i18n import translate
from bot.messages import Reply
from bot.router import ADMIN, Router
from bot.services import roles

router = Router("admin.roles")


@router.guard(ADMIN)
async def require_admin(ctx: Context) -> bool:
    if ctx.user.role == ADMIN:
        return True
    ctx.audit("admin.refused", f"/{ctx.incoming.command or '?'}", role=ctx.user.role)
    ctx.reply(ctx.t("core.unknown_command", command=(ctx.incoming.command or "?")[:40]), ctx.menu())
    return False


@router.command("grant", describe="cmd.grant", coordinator=True, guards=(ADMIN,))
async def grant(ctx: Context) -> None:
    member, _, role = ctx.incoming.command_args.partition(" ")
    role = role.strip().lower()
    await change(ctx, member, role)


@router.command("revoke", describe="cmd.revoke", coordinator=True, guards=(ADMIN,))
async def revoke(ctx: Context) -> None:
    await change(ctx, ctx.incoming.command_args.split(" ")[0], roles.DEFAULT_ROLE)


async def change(ctx: Context, member_text: str, role: str) -> None:
    member = roles.parse_member(member_text, ctx.user.channel) if member_text else None
    if member is None or role not in ROLES:
        ctx.reply(ctx.t("roles.usage", roles=", ".join(ROLES)))
        return
    result = await roles.set_role(ctx.session, *member, role, actor_id=ctx.user.id, now=ctx.clock.now())
    who = f"{member[0]}:{member[1]}"
    if result is None:
        ctx.reply(ctx.t("roles.unknown_member", member=who))
        return
    label = ctx.t(f"roles.role.{role}")
    if roles.bootstrapped(ctx.settings, result.user) and role != ADMIN:
        ctx.reply(ctx.t("roles.bootstrapped", member=who))
        return
    if not result.changed:
        ctx.reply(ctx.t("roles.same", member=who, role=label))
        return
    if result.user.id != ctx.user.id:
        lang = result.user.language
        text = translate("roles.you_are_now", lang, role=translate(f"roles.role.{role}", lang))
        await ctx.notify(result.user, [Reply(text=text)])
    ctx.reply(ctx.t("roles.done", member=who, role=label))
