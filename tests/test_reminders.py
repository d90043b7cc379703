"""Reminders of mentoring sessions, on SQLite and PostgreSQL, with clocks moved instead of waited for: the bot's
clock (ManualClock) and, where APScheduler reads the real one, time-machine travelling to the same instant.

What a person would notice: each side is reminded at LIDERES_REMINDER_OFFSETS before the session, in their own
language and zone as they are when it is sent; exactly once, even across restarts and with two bot processes
on one database; not at all once the session is cancelled; a reminder that fell due while the bot was down is
sent at start-up within the grace period, and recorded as missed past it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from bot.app import App
from bot.config import ConfigError, load_settings
from bot.db.models import Delivery, Reminder, User
from bot.services.reminders import run_due
from tests.harness import ChatHarness
from tests.mentoring_support import add_mentor, add_slots, plain, reminders_of, sent_to, set_clock

START = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 17:00 in Madrid, 12:00 in La Paz
DAY_BEFORE, HOUR_BEFORE, END = START - timedelta(hours=24), START - timedelta(hours=1), START + timedelta(hours=1)


async def booked(bot: ChatHarness) -> None:
    """Laura (mentor, English, Madrid) has a time; Ana (Spanish, La Paz) books it in the chat."""
    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, START)
    await bot.onboard()
    await bot.send("/timezone America/La_Paz")
    await bot.send("/mentoring")
    await bot.press("Finanzas")
    await bot.press("jue 3 dic · 12:00")
    await bot.press("Reservar")
    await sent_to(bot, "laura")  # the booking notice is out of the way


def reminder_texts(bot: ChatHarness, who: str) -> list[str]:
    return [plain(r.text) for r in bot.output.to(who) if r.text.startswith(("⏰", "¿Qué tal", "How was"))]


async def due_now(bot: ChatHarness) -> None:
    await bot.app.reminders.run_due()
    await bot.app.outbox.send_due()


async def test_rows_say_what_to_say_not_frozen_text(bot):
    await booked(bot)
    rows = await reminders_of(bot)
    assert [(r.kind, r.due_at, r.status) for r in rows] == [
        ("before:1440m", DAY_BEFORE, "pending"), ("before:1440m", DAY_BEFORE, "pending"),
        ("before:60m", HOUR_BEFORE, "pending"), ("before:60m", HOUR_BEFORE, "pending"),
        ("feedback", END, "pending"),
    ]
    assert {r.key for r in rows} == {"mentoring.reminder_entrepreneur", "mentoring.reminder_mentor",
                                     "mentoring.feedback_ask"}
    assert rows[0].values["when"] == {"at": START.isoformat(), "until": END.isoformat()}  # a time, not text


async def test_each_side_is_reminded_at_the_right_instants_in_their_language_and_zone_of_that_moment(bot):
    await booked(bot)
    set_clock(bot.clock, DAY_BEFORE - timedelta(seconds=1))
    await due_now(bot)
    assert reminder_texts(bot, "ana") == [] and reminder_texts(bot, "laura") == []
    set_clock(bot.clock, DAY_BEFORE)
    await due_now(bot)
    assert reminder_texts(bot, "ana") == ["⏰ Recordatorio: tu mentoría con Laura Pérez sobre «Finanzas» empieza "
                                          "dentro de 1 día.\n🕐 jueves 3 de diciembre, 12:00–13:00 · hora de Bolivia"]
    assert reminder_texts(bot, "laura") == ["⏰ Reminder: your session with Ana on “Finanzas” starts in 1 day.\n"
                                            "🕐 Thursday, December 3, 5:00 PM–6:00 PM · Spain (Madrid) Time"]
    await bot.send("/lang en")  # between the reminders Ana switches language and moves to Madrid
    await bot.send("/timezone Europe/Madrid")
    set_clock(bot.clock, HOUR_BEFORE)
    await due_now(bot)
    assert reminder_texts(bot, "ana")[-1] == ("⏰ Reminder: your mentoring session with Laura Pérez on “Finanzas” "
                                              "starts in 1 hour.\n🕐 Thursday, December 3, 5:00 PM–6:00 PM · "
                                              "Spain (Madrid) Time")
    assert len(reminder_texts(bot, "laura")) == 2
    await due_now(bot)  # nothing is due twice
    set_clock(bot.clock, END)
    await due_now(bot)
    feedback = bot.output.to("ana")[-1]
    assert plain(feedback.text).startswith("How was your session with Laura Pérez on “Finanzas”?")
    assert [b.label for b in feedback.button_list] == ["1", "2", "3", "4", "5 ⭐"]
    assert len(reminder_texts(bot, "ana")) == 3 and len(reminder_texts(bot, "laura")) == 2  # feedback: Ana only
    async with bot.app.sessions() as session:
        outcomes = (await session.execute(select(Delivery.status, func.count()).where(Delivery.kind == "reminder")
                                          .group_by(Delivery.status))).all()
    assert dict(outcomes) == {"sent": 5}  # through the outbox, with its recorded outcome

    bot.replies["ana"] = [feedback]
    await bot.press("4")
    assert "Thank you! ⭐⭐⭐⭐" in bot.last_text
    await bot.send("Muy útil, aunque corta")
    assert "Thanks for your feedback" in bot.last_text
    await bot.onboard(user="coord", lang="en")
    await bot.send("/mentors", user="coord")
    coordinator_view = plain(bot.text_of("coord"))
    assert "Ratings: 1 (average 4.0 of 5)" in coordinator_view
    assert "⭐⭐⭐⭐ “Muy útil, aunque corta”" in coordinator_view
    assert "Reminders: 5 sent, 0 scheduled, 0 missed" in coordinator_view
    await bot.send("/stats", user="coord")
    stats = plain(bot.text_of("coord"))
    assert "📊 Mentoring feedback (average 4.0 of 5)\n• ⭐⭐⭐⭐⭐: 0\n• ⭐⭐⭐⭐: 1" in stats
    assert "📊 Mentoring sessions\n• Coming: 0\n• Held: 1\n• Cancelled: 0" in stats


async def test_cancelling_removes_pending_reminders_and_one_queued_but_not_yet_sent(bot):
    await booked(bot)
    set_clock(bot.clock, DAY_BEFORE)
    await bot.app.reminders.run_due()  # queued in the outbox, not sent yet (say the outbox is busy)
    await bot.send("/mysessions")
    await bot.press("Cancelar jue 3 dic")
    await bot.press("Sí, cancelar")
    await bot.app.outbox.send_due()
    for moment in (HOUR_BEFORE, END, END + timedelta(days=1)):
        set_clock(bot.clock, moment)
        await due_now(bot)
    assert reminder_texts(bot, "ana") == [] and reminder_texts(bot, "laura") == []
    assert [r.status for r in await reminders_of(bot)] == ["cancelled"] * 5
    async with bot.app.sessions() as session:
        skipped = (await session.scalars(select(Delivery.error).where(Delivery.kind == "reminder"))).all()
    assert skipped == ["reminder cancelled", "reminder cancelled"]


async def test_a_reminder_sent_late_by_the_outbox_after_the_session_started_is_skipped(bot):
    await booked(bot)
    set_clock(bot.clock, HOUR_BEFORE + timedelta(minutes=30))
    await bot.app.reminders.run_due()  # the 24h reminders are past the grace period (missed); the 1h ones go
    set_clock(bot.clock, START + timedelta(minutes=5))
    async with bot.app.sessions() as session, session.begin():  # the outbox only gets to them now
        for delivery in await session.scalars(select(Delivery).where(Delivery.kind == "reminder")):
            delivery.due_at = bot.clock.now()
    await bot.app.outbox.send_due()
    assert reminder_texts(bot, "ana") == []
    assert {r.kind: r.status for r in await reminders_of(bot) if r.user_id} == {
        "before:1440m": "missed", "before:60m": "queued", "feedback": "pending"}


# -- restarts -------------------------------------------------------------------------------------------------


@pytest.fixture
def travel(clock) -> Iterator[time_machine.Coordinates]:
    """The real clock (APScheduler reads it) at the bot's clock's instant, frozen; moved with ``move_to``."""
    with time_machine.travel(clock.now(), tick=False) as traveller:
        yield traveller


def move(bot: ChatHarness, travel: time_machine.Coordinates, moment: datetime) -> None:
    set_clock(bot.clock, moment)
    travel.move_to(moment)


async def test_after_a_restart_jobs_are_rebuilt_and_what_fell_due_while_down_is_sent_once(bot, travel):
    await booked(bot)
    move(bot, travel, DAY_BEFORE + timedelta(minutes=30))  # the bot was down when the 24h reminders fell due
    await bot.restart()
    started = await bot.app.reminders.start()
    assert (started.queued, started.missed) == (2, 0)  # within LIDERES_REMINDER_GRACE (2h): sent now
    pending = {r.id: r.due_at for r in await reminders_of(bot) if r.status == "pending"}
    assert bot.app.reminders.job_times() == pending and set(pending.values()) == {HOUR_BEFORE, END}
    await bot.app.outbox.send_due()
    assert len(reminder_texts(bot, "ana")) == 1 and len(reminder_texts(bot, "laura")) == 1
    await bot.restart()  # a second restart sends nothing again
    assert (await bot.app.reminders.start()).queued == 0
    await bot.app.outbox.send_due()
    assert len(reminder_texts(bot, "ana")) == 1 and len(reminder_texts(bot, "laura")) == 1

    await bot.app.reminders.stop()  # down again, now for three hours across the session
    move(bot, travel, START + timedelta(hours=2))
    await bot.restart()
    started = await bot.app.reminders.start()
    assert (started.queued, started.missed) == (1, 2)  # the feedback (due 1h ago) goes; the 1h reminders are missed
    await bot.app.outbox.send_due()
    assert reminder_texts(bot, "laura")[-1].startswith("⏰ Reminder")
    assert reminder_texts(bot, "ana")[-1].startswith("¿Qué tal tu mentoría")
    assert [r.status for r in await reminders_of(bot)] == ["queued", "queued", "missed", "missed", "queued"]
    assert bot.app.reminders.job_times() == {}


async def test_the_scheduler_wakes_the_bot_at_the_due_instant_and_a_booking_gets_its_jobs_at_once(bot, travel):
    await bot.app.reminders.start()
    await booked(bot)  # booked while the clock runs: its jobs come from the commit, not from a restart
    await bot.app.reminders.settled()
    assert sorted(bot.app.reminders.job_times().values()) == [DAY_BEFORE] * 2 + [HOUR_BEFORE] * 2 + [END]
    runs = bot.app.reminders.runs
    move(bot, travel, DAY_BEFORE - timedelta(seconds=1))
    bot.app.reminders.wake()
    await bot.app.outbox.send_due()
    assert reminder_texts(bot, "ana") == [] and len(bot.app.reminders.job_times()) == 5  # not yet
    move(bot, travel, DAY_BEFORE)
    bot.app.reminders.wake()
    await asyncio.wait_for(bot.app.reminders.wait_runs(runs + 1), 30)  # a guard, not a timing
    await bot.app.outbox.send_due()
    assert len(reminder_texts(bot, "ana")) == 1 and len(reminder_texts(bot, "laura")) == 1
    assert sorted(bot.app.reminders.job_times().values()) == [HOUR_BEFORE] * 2 + [END]

    await bot.send("/mysessions")  # moving the session moves the jobs; cancelling removes them
    await bot.press("Cancelar jue 3 dic")
    await bot.press("Sí, cancelar")
    await bot.app.reminders.settled()
    assert bot.app.reminders.job_times() == {}


# -- two bot processes on one database -------------------------------------------------------------------------


async def test_two_processes_on_one_database_queue_and_send_each_reminder_once(bot, app, clock, database_url):
    """Both processes wake at the same instants and race to queue (both databases: SQLite's first write takes its
    lock). Both outboxes then send at once on PostgreSQL; SQLite is one process by design (DESIGN.md, 5), so
    there one outbox sends."""
    await booked(bot)
    several_senders = database_url.startswith("postgresql")
    other = ChatHarness(await App.create(app.settings, clock=clock, migrate=False), clock)  # its own pool
    try:
        for moment in (DAY_BEFORE, HOUR_BEFORE, END):
            set_clock(clock, moment)
            results = await asyncio.gather(*(
                (process.app.reminders.run_due() if i % 2 else
                 run_due(process.app.sessions, clock.now(), process.app.settings.reminder_grace_period))
                for i in range(6) for process in (bot, other)
            ))
            assert sum(result.queued for result in results) == (1 if moment == END else 2)
            senders = (bot, other) if several_senders else (bot,)
            await asyncio.gather(*(process.app.outbox.send_due() for process in senders))
        sent = {who: [r.text for r in bot.output.to(who) + other.output.to(who) if r.text.startswith(("⏰", "¿Qué"))]
                for who in ("ana", "laura")}
        assert len(sent["ana"]) == 3 and len(sent["laura"]) == 2, sent
        async with bot.app.sessions() as session:
            per_reminder = (await session.execute(
                select(Reminder.id, Reminder.delivery_id, Reminder.status).order_by(Reminder.id))).all()
            deliveries = await session.scalar(select(func.count()).select_from(Delivery)
                                              .where(Delivery.kind == "reminder"))
        assert deliveries == 5 and all(status == "queued" and delivery for _, delivery, status in per_reminder)
    finally:
        await other.app.close()


@pytest.mark.parametrize(("offsets", "grace", "expected"), [
    ("24h,1h", "2h", ((timedelta(hours=24), timedelta(hours=1)), timedelta(hours=2))),
    ("30m, 2m,1d,30m", "90m", ((timedelta(days=1), timedelta(minutes=30), timedelta(minutes=2)),
                               timedelta(minutes=90))),
])
def test_offsets_and_grace_are_read_from_the_configuration(offsets, grace, expected):
    settings = load_settings(reminder_offsets=offsets, reminder_grace=grace, _env_file=None)
    assert (settings.reminder_offset_list, settings.reminder_grace_period) == expected


@pytest.mark.parametrize(("name", "value", "message"), [
    ("reminder_offsets", "24h,soon", "LIDERES_REMINDER_OFFSETS: 'soon' is not a duration like 24h, 1h or 30m"),
    ("reminder_offsets", "0m", "LIDERES_REMINDER_OFFSETS: every offset must be more than zero"),
    ("reminder_grace", "2", "LIDERES_REMINDER_GRACE: '2' is not a duration like 24h, 1h or 30m"),
    ("timezones", "Europe/Madrid,Bolivia", "LIDERES_TIMEZONES: 'Bolivia' is not a known time zone"),
])
def test_a_wrong_value_stops_start_up_with_one_line_naming_it(name, value, message):
    with pytest.raises(ConfigError) as error:
        load_settings(**{name: value, "_env_file": None})
    assert str(error.value).startswith(message)


async def test_a_reminder_to_someone_who_blocked_the_bot_is_recorded_not_sent(bot):
    """Reminders go through the outbox like every other message: its checks and its recorded outcome."""
    await booked(bot)
    async with bot.app.sessions() as session, session.begin():
        ana = await session.scalar(select(User).where(User.external_id == "ana"))
        ana.blocked_at = bot.clock.now()
    set_clock(bot.clock, DAY_BEFORE)
    await due_now(bot)
    assert reminder_texts(bot, "ana") == [] and len(reminder_texts(bot, "laura")) == 1
    async with bot.app.sessions() as session:
        outcomes = sorted((await session.execute(select(Delivery.status, Delivery.error)
                                                 .where(Delivery.kind == "reminder"))).all())
    assert outcomes == [("sent", None), ("skipped", "recipient blocked the bot")]
