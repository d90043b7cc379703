"""Mentoring: mentors, the times they offer (slots), booked sessions, and the notices and reminders around them.
Used by the chat (handlers/mentoring) and the command line (``lideres mentors``, ``lideres slots``).

- **One session per slot, whoever presses first.** A slot is taken while a booked session points at it
  (``mentoring_sessions.slot_id`` is unique). Every change that attaches a session to a slot first writes to the
  slot's row (``lock_slot``): on PostgreSQL that locks the row, on SQLite it takes the database's write lock, so
  two people pressing "book" at the same moment are served one after the other and the second is told the time
  was just taken. The insert itself is ``ON CONFLICT (slot_id) DO NOTHING``: even without the lock, a second
  session on a slot cannot exist.
- **Times are UTC** in the database; a mentor types theirs in their own zone, an entrepreneur reads them in
  theirs (``bot/services/timezones``). A weekly series keeps the mentor's wall-clock time across a
  daylight-saving change.
- **Messages to the other side** (booked, moved, cancelled) are outbox rows rendered when sent
  (``@renderer("mentoring.notice")``), in the recipient's language and zone, with a calendar file (.ics) whose
  UID stays the session's and whose SEQUENCE grows with each change, so the phone's calendar updates or removes
  the event it already has. Reminders are rows of ``bot/services/reminders``, planned again when a session moves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import DeliverySkipped
from bot.config import LANGUAGES, Settings, is_zone
from bot.db.models import Delivery, Mentor, MentoringSession, MentorSlot, Reminder, Submission, User
from bot.db.session import upsert_insert
from bot.i18n import translate
from bot.messages import Attachment, Reply
from bot.services import reminders, users
from bot.services.display import shown
from bot.services.outbox import RenderContext, Rendered, new_delivery, renderer
from bot.services.timezones import format_when, normalize, zone

OPEN, REMOVED = "open", "removed"  # slots
BOOKED, CANCELLED = "booked", "cancelled"  # sessions
ENTREPRENEUR, MENTOR, COORDINATOR = "entrepreneur", "mentor", "coordinator"  # who acts or reads
ELIGIBLE_STATUSES = ("finalist", "accepted")  # submissions whose authors count as finalists
NAME_MAX, TOPIC_MAX, MAX_TOPICS = 80, 40, 12
MIN_MINUTES, MAX_MINUTES = 15, 240
MAX_REPEAT = 26  # weeks of a weekly series
BOOKABLE_BEFORE = timedelta(hours=1)  # a time is offered until an hour before it starts
COMMENT_MAX = 1000


@dataclass(frozen=True)
class Problem:
    """Why something was refused: a catalog key and its values, said in the reader's language."""

    key: str
    values: dict[str, object] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return translate(self.key, lang, **self.values)


# -- checking what people type ---------------------------------------------------------------------------------


def clean_name(text: str) -> str | Problem:
    name = " ".join(text.split())
    if not 2 <= len(name) <= NAME_MAX:
        return Problem("mentoring.error.name", {"max": NAME_MAX})
    return name


def clean_topics(text: str) -> list[str] | Problem:
    """"finanzas, marketing digital" → ["finanzas", "marketing digital"], repeats dropped whatever their case."""
    topics: list[str] = []
    for part in re.split(r"[,;\n]", text):
        topic = " ".join(part.split())
        if topic and topic.casefold() not in {known.casefold() for known in topics}:
            topics.append(topic)
    if not topics or len(topics) > MAX_TOPICS or any(len(topic) > TOPIC_MAX for topic in topics):
        return Problem("mentoring.error.topics", {"max": MAX_TOPICS, "length": TOPIC_MAX})
    return topics


def clean_languages(text: str) -> list[str] | Problem:
    languages = [part.strip().lower() for part in re.split(r"[,\s]+", text) if part.strip()]
    if not languages or any(lang not in LANGUAGES for lang in languages):
        return Problem("mentoring.error.languages", {"languages": ", ".join(LANGUAGES)})
    return list(dict.fromkeys(languages))


