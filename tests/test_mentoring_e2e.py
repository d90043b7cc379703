"""The issue's "done": over the fake Bot API, a mentor and a slot added with the command line are booked in the
chat; the bot is killed (SIGKILL) before the 24-hour reminder falls due and restarted after it, and each side
gets that reminder exactly once, also after one more restart; and two bot processes started together on one
PostgreSQL after a reminder fell due send it once. Every ``lideres`` process runs with its real clock moved to a
chosen instant (tests/run_at.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.models import Delivery, Reminder
from bot.db.session import create_engine, session_factory
from tests.fake_telegram import FakeTelegram

TOKEN = "987654:mentoring-TOKEN-secretpart"
ANA, LAURA = 1001, 2001
BOOKED_AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 17:00 in Madrid (what the CLI is given), 12:00 in La Paz
DAY_BEFORE = START - timedelta(hours=24)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:  # this module's own token, to find it in the logs
    server = await FakeTelegram(TOKEN).start()
    yield server
    await server.close()


def environment(fake: FakeTelegram, database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LIDERES_")}
    return env | {"LIDERES_TELEGRAM_TOKEN": TOKEN, "LIDERES_TELEGRAM_API_URL": fake.api_url,
                  "LIDERES_DATABASE_URL": database_url, "LIDERES_WEB_PORT": "0", "LIDERES_WEB_CHAT": "false"}


async def lideres(env: dict[str, str], at: datetime, *args: str) -> str:
    """A ``lideres`` command run to its end, with its clock at ``at``; its output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.run_at", at.isoformat(), *args, cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, (stdout + stderr).decode()[-2000:]
    return stdout.decode()


