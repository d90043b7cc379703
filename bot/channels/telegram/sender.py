"""Live replies leave through their own per-chat queue, so an engine worker hands its replies over and
goes on to the next message instead of waiting out Telegram's one-message-a-second-per-chat spacing (with
eight engine workers that wait would cap the whole bot at about eight answers a second). One chat's
replies keep their order; different chats are served by a bounded pool of workers; when too much is
waiting, ``put`` waits too, which slows the engine down instead of growing memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger("bot.telegram")
Job = TypeVar("Job")


class ChatQueue(Generic[Job]):
    def __init__(self, run: Callable[[int, Job], Awaitable[None]], *, workers: int = 64, limit: int = 10_000) -> None:
        self.run = run
        self.size = workers
        self.limit = limit
        self.pending: dict[int, deque[Job]] = {}
        self.ready: asyncio.Queue[int] = asyncio.Queue()
        self.workers: list[asyncio.Task[None]] = []
        self.count = 0
        self.changed = asyncio.Condition()

    async def put(self, chat_id: int, job: Job) -> None:
        if self.count >= self.limit:
            async with self.changed:
                await self.changed.wait_for(lambda: self.count < self.limit)
        if not self.workers:
            self.workers = [asyncio.create_task(self._work(), name=f"telegram-sender-{i}") for i in range(self.size)]
        self.count += 1
        queue = self.pending.get(chat_id)
        if queue is None:
            self.pending[chat_id] = deque([job])
            self.ready.put_nowait(chat_id)
        else:
            queue.append(job)  # a worker owns this chat; it will get there

    async def _work(self) -> None:
        while True:
            chat_id = await self.ready.get()
            queue = self.pending[chat_id]
            while queue:
                try:
                    await self.run(chat_id, queue[0])
                except Exception:
                    log.exception("telegram send crashed", extra={"chat": chat_id})
                queue.popleft()
                async with self.changed:
                    self.count -= 1
                    self.changed.notify_all()
            del self.pending[chat_id]

    async def wait_idle(self) -> None:
        """Until nothing is queued or being sent (tests, and ``drain``)."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.count == 0)

    async def drain(self) -> None:
        """Wait until everything queued is sent, then stop the workers."""
        await self.wait_idle()
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        self.workers = []
