"""Booking a session: /mentoring (🤝), /timezone. States of the flow "mentoring", one a line:

    /mentoring ─┬─ not eligible (LIDERES_MENTORING_OPEN_TO=finalists) → says so; "ask the coordinators" button
                ├─ no mentor has a free time          → REQUEST (the request goes to the coordinators)
                └─ topics of the mentors with free times (buttons) → PICK
    PICK        topic pressed → ZONE when the user never said theirs, else the free times of that topic, in the
                user's zone (mentors speaking their language first; ▶ more; 🌍 zone; ✍️ none fits → REQUEST);
                a time pressed → what, with whom, when → ✅ book → booked: confirmation with a calendar file,
                the mentor told through the outbox, reminders planned; flow ends.
                Taken meanwhile (someone pressed first) → says so and shows the times still free.
    ZONE        a zone button, or a zone typed (America/Bogota) → back to the times; an unknown one → asked again
    REQUEST     any text (10+ characters) → passed to the coordinators, who answer with /answer or /assign
    /timezone   the zone buttons, or /timezone Area/City; typed names work in ZONE too
"""

from __future__ import annotations

from bot.engine import Context
from bot.messages import Button, rows
from bot.services import mentoring, unanswered
from bot.services.timezones import zone_label
from handlers.mentoring.common import (
    MAX_BUTTONS,
    args,
    expired,
    number,
    problem,
    reader_zone,
    router,
    short,
    when,
    zone_buttons,
)

FLOW = "mentoring"
PICK, ZONE, REQUEST = "pick", "zone", "request"
MIN_REQUEST = 10


# -- /mentoring ---------------------------------------------------------------------------------------------------


@router.menu_item("mentoring", label="menu.mentoring", order=30)
@router.command("mentoring", describe="cmd.mentoring", consent=True)
async def mentoring_command(ctx: Context) -> None:
    if not await mentoring.may_book(ctx.session, ctx.user, ctx.settings):
        not_eligible(ctx)
        return
    offers = await mentoring.free_slots(ctx.session, ctx.clock.now(), not_user=ctx.user.id)
    topics = mentoring.topics_of(offers)
    if not topics:
        start_request(ctx, ctx.t("mentoring.no_times"))
        return
    ctx.start_flow(FLOW, PICK, {"topics": topics})
    mine = [b for b in await mentoring.upcoming(ctx.session, ctx.user.id, ctx.clock.now())
            if b.role == mentoring.ENTREPRENEUR]
    text = ctx.t("mentoring.pick_topic")
    extra = [Button(ctx.t("mentoring.something_else"), "mentoring:request")]
    if mine:
        text = ctx.t("mentoring.you_have_sessions", count=len(mine)) + "\n\n" + text
        extra.append(Button(ctx.t("mentoring.my_sessions"), "mentoring:sessions"))
    topic_buttons = [Button(topic, f"mentoring:topic:{i}") for i, topic in enumerate(topics)]
    ctx.reply(text, [*rows(*topic_buttons, per_row=2), *rows(*extra)])


def not_eligible(ctx: Context) -> None:
    """Booking is for finalists here; the coordinators still read anyone's request."""
    ctx.reply(ctx.t("mentoring.finalists_only"),
              [[Button(ctx.t("mentoring.ask_coordinators"), "mentoring:request")], *ctx.menu()])


@router.button("mentoring:topic", consent=True)
async def topic_pressed(ctx: Context) -> None:
    index = number(ctx, "mentoring:topic")
    topics = ctx.state.data.get("topics") if ctx.state.flow == FLOW else None
    if index is None or not isinstance(topics, list) or index >= len(topics):
        await mentoring_command(ctx)  # an old list: the current one
        return
    ctx.state.data.update(topic=topics[index], page=0)
    if ctx.user.timezone is None:
        ask_zone(ctx)
        return
    await show_times(ctx)


def current_topic(ctx: Context) -> str | None:
    topic = ctx.state.data.get("topic") if ctx.state.flow == FLOW else None
    return topic if isinstance(topic, str) else None


