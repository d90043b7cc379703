"""What the mentoring conversations share: the router, how payloads are read, and times as the reader sees them."""

from __future__ import annotations

from datetime import datetime

from bot.db.models import Mentor
from bot.engine import Context
from bot.messages import Button
from bot.router import Router
from bot.services import mentoring
from bot.services.timezones import format_short, format_when, zone_label

router = Router("mentoring")

PREFIX = "mentoring"
MAX_BUTTONS = 8  # times listed at once: a phone screen of buttons


def args(ctx: Context, prefix: str) -> list[str]:
    """The parts of the pressed payload after ``prefix`` ("mentoring:book:12" → ["12"])."""
    payload = ctx.incoming.payload or ""
    return payload.removeprefix(prefix).strip(":").split(":") if payload.startswith(prefix) else []


def number(ctx: Context, prefix: str, index: int = 0) -> int | None:
    """The ``index``-th part after ``prefix`` as a number; None for anything else (a forged or garbled payload)."""
    parts = args(ctx, prefix)
    if len(parts) <= index or not parts[index].isdigit() or len(parts[index]) > 12:
        return None
    return int(parts[index])


def expired(ctx: Context) -> None:
    """A button that no longer applies (forged, stale, someone else's): said politely, with the menu."""
    ctx.reply(ctx.t("mentoring.expired"), ctx.menu())


def reader_zone(ctx: Context, mentor: Mentor | None = None) -> str:
    """The zone the user reads times in: theirs, else the mentor's (whose zone the times were set in), else the
    network's first."""
    return ctx.user.timezone or (mentor.timezone if mentor else None) or ctx.settings.timezone_list[0]


def when(ctx: Context, starts: datetime, ends: datetime | None = None, mentor: Mentor | None = None) -> str:
    return format_when(starts, ctx.lang, reader_zone(ctx, mentor), ends)


def short(ctx: Context, starts: datetime, mentor: Mentor | None = None) -> str:
    return format_short(starts, ctx.lang, reader_zone(ctx, mentor))


def zone_buttons(ctx: Context, prefix: str) -> list[list[Button]]:
    """The network's zones (``LIDERES_TIMEZONES``) by their names in the user's language, one per row."""
    return [[Button(zone_label(name, ctx.lang), f"{prefix}:{name}")] for name in ctx.settings.timezone_list]


def problem(ctx: Context, refused: mentoring.Problem) -> str:
    return "⚠️ " + refused.text(ctx.lang)
