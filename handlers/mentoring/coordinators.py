"""Coordinators and mentoring: /mentors, adding a mentor, and /assign (the role is checked on every call).

    /mentors     how mentoring goes (sessions coming and held, feedback, reminders), then each mentor (topics,
                 languages, zone, free times) with 🗓 their times and ⏸/▶ pause or resume; ➕ add a mentor
    ➕ add     → WHO: their chat user as channel:id (telegram:12345) → NAME → TOPICS (comma-separated) →
                 LANGUAGES (buttons) → ZONE (the network's zones, or one typed) → saved; the mentor is told
                 (in their language) to add their times with /slots. Each answer is kept in the flow's data; a
                 wrong one gets its reason and the same question.
    /assign X    X = channel:id or the number of a mentoring request (/unanswered) → a mentor with free times →
                 one of their times → the topic → booked for that person: both told, reminders planned, the
                 request closed
"""

from __future__ import annotations

from collections.abc import Callable

from bot.db.models import Mentor, Unanswered, User
from bot.engine import Context
from bot.i18n import translate
from bot.messages import Button, rows
from bot.services import mentoring, stats, users
from bot.services.display import shown
from bot.services.outbox import new_delivery
from bot.services.timezones import zone_label
from handlers.mentoring.common import (
    MAX_BUTTONS,
    args,
    expired,
    number,
    problem,
    router,
    short,
    when,
    zone_buttons,
)

FLOW = "mentoring_mentor"
WHO, NAME, TOPICS, LANGUAGES, ZONE = "who", "name", "topics", "languages", "zone"
ASSIGN_FLOW = "mentoring_assign"
LANGUAGE_CHOICES = {"es": ["es"], "en": ["en"], "both": ["es", "en"]}


# -- /mentors -----------------------------------------------------------------------------------------------------


@router.menu_item("mentors", label="menu.mentors", order=75)
@router.command("mentors", describe="cmd.mentors", coordinator=True)  # /help: coordinators only
async def mentors_command(ctx: Context) -> None:
    await show_mentors(ctx)


async def show_mentors(ctx: Context, note: str = "") -> None:
    figures = await mentoring.figures(ctx.session, ctx.clock.now())
    mentors = await mentoring.all_mentors(ctx.session)
    offers = await mentoring.free_slots(ctx.session, ctx.clock.now())
    header = [note] if note else []
    header += [stats_text(ctx, figures), ctx.t("mentoring.mentors_title" if mentors else "mentoring.mentors_none")]
    lines: list[str] = []
    buttons: list[list[Button]] = [[Button(ctx.t("mentoring.add_mentor"), "mentoring:newmentor")]]
    for mentor in mentors:
        free = sum(1 for offer in offers if offer.mentor.id == mentor.id)
        lines.append(ctx.t("mentoring.mentor_line", name=mentor.name, topics=", ".join(mentor.topics),
                           languages=", ".join(mentor.languages), zone=zone_label(mentor.timezone, ctx.lang),
                           free=free, state="" if mentor.active else ctx.t("mentoring.inactive")))
        pause = ctx.t("mentoring.pause" if mentor.active else "mentoring.resume", name=mentor.name)
        buttons.append([Button(shown(f"🗓 {mentor.name}"), f"mentoring:slots:{mentor.id}"),
                        Button(shown(pause), f"mentoring:toggle:{mentor.id}")])
    ctx.reply(shown("\n\n".join(header) + ("\n" + "\n".join(lines) if lines else "")), buttons, link_preview=False)


def stats_text(ctx: Context, figures: mentoring.Figures) -> str:
    """The mentoring section of the coordinators' figures."""
    average = f"{figures.average:.1f}" if figures.average is not None else "–"
    lines = [ctx.t("mentoring.stats", mentors=figures.mentors, free=figures.open_slots, upcoming=figures.upcoming,
                   held=figures.held, cancelled=figures.cancelled, rated=figures.rated, average=average,
                   sent=figures.reminders.get("queued", 0), missed=figures.reminders.get("missed", 0),
                   pending=figures.reminders.get("pending", 0))]
    lines += [ctx.t("mentoring.stats_comment", stars="⭐" * rating, comment=text[:200])
              for rating, text in figures.comments]
    return "\n".join(lines)