async def show_times(ctx: Context, *, note: str = "", edit: bool = False) -> None:
    """The free times of the chosen topic in the user's zone, a page at a time."""
    topic = current_topic(ctx)
    if topic is None:
        await mentoring_command(ctx)
        return
    ctx.state.step = PICK
    offers = await mentoring.free_slots(ctx.session, ctx.clock.now(), topic=topic, not_user=ctx.user.id)
    if not offers:
        start_request(ctx, (note + "\n\n" if note else "") + ctx.t("mentoring.no_times_topic", topic=topic))
        return
    speaking = [offer for offer in offers if ctx.lang in offer.mentor.languages]
    lines = [note] if note else []
    if speaking:
        offers = speaking
    else:
        lines.append(ctx.t("mentoring.other_languages"))
    page = int(ctx.state.data.get("page") or 0)
    if page * MAX_BUTTONS >= len(offers):
        page = 0
    ctx.state.data["page"] = page
    shown = offers[page * MAX_BUTTONS:(page + 1) * MAX_BUTTONS]
    lines.append(ctx.t("mentoring.times_title", topic=topic, zone=zone_label(reader_zone(ctx), ctx.lang)))
    buttons: list[list[Button]] = [
        [Button(f"{short(ctx, o.slot.starts_at)} · {o.mentor.name}", f"mentoring:slot:{o.slot.id}")] for o in shown
    ]
    more = [Button(ctx.t("mentoring.more"), f"mentoring:more:{page + 1}")] if len(offers) > (page + 1) * MAX_BUTTONS \
        else []
    buttons.append([*more, Button(ctx.t("mentoring.change_zone"), "mentoring:tzask")])
    buttons.append([Button(ctx.t("mentoring.none_fits"), "mentoring:request")])
    ctx.reply("\n\n".join(lines), buttons, edit=edit)


@router.button("mentoring:more", consent=True)
async def more_pressed(ctx: Context) -> None:
    page = number(ctx, "mentoring:more")
    if page is None or current_topic(ctx) is None:
        await mentoring_command(ctx)
        return
    ctx.state.data["page"] = page
    await show_times(ctx, edit=True)


@router.button("mentoring:slot", consent=True)
async def slot_pressed(ctx: Context) -> None:
    """What booking this time means, before it is booked (a mis-tap on a phone books nothing)."""
    slot_id = number(ctx, "mentoring:slot")
    offers = await mentoring.free_slots(ctx.session, ctx.clock.now(), not_user=ctx.user.id)
    offer = next((o for o in offers if o.slot.id == slot_id), None)
    if offer is None:
        await show_times(ctx, note=problem(ctx, mentoring.Problem("mentoring.error.slot_gone")))
        return
    topic = current_topic(ctx) or offer.mentor.topics[0]
    text = ctx.t("mentoring.confirm", mentor=offer.mentor.name, topic=topic,
                 when=when(ctx, offer.slot.starts_at, offer.slot.ends_at),
                 languages=", ".join(str(lang) for lang in offer.mentor.languages))
    ctx.reply(text, [[Button(ctx.t("mentoring.book"), f"mentoring:book:{offer.slot.id}")],
                     [Button(ctx.t("mentoring.other_times"), "mentoring:more:0")]])


@router.button("mentoring:book", consent=True)
async def book_pressed(ctx: Context) -> None:
    slot_id = number(ctx, "mentoring:book")
    if slot_id is None:
        expired(ctx)
        return
    if not await mentoring.may_book(ctx.session, ctx.user, ctx.settings):
        not_eligible(ctx)
        return
    topic = current_topic(ctx)
    if topic is None:  # the flow was left (/cancel) but the button is still on screen: the mentor's first topic
        offer = next((o for o in await mentoring.free_slots(ctx.session, ctx.clock.now()) if o.slot.id == slot_id),
                     None)
        topic = offer.mentor.topics[0] if offer else "-"
    booked = await mentoring.book(ctx.session, slot_id, ctx.user, topic, settings=ctx.settings, now=ctx.clock.now())
    ctx.queued_deliveries = True
    if isinstance(booked, mentoring.Problem):
        if current_topic(ctx) is None:
            ctx.start_flow(FLOW, PICK, {"topic": topic, "page": 0})
        await show_times(ctx, note=problem(ctx, booked))
        return
    if ctx.state.flow == FLOW:  # a booking button pressed from inside another flow leaves that one be
        ctx.end_flow()
    seen = await mentoring.booking(ctx.session, booked.id, ctx.user)
    assert seen is not None
    replies = mentoring.session_message(seen, "confirmed", ctx.user, now=ctx.clock.now())
    for reply in replies[:-1]:
        ctx.reply(reply.text)
    ctx.reply(replies[-1].text, ctx.menu(), document=replies[-1].document)