def clean_zone(text: str) -> str | Problem:
    """An IANA zone as typed ("america/la_paz" too: the case is fixed from the zone database's own names)."""
    name = text.strip().replace(" ", "_")
    if is_zone(name):
        return name
    for candidate in _known_zones():
        if candidate.casefold() == name.casefold():
            return candidate
    return Problem("mentoring.error.zone", {"zone": name[:40]})


def _known_zones() -> set[str]:
    from zoneinfo import available_timezones

    return available_timezones()


def check_minutes(minutes: int) -> Problem | None:
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        return Problem("mentoring.error.minutes", {"min": MIN_MINUTES, "max": MAX_MINUTES})
    return None


# -- mentors ------------------------------------------------------------------------------------------------------


def parse_user_key(text: str) -> tuple[str, str] | None:
    """``telegram:12345`` → ("telegram", "12345"); None when it is not channel:id."""
    channel, sep, external_id = text.strip().partition(":")
    if not sep or not re.fullmatch(r"[a-z]{2,20}", channel) or not re.fullmatch(r"[\w.@+-]{1,64}", external_id):
        return None
    return channel, external_id


async def user_by_key(session: AsyncSession, channel: str, external_id: str, *, language: str) -> User:
    """The chat user, made now if they never wrote to the bot (only their platform id, as on a first contact):
    a mentor added before their first message is one from it, and the bot can reach them from then on."""
    await session.execute(
        upsert_insert(session)(User)
        .values(channel=channel, external_id=external_id, role="entrepreneur", language=language)
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
    )
    found = await users.find(session, channel, external_id)
    assert found is not None
    return found


async def mentor_of(session: AsyncSession, user_id: int) -> Mentor | None:
    return await session.scalar(select(Mentor).where(Mentor.user_id == user_id))


async def all_mentors(session: AsyncSession) -> list[Mentor]:
    return list(await session.scalars(select(Mentor).order_by(Mentor.active.desc(), Mentor.name)))


async def save_mentor(
    session: AsyncSession,
    user: User,
    *,
    name: str,
    topics: list[str],
    languages: list[str],
    timezone: str,
    now: datetime,
) -> tuple[Mentor, bool]:
    """Create the mentor of ``user`` or update it (the same person added again); returns it and whether it is new.
    The user gets the mentor role (a coordinator keeps theirs) and, if they never said one, the mentor's zone."""
    mentor = await mentor_of(session, user.id)
    created = mentor is None
    if mentor is None:
        mentor = Mentor(user_id=user.id, created_at=now)
        session.add(mentor)
    mentor.name, mentor.topics, mentor.languages, mentor.timezone = name, topics, languages, timezone
    mentor.active, mentor.updated_at = True, now
    if user.role == "entrepreneur":
        user.role = "mentor"
    if user.timezone is None:
        user.timezone = timezone
    await session.flush()
    return mentor, created


# -- slots --------------------------------------------------------------------------------------------------------


@dataclass
class SlotsAdded:
    created: list[MentorSlot]
    refused: list[tuple[datetime, Problem]]


def weekly(start: datetime, count: int, zone_name: str) -> list[datetime]:
    """``count`` starts a week apart at the same wall-clock time in ``zone_name`` (10:00 in Madrid stays 10:00
    across the change to summer time, so in UTC it moves by an hour)."""
    local = start.astimezone(zone(zone_name)).replace(tzinfo=None)
    return [normalize((local + timedelta(weeks=week)).replace(tzinfo=zone(zone_name))) for week in range(count)]


async def add_slots(
    session: AsyncSession, mentor: Mentor, start: datetime, minutes: int, *, now: datetime, count: int = 1
) -> SlotsAdded:
    """Free times of ``mentor`` from ``start`` (UTC), ``count`` weeks in a row. A start in the past, or one that
    overlaps a time the mentor already offers, is refused with its reason; the others are added."""
    added = SlotsAdded([], [])
    length = timedelta(minutes=minutes)
    for begin in weekly(start, max(1, min(count, MAX_REPEAT)), mentor.timezone):
        if begin <= now:
            added.refused.append((begin, Problem("mentoring.error.past")))
            continue
        clash = await session.scalar(
            select(MentorSlot).where(
                MentorSlot.mentor_id == mentor.id,
                MentorSlot.status == OPEN,
                MentorSlot.starts_at < begin + length,
                MentorSlot.ends_at > begin,
            )
        )
        if clash is not None:
            added.refused.append((begin, Problem("mentoring.error.overlap", {"slot": clash.id})))
            continue
        slot = MentorSlot(mentor_id=mentor.id, starts_at=begin, ends_at=begin + length, status=OPEN, created_at=now)
        session.add(slot)
        await session.flush()
        added.created.append(slot)
    return added


