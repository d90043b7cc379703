"""Send pacing for the Telegram Bot API: about 30 messages a second overall, one a second per chat, and a
pause for everyone after a 429.

PTB's ``AIORateLimiter`` has no per-private-chat limit and cannot be driven by a test clock, so this small
limiter is ours. Time comes from a ``Timer`` (``monotonic`` + ``sleep``) so tests replace waiting with a
virtual clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Protocol


class Timer(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicTimer:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RateLimiter:
    """``await acquire(chat_id)`` before each message. Sends to one chat are spaced by ``per_chat_interval``;
    at most ``overall`` sends start in any ``window`` seconds; ``pause(s)`` (a 429's retry_after) holds
    every send until ``s`` seconds from now. ``overall=0`` and ``per_chat_interval=0`` switch the limits
    off (benchmarks of the pipeline itself)."""

    def __init__(
        self,
        timer: Timer | None = None,
        *,
        overall: int = 30,
        window: float = 1.0,
        per_chat_interval: float = 1.0,
    ) -> None:
        self.timer = timer or MonotonicTimer()
        self.overall = overall
        self.window = window
        self.per_chat_interval = per_chat_interval
        self.recent: deque[float] = deque()  # start times of the sends in the current window
        self.next_for_chat: dict[int | str, float] = {}
        self.paused_until = 0.0
        self.chat_locks: dict[int | str, asyncio.Lock] = {}

    def pause(self, seconds: float) -> None:
        """Flood control (429): nobody sends before ``seconds`` from now."""
        self.paused_until = max(self.paused_until, self.timer.monotonic() + seconds)

    async def acquire(self, chat_id: int | str) -> None:
        lock = self.chat_locks.setdefault(chat_id, asyncio.Lock())
        async with lock:  # one chat's messages leave in the order they asked
            while True:
                now = self.timer.monotonic()
                wait = max(self.paused_until - now, self._chat_wait(chat_id, now), self._overall_wait(now))
                if wait <= 0:
                    break
                await self.timer.sleep(wait)
            self._record(chat_id, now)

    def _chat_wait(self, chat_id: int | str, now: float) -> float:
        return self.next_for_chat.get(chat_id, 0.0) - now

    def _overall_wait(self, now: float) -> float:
        if self.overall <= 0:
            return 0.0
        while self.recent and self.recent[0] <= now - self.window:
            self.recent.popleft()
        if len(self.recent) < self.overall:
            return 0.0
        return self.recent[0] + self.window - now

    def _record(self, chat_id: int | str, now: float) -> None:
        if self.overall > 0:
            self.recent.append(now)
        if self.per_chat_interval > 0:
            self.next_for_chat[chat_id] = now + self.per_chat_interval
        if len(self.chat_locks) > 10_000:  # forget idle chats, so a big broadcast does not grow these forever
            self.next_for_chat = {c: t for c, t in self.next_for_chat.items() if t > now}
            self.chat_locks = {c: lock for c, lock in self.chat_locks.items() if lock.locked()}