async def start_bot(env: dict[str, str], at: datetime) -> asyncio.subprocess.Process:
    """``lideres run`` with its clock at ``at``, once it logged that it started (its start-up work is done)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.run_at", at.isoformat(), "run", cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), 60)
        assert line, "the bot exited before it started"
        if b'"bot started"' in line:
            break
    asyncio.get_running_loop().create_task(process.stderr.read())  # keep draining its log
    return process


async def said(fake: FakeTelegram, chat: int, text: str) -> None:
    """Until the bot has shown ``chat`` a message containing ``text``."""
    await fake.wait_for(lambda: any(text in call.text for call in fake.sent(chat_id=chat)), guard=60)


def reminders(fake: FakeTelegram, chat: int) -> list[str]:
    return [call.text for call in fake.sent(chat_id=chat) if call.text.startswith("⏰")]


async def test_cli_mentor_booked_in_telegram_reminded_once_across_a_kill_and_restarts(fake, database_url):
    env = environment(fake, database_url)
    bot = await start_bot(env, BOOKED_AT)
    try:
        fake.message(LAURA, "/start", first_name="Laura", language_code="en")
        await said(fake, LAURA, "Do you agree?")
        fake.press_button(LAURA, "I agree", first_name="Laura", language_code="en")
        await said(fake, LAURA, "Thank")
        added = await lideres(env, BOOKED_AT, "mentors", "add", "--user", f"telegram:{LAURA}", "--name",
                              "Laura Pérez", "--topics", "Finanzas,Marketing", "--languages", "es,en",
                              "--tz", "Europe/Madrid")
        assert "mentor/a añadido/a: Laura Pérez" in added
        slot = await lideres(env, BOOKED_AT, "slots", "add", "--mentor", f"telegram:{LAURA}",
                             "--start", "2026-12-03T17:00", "--minutes", "60")
        assert "jueves 3 de diciembre, 17:00–18:00 · hora de España (Madrid)" in slot

        fake.message(ANA, "/start")
        await said(fake, ANA, "¿Estás de acuerdo?")
        fake.press_button(ANA, "Acepto")
        await said(fake, ANA, "Gracias")
        for press, answer in (("Mentorías", "¿Sobre qué tema"), ("Finanzas", "¿En qué zona horaria"),
                              ("hora de Bolivia", "Elige uno"), ("jue 3 dic · 12:00", "¿Reservo esta mentoría?"),
                              ("Reservar", "¡Reservada!")):
            fake.press_button(ANA, press)
            await said(fake, ANA, answer)
        await said(fake, LAURA, "📌 New session: Ana booked you on “Finanzas”")
        for chat in (ANA, LAURA):  # each with the calendar file
            await fake.wait_for(lambda chat=chat: len(fake.sent("sendDocument", chat_id=chat)) == 1, guard=60)
    finally:
        bot.send_signal(signal.SIGKILL)  # killed, not stopped: before the 24h reminder is due
        await bot.wait()
    assert reminders(fake, ANA) == [] and reminders(fake, LAURA) == []

    bot = await start_bot(env, DAY_BEFORE + timedelta(minutes=30))  # back 30 minutes after it fell due
    try:
        await fake.wait_for(lambda: reminders(fake, ANA) and reminders(fake, LAURA), guard=60)
    finally:
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 60) == 0
    bot = await start_bot(env, DAY_BEFORE + timedelta(minutes=40))  # once more: nothing is queued twice (the
    bot.send_signal(signal.SIGKILL)  # start-up queueing is done when it logs "bot started"; the rows tell the rest)
    await bot.wait()

    assert reminders(fake, ANA) == ["⏰ Recordatorio: tu mentoría con Laura Pérez sobre «Finanzas» empieza dentro "
                                    "de 1 día.\n🕐 jueves 3 de diciembre, 12:00–13:00 · hora de Bolivia"]
    assert [text.replace("\u202f", " ") for text in reminders(fake, LAURA)] == [
        "⏰ Reminder: your session with Ana on “Finanzas” starts in 1 day.\n🕐 Thursday, December 3, "
        "5:00 PM–6:00 PM · Spain (Madrid) Time"]
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        rows = (await session.execute(select(Reminder.kind, Reminder.status).order_by(Reminder.id))).all()
        sent = (await session.scalars(select(Delivery.status).where(Delivery.kind == "reminder"))).all()
    await engine.dispose()
    assert sorted(rows) == [("before:1440m", "queued")] * 2 + [("before:60m", "pending")] * 2 + \
        [("feedback", "pending")]
    assert sent == ["sent", "sent"]


async def test_two_bot_processes_on_one_postgresql_send_each_reminder_once(fake, database_url):
    """Two ``lideres run`` processes start on one PostgreSQL after a reminder fell due: both queue at start-up and
    both run an outbox, and each side still gets the reminder once. (SQLite is one process by design.)"""
    if not database_url.startswith("postgresql"):
        pytest.skip("several bot processes share PostgreSQL, not SQLite (DESIGN.md, principle 5)")
    from bot.config import load_settings
    from bot.db.models import User
    from bot.services import mentoring

    env = environment(fake, database_url)
    await lideres(env, BOOKED_AT, "mentors", "add", "--user", f"telegram:{LAURA}", "--name", "Laura Pérez",
                  "--topics", "Finanzas", "--languages", "es,en", "--tz", "Europe/Madrid")
    await lideres(env, BOOKED_AT, "slots", "add", "--mentor", f"telegram:{LAURA}", "--start", "2026-12-03T17:00",
                  "--minutes", "60")
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():  # both wrote to the bot before; Ana books
        for chat, name, lang in ((ANA, "Ana", "es"), (LAURA, "Laura", "en")):
            user = await mentoring.user_by_key(session, "telegram", str(chat), language=lang)
            user.display_name, user.consent_at, user.last_seen_at, user.language = name, BOOKED_AT, BOOKED_AT, lang
        ana = await session.scalar(select(User).where(User.external_id == str(ANA)))
        ana.timezone = "America/La_Paz"
        [offer] = await mentoring.free_slots(session, BOOKED_AT)
        booked = await mentoring.book(session, offer.slot.id, ana, "Finanzas", now=BOOKED_AT,
                                      settings=load_settings(database_url=database_url))
        assert not isinstance(booked, mentoring.Problem)
    await engine.dispose()

    bots = await asyncio.gather(*(start_bot(env, DAY_BEFORE + timedelta(minutes=5)) for _ in range(2)))
    try:
        await fake.wait_for(lambda: reminders(fake, ANA) and reminders(fake, LAURA), guard=60)
    finally:
        for bot in bots:  # a stop finishes the sends in flight and records them: a duplicate would be out by then
            bot.send_signal(signal.SIGTERM)
        for bot in bots:
            assert await asyncio.wait_for(bot.wait(), 60) == 0
    assert len(reminders(fake, ANA)) == 1 and len(reminders(fake, LAURA)) == 1
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        statuses = (await session.scalars(select(Delivery.status).where(Delivery.kind == "reminder"))).all()
    await engine.dispose()
    assert statuses == ["sent", "sent"]
