"""Numbered options: past 10 buttons WhatsApp has no interactive message, so the options go out as numbered
lines and the user answers "3". What each number stands for is kept in the database (``NumberedChoices``),
written before the message leaves, so an answer typed at once, or after a restart, or to another worker,
still finds it. The next answer with buttons replaces the options (or clears them, when its buttons are
interactive); an answer with none keeps them, so a broadcast arriving in between does not take them away.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import NumberedChoices, User
from bot.db.session import upsert_insert
from bot.services import users

KEEP = timedelta(hours=24)  # WhatsApp's own window: an older list is not what the user is looking at


async def offer(
    sessions: async_sessionmaker[AsyncSession], channel: str, external_id: str, payloads: list[str], now: datetime
) -> None:
    """Remember ``payloads`` as options 1..n for the user (an empty list forgets the previous ones)."""
    if not payloads:
        await forget(sessions, channel, external_id)
        return
    async with sessions() as session, session.begin():
        user_id = await session.scalar(select(User.id).where(*users.key_is(channel, external_id)))
        if user_id is None:
            return
        insert = upsert_insert(session)
        await session.execute(
            insert(NumberedChoices)
            .values(user_id=user_id, payloads=payloads, offered_at=now)
            .on_conflict_do_update(index_elements=["user_id"], set_={"payloads": payloads, "offered_at": now})
        )


async def forget(sessions: async_sessionmaker[AsyncSession], channel: str, external_id: str) -> None:
    async with sessions() as session, session.begin():
        user_id = select(User.id).where(*users.key_is(channel, external_id)).scalar_subquery()
        await session.execute(delete(NumberedChoices).where(NumberedChoices.user_id == user_id))


async def recipient(
    sessions: async_sessionmaker[AsyncSession], channel: str, external_id: str
) -> tuple[str | None, bool]:
    """The user's language and whether they have options on screen, in one read: most answers have none to
    forget, and a write per answer would queue behind SQLite's single writer for nothing."""
    async with sessions() as session:
        row = (await session.execute(
            select(User.language, NumberedChoices.user_id)
            .outerjoin(NumberedChoices, NumberedChoices.user_id == User.id)
            .where(*users.key_is(channel, external_id))
        )).first()
    return (row[0], row[1] is not None) if row is not None else (None, False)


async def chosen(
    sessions: async_sessionmaker[AsyncSession], channel: str, external_id: str, text: str, now: datetime
) -> str | None:
    """The payload of option ``text`` ("3", " 3. "), or None when the text is not one of the options shown."""
    number = text.strip().rstrip(".)")
    if not number.isdigit() or len(number) > 3:
        return None
    async with sessions() as session:
        payloads = await session.scalar(
            select(NumberedChoices.payloads)
            .join(User, User.id == NumberedChoices.user_id)
            .where(*users.key_is(channel, external_id), NumberedChoices.offered_at >= now - KEEP)
        )
    index = int(number) - 1
    if not payloads or not 0 <= index < len(payloads):
        return None
    return str(payloads[index])