@stats.section(order=70)
async def sessions_section(ctx: stats.StatsContext) -> stats.Section | None:
    """/stats: mentoring sessions (coming, held, cancelled) and free times; nothing before the first mentor."""
    figures = await mentoring.figures(ctx.session, ctx.now, comments=0)
    if not figures.mentors and not figures.upcoming and not figures.held:
        return None
    return stats.Section(ctx.t("mentoring.stats_sessions"), [
        (ctx.t("mentoring.stats_upcoming"), figures.upcoming), (ctx.t("mentoring.stats_held"), figures.held),
        (ctx.t("mentoring.stats_cancelled"), figures.cancelled), (ctx.t("mentoring.stats_free"), figures.open_slots),
        (ctx.t("mentoring.stats_missed"), figures.reminders.get("missed", 0)),
    ])


@stats.section(order=71)
async def feedback_section(ctx: stats.StatsContext) -> stats.Section | None:
    """/stats: how entrepreneurs rated their sessions, 1 to 5, with the average in the title."""
    ratings = await mentoring.ratings(ctx.session)
    if not ratings:
        return None
    average = sum(value * count for value, count in ratings.items()) / sum(ratings.values())
    return stats.Section(ctx.t("mentoring.stats_feedback", average=f"{average:.1f}"),
                         [("⭐" * value, ratings.get(value, 0)) for value in range(5, 0, -1)])


@router.button("mentoring:toggle", coordinator=True)
async def toggle_pressed(ctx: Context) -> None:
    mentor_id = number(ctx, "mentoring:toggle")
    mentor = await ctx.session.get(Mentor, mentor_id) if mentor_id is not None else None
    if mentor is None:
        expired(ctx)
        return
    mentor.active, mentor.updated_at = not mentor.active, ctx.clock.now()
    action = "mentoring.mentor_" + ("resume" if mentor.active else "pause")
    ctx.audit(action, f"mentor:{mentor.id}")
    await show_mentors(ctx, ctx.t("mentoring.resumed" if mentor.active else "mentoring.paused", name=mentor.name))


# -- adding a mentor ----------------------------------------------------------------------------------------------


@router.button("mentoring:newmentor", coordinator=True)
async def new_mentor_pressed(ctx: Context) -> None:
    ctx.start_flow(FLOW, WHO)
    ctx.reply(ctx.t("mentoring.mentor_ask_who"))


def ask(ctx: Context, step: str, note: str = "") -> None:
    ctx.state.step = step
    text = ctx.t(f"mentoring.mentor_ask_{step}")
    buttons: list[list[Button]] = []
    if step == LANGUAGES:
        buttons = [[Button(ctx.t(f"mentoring.languages_{key}"), f"mentoring:mlang:{key}") for key in LANGUAGE_CHOICES]]
    elif step == ZONE:
        buttons = zone_buttons(ctx, "mentoring:mtz")
    ctx.reply(f"{note}\n\n{text}" if note else text, buttons)


@router.flow(FLOW)
async def mentor_typed(ctx: Context) -> None:
    """Each typed answer is checked and kept in the flow's data before the next question."""
    if not ctx.user.is_coordinator:  # the role was revoked half-way
        ctx.end_flow()
        ctx.reply(ctx.t("core.not_allowed"))
        return
    step, text = ctx.state.step or WHO, ctx.text
    if ctx.incoming.attachment is not None or not text or step not in STEPS:
        ask(ctx, step, ctx.t("mentoring.use_buttons") if step == LANGUAGES else "")
        return
    check, kept_as, following = STEPS[step]
    answer = check(text)
    if isinstance(answer, mentoring.Problem):
        ask(ctx, step, problem(ctx, answer))
        return
    if step == ZONE and isinstance(answer, str):
        await save(ctx, answer)
        return
    ctx.state.data[kept_as] = answer
    ask(ctx, following)


def member_key(text: str) -> str | mentoring.Problem:
    """The mentor's chat user as typed, ``channel:id``."""
    key = mentoring.parse_user_key(text)
    return f"{key[0]}:{key[1]}" if key else mentoring.Problem("mentoring.cli.bad_user", {"user": text[:40]})