@dataclass(frozen=True)
class SlotView:
    slot: MentorSlot
    booked: MentoringSession | None
    entrepreneur: User | None


async def mentor_slots(session: AsyncSession, mentor_id: int, now: datetime, limit: int = 30) -> list[SlotView]:
    """The mentor's coming times, free or booked (with whom), soonest first."""
    query = (
        select(MentorSlot, MentoringSession, User)
        .outerjoin(MentoringSession, MentoringSession.slot_id == MentorSlot.id)
        .outerjoin(User, User.id == MentoringSession.entrepreneur_id)
        .where(MentorSlot.mentor_id == mentor_id, MentorSlot.status == OPEN, MentorSlot.ends_at > now)
        .order_by(MentorSlot.starts_at)
        .limit(limit)
    )
    return [SlotView(slot, booked, user) for slot, booked, user in (await session.execute(query)).all()]


async def remove_slot(session: AsyncSession, mentor_id: int, slot_id: int) -> Problem | None:
    """Withdraw a free time. A booked one is refused: its session is cancelled instead, which tells the
    entrepreneur."""
    slot = await lock_slot(session, slot_id)
    if slot is None or slot.mentor_id != mentor_id:
        return Problem("mentoring.error.slot_gone")
    if await session.scalar(select(MentoringSession.id).where(MentoringSession.slot_id == slot_id)) is not None:
        return Problem("mentoring.error.slot_booked")
    slot.status = REMOVED
    return None


async def lock_slot(session: AsyncSession, slot_id: int) -> MentorSlot | None:
    """The open slot, written to first so nobody else can attach a session to it until this transaction ends
    (a row lock on PostgreSQL, the write lock on SQLite). None when it does not exist or was removed."""
    locked = await session.execute(
        update(MentorSlot)
        .where(MentorSlot.id == slot_id, MentorSlot.status == OPEN)
        .values(status=OPEN)
        .execution_options(synchronize_session=False)
    )
    if not getattr(locked, "rowcount", 0):
        return None
    return await session.get(MentorSlot, slot_id, populate_existing=True)


@dataclass(frozen=True)
class Offer:
    slot: MentorSlot
    mentor: Mentor


async def free_slots(
    session: AsyncSession,
    now: datetime,
    *,
    topic: str | None = None,
    mentor_id: int | None = None,
    not_user: int | None = None,
) -> list[Offer]:
    """Times that can be booked now: open, at least ``BOOKABLE_BEFORE`` ahead, nobody's session on them, of an
    active mentor (who mentors ``topic``, when given; never the asking user themself), soonest first."""
    query = (
        select(MentorSlot, Mentor)
        .join(Mentor, Mentor.id == MentorSlot.mentor_id)
        .outerjoin(MentoringSession, MentoringSession.slot_id == MentorSlot.id)
        .where(
            MentorSlot.status == OPEN,
            MentorSlot.starts_at >= now + BOOKABLE_BEFORE,
            MentoringSession.id.is_(None),
            Mentor.active.is_(True),
        )
        .order_by(MentorSlot.starts_at, MentorSlot.id)
    )
    if mentor_id is not None:
        query = query.where(Mentor.id == mentor_id)
    if not_user is not None:
        query = query.where(Mentor.user_id != not_user)
    offers = [Offer(slot, mentor) for slot, mentor in (await session.execute(query)).all()]
    if topic is not None:
        wanted = topic.casefold()
        offers = [o for o in offers if wanted in {t.casefold() for t in o.mentor.topics}]
    return offers


