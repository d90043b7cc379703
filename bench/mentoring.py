"""Mentoring under load: many people pressing "book" on the same time at once, and reminders falling due in bulk.

    .venv/bin/python bench/mentoring.py [--people 20] [--slots 10] [--sessions 1000] [--database-url URL]

(``--database-url``: an empty scratch database; without it, temporary SQLite files.)

- **Booking race.** ``--people`` members press "book" on the same slot at the same moment (concurrent
  ``Engine.handle`` calls, each its own transaction and connection), for ``--slots`` slots in turn. Reports how many
  sessions each slot got (must be 1), how many presses were answered "just taken" (the rest: an apology would be
  a failure), and the latency of a press (p50, p95).
- **Reminders due at once.** ``--sessions`` booked sessions with 24h and 1h reminders to both sides and a feedback
  question (5 rows each); the clock moves past the 24h instant and two "processes" (two Apps, two connection
  pools) queue what is due concurrently. Reports rows queued per second and that each was queued once; and the
  time to rebuild the scheduler's jobs for every pending row (``ReminderClock.resync``, done at start-up).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.app import App
from bot.clock import ManualClock
from bot.config import load_settings
from bot.db.models import Delivery, Mentor, MentoringSession, Reminder, User
from bot.db.session import upsert_insert
from bot.messages import Incoming
from bot.services import mentoring

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


async def make_users(app: App, names: list[str]) -> dict[str, User]:
    async with app.sessions() as session, session.begin():
        insert = upsert_insert(session)
        await session.execute(insert(User).values([
            {"channel": "bench", "external_id": name, "language": "es", "role": "entrepreneur",
             "timezone": "America/La_Paz", "consent_at": NOW, "display_name": name, "created_at": NOW}
            for name in names]).on_conflict_do_nothing())
        found = await session.scalars(select(User).where(User.channel == "bench"))
        return {user.external_id: user for user in found}


async def mentor_with_slots(app: App, clock: ManualClock, count: int, name: str = "mentor") -> tuple[int, list[int]]:
    people = await make_users(app, [name])
    async with app.sessions() as session, session.begin():
        user = await session.get(User, people[name].id)
        assert user is not None
        mentor, _ = await mentoring.save_mentor(session, user, name="Laura", topics=["Finanzas"], languages=["es"],
                                                timezone="Europe/Madrid", now=clock.now())
        slots: list[int] = []
        for index in range(count):  # back to back, half an hour each
            added = await mentoring.add_slots(session, mentor, START + timedelta(minutes=30 * index), 30,
                                              now=clock.now())
            slots += [slot.id for slot in added.created]
        return mentor.id, slots


async def booking_race(database_url: str, people: int, slots: int) -> None:
    clock = ManualClock(NOW)
    app = await App.create(load_settings(database_url=database_url, log_level="ERROR"), clock=clock)
    names = [f"p{i}" for i in range(people)]
    await make_users(app, names)
    _mentor, slot_ids = await mentor_with_slots(app, clock, slots)
    latencies: list[float] = []
    answers = {"booked": 0, "taken": 0, "other": 0}

    async def press(name: str, slot: int, number: int) -> None:
        started = time.perf_counter()
        replies = await app.engine.handle(Incoming("bench", name, payload=f"mentoring:book:{slot}",
                                                   message_id=f"{slot}-{number}", language="es"))
        latencies.append(time.perf_counter() - started)
        text = replies[0].text if replies else ""
        key = "booked" if "Reservada" in text else "taken" if ("alguien reservó" in text or "tienes una" in text
                                                               or "no está disponible" in text) else "other"
        answers[key] += 1

    start = time.perf_counter()
    for slot in slot_ids:
        await asyncio.gather(*(press(name, slot, n) for n, name in enumerate(names)))
    elapsed = time.perf_counter() - start
    async with app.sessions() as session:
        per_slot = (await session.execute(select(MentoringSession.slot_id, func.count())
                                          .group_by(MentoringSession.slot_id))).all()
    await app.close()
    latencies.sort()
    worst = max(count for _, count in per_slot)
    print(f"booking race {database_url.split(':')[0]}: {people} people x {len(slot_ids)} slots in {elapsed:.1f} s; "
          f"sessions per slot max {worst} ({len(per_slot)} slots booked); answers {answers}; press p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms, p95 {latencies[int(0.95 * len(latencies))] * 1000:.0f} ms")


async def reminders_due(database_url: str, sessions: int) -> None:
    clock = ManualClock(NOW)
    settings = load_settings(database_url=database_url, log_level="ERROR", reminder_grace="30d")  # all still due
    app = await App.create(settings, clock=clock)
    names = [f"e{i}" for i in range(sessions)]
    people = await make_users(app, names)
    mentor_id, slot_ids = await mentor_with_slots(app, clock, sessions, name="m")
    async with app.sessions() as session, session.begin():
        mentor = await session.get(Mentor, mentor_id)
        assert mentor is not None
        for name, slot in zip(names, slot_ids, strict=False):
            user = await session.get(User, people[name].id)
            assert user is not None
            booked = await mentoring.book(session, slot, user, "Finanzas", settings=settings, now=clock.now())
            await session.flush()
            assert not isinstance(booked, mentoring.Problem), booked
    other = await App.create(settings, clock=clock, migrate=False)
    async with app.sessions() as session:
        pending = int(await session.scalar(select(func.count()).select_from(Reminder)) or 0)
        first_due = await session.scalar(select(func.min(Reminder.due_at)))
        last_day_before = await session.scalar(select(func.max(Reminder.due_at)).where(Reminder.kind == "before:1440m"))
    assert first_due is not None and last_day_before is not None
    started = time.perf_counter()
    await app.reminders.start()  # as at start-up: nothing due yet, a job for every pending row
    resync = time.perf_counter() - started
    jobs = len(app.reminders.job_times())
    await app.reminders.stop()
    clock.advance(seconds=(last_day_before - clock.now()).total_seconds())
    started = time.perf_counter()
    runs = await asyncio.gather(*(process.reminders.run_due() for process in (app, other) for _ in range(3)))
    elapsed = time.perf_counter() - started
    queued = sum(run.queued for run in runs)
    async with app.sessions() as session:
        deliveries = int(await session.scalar(select(func.count()).select_from(Delivery)
                                              .where(Delivery.kind == "reminder")) or 0)
    await other.close()
    await app.close()
    print(f"reminders {database_url.split(':')[0]}: {pending} rows for {len(slot_ids)} sessions; start-up with "
          f"{jobs} jobs {resync * 1000:.0f} ms; {queued} due queued by two processes in {elapsed:.2f} s "
          f"({queued / elapsed:.0f}/s), {deliveries} outbox rows (each once: {queued == deliveries})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(booking_race(url, args.people, args.slots))
        second = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench2.db'}"
        asyncio.run(reminders_due(second, args.sessions))


if __name__ == "__main__":
    main()
