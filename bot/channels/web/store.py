"""What the web chat keeps in the database: the mailbox of messages a closed page has not shown yet, and the
files visitors upload or are sent (so every worker can serve them, and deleting a member deletes them)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import User, WebFile, WebMailbox
from bot.services import users

CHANNEL = "web"
KEEP_MAILBOX = timedelta(days=90)  # a visitor who does not come back in three months will not


async def user_id_of(sessions: async_sessionmaker[AsyncSession], visitor: str) -> int | None:
    async with sessions() as session:
        return await session.scalar(select(User.id).where(*users.key_is(CHANNEL, visitor)))


async def post(sessions: async_sessionmaker[AsyncSession], user_id: int, messages: list[dict[str, Any]],
               now: datetime) -> int:
    """Keep ``messages`` (page JSON) for the visitor's next visit; the row's id."""
    async with sessions() as session, session.begin():
        row = WebMailbox(user_id=user_id, replies=messages, created_at=now)
        session.add(row)
        await session.flush()
        return row.id


async def take(sessions: async_sessionmaker[AsyncSession], user_ids: Sequence[int]
               ) -> dict[int, list[dict[str, Any]]]:
    """The waiting messages of ``user_ids``, oldest first, removed from the mailbox (by the caller's commit:
    read and delete in one transaction, so two workers never show one message twice)."""
    if not user_ids:
        return {}
    found: dict[int, list[dict[str, Any]]] = {}
    async with sessions() as session, session.begin():
        rows = (await session.scalars(
            select(WebMailbox).where(WebMailbox.user_id.in_(list(user_ids))).order_by(WebMailbox.id)
            .with_for_update(skip_locked=True)
        )).all()
        for row in rows:
            found.setdefault(row.user_id, []).extend(row.replies)
        if rows:
            await session.execute(delete(WebMailbox).where(WebMailbox.id.in_([row.id for row in rows])))
    return found


async def prune(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    async with sessions() as session, session.begin():
        await session.execute(delete(WebMailbox).where(WebMailbox.created_at < now - KEEP_MAILBOX))


async def save_file(sessions: async_sessionmaker[AsyncSession], user_id: int, filename: str, mime_type: str,
                    data: bytes, now: datetime) -> str:
    file_id = secrets.token_hex(16)
    async with sessions() as session, session.begin():
        session.add(WebFile(id=file_id, user_id=user_id, filename=filename[:200] or "file",
                            mime_type=mime_type[:100], size=len(data), data=data, created_at=now))
    return file_id


async def load_file(sessions: async_sessionmaker[AsyncSession], file_id: str, user_id: int) -> WebFile | None:
    """The file, only for its owner."""
    async with sessions() as session:
        return await session.scalar(select(WebFile).where(WebFile.id == file_id, WebFile.user_id == user_id))