def topics_of(offers: Sequence[Offer]) -> list[str]:
    """The topics the offered times cover, each once whatever its case, alphabetically."""
    seen: dict[str, str] = {}
    for offer in offers:
        for topic in offer.mentor.topics:
            seen.setdefault(str(topic).casefold(), str(topic))
    return sorted(seen.values(), key=str.casefold)


# -- who may book -------------------------------------------------------------------------------------------------


async def may_book(session: AsyncSession, user: User, settings: Settings) -> bool:
    """``LIDERES_MENTORING_OPEN_TO``: anyone, or authors of a finalist (or accepted) idea."""
    if settings.mentoring_open_to == "anyone" or user.is_coordinator:
        return True
    found = await session.scalar(
        select(Submission.id).where(Submission.user_id == user.id, Submission.status.in_(ELIGIBLE_STATUSES)).limit(1)
    )
    return found is not None


# -- sessions -----------------------------------------------------------------------------------------------------


async def book(
    session: AsyncSession,
    slot_id: int,
    entrepreneur: User,
    topic: str,
    *,
    settings: Settings,
    now: datetime,
    assigned_by: User | None = None,
) -> MentoringSession | Problem:
    """Book ``slot_id`` for ``entrepreneur``: the session, its reminders and the notice to the mentor (and to the
    entrepreneur, when a coordinator assigned it), all in the caller's transaction."""
    slot = await lock_slot(session, slot_id)
    if slot is None:
        return Problem("mentoring.error.slot_gone")
    mentor = await session.get(Mentor, slot.mentor_id)
    if mentor is None or not mentor.active:
        return Problem("mentoring.error.slot_gone")
    if mentor.user_id == entrepreneur.id:
        return Problem("mentoring.error.own_slot")
    if slot.starts_at < now + BOOKABLE_BEFORE:
        return Problem("mentoring.error.too_late")
    holder = await session.scalar(select(MentoringSession.entrepreneur_id).where(MentoringSession.slot_id == slot_id))
    if holder is not None:  # a double tap on "book" finds the person's own booking
        return Problem("mentoring.error.already_yours" if holder == entrepreneur.id else "mentoring.error.taken")
    clash = await _clash(session, entrepreneur.id, slot.starts_at, slot.ends_at)
    if clash is not None:
        return Problem("mentoring.error.busy", {"when": format_when(clash.starts_at, entrepreneur.language,
                                                                    entrepreneur.timezone or mentor.timezone)})
    insert = upsert_insert(session)
    session_id = await session.scalar(
        insert(MentoringSession)
        .values(
            slot_id=slot.id, mentor_id=mentor.id, entrepreneur_id=entrepreneur.id, topic=topic[:TOPIC_MAX * 2],
            starts_at=slot.starts_at, ends_at=slot.ends_at, status=BOOKED, sequence=0,
            assigned_by=assigned_by.id if assigned_by else None, created_at=now, updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["slot_id"])
        .returning(MentoringSession.id)
    )
    if session_id is None:  # another transaction got there first
        return Problem("mentoring.error.taken")
    booked = await session.get(MentoringSession, session_id)
    assert booked is not None
    await plan_reminders(session, booked, mentor, settings=settings, now=now)
    notice(session, booked, mentor.user_id, "booked" if assigned_by is None else "assigned", now=now)
    if assigned_by is not None:
        notice(session, booked, entrepreneur.id, "assigned", now=now)
    return booked


async def _clash(session: AsyncSession, user_id: int, starts: datetime, ends: datetime,
                 ignore: int | None = None) -> MentoringSession | None:
    """A booked session of ``user_id`` (either side) overlapping that time."""
    query = (
        select(MentoringSession)
        .join(Mentor, Mentor.id == MentoringSession.mentor_id)
        .where(
            MentoringSession.status == BOOKED,
            (MentoringSession.entrepreneur_id == user_id) | (Mentor.user_id == user_id),
            MentoringSession.starts_at < ends,
            MentoringSession.ends_at > starts,
        )
        .limit(1)
    )
    if ignore is not None:
        query = query.where(MentoringSession.id != ignore)
    return await session.scalar(query)


