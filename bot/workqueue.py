"""One work queue for everything that must happen "in order per key, different keys at once": a user's
messages through the engine, a chat's replies through a channel's sender, a channel's updates through its
journal.

Each key has its own FIFO; a bounded pool of workers serves the keys that have work, one worker per key
at a time, so a key's jobs never overtake each other and a slow key never holds up the others. There is
no task per job (thousands of tasks contending for one HTTP pool or one database cost more than they
gain). ``put`` waits while ``limit`` jobs are queued: a slow database slows the producer down instead of
growing memory without bound.

A batch worker (``batch > 1``) takes up to ``batch`` of a key's waiting jobs at once, for work that is
cheaper in bulk (recording a batch of update ids in one statement).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger("bot.workqueue")

Key = TypeVar("Key", bound=Hashable)
Job = TypeVar("Job")


class QueueClosed(Exception):
    """``put`` after ``close``: the process is stopping and takes no new work."""


class KeyedQueue(Generic[Key, Job]):
    """``await put(key, job)``; ``run(key, jobs)`` is called with one job (or up to ``batch``) at a time per
    key. An exception in ``run`` is logged and the jobs count as done: one bad job never stops a worker."""

    def __init__(
        self,
        run: Callable[[Key, Sequence[Job]], Awaitable[None]],
        *,
        workers: int,
        limit: int = 10_000,
        batch: int = 1,
        name: str = "queue",
    ) -> None:
        if workers < 1 or limit < 1 or batch < 1:
            raise ValueError("workers, limit and batch must be at least 1")
        self.run = run
        self.size = workers
        self.limit = limit
        self.batch = batch
        self.name = name
        self.pending: dict[Key, deque[Job]] = {}
        self.ready: asyncio.Queue[Key] = asyncio.Queue()
        self.workers: list[asyncio.Task[None]] = []
        self.count = 0  # jobs queued or running
        self.closed = False
        self.changed = asyncio.Condition()

    def __len__(self) -> int:
        return self.count

    @property
    def full(self) -> bool:
        return self.count >= self.limit

    async def put(self, key: Key, job: Job) -> None:
        """Queue ``job`` behind ``key``'s others; waits while the queue is full. Raises ``QueueClosed``."""
        if self.closed:
            raise QueueClosed(self.name)
        if self.count >= self.limit:
            async with self.changed:
                await self.changed.wait_for(lambda: self.count < self.limit or self.closed)
            if self.closed:
                raise QueueClosed(self.name)
        self._start_workers()
        self.count += 1
        queue = self.pending.get(key)
        if queue is None:
            self.pending[key] = deque([job])
            self.ready.put_nowait(key)
        else:
            queue.append(job)  # a worker owns this key (or it is in line for one): it will get there

    def _start_workers(self) -> None:
        if not self.workers:
            self.workers = [
                asyncio.create_task(self._work(), name=f"{self.name}-{i}") for i in range(self.size)
            ]

    async def _work(self) -> None:
        while True:
            key = await self.ready.get()
            queue = self.pending[key]
            while queue:
                jobs = [queue.popleft() for _ in range(min(self.batch, len(queue)))]
                try:
                    await self.run(key, jobs)
                except Exception:
                    log.exception("job failed", extra={"queue": self.name, "jobs": len(jobs)})
                async with self.changed:
                    self.count -= len(jobs)
                    self.changed.notify_all()
            del self.pending[key]  # no await since the last check: nothing was added in between

    async def join(self) -> None:
        """Until every job queued so far has run."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.count == 0)

    async def close(self) -> None:
        """Take no new jobs, finish those queued, stop the workers. Idempotent."""
        self.closed = True
        async with self.changed:
            self.changed.notify_all()  # producers waiting for room give up
        await self.join()
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        self.workers = []
