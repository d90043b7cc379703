"""``lideres mentors`` and ``lideres slots``: what a coordinator types in a terminal and reads back, on both
databases; a wrong value is refused with its reason (exit 1) and nothing half-done is kept."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from bot.cli import main
from bot.db.models import Mentor, MentorSlot, User
from bot.db.session import create_engine, session_factory

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def lideres(database_url, monkeypatch, capsys):
    """Run ``lideres ARGS`` (its own event loop, on a thread) at ``NOW``; returns (exit code, output)."""
    monkeypatch.setenv("LIDERES_DATABASE_URL", database_url)
    monkeypatch.setenv("LIDERES_DEFAULT_LANGUAGE", "en")

    async def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        with time_machine.travel(NOW, tick=False):
            code = await asyncio.to_thread(main, list(args))
        return code, capsys.readouterr().out.replace("\u202f", " ")

    return run


async def rows(database_url: str, model: type) -> list:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        found = list(await session.scalars(select(model)))
    await engine.dispose()
    return found


async def test_a_mentor_and_a_weekly_series_across_the_change_to_summer_time(lideres, database_url):
    code, out = await lideres("mentors", "add", "--user", "telegram:2001", "--name", "Laura Pérez",
                              "--topics", "Finanzas, Marketing", "--languages", "es,en", "--tz", "europe/madrid")
    assert code == 0 and out.strip() == ("mentor added: Laura Pérez (telegram:2001) — topics: Finanzas, Marketing; "
                                         "languages: es, en; zone: Europe/Madrid")
    code, out = await lideres("mentors", "add", "--user", "telegram:2001", "--name", "Laura P.",
                              "--topics", "Finanzas", "--languages", "es", "--tz", "Europe/Madrid")
    assert code == 0 and out.startswith("mentor updated: Laura P.")
    [user] = await rows(database_url, User)
    assert (user.role, user.timezone) == ("mentor", "Europe/Madrid")  # a user row, made before they ever wrote
    code, out = await lideres("slots", "add", "--mentor", "telegram:2001", "--start", "2027-03-18T10:00",
                              "--minutes", "60", "--repeat", "weekly", "--count", "3")
    assert code == 0 and out.splitlines() == [
        "slot 1 of Laura P.: Thursday, March 18, 10:00 AM–11:00 AM · Spain (Madrid) Time",
        "slot 2 of Laura P.: Thursday, March 25, 10:00 AM–11:00 AM · Spain (Madrid) Time",
        "slot 3 of Laura P.: Thursday, April 1, 10:00 AM–11:00 AM · Spain (Madrid) Time",
    ]
    assert [slot.starts_at.hour for slot in await rows(database_url, MentorSlot)] == [9, 9, 8]  # UTC
    code, out = await lideres("slots", "add", "--mentor", "telegram:2001", "--start", "2027-03-25T10:30:00+01:00",
                              "--minutes", "30")
    assert code == 1 and out.strip() == ("not added Thursday, March 25, 10:30 AM · Spain (Madrid) Time: it overlaps "
                                         "another time you already offer.")
    code, out = await lideres("slots", "add", "--mentor", "telegram:2001", "--start", "2027-04-01T10:30",
                              "--minutes", "45", "--repeat", "weekly", "--count", "2")
    assert code == 0 and out.splitlines() == [  # one refused, the other added
        "slot 4 of Laura P.: Thursday, April 8, 10:30 AM–11:15 AM · Spain (Madrid) Time",
        "not added Thursday, April 1, 10:30 AM · Spain (Madrid) Time: it overlaps another time you already offer.",
    ]
    code, out = await lideres("slots", "list")
    assert code == 0 and len(out.splitlines()) == 4 and out.splitlines()[0].endswith("· free")
    code, out = await lideres("mentors", "list")
    assert out.strip() == ("Laura P. (telegram:2001) — topics: Finanzas; languages: es; zone: Europe/Madrid")


@pytest.mark.parametrize(("args", "reason"), [
    (("mentors", "add", "--user", "2001", "--name", "Ana", "--topics", "x", "--languages", "es", "--tz",
      "Europe/Madrid"), "“2001” is not channel:id (for example telegram:12345)."),
    (("mentors", "add", "--user", "telegram:2001", "--name", "Ana", "--topics", "x", "--languages", "es",
      "--tz", "Mars/Olympus"), "I don't know the time zone “Mars/Olympus”."),
    (("mentors", "add", "--user", "telegram:2001", "--name", "Ana", "--topics", "x", "--languages", "pt",
      "--tz", "Europe/Madrid"), "possible languages: es, en."),
    (("mentors", "add", "--user", "telegram:2001", "--name", "Ana", "--topics", " , ", "--languages", "es",
      "--tz", "Europe/Madrid"), "type 1 to 12 topics separated by commas"),
    (("slots", "add", "--mentor", "telegram:9", "--start", "2027-03-18T10:00", "--minutes", "60"),
     "telegram:9 is not a mentor"),
])
async def test_wrong_values_are_refused_with_their_reason(lideres, database_url, args, reason):
    code, out = await lideres(*args)
    assert code == 1 and reason in out
    assert await rows(database_url, Mentor) == []


async def test_a_start_in_the_past_an_unreadable_one_and_a_wrong_length(lideres, database_url):
    await lideres("mentors", "add", "--user", "telegram:2001", "--name", "Laura", "--topics", "Finanzas",
                  "--languages", "es", "--tz", "America/La_Paz")
    for start, minutes, count, reason in (
        ("2027-03-01T10:00", "60", "1", "that time has passed."),
        ("next tuesday", "60", "1", "“next tuesday” is not an ISO-8601 date and time"),
        ("2027-03-18T10:00", "5", "1", "the length must be 15 to 240 minutes."),
        ("2027-03-18T10:00", "60", "40", "it can repeat for up to 26 weeks."),
    ):
        code, out = await lideres("slots", "add", "--mentor", "telegram:2001", "--start", start, "--minutes", minutes,
                                  "--repeat", "weekly", "--count", count)
        assert code == 1 and reason in out, (start, out)
    assert await rows(database_url, MentorSlot) == []