@dataclass(frozen=True)
class Booking:
    """A session as one of its people sees it."""

    session: MentoringSession
    mentor: Mentor
    mentor_user: User
    entrepreneur: User
    role: str  # the reader's side: entrepreneur, mentor or coordinator


async def booking(session: AsyncSession, session_id: int, reader: User) -> Booking | None:
    """The session ``session_id`` if ``reader`` is one of its people or a coordinator; None otherwise (a forged
    or stale button)."""
    found = await session.get(MentoringSession, session_id)
    if found is None:
        return None
    mentor = await session.get(Mentor, found.mentor_id)
    entrepreneur = await session.get(User, found.entrepreneur_id)
    mentor_user = await session.get(User, mentor.user_id) if mentor else None
    if mentor is None or entrepreneur is None or mentor_user is None:
        return None
    if reader.id == entrepreneur.id:
        role = ENTREPRENEUR
    elif reader.id == mentor_user.id:
        role = MENTOR
    elif reader.is_coordinator:
        role = COORDINATOR
    else:
        return None
    return Booking(found, mentor, mentor_user, entrepreneur, role)


async def upcoming(session: AsyncSession, user_id: int, now: datetime) -> list[Booking]:
    """The user's booked sessions that have not ended, on either side, soonest first."""
    query = (
        select(MentoringSession)
        .join(Mentor, Mentor.id == MentoringSession.mentor_id)
        .where(
            MentoringSession.status == BOOKED,
            MentoringSession.ends_at > now,
            (MentoringSession.entrepreneur_id == user_id) | (Mentor.user_id == user_id),
        )
        .order_by(MentoringSession.starts_at)
    )
    reader = await session.get(User, user_id)
    assert reader is not None
    found = []
    for item in await session.scalars(query):
        seen = await booking(session, item.id, reader)
        if seen is not None:
            found.append(seen)
    return found


async def cancel_session(session: AsyncSession, seen: Booking, *, now: datetime) -> None:
    """Cancel: the slot is let go (freed when the entrepreneur cancels; withdrawn when the mentor does, since they
    cannot make that time), pending reminders are cancelled, and the other side (both, when a coordinator
    cancels) gets a notice with a calendar file that removes the event."""
    item = seen.session
    slot_id = item.slot_id
    item.status, item.cancelled_by, item.cancelled_at, item.updated_at = CANCELLED, seen.role, now, now
    item.slot_id, item.sequence = None, item.sequence + 1
    await session.flush()
    if slot_id is not None and seen.role == MENTOR:
        await session.execute(update(MentorSlot).where(MentorSlot.id == slot_id).values(status=REMOVED))
    await reminders.cancel(session, item.id)
    for user in _others(seen):
        notice(session, item, user.id, "cancelled", now=now, by=seen.role)


def _others(seen: Booking) -> list[User]:
    """Who is told of a change: the other side, or both when a coordinator made it."""
    actor = {ENTREPRENEUR: seen.entrepreneur.id, MENTOR: seen.mentor_user.id}.get(seen.role)
    return [user for user in (seen.entrepreneur, seen.mentor_user) if user.id != actor]


async def move_session(
    session: AsyncSession, seen: Booking, slot_id: int, *, settings: Settings, now: datetime
) -> Problem | None:
    """Move the session to another free time of the same mentor: the old slot is freed, reminders are planned
    for the new time, and the other side gets the new time with a calendar file that updates the event."""
    item = seen.session
    slot = await lock_slot(session, slot_id)
    if slot is None or slot.mentor_id != seen.mentor.id or slot.id == item.slot_id:
        return Problem("mentoring.error.slot_gone")
    if slot.starts_at < now + BOOKABLE_BEFORE:
        return Problem("mentoring.error.too_late")
    if await session.scalar(select(MentoringSession.id).where(MentoringSession.slot_id == slot_id)) is not None:
        return Problem("mentoring.error.taken")
    clash = await _clash(session, seen.entrepreneur.id, slot.starts_at, slot.ends_at, ignore=item.id)
    if clash is not None:
        reader = seen.entrepreneur if seen.role == ENTREPRENEUR else seen.mentor_user
        return Problem("mentoring.error.busy", {"when": format_when(clash.starts_at, reader.language,
                                                                    reader.timezone or seen.mentor.timezone)})
    previous = item.starts_at
    item.slot_id = None
    await session.flush()  # let go of the old slot before taking the new one (slot_id is unique)
    item.slot_id, item.starts_at, item.ends_at = slot.id, slot.starts_at, slot.ends_at
    item.sequence, item.updated_at = item.sequence + 1, now
    await session.flush()
    await plan_reminders(session, item, seen.mentor, settings=settings, now=now)
    for user in _others(seen):
        notice(session, item, user.id, "moved", now=now, previous=previous, by=seen.role)
    return None


