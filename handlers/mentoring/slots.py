"""A mentor's free times: /slots (a mentor's own; a coordinator reaches any mentor's from /mentors). States of the
flow "mentoring_slots", one a line (the mentor is in the flow's data and checked again at every step):

    /slots      the coming times in the mentor's zone (free, or booked: by whom, on what); ➕ add, 🗑 withdraw a
                free one (a booked one is cancelled from /mysessions, which tells the entrepreneur)
    ➕ add    → START: the day and time typed in the mentor's zone ("03/12 17:00", "2026-12-03 17:00"); not a date,
                or in the past → the reason and the same question (what was typed is kept and shown)
    LENGTH      30 / 45 / 60 / 90 minutes (buttons), or a number typed
    REPEAT      only that day / every week ×4 / ×8 → added; a time overlapping one the mentor already offers is
                refused with its reason, the others are added; back to /slots
"""

from __future__ import annotations

from datetime import datetime

from bot.db.models import Mentor, MentorSlot
from bot.engine import Context
from bot.messages import Button, rows
from bot.services import mentoring
from bot.services.display import shown
from bot.services.timezones import format_short as in_zone
from bot.services.timezones import format_when, parse_local, zone_label
from handlers.mentoring.common import MAX_BUTTONS, expired, number, problem, router, when

FLOW = "mentoring_slots"
START, LENGTH, REPEAT = "start", "length", "repeat"
LENGTHS = (30, 45, 60, 90)
REPEATS = (1, 4, 8)


async def managed_mentor(ctx: Context, mentor_id: object) -> Mentor | None:
    """The mentor whose times the user may manage: their own, or anyone's for a coordinator (checked on every
    call: a role can be revoked, a button forged)."""
    mentor = await ctx.session.get(Mentor, mentor_id) if isinstance(mentor_id, int) else None
    if mentor is None or (mentor.user_id != ctx.user.id and not ctx.user.is_coordinator):
        return None
    return mentor


@router.command("slots", describe="cmd.slots", consent=True)
async def slots_command(ctx: Context) -> None:
    mentor = await mentoring.mentor_of(ctx.session, ctx.user.id)
    if mentor is None:
        key = "mentoring.slots_coordinator_hint" if ctx.user.is_coordinator else "mentoring.not_a_mentor"
        ctx.reply(ctx.t(key), ctx.menu())
        return
    await show_slots(ctx, mentor)


async def show_slots(ctx: Context, mentor: Mentor, note: str = "") -> None:
    views = await mentoring.mentor_slots(ctx.session, mentor.id, ctx.clock.now())
    own = mentor.user_id == ctx.user.id
    title = ctx.t("mentoring.slots_title" if own else "mentoring.slots_title_of", name=mentor.name,
                  zone=zone_label(mentor.timezone, ctx.lang))
    lines = [note, title] if note else [title]
    if not views:
        lines.append(ctx.t("mentoring.slots_none"))
    for view in views:
        span = format_when(view.slot.starts_at, ctx.lang, mentor.timezone, view.slot.ends_at)
        if view.booked is None:
            lines.append(ctx.t("mentoring.slot_free", when=span))
        else:
            lines.append(ctx.t("mentoring.slot_booked", when=span, topic=view.booked.topic,
                               name=(view.entrepreneur.display_name if view.entrepreneur else None)
                               or ctx.t("mentoring.someone")))
    free = [view for view in views if view.booked is None][:MAX_BUTTONS]
    withdraw = [Button(ctx.t("mentoring.withdraw", when=format_short(ctx, mentor, view.slot.starts_at)),
                       f"mentoring:rm:{view.slot.id}") for view in free]
    buttons = [[Button(ctx.t("mentoring.add_slot"), f"mentoring:addslot:{mentor.id}")], *rows(*withdraw, per_row=2)]
    if any(view.booked for view in views):
        buttons.append([Button(ctx.t("mentoring.my_sessions"), "mentoring:sessions")] if own else
                       [Button(ctx.t("mentoring.cancel_booked"), f"mentoring:booked:{mentor.id}")])
    ctx.reply(shown("\n".join(lines)), buttons, link_preview=False)  # names people typed, as coordinators see them


def format_short(ctx: Context, mentor: Mentor, at: datetime) -> str:
    """A time in the mentor's zone (whoever manages a mentor's times reads them as the mentor set them)."""
    return in_zone(at, ctx.lang, mentor.timezone)


@router.button("mentoring:slots", consent=True)
async def slots_pressed(ctx: Context) -> None:
    mentor = await managed_mentor(ctx, number(ctx, "mentoring:slots"))
    if mentor is None:
        expired(ctx)
        return
    if ctx.state.flow == FLOW:
        ctx.end_flow()
    await show_slots(ctx, mentor)


@router.button("mentoring:rm", consent=True)
async def withdraw_pressed(ctx: Context) -> None:
    slot_id = number(ctx, "mentoring:rm")
    slot = await ctx.session.get(MentorSlot, slot_id) if slot_id is not None else None
    mentor = await managed_mentor(ctx, slot.mentor_id if slot else None)
    if slot is None or mentor is None:
        expired(ctx)
        return
    refused = await mentoring.remove_slot(ctx.session, mentor.id, slot.id)
    if refused is None:
        ctx.audit("mentoring.slot_remove", f"slot:{slot.id}")
    await show_slots(ctx, mentor, note=problem(ctx, refused) if refused else
                     ctx.t("mentoring.withdrawn", when=when(ctx, slot.starts_at, slot.ends_at, mentor)))