# The typed steps: how the answer is checked, where it is kept in the flow's data, the next question (the zone,
# last, saves the mentor). The languages are buttons.
STEPS: dict[str, tuple[Callable[[str], object], str, str]] = {
    WHO: (member_key, "user", NAME),
    NAME: (mentoring.clean_name, "name", TOPICS),
    TOPICS: (mentoring.clean_topics, "topics", LANGUAGES),
    ZONE: (mentoring.clean_zone, "zone", ""),
}


@router.button("mentoring:mlang", coordinator=True)
async def languages_pressed(ctx: Context) -> None:
    choice = ":".join(args(ctx, "mentoring:mlang"))
    if ctx.state.flow != FLOW or ctx.state.step != LANGUAGES or choice not in LANGUAGE_CHOICES:
        expired(ctx)
        return
    ctx.state.data["languages"] = LANGUAGE_CHOICES[choice]
    ask(ctx, ZONE)


@router.button("mentoring:mtz", coordinator=True)
async def zone_pressed(ctx: Context) -> None:
    name = ":".join(args(ctx, "mentoring:mtz"))
    if ctx.state.flow != FLOW or ctx.state.step != ZONE or name not in ctx.settings.timezone_list:
        expired(ctx)
        return
    await save(ctx, name)


async def save(ctx: Context, zone: str) -> None:
    data = ctx.state.data
    key = mentoring.parse_user_key(str(data.get("user") or ""))
    name, topics, languages = data.get("name"), data.get("topics"), data.get("languages")
    if key is None or not isinstance(name, str) or not isinstance(topics, list) or not isinstance(languages, list):
        ctx.end_flow()
        expired(ctx)
        return
    user = await mentoring.user_by_key(ctx.session, *key, language=ctx.settings.default_language)
    mentor, created = await mentoring.save_mentor(ctx.session, user, name=name, topics=[str(t) for t in topics],
                                                  languages=[str(lang) for lang in languages], timezone=zone,
                                                  now=ctx.clock.now())
    ctx.end_flow()
    ctx.audit("mentoring.mentor_" + ("add" if created else "update"), f"mentor:{mentor.id}")
    text = ctx.t("mentoring.mentor_saved" if created else "mentoring.mentor_updated", name=mentor.name)
    if user.last_seen_at is None:  # never wrote to the bot: no platform lets it write first
        text += "\n\n" + ctx.t("mentoring.mentor_unreachable")
    elif user.id != ctx.user.id and created:  # told in their language when it is sent
        ctx.session.add(new_delivery(user.id, now=ctx.clock.now(), renderer="catalog", values={
            "key": "mentoring.you_are_mentor", "values": {"name": mentor.name, "topics": ", ".join(mentor.topics)}}))
        ctx.queued_deliveries = True
    ctx.reply(text,
              [[Button(ctx.t("mentoring.add_slot"), f"mentoring:addslot:{mentor.id}")],
               [Button(ctx.t("mentoring.back"), "run:mentors")]])


# -- /assign ------------------------------------------------------------------------------------------------------


@router.command("assign", describe="cmd.assign", coordinator=True)
async def assign_command(ctx: Context) -> None:
    """``/assign telegram:12345`` or ``/assign 7`` (a mentoring request's number): a session for that person."""
    target = ctx.incoming.command_args.strip().lstrip("#")
    person: User | None = None
    request_id: int | None = None
    if target.isdigit() and len(target) < 12:
        request = await ctx.session.get(Unanswered, int(target))
        person = await ctx.session.get(User, request.user_id) if request else None
        request_id = request.id if request else None
    elif (key := mentoring.parse_user_key(target)) is not None:
        person = await users.find(ctx.session, *key)
    if person is None:
        ctx.reply(ctx.t("mentoring.assign_usage"))
        return
    offers = await mentoring.free_slots(ctx.session, ctx.clock.now(), not_user=person.id)
    mentors = {offer.mentor.id: offer.mentor for offer in offers}
    if not mentors:
        ctx.reply(ctx.t("mentoring.assign_no_times"), [Button(ctx.t("mentoring.back"), "run:mentors")])
        return
    ctx.start_flow(ASSIGN_FLOW, "mentor", {"person": person.id, "request": request_id})
    name = person.display_name or f"{person.channel}:{person.external_id}"
    ctx.reply(shown(ctx.t("mentoring.assign_pick_mentor", name=name)),
              rows(*[Button(shown(f"{m.name} · {', '.join(m.topics)}"[:60]), f"mentoring:am:{m.id}")
                     for m in mentors.values()]), link_preview=False)