async def plan_reminders(
    session: AsyncSession, item: MentoringSession, mentor: Mentor, *, settings: Settings, now: datetime
) -> None:
    """The reminders of a session, replacing any not yet sent: at each ``LIDERES_REMINDER_OFFSETS`` before it, to
    both sides (those already past are not made: the booking's confirmation is fresher), and the feedback
    question to the entrepreneur when it ends."""
    await reminders.cancel(session, item.id)
    entrepreneur = await session.get(User, item.entrepreneur_id)
    name = shown(entrepreneur.display_name if entrepreneur else None, "?")
    common = {"topic": item.topic, "when": reminders.at(item.starts_at, item.ends_at),
              "left": reminders.countdown(item.starts_at), "zone": mentor.timezone}
    for offset in settings.reminder_offset_list:
        due = item.starts_at - offset
        if due <= now:
            continue
        kind = f"before:{int(offset.total_seconds() // 60)}m"
        for user_id, key, values in (
            (item.entrepreneur_id, "mentoring.reminder_entrepreneur", {"mentor": mentor.name}),
            (mentor.user_id, "mentoring.reminder_mentor", {"name": name}),
        ):
            reminders.add(session, session_id=item.id, user_id=user_id, kind=kind, due_at=due, key=key,
                          values=common | values, now=now, expires_at=item.starts_at)
    rating = [[(f"mentoring.rate_{n}", f"mentoring:rate:{item.id}:{n}") for n in range(1, 6)]]
    reminders.add(session, session_id=item.id, user_id=item.entrepreneur_id, kind="feedback", due_at=item.ends_at,
                  key="mentoring.feedback_ask", values=common | {"mentor": mentor.name}, now=now, buttons=rating)


# -- feedback -----------------------------------------------------------------------------------------------------


def rate(item: MentoringSession, value: int, now: datetime) -> None:
    item.rating, item.rated_at = max(1, min(5, value)), now


def comment(item: MentoringSession, text: str, now: datetime) -> None:
    item.comment, item.rated_at = text.strip()[:COMMENT_MAX], now


@dataclass(frozen=True)
class Figures:
    """The coordinators' view (/stats): how mentoring is going."""

    mentors: int
    open_slots: int
    upcoming: int
    held: int
    cancelled: int
    rated: int
    average: float | None
    comments: list[tuple[int, str]]  # (rating, comment), latest first
    reminders: dict[str, int]


async def figures(session: AsyncSession, now: datetime, comments: int = 5) -> Figures:
    async def count(query: Select[Any]) -> int:
        return int(await session.scalar(query) or 0)

    sessions = select(func.count()).select_from(MentoringSession)
    rated = select(MentoringSession.rating, MentoringSession.comment).where(MentoringSession.rating.is_not(None))
    average = await session.scalar(select(func.avg(MentoringSession.rating)))
    latest = await session.execute(
        rated.where(MentoringSession.comment.is_not(None)).order_by(MentoringSession.rated_at.desc()).limit(comments)
    )
    by_status = (await session.execute(select(Reminder.status, func.count()).group_by(Reminder.status))).all()
    return Figures(
        mentors=await count(select(func.count()).select_from(Mentor).where(Mentor.active.is_(True))),
        open_slots=len(await free_slots(session, now)),
        upcoming=await count(sessions.where(MentoringSession.status == BOOKED, MentoringSession.ends_at > now)),
        held=await count(sessions.where(MentoringSession.status == BOOKED, MentoringSession.ends_at <= now)),
        cancelled=await count(sessions.where(MentoringSession.status == CANCELLED)),
        rated=await count(sessions.where(MentoringSession.rating.is_not(None))),
        average=float(average) if average is not None else None,
        comments=[(r, c) for r, c in latest.all() if r is not None and c is not None],
        reminders={str(status): int(n) for status, n in by_status},
    )


