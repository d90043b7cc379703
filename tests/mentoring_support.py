"""Helpers of the mentoring tests: a mentor and free times made through the services (as ``lideres mentors add``
and ``lideres slots add`` make them), and what the outbox sent, read back the way a phone shows it."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db.models import Mentor, MentorSlot, Reminder, User
from bot.messages import Incoming, Reply
from bot.services import mentoring
from tests.harness import CHANNEL, ChatHarness


async def add_mentor(bot: ChatHarness, who: str = "laura", *, name: str = "Laura Pérez",
                     topics: tuple[str, ...] = ("Finanzas", "Marketing"), languages: tuple[str, ...] = ("es", "en"),
                     zone: str = "Europe/Madrid", lang: str = "en") -> int:
    """A mentor who has written to the bot (agreed to the privacy notice) in ``lang``; returns the mentor's id."""
    await bot.onboard(user=who, lang=lang)
    async with bot.app.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.channel == CHANNEL, User.external_id == who))
        assert user is not None
        mentor, _ = await mentoring.save_mentor(session, user, name=name, topics=list(topics),
                                                languages=list(languages), timezone=zone, now=bot.clock.now())
        return mentor.id


async def add_slots(bot: ChatHarness, mentor_id: int, start: datetime, minutes: int = 60, count: int = 1) -> list[int]:
    async with bot.app.sessions() as session, session.begin():
        mentor = await session.get(Mentor, mentor_id)
        assert mentor is not None
        added = await mentoring.add_slots(session, mentor, start, minutes, now=bot.clock.now(), count=count)
        assert not added.refused, added.refused
        return [slot.id for slot in added.created]


async def sent_to(bot: ChatHarness, who: str) -> list[Reply]:
    """Everything the outbox has sent ``who`` so far (sending what is due now first)."""
    await bot.app.outbox.send_due()
    return bot.output.to(who)


def texts(replies: list[Reply]) -> list[str]:
    return [reply.text for reply in replies]


def calendar_of(reply: Reply) -> Calendar:
    """The .ics a reply carries, parsed as a calendar app would."""
    assert reply.document is not None and reply.document.data is not None
    assert reply.document.mime_type == "text/calendar" and (reply.document.filename or "").endswith(".ics")
    return Calendar.from_ical(reply.document.data)


def event_of(reply: Reply) -> dict[str, object]:
    calendar = calendar_of(reply)
    event = next(iter(calendar.walk("VEVENT")))
    return {"method": str(calendar["METHOD"]), "uid": str(event["UID"]), "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"), "sequence": int(event["SEQUENCE"]), "status": str(event["STATUS"]),
            "summary": str(event["SUMMARY"])}


async def reminders_of(bot: ChatHarness) -> list[Reminder]:
    async with bot.app.sessions() as session:
        return list(await session.scalars(select(Reminder).order_by(Reminder.due_at, Reminder.user_id)))


async def slots_of(bot: ChatHarness, mentor_id: int) -> list[MentorSlot]:
    async with bot.app.sessions() as session:
        return list(await session.scalars(
            select(MentorSlot).where(MentorSlot.mentor_id == mentor_id).order_by(MentorSlot.starts_at)))


def press_incoming(who: str, payload: str, number: int, lang: str = "es") -> Incoming:
    return Incoming(channel=CHANNEL, user_id=who, payload=payload, message_id=f"race-{number}",
                    display_name=who.capitalize(), language=lang)


def set_clock(clock: ManualClock, moment: datetime) -> None:
    """Move the bot's clock to ``moment`` (forward or back)."""
    clock.advance(seconds=(moment - clock.now()).total_seconds())


def plain(text: str) -> str:
    """CLDR puts a narrow no-break space before AM/PM ("5:00\u202fPM"): compared as a plain space here."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def said(bot: ChatHarness, who: str | None = None) -> str:
    """The texts of the last replies to ``who``, as plain text."""
    return plain(bot.text_of(who))


def labels(bot: ChatHarness, who: str | None = None) -> list[str]:
    return [plain(label) for label in bot.labels(who)]