@router.button("mentoring:booked", coordinator=True)
async def booked_pressed(ctx: Context) -> None:
    """A coordinator's list of a mentor's booked sessions, to cancel one (both people are told)."""
    mentor = await managed_mentor(ctx, number(ctx, "mentoring:booked"))
    if mentor is None:
        expired(ctx)
        return
    views = [v for v in await mentoring.mentor_slots(ctx.session, mentor.id, ctx.clock.now()) if v.booked]
    buttons = [[Button(ctx.t("mentoring.cancel_button", when=format_short(ctx, mentor, v.slot.starts_at)),
                       f"mentoring:cancel:{v.booked.id}")] for v in views[:MAX_BUTTONS] if v.booked]
    buttons.append([Button(ctx.t("mentoring.back"), f"mentoring:slots:{mentor.id}")])
    ctx.reply(ctx.t("mentoring.pick_booked", name=mentor.name), buttons)


# -- adding a time ----------------------------------------------------------------------------------------------


@router.button("mentoring:addslot", consent=True)
async def add_pressed(ctx: Context) -> None:
    mentor = await managed_mentor(ctx, number(ctx, "mentoring:addslot"))
    if mentor is None:
        expired(ctx)
        return
    ctx.start_flow(FLOW, START, {"mentor": mentor.id})
    ask_start(ctx, mentor)


def ask_start(ctx: Context, mentor: Mentor, note: str = "") -> None:
    ctx.state.step = START
    text = ctx.t("mentoring.slot_ask_start", zone=zone_label(mentor.timezone, ctx.lang))
    ctx.reply(f"{note}\n\n{text}" if note else text,
              [Button(ctx.t("mentoring.back"), f"mentoring:slots:{mentor.id}")])


def ask_length(ctx: Context, note: str = "") -> None:
    ctx.state.step = LENGTH
    text = ctx.t("mentoring.slot_ask_length")
    buttons = [Button(ctx.t("mentoring.minutes", minutes=m), f"mentoring:len:{m}") for m in LENGTHS]
    ctx.reply(f"{note}\n\n{text}" if note else text, rows(*buttons, per_row=2))


def ask_repeat(ctx: Context) -> None:
    ctx.state.step = REPEAT
    buttons = [Button(ctx.t("mentoring.repeat_once") if n == 1 else ctx.t("mentoring.repeat_weekly", count=n),
                      f"mentoring:rep:{n}") for n in REPEATS]
    ctx.reply(ctx.t("mentoring.slot_ask_repeat"), buttons)


async def flow_mentor(ctx: Context) -> Mentor | None:
    mentor = await managed_mentor(ctx, ctx.state.data.get("mentor")) if ctx.state.flow == FLOW else None
    if mentor is None:
        if ctx.state.flow == FLOW:
            ctx.end_flow()
        expired(ctx)
    return mentor


@router.flow(FLOW)
async def on_message(ctx: Context) -> None:
    mentor = await flow_mentor(ctx)
    if mentor is None:
        return
    if ctx.incoming.attachment is not None or not ctx.text:
        if ctx.state.step == START:
            ask_start(ctx, mentor)
        elif ctx.state.step == LENGTH:
            ask_length(ctx)
        else:
            ask_repeat(ctx)
        return
    if ctx.state.step == START:
        ctx.state.data["typed"] = ctx.text[:100]  # kept: shown again if it was not a date
        start = parse_local(ctx.text, mentor.timezone, ctx.clock.now())
        if start is None:
            ask_start(ctx, mentor, "⚠️ " + ctx.t("mentoring.error.not_a_date", typed=ctx.text[:40]))
            return
        if start <= ctx.clock.now():
            ask_start(ctx, mentor, problem(ctx, mentoring.Problem("mentoring.error.past")))
            return
        ctx.state.data["start"] = start.isoformat()
        ask_length(ctx, ctx.t("mentoring.slot_start_ok", when=format_when(start, ctx.lang, mentor.timezone)))
    elif ctx.state.step == LENGTH:
        minutes = int(ctx.text) if ctx.text.isdigit() and len(ctx.text) < 4 else 0
        refused = mentoring.check_minutes(minutes)
        if refused is not None:
            ask_length(ctx, problem(ctx, refused))
            return
        ctx.state.data["minutes"] = minutes
        ask_repeat(ctx)
    else:
        ctx.reply(ctx.t("mentoring.use_buttons"))
        ask_repeat(ctx)


@router.button("mentoring:len", consent=True)
async def length_pressed(ctx: Context) -> None:
    mentor = await flow_mentor(ctx)
    minutes = number(ctx, "mentoring:len")
    if mentor is None:
        return
    if ctx.state.step != LENGTH or minutes not in LENGTHS:
        expired(ctx)
        return
    ctx.state.data["minutes"] = minutes
    ask_repeat(ctx)


@router.button("mentoring:rep", consent=True)
async def repeat_pressed(ctx: Context) -> None:
    mentor = await flow_mentor(ctx)
    count = number(ctx, "mentoring:rep")
    if mentor is None:
        return
    start_text, minutes = ctx.state.data.get("start"), ctx.state.data.get("minutes")
    if ctx.state.step != REPEAT or count not in REPEATS or not isinstance(start_text, str) \
            or not isinstance(minutes, int):
        expired(ctx)
        return
    added = await mentoring.add_slots(ctx.session, mentor, datetime.fromisoformat(start_text), minutes,
                                      now=ctx.clock.now(), count=count)
    ctx.end_flow()
    lines = []
    if added.created:
        lines.append(ctx.t("mentoring.slots_added", count=len(added.created)))
        ctx.audit("mentoring.slots_add", f"mentor:{mentor.id}", slots=[slot.id for slot in added.created])
    for at, refused in added.refused:
        lines.append(ctx.t("mentoring.slot_refused", when=format_when(at, ctx.lang, mentor.timezone),
                           reason=refused.text(ctx.lang)))
    await show_slots(ctx, mentor, note="\n".join(lines))