async def ratings(session: AsyncSession) -> dict[int, int]:
    """How many sessions got each rating (1..5)."""
    rows = await session.execute(select(MentoringSession.rating, func.count())
                                 .where(MentoringSession.rating.is_not(None)).group_by(MentoringSession.rating))
    return {int(value): int(count) for value, count in rows.all() if value is not None}


# -- messages about a session ---------------------------------------------------------------------------------


def notice(session: AsyncSession, item: MentoringSession, user_id: int, event: str, *, now: datetime,
           previous: datetime | None = None, by: str | None = None) -> Delivery:
    """An outbox row telling ``user_id`` that the session was booked, assigned, moved or cancelled, rendered when
    sent. The caller's transaction commits it; the engine wakes the outbox after a handler's commit."""
    values: dict[str, object] = {"session": item.id, "event": event, "sequence": item.sequence}
    if previous is not None:
        values["previous"] = previous.astimezone(UTC).isoformat()
    if by is not None:
        values["by"] = by
    row = new_delivery(user_id, now=now, renderer="mentoring.notice", values=values)
    session.add(row)
    return row


@renderer("mentoring.notice")
async def render_notice(ctx: RenderContext) -> Rendered:
    """The notice in the recipient's language and zone now. One made obsolete by a later change (a booking
    notice of a session cancelled since) is skipped: the later change has its own notice."""
    values = ctx.delivery.render_values
    event = str(values["event"])
    seen = await booking(ctx.session, int(values["session"]), ctx.user)
    if seen is None:
        raise DeliverySkipped("session gone")
    if event != "cancelled" and (seen.session.status != BOOKED or seen.session.sequence != values.get("sequence")):
        raise DeliverySkipped("superseded by a later change")
    previous = datetime.fromisoformat(str(values["previous"])) if values.get("previous") else None
    by = str(values["by"]) if values.get("by") else None
    return Rendered(tuple(session_message(seen, event, ctx.user, now=ctx.delivery.due_at, previous=previous, by=by)))


def reader_zone(reader: User, seen: Booking) -> str:
    """The zone a person reads a session's time in: theirs, else the mentor's (whose zone the time was set in)."""
    return reader.timezone or seen.mentor.timezone


def session_message(seen: Booking, event: str, reader: User, *, now: datetime,
                    previous: datetime | None = None, by: str | None = None) -> list[Reply]:
    """What ``reader`` is told, then the calendar file. ``event``: to whoever acted, confirmed (booked it
    themself), cancelled_self, moved_self; to the others, booked (the mentor), assigned (the entrepreneur, by a
    coordinator), cancelled, moved, with ``by`` the side that acted. Shared by the live answer and the outbox."""
    lang, zone_name, item = reader.language, reader_zone(reader, seen), seen.session
    names = {ENTREPRENEUR: shown(seen.entrepreneur.display_name, translate("mentoring.someone", lang)),
             MENTOR: seen.mentor.name, COORDINATOR: translate("mentoring.the_coordinators", lang)}
    values = {
        "mentor": names[MENTOR],
        "name": names[ENTREPRENEUR],
        "by": names.get(by or "", names[COORDINATOR]),
        "topic": item.topic,
        "when": format_when(item.starts_at, lang, zone_name, item.ends_at),
        "previous": format_when(previous, lang, zone_name) if previous else "",
    }
    side = MENTOR if reader.id == seen.mentor_user.id else ENTREPRENEUR
    text = translate(f"mentoring.notice_{event}_{side}", lang, **values)
    document = calendar_file(seen, reader, now=now, cancelled=event.startswith("cancelled"))
    return [Reply(text=text), Reply(text=translate("mentoring.calendar_caption", lang), document=document)]


