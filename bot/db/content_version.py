"""A knowledge-base reload reaches every worker process: the process asked to reload (``lideres kb reload``,
``/kb_reload``, a published answer) bumps the row ``content_versions["content"]``; every process reads it every
``LIDERES_CONTENT_CHECK_SECONDS`` (one primary-key read) and reloads its own content when it changed. A
process's own bump is not reloaded twice; a process started later reads the files anyway. On SQLite (one
process by design) there is nobody to tell: nothing is written or read (a reload asked inside a handler's
transaction would otherwise wait for that transaction's own write lock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.models import ContentVersion
from bot.db.session import several_processes, upsert_insert

log = logging.getLogger("bot.content")
NAME = "content"


class ContentVersions:
    """``announce()`` after a reload asked of this process; ``check()`` (or ``run()``, its loop) reloads with
    ``reload`` (which must not announce) when another process announced one."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 reload: Callable[[], Awaitable[object]], *, every: float = 5.0) -> None:
        self.sessions = sessions
        self.clock = clock
        self.reload = reload
        self.every = every
        self.seen: int | None = None  # the version this process's content is at (None: not read yet)
        self.shared = several_processes(sessions)

    async def announce(self) -> int:
        """This process reloaded: the others should too. Returns the new version (0 on SQLite)."""
        if not self.shared:
            return 0
        async with self.sessions() as session, session.begin():
            insert = upsert_insert(session)
            await session.execute(insert(ContentVersion).values(name=NAME, version=0, updated_at=self.clock.now())
                                  .on_conflict_do_nothing(index_elements=["name"]))
            version = (await session.execute(
                update(ContentVersion).where(ContentVersion.name == NAME)
                .values(version=ContentVersion.version + 1, updated_at=self.clock.now())
                .returning(ContentVersion.version)
            )).scalar_one()
        self.seen = max(self.seen or 0, version)
        log.info("content reload announced", extra={"version": version})
        return version

    async def current(self) -> int:
        async with self.sessions() as session:
            return await session.scalar(select(ContentVersion.version).where(ContentVersion.name == NAME)) or 0

    async def check(self) -> bool:
        """Reload when another process announced a reload since this one last looked; True if it did. The
        first call only notes the version (the content was read from the files at start)."""
        if not self.shared:
            return False
        version = await self.current()
        if self.seen is None or version <= self.seen:
            self.seen = version if self.seen is None else self.seen
            return False
        self.seen = version
        log.info("content reloaded: another process announced it", extra={"version": version})
        await self.reload()
        return True

    async def run(self) -> None:
        """Until cancelled (returns at once on SQLite)."""
        if not self.shared:
            return
        while True:
            try:
                await self.check()
            except Exception:  # tried again next time
                log.exception("content version check failed")
            await asyncio.sleep(self.every)
