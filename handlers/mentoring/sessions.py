"""A booked session, from either side: /mysessions, cancel, change the time, and the feedback after it.

    /mysessions  the coming sessions (as entrepreneur and as mentor), each with 🔁 change time and ❌ cancel
    ❌ cancel    → "cancel the session with X on <when>?" → yes: cancelled; the other side told (calendar file
                  that removes the event); reminders not sent yet are cancelled · no: the list again
    🔁 change    → the mentor's other free times → one pressed: moved; the other side told (calendar file that
                  updates the event); reminders planned again for the new time
    feedback    (a reminder when the session ends) ⭐ 1-5 pressed → saved → FEEDBACK: a comment typed is saved,
                  or ⏭️ skip; coordinators see the figures with /mentors
"""

from __future__ import annotations

from bot.engine import Context
from bot.messages import Button
from bot.services import mentoring
from bot.services.display import shown
from handlers.mentoring.common import MAX_BUTTONS, expired, number, problem, router, short, when

FEEDBACK_FLOW = "mentoring_feedback"


@router.command("mysessions", describe="cmd.mysessions", consent=True)
async def my_sessions(ctx: Context) -> None:
    await show_sessions(ctx)


async def show_sessions(ctx: Context, note: str = "") -> None:
    mine = await mentoring.upcoming(ctx.session, ctx.user.id, ctx.clock.now())
    if not mine:
        ctx.reply((note + "\n\n" if note else "") + ctx.t("mentoring.no_sessions"),
                  [[Button(ctx.t("menu.mentoring"), "menu:mentoring")], *ctx.menu()])
        return
    lines = [note] if note else []
    lines.append(ctx.t("mentoring.sessions_title"))
    buttons: list[list[Button]] = []
    for seen in mine[:MAX_BUTTONS]:
        item = seen.session
        key = "mentoring.session_line_mentor" if seen.role == mentoring.MENTOR else "mentoring.session_line"
        lines.append(ctx.t(key, when=when(ctx, item.starts_at, item.ends_at, seen.mentor), mentor=seen.mentor.name,
                           name=seen.entrepreneur.display_name or ctx.t("mentoring.someone"), topic=item.topic))
        label = short(ctx, item.starts_at, seen.mentor)
        buttons.append([Button(ctx.t("mentoring.move_button", when=label), f"mentoring:move:{item.id}"),
                        Button(ctx.t("mentoring.cancel_button", when=label), f"mentoring:cancel:{item.id}")])
    ctx.reply(shown("\n".join(lines)), buttons, link_preview=False)  # names people typed


@router.button("mentoring:sessions", consent=True)
async def sessions_pressed(ctx: Context) -> None:
    await show_sessions(ctx)


async def own_booking(ctx: Context, prefix: str) -> mentoring.Booking | None:
    """The coming session named by the payload, if the user is one of its people (or a coordinator); else None,
    with the polite "no longer applies"."""
    session_id = number(ctx, prefix)
    seen = await mentoring.booking(ctx.session, session_id, ctx.user) if session_id is not None else None
    if seen is None or seen.session.status != mentoring.BOOKED or seen.session.ends_at <= ctx.clock.now():
        expired(ctx)
        return None
    return seen


def counterpart(ctx: Context, seen: mentoring.Booking) -> str:
    """Who the session is with, for the reader: the mentor's name, or the entrepreneur's (a coordinator reads it
    as the entrepreneur's session)."""
    if seen.role == mentoring.ENTREPRENEUR:
        return seen.mentor.name
    return shown(seen.entrepreneur.display_name, ctx.t("mentoring.someone"))


# -- cancel ---------------------------------------------------------------------------------------------------


@router.button("mentoring:cancel", consent=True)
async def cancel_pressed(ctx: Context) -> None:
    seen = await own_booking(ctx, "mentoring:cancel")
    if seen is None:
        return
    item = seen.session
    span = when(ctx, item.starts_at, item.ends_at, seen.mentor)
    ctx.reply(shown(ctx.t("mentoring.cancel_confirm", name=counterpart(ctx, seen), when=span)),
              [[Button(ctx.t("mentoring.cancel_yes"), f"mentoring:cancelyes:{item.id}")],
               [Button(ctx.t("mentoring.cancel_no"), "mentoring:sessions")]])


@router.button("mentoring:cancelyes", consent=True)
async def cancel_confirmed(ctx: Context) -> None:
    seen = await own_booking(ctx, "mentoring:cancelyes")
    if seen is None:
        return
    await mentoring.cancel_session(ctx.session, seen, now=ctx.clock.now())
    ctx.queued_deliveries = True
    answer(ctx, seen, "cancelled_self")