def calendar_file(seen: Booking, reader: User, *, now: datetime, cancelled: bool = False) -> Attachment:
    """An iCalendar file (RFC 5545) of the session for ``reader``'s calendar: times in UTC (the phone shows them in
    its own zone), one UID per session and a SEQUENCE that grows with each change, so importing a later file
    updates the event, and a cancellation removes it."""
    lang, item = reader.language, seen.session
    is_mentor = reader.id == seen.mentor_user.id
    someone = translate("mentoring.someone", lang)
    other = shown(seen.entrepreneur.display_name, someone) if is_mentor else seen.mentor.name
    return _calendar(item.id, item.sequence, item.starts_at, item.ends_at, lang, reader_zone(reader, seen), now=now,
                     title=translate("mentoring.calendar_title", lang, name=other, topic=item.topic),
                     description=translate("mentoring.calendar_description", lang, name=other, topic=item.topic),
                     cancelled=cancelled)


def _calendar(session_id: int, sequence: int, starts: datetime, ends: datetime, lang: str, zone_name: str, *,
              now: datetime, title: str, description: str, cancelled: bool) -> Attachment:
    calendar = Calendar()
    calendar.add("prodid", "-//lideres-bot//mentoring//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"mentoring-{session_id}@lideres-bot")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", starts.astimezone(UTC))
    event.add("dtend", ends.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("summary", title)
    event.add("description", description)
    calendar.add_component(event)
    day = starts.astimezone(zone(zone_name)).date().isoformat()
    return Attachment("document", filename=f"{translate('mentoring.calendar_file', lang)}-{day}.ics",
                      mime_type="text/calendar", data=calendar.to_ical())


# -- someone leaving ----------------------------------------------------------------------------------------------


async def withdraw(session: AsyncSession, user: User, *, now: datetime) -> int:
    """``user`` leaves the network (forgotten: /forgetme, ``lideres privacy forget``): each booked session of theirs
    that has not ended, on either side, is cancelled with its pending reminders, and the other side is told in
    their language and zone with a calendar file that removes the event. The notice carries the session's time
    and nothing of the person who left, whose rows go next. Returns how many sessions were cancelled."""
    found = await upcoming(session, user.id, now)
    for seen in found:
        item = seen.session
        other = seen.mentor_user if seen.role == ENTREPRENEUR else seen.entrepreneur
        if item.slot_id is not None and seen.role == MENTOR:
            await session.execute(update(MentorSlot).where(MentorSlot.id == item.slot_id).values(status=REMOVED))
        item.status, item.cancelled_by, item.cancelled_at, item.updated_at = CANCELLED, seen.role, now, now
        item.slot_id, item.sequence = None, item.sequence + 1
        await reminders.cancel(session, item.id)
        session.add(new_delivery(other.id, now=now, renderer="mentoring.withdrawn", values={
            "session": item.id, "sequence": item.sequence, "left": seen.role, "zone": seen.mentor.timezone,
            "starts": item.starts_at.astimezone(UTC).isoformat(), "ends": item.ends_at.astimezone(UTC).isoformat()}))
    await session.flush()
    return len(found)


@renderer("mentoring.withdrawn")
async def render_withdrawn(ctx: RenderContext) -> Rendered:
    """The notice of ``withdraw`` in the recipient's language and zone now (the session's row may be gone)."""
    values = ctx.delivery.render_values
    lang, zone_name = ctx.user.language, ctx.user.timezone or str(values["zone"])
    starts, ends = datetime.fromisoformat(str(values["starts"])), datetime.fromisoformat(str(values["ends"]))
    side = MENTOR if values["left"] == ENTREPRENEUR else ENTREPRENEUR  # the reader's
    text = translate(f"mentoring.notice_withdrawn_{side}", lang, when=format_when(starts, lang, zone_name, ends))
    title = translate("mentoring.calendar_withdrawn", lang)
    document = _calendar(int(values["session"]), int(values["sequence"]), starts, ends, lang, zone_name,
                         now=ctx.delivery.due_at, title=title, description=title, cancelled=True)
    return Rendered((Reply(text=text), Reply(text=translate("mentoring.calendar_caption", lang), document=document)))
