"""First contact and the always-available commands: /start, /help, /menu, /cancel, /lang, /privacy.

/start    → welcome, short privacy notice; "I agree" records consent and shows the main menu
/start X  → the same, and X (a deep link from an event poster's QR code) is recorded as the user's source
/lang     → language buttons (or /lang en)
/cancel   → leaves any flow; drafts stay where their feature saved them
"""

from __future__ import annotations

import re

from bot.engine import Context, Router, main_menu
from bot.messages import Button

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


async def ensure_consent(ctx: Context, resume: str | None = None) -> bool:
    """Features that store personal data call this first; without consent it asks for it. ``resume`` is
    the payload of a "continue" button offered once the user agrees, to pick up where they were."""
    if ctx.user.consent_at is not None:
        return True
    if resume is not None:
        ctx.state.data["after_consent"] = resume
    consent_prompt(ctx)
    return False


@router.command("start", menu="cmd.start")
async def start(ctx: Context) -> None:
    source = ctx.incoming.command_args
    if source and SOURCE_PATTERN.fullmatch(source) and ctx.user.source is None:
        ctx.user.source = source
    name = ctx.user.display_name or ""
    if ctx.user.consent_at is None:
        ctx.reply(ctx.t("start.welcome", name=name), [language_buttons()])
        consent_prompt(ctx)
        return
    ctx.reply(ctx.t("start.welcome_back", name=name), main_menu(ctx))


@router.button("consent")
async def give_consent(ctx: Context) -> None:
    if ctx.user.consent_at is None:
        ctx.user.consent_at = ctx.clock.now()
    resume = ctx.state.data.pop("after_consent", None)
    if isinstance(resume, str):
        ctx.reply(ctx.t("start.consent_thanks"), [Button(ctx.t("start.continue"), resume), *main_menu(ctx)])
        return
    ctx.reply(ctx.t("start.consent_thanks"), main_menu(ctx))


@router.command("help", menu="cmd.help")
async def help_command(ctx: Context) -> None:
    lines = [ctx.t("help.intro")]
    lines += [f"/{name} — {ctx.t(key)}" for name, key in ctx.engine.menu_commands()]
    if ctx.user.is_coordinator:
        lines.append(ctx.t("help.coordinator"))
    ctx.reply("\n".join(lines), main_menu(ctx))


@router.command("menu", menu="cmd.menu")
async def menu(ctx: Context) -> None:
    ctx.reply(ctx.t("menu.title"), main_menu(ctx))


@router.command("cancel", menu="cmd.cancel")
async def cancel(ctx: Context) -> None:
    was_in_flow = ctx.state.flow is not None
    ctx.end_flow()
    ctx.reply(ctx.t("cancel.done" if was_in_flow else "cancel.nothing"), main_menu(ctx))


@router.command("lang", "language", menu="cmd.lang")
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
    ctx.reply(ctx.t("lang.changed"), main_menu(ctx))


@router.command("privacy", menu="cmd.privacy")
@router.button("privacy")
async def privacy(ctx: Context) -> None:
    status = (
        ctx.t("privacy.consent_given", date=ctx.user.consent_at.date().isoformat())
        if ctx.user.consent_at
        else ctx.t("privacy.consent_missing")
    )
    buttons = [] if ctx.user.consent_at else [Button(ctx.t("start.consent_yes"), "consent:yes")]
    ctx.reply(f"{ctx.t('privacy.details')}\n\n{status}", buttons)


@router.button("menu")
async def menu_pressed(ctx: Context) -> None:
    """Main-menu buttons run the feature's command when that feature is installed."""
    choice = ctx.incoming.payload.partition(":")[2] if ctx.incoming.payload else ""
    if choice == "ask":
        ctx.reply(ctx.t("menu.ask_prompt"))
        return
    if choice == "help":
        await help_command(ctx)
        return
    command = ctx.engine.commands.get(choice)
    if choice in MENU_COMMANDS and command is not None:
        await ctx.engine.run_route(command.route, ctx)
        return
    if choice in MENU_COMMANDS:
        ctx.reply(ctx.t("menu.coming_soon"), main_menu(ctx))
        return
    ctx.reply(ctx.t("core.button_expired"))


MENU_COMMANDS = {"idea", "mentoring", "mysubmissions"}