# -- the user's time zone -----------------------------------------------------------------------------------------


def ask_zone(ctx: Context, note: str = "") -> None:
    if ctx.state.flow != FLOW:
        ctx.start_flow(FLOW, ZONE)
    ctx.state.step = ZONE
    current = ctx.t("mentoring.zone_current", zone=zone_label(ctx.user.timezone, ctx.lang)) \
        if ctx.user.timezone else ""
    text = "\n\n".join(part for part in (note, current, ctx.t("mentoring.zone_ask")) if part)
    ctx.reply(text, zone_buttons(ctx, "mentoring:tz"))


@router.command("timezone", describe="cmd.timezone", consent=True)
async def timezone_command(ctx: Context) -> None:
    typed = ctx.incoming.command_args
    if typed:
        await zone_typed(ctx, typed)
        return
    ctx.start_flow(FLOW, ZONE)
    ask_zone(ctx)


@router.button("mentoring:tzask", consent=True)
async def zone_change_pressed(ctx: Context) -> None:
    ask_zone(ctx)


@router.button("mentoring:tz", consent=True)
async def zone_pressed(ctx: Context) -> None:
    name = ":".join(args(ctx, "mentoring:tz"))
    if name not in ctx.settings.timezone_list:
        expired(ctx)
        return
    await set_zone(ctx, name)


async def zone_typed(ctx: Context, text: str) -> None:
    checked = mentoring.clean_zone(text)
    if isinstance(checked, mentoring.Problem):
        ask_zone(ctx, problem(ctx, checked))
        return
    await set_zone(ctx, checked)


async def set_zone(ctx: Context, name: str) -> None:
    """Save the zone; back to the times when the user was choosing one, else done."""
    ctx.user.timezone = name
    note = ctx.t("mentoring.zone_set", zone=zone_label(name, ctx.lang))
    if current_topic(ctx) is not None:
        await show_times(ctx, note=note)
        return
    ctx.end_flow()
    ctx.reply(note, ctx.menu())


# -- the coordinators, when no time fits -----------------------------------------------------------------------


def start_request(ctx: Context, intro: str) -> None:
    ctx.start_flow(FLOW, REQUEST)
    ctx.reply(intro + "\n\n" + ctx.t("mentoring.ask"))


@router.button("mentoring:request", consent=True)
async def request_pressed(ctx: Context) -> None:
    start_request(ctx, ctx.t("mentoring.request_intro"))


@router.flow(FLOW)
async def on_message(ctx: Context) -> None:
    """Typed text in the flow: a request, a zone's name, or (while choosing) a reminder that buttons choose."""
    if ctx.state.step == REQUEST:
        await request_typed(ctx)
    elif ctx.state.step == ZONE:
        if ctx.incoming.attachment is not None or not ctx.text:
            ask_zone(ctx)
            return
        await zone_typed(ctx, ctx.text)
    else:
        topics = ctx.state.data.get("topics") or []
        typed = next((t for t in topics if isinstance(t, str) and t.casefold() == ctx.text.casefold()), None)
        if typed is not None:  # a topic typed instead of pressed (channels without buttons, or habit)
            ctx.state.data.update(topic=typed, page=0)
            if ctx.user.timezone is None:
                ask_zone(ctx)
            else:
                await show_times(ctx)
            return
        ctx.reply(ctx.t("mentoring.use_buttons"))
        if current_topic(ctx) is not None:
            await show_times(ctx)
        else:
            await mentoring_command(ctx)


async def request_typed(ctx: Context) -> None:
    if ctx.incoming.attachment is not None or len(ctx.text) < MIN_REQUEST:
        ctx.reply(ctx.t("mentoring.too_short", minimum=MIN_REQUEST))
        return
    ctx.end_flow()
    pending = await unanswered.pass_to_coordinators(ctx, ctx.t("mentoring.request_prefix") + ctx.text)
    ctx.reply(ctx.t("mentoring.sent", number=pending.id), ctx.menu())