async def assigning(ctx: Context) -> tuple[User, dict[str, object]] | None:
    person_id = ctx.state.data.get("person") if ctx.state.flow == ASSIGN_FLOW else None
    person = await ctx.session.get(User, person_id) if isinstance(person_id, int) else None
    if person is None:
        expired(ctx)
        return None
    return person, ctx.state.data


@router.button("mentoring:am", coordinator=True)
async def assign_mentor_pressed(ctx: Context) -> None:
    found = await assigning(ctx)
    mentor_id = number(ctx, "mentoring:am")
    if found is None:
        return
    offers = await mentoring.free_slots(ctx.session, ctx.clock.now(), mentor_id=mentor_id, not_user=found[0].id)
    if not offers:
        expired(ctx)
        return
    ctx.state.data["mentor"] = mentor_id
    buttons = [Button(short(ctx, o.slot.starts_at, o.mentor), f"mentoring:as:{o.slot.id}")
               for o in offers[:MAX_BUTTONS]]
    ctx.reply(shown(ctx.t("mentoring.assign_pick_time", mentor=offers[0].mentor.name)), rows(*buttons, per_row=2),
              link_preview=False)


@router.button("mentoring:as", coordinator=True)
async def assign_slot_pressed(ctx: Context) -> None:
    found = await assigning(ctx)
    slot_id = number(ctx, "mentoring:as")
    if found is None:
        return
    mentor = await ctx.session.get(Mentor, found[1].get("mentor")) if isinstance(found[1].get("mentor"), int) else None
    if mentor is None or slot_id is None:
        expired(ctx)
        return
    ctx.state.data["slot"] = slot_id
    ctx.reply(ctx.t("mentoring.assign_pick_topic"),
              rows(*[Button(topic, f"mentoring:at:{i}") for i, topic in enumerate(mentor.topics)], per_row=2))


@router.button("mentoring:at", coordinator=True)
async def assign_topic_pressed(ctx: Context) -> None:
    found = await assigning(ctx)
    index = number(ctx, "mentoring:at")
    if found is None:
        return
    person, data = found
    mentor_id, slot_id = data.get("mentor"), data.get("slot")
    mentor = await ctx.session.get(Mentor, mentor_id) if isinstance(mentor_id, int) else None
    if mentor is None or not isinstance(slot_id, int) or index is None or index >= len(mentor.topics):
        expired(ctx)
        return
    booked = await mentoring.book(ctx.session, slot_id, person, str(mentor.topics[index]), settings=ctx.settings,
                                  now=ctx.clock.now(), assigned_by=ctx.user)
    ctx.queued_deliveries = True
    if isinstance(booked, mentoring.Problem):
        ctx.end_flow()
        ctx.reply(problem(ctx, booked), [Button(ctx.t("mentoring.back"), "run:mentors")])
        return
    ctx.end_flow()
    request_id = data.get("request")
    request = await ctx.session.get(Unanswered, request_id) if isinstance(request_id, int) else None
    if request is not None and request.status == "open":
        request.status, request.answered_by, request.answered_at = "answered", ctx.user.id, ctx.clock.now()
        request.reply = translate("mentoring.request_closed", ctx.lang, mentor=mentor.name)
    ctx.audit("mentoring.assign", f"session:{booked.id}")
    ctx.reply(shown(ctx.t("mentoring.assigned", name=person.display_name or f"{person.channel}:{person.external_id}",
                          mentor=mentor.name, when=when(ctx, booked.starts_at, booked.ends_at, mentor))), ctx.menu(),
              link_preview=False)
