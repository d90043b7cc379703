"""Each Telegram update is handled once, even when Telegram delivers it again (a webhook answered too late,
a polling offset not confirmed before a restart) or two webhook workers both receive it.

Update ids are inserted into ``processed_updates`` before the updates are handled; an id whose insert
affects no row (ON CONFLICT DO NOTHING) is someone else's already. The inserts are batched: ``Intake``
takes every update waiting and records them in one statement, because one round trip per update, done
one update at a time, capped the whole channel at about 50 updates a second on a busy event loop.
Rows older than a week are pruned: Telegram keeps undelivered updates for 24 hours.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Generic, TypeVar

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.models import ProcessedUpdate

log = logging.getLogger("bot.telegram")
KEEP = timedelta(days=7)
PRUNE_EVERY = 10_000
Item = TypeVar("Item")


class UpdateLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, channel: str) -> None:
        self.sessions = sessions
        self.clock = clock
        self.channel = channel
        self.since_prune = 0

    async def record(self, update_ids: Sequence[int]) -> set[int]:
        """Record ``update_ids``; returns those that were not recorded before."""
        unique = list(dict.fromkeys(update_ids))
        if not unique:
            return set()
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            rows = [{"channel": self.channel, "update_id": update_id, "created_at": now} for update_id in unique]
            result = await session.execute(
                insert(ProcessedUpdate)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["channel", "update_id"])
                .returning(ProcessedUpdate.update_id)
            )
            fresh = set(result.scalars())
        self.since_prune += len(fresh)
        if self.since_prune >= PRUNE_EVERY:
            await self.prune()
        return fresh

    async def first_time(self, update_id: int) -> bool:
        return update_id in await self.record([update_id])

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


class Intake(Generic[Item]):
    """One task between PTB's dispatcher and the engine: takes all updates waiting, records their ids in one
    statement, hands the fresh ones on in arrival order (so each user's order is kept) and skips the rest."""

    def __init__(self, updates: UpdateLog, handle: Callable[[int, Item], Awaitable[None]], *,
                 batch: int = 500) -> None:
        self.updates = updates
        self.handle = handle
        self.batch = batch
        self.waiting: deque[tuple[int, Item]] = deque()
        self.arrived = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.task: asyncio.Task[None] | None = None

    def put(self, update_id: int, item: Item) -> None:
        if self.task is None:
            self.task = asyncio.create_task(self._run(), name="telegram-intake")
        self.waiting.append((update_id, item))
        self.idle.clear()
        self.arrived.set()

    async def _run(self) -> None:
        while True:
            await self.arrived.wait()
            self.arrived.clear()
            while self.waiting:
                batch = [self.waiting.popleft() for _ in range(min(self.batch, len(self.waiting)))]
                try:
                    fresh = await self.updates.record([update_id for update_id, _ in batch])
                except Exception:  # better twice than never: the engine gets them anyway
                    log.exception("telegram: could not record update ids", extra={"count": len(batch)})
                    fresh = {update_id for update_id, _ in batch}
                for update_id, item in batch:
                    if update_id not in fresh:
                        log.info("telegram duplicate update skipped", extra={"update_id": update_id})
                        continue
                    fresh.discard(update_id)  # a second copy in the same batch is a duplicate too
                    try:
                        await self.handle(update_id, item)
                    except Exception:
                        log.exception("telegram update failed", extra={"update_id": update_id})
            if not self.waiting:
                self.idle.set()

    async def wait_idle(self) -> None:
        await self.idle.wait()

    async def close(self) -> None:
        await self.wait_idle()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None
