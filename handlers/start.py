"""First contact and the always-available commands: /start, /help, /menu, /cancel, /lang.

/start    → welcome, short privacy notice ("more about privacy" sends the full notice, handlers/privacy.py);
            "I agree" records consent, keeps the platform's name from then on, and shows the main menu
/start X  → the same, and X (a deep link from an event poster's QR code) is recorded as the user's source
/lang     → language buttons (or /lang en)
/cancel   → leaves any flow; drafts stay where their feature saved them
"""

from __future__ import annotations

import re

from bot.engine import Context
from bot.messages import Button
from bot.router import ADMIN, CONSENT, Router
from bot.services import broadcasts, users

router = Router("start")

SOURCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what Telegram allows in a deep-link payload
LANGUAGE_NAMES = {"es": "Español", "en": "English"}


def language_buttons() -> list[Button]:
    return [Button(name, f"lang:{code}") for code, name in LANGUAGE_NAMES.items()]


def consent_prompt(ctx: Context) -> None:
    ctx.reply(
        ctx.t("start.privacy_notice"),
        [[Button(ctx.t("start.consent_yes"), "consent:yes")], [Button(ctx.t("start.privacy_more"), "privacy")]],
    )


@router.guard(CONSENT)
async def require_consent(ctx: Context) -> bool:
    """Routes that store personal data (``consent=True``) pass here first; without consent it asks for it,
    and keeps a way back to what the user was doing, offered as "continue" once they agree."""
    if ctx.user.consent_at is not None:
        return True
    again = ctx.again_payload()
    if again is not None:
        ctx.state.data["after_consent"] = again
    consent_prompt(ctx)
    return False


@router.command("start", describe="cmd.start")
async def start(ctx: Context) -> None:
    source = ctx.incoming.command_args
    if source and SOURCE_PATTERN.fullmatch(source) and ctx.user.source is None:
        ctx.user.source = source
    if broadcasts.opt_in(ctx.user):  # /stop left the network's announcements (handlers/stop.py); /start comes back
        ctx.reply(ctx.t("stop.resumed"))
    greeted = users.name_to_greet(ctx.user, ctx.incoming)
    name = f" {greeted}" if greeted else ""  # the web chat's visitors have no name: "¡Hola!", not "¡Hola !"
    if ctx.user.consent_at is None:
        ctx.reply(ctx.t("start.welcome", name=name), [language_buttons()])
        consent_prompt(ctx)
        return
    ctx.reply(ctx.t("start.welcome_back", name=name), ctx.menu())


@router.button("consent")
async def give_consent(ctx: Context) -> None:
    if ctx.user.consent_at is None:
        ctx.user.consent_at = ctx.clock.now()
        users.remember_name(ctx.user, ctx.incoming)
    resume = ctx.state.data.pop("after_consent", None)
    if isinstance(resume, str):
        ctx.reply(ctx.t("start.consent_thanks"), [(Button(ctx.t("start.continue"), resume),), *ctx.menu()])
        return
    ctx.reply(ctx.t("start.consent_thanks"), ctx.menu())


@router.menu_item("help", label="menu.help", order=90)
@router.command("help", describe="cmd.help")
async def help_command(ctx: Context) -> None:
    lines = [ctx.t("help.intro")]
    lines += [f"/{name} — {ctx.t(key)}" for name, key in ctx.engine.menu_commands()]
    if ctx.user.is_coordinator:
        lines += ["", ctx.t("help.coordinator"), *coordinator_lines(ctx)]
    ctx.reply("\n".join(lines), ctx.menu())


def coordinator_lines(ctx: Context) -> list[str]:
    """The coordinators' part of /help, from the routes registered with ``coordinator=True`` and ``describe=``
    (so a new command is listed without a text to update), by feature; the admins' own (/grant) last, to admins."""
    listed = [command for command in ctx.engine.commands.values() if command.route.coordinator_only
              and command.describe and (ADMIN not in command.route.guards or ctx.user.role == ADMIN)]
    listed.sort(key=lambda command: ADMIN in command.route.guards)
    return [f"/{command.name} — {ctx.t(command.describe)}" for command in listed if command.describe]


@router.command("menu", describe="cmd.menu")
async def menu(ctx: Context) -> None:
    ctx.reply(ctx.t("menu.title"), ctx.menu())


@router.command("cancel", describe="cmd.cancel")
async def cancel(ctx: Context) -> None:
    was_in_flow = ctx.state.flow is not None
    ctx.end_flow()
    ctx.reply(ctx.t("cancel.done" if was_in_flow else "cancel.nothing"), ctx.menu())


@router.command("lang", "language", describe="cmd.lang")
async def choose_language(ctx: Context) -> None:
    wanted = ctx.incoming.command_args.lower()
    if wanted in LANGUAGE_NAMES:
        set_language(ctx, wanted)
        return
    ctx.reply(ctx.t("lang.choose"), [language_buttons()])


@router.button("lang")
async def language_pressed(ctx: Context) -> None:
    wanted = ctx.incoming.payload.partition(":")[2] if ctx.incoming.payload else ""
    if wanted not in LANGUAGE_NAMES:
        ctx.reply(ctx.t("core.button_expired"))
        return
    set_language(ctx, wanted)


def set_language(ctx: Context, lang: str) -> None:
    ctx.user.language = lang
    ctx.user.language_chosen = True
    if ctx.user.consent_at is None:
        ctx.reply(ctx.t("lang.changed"))
        consent_prompt(ctx)
        return
    ctx.reply(ctx.t("lang.changed"), ctx.menu())
