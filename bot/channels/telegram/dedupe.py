"""Each Telegram update is handled once, even when Telegram delivers it again (a webhook answered too late,
a polling offset not confirmed before a restart) or two webhook workers both receive it.

The update id is inserted into ``processed_updates`` before the update is handled; losing the insert
(ON CONFLICT DO NOTHING affected no row) means someone already has it. Rows older than a week are
pruned: Telegram keeps undelivered updates for 24 hours, so an older id cannot come back.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.models import ProcessedUpdate

KEEP = timedelta(days=7)
PRUNE_EVERY = 10_000


class UpdateLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, channel: str) -> None:
        self.sessions = sessions
        self.clock = clock
        self.channel = channel
        self.since_prune = 0

    async def first_time(self, update_id: int) -> bool:
        """Record ``update_id``; False when it was already recorded."""
        async with self.sessions() as session, session.begin():
            insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            result = await session.execute(
                insert(ProcessedUpdate)
                .values(channel=self.channel, update_id=update_id, created_at=self.clock.now())
                .on_conflict_do_nothing(index_elements=["channel", "update_id"])
            )
            fresh = result.rowcount == 1  # type: ignore[attr-defined]
        if fresh:
            self.since_prune += 1
            if self.since_prune >= PRUNE_EVERY:
                await self.prune()
        return fresh

    async def prune(self) -> int:
        self.since_prune = 0
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                delete(ProcessedUpdate).where(
                    ProcessedUpdate.channel == self.channel,
                    ProcessedUpdate.created_at < self.clock.now() - KEEP,
                )
            )
            return result.rowcount  # type: ignore[attr-defined]