def answer(ctx: Context, seen: mentoring.Booking, event: str) -> None:
    """What whoever acted is told: the message and the calendar file; a coordinator acting on someone else's
    session gets a line (both people are told through the outbox)."""
    if seen.role == mentoring.COORDINATOR:
        ctx.reply(ctx.t(f"mentoring.coordinator_{event}", mentor=seen.mentor.name,
                        name=seen.entrepreneur.display_name or ctx.t("mentoring.someone")), ctx.menu())
        return
    replies = mentoring.session_message(seen, event, ctx.user, now=ctx.clock.now())
    ctx.reply(replies[0].text)
    ctx.reply(replies[-1].text, ctx.menu(), document=replies[-1].document)


# -- change the time ------------------------------------------------------------------------------------------


@router.button("mentoring:move", consent=True)
async def move_pressed(ctx: Context) -> None:
    seen = await own_booking(ctx, "mentoring:move")
    if seen is None:
        return
    offers = await mentoring.free_slots(ctx.session, ctx.clock.now(), mentor_id=seen.mentor.id)
    if not offers:
        key = "mentoring.move_none_mentor" if seen.role == mentoring.MENTOR else "mentoring.move_none"
        label = short(ctx, seen.session.starts_at, seen.mentor)
        ctx.reply(ctx.t(key, mentor=seen.mentor.name),
                  [[Button(ctx.t("mentoring.cancel_button", when=label), f"mentoring:cancel:{seen.session.id}")],
                   [Button(ctx.t("mentoring.back"), "mentoring:sessions")]])
        return
    buttons = [[Button(short(ctx, o.slot.starts_at, seen.mentor), f"mentoring:moveto:{seen.session.id}:{o.slot.id}")]
               for o in offers[:MAX_BUTTONS]]
    buttons.append([Button(ctx.t("mentoring.back"), "mentoring:sessions")])
    ctx.reply(ctx.t("mentoring.move_pick", name=counterpart(ctx, seen),
                    when=when(ctx, seen.session.starts_at, seen.session.ends_at, seen.mentor)), buttons)


@router.button("mentoring:moveto", consent=True)
async def move_to_pressed(ctx: Context) -> None:
    seen = await own_booking(ctx, "mentoring:moveto")
    slot_id = number(ctx, "mentoring:moveto", 1)
    if seen is None:
        return
    if slot_id is None:
        expired(ctx)
        return
    refused = await mentoring.move_session(ctx.session, seen, slot_id, settings=ctx.settings, now=ctx.clock.now())
    if refused is not None:
        await show_sessions(ctx, note=problem(ctx, refused))
        return
    ctx.queued_deliveries = True
    answer(ctx, seen, "moved_self")


# -- feedback -------------------------------------------------------------------------------------------------


@router.button("mentoring:rate", consent=True)
async def rate_pressed(ctx: Context) -> None:
    """``mentoring:rate:<session>:<1-5>``, from the feedback reminder: only the session's entrepreneur, once it
    has started."""
    session_id, value = number(ctx, "mentoring:rate"), number(ctx, "mentoring:rate", 1)
    seen = await mentoring.booking(ctx.session, session_id, ctx.user) if session_id is not None else None
    if (seen is None or seen.role != mentoring.ENTREPRENEUR or value is None or not 1 <= value <= 5
            or seen.session.status != mentoring.BOOKED or seen.session.starts_at > ctx.clock.now()):
        expired(ctx)
        return
    mentoring.rate(seen.session, value, ctx.clock.now())
    ctx.start_flow(FEEDBACK_FLOW, "comment", {"session": seen.session.id})
    ctx.reply(ctx.t("mentoring.feedback_thanks", stars="⭐" * value),
              [Button(ctx.t("mentoring.feedback_skip"), "mentoring:nocomment")])


@router.button("mentoring:nocomment", consent=True)
async def no_comment(ctx: Context) -> None:
    if ctx.state.flow == FEEDBACK_FLOW:
        ctx.end_flow()
    ctx.reply(ctx.t("mentoring.feedback_done"), ctx.menu())


@router.flow(FEEDBACK_FLOW)
async def comment_typed(ctx: Context) -> None:
    session_id = ctx.state.data.get("session")
    seen = await mentoring.booking(ctx.session, session_id, ctx.user) if isinstance(session_id, int) else None
    if seen is None or seen.role != mentoring.ENTREPRENEUR:
        ctx.end_flow()
        expired(ctx)
        return
    if ctx.incoming.attachment is not None or not ctx.text:
        ctx.reply(ctx.t("mentoring.feedback_text_only"),
                  [Button(ctx.t("mentoring.feedback_skip"), "mentoring:nocomment")])
        return
    mentoring.comment(seen.session, ctx.text, ctx.clock.now())
    ctx.end_flow()
    ctx.reply(ctx.t("mentoring.feedback_done"), ctx.menu())
