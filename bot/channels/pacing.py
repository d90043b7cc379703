"""Send pacing for a messaging platform: an overall rate, a per-chat rate with a small burst, and a pause for
everyone after a "too many requests" answer.

Telegram asks for about 30 messages a second overall and about one a second per chat over time, and tolerates
short bursts: the two or three messages of one reply (a welcome and the privacy notice) may leave together,
while a chat that keeps receiving (a broadcast, a long conversation) is held to one a second. The per-chat
limit is a token bucket (up to ``burst`` sends at once, refilled at ``per_chat`` a second); the overall limit
is a sliding window (at most 30 sends in any second), because a bucket would let a burst of 30 and then 30
more through in the same second.

Bulk sends (broadcasts) yield: a live reply or a personal notification waiting for its turn goes first, so a
member's answer never queues behind a broadcast of thousands; bulk sends are spread evenly (the overall rate,
rather than a window's worth at once) and may leave ``bulk_reserve`` sends of each window to the others. A send
counts in the window until its answer (``done``), so requests that reach the platform later than their turn
cannot push the platform's count over the limit.

PTB's ``AIORateLimiter`` has no per-private-chat limit and cannot be driven by a test clock, so this small
limiter is ours, shared by every channel. Time comes from a ``Timer`` (``monotonic`` + ``sleep``) so tests
replace waiting with a virtual clock instead of sleeping.

Several worker processes on one PostgreSQL share one budget (``SharedBudget``): after this process's own
limiter lets a send go, the send books its moment in the table ``send_budget``, in one transaction that locks
the channel's row first (so bookings of all processes are made one at a time) and then the chat's row. The
booking is GCRA, a token bucket written as "the earliest moment the next send may leave": the moment is
``max(now, channel's next, chat's next - (burst - 1) / per_chat, end of a 429 pause)``; the channel's next
becomes the moment plus ``1 / (SHARED_MARGIN * overall)`` and the chat's its next plus ``1 / per_chat``. So
booked moments of all processes are at least that far apart (at most ``overall`` in any second, with room for
a send reaching the platform a little after its moment), and a chat gets ``burst`` at once then one a second.
Time is the database's clock (``clock_timestamp()``), the same for every process whatever their hosts'.
Bulk sends book only while the channel is not booked ahead (``BULK_AHEAD``), so a reply in any process never
waits behind a broadcast's bookings. If the database cannot book, the send goes on this process's own limits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import SendBudget
from bot.db.session import several_processes, upsert_insert

log = logging.getLogger("bot.pacing")
ChatKey = int | str
FORGET_AFTER = 10_000  # chats remembered before full (idle) buckets are forgotten
SHARED_MARGIN = 0.9  # of the overall rate booked by the shared budget: room for sends that arrive late
BULK_AHEAD = 0.2  # seconds the shared budget may be booked ahead for a bulk send to book too
PRUNE_EVERY = 10_000  # bookings between deletions of idle chats' rows


class Timer(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicTimer:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


EPSILON = 1e-9  # tokens: rounding, not a real shortfall


class TokenBucket:
    """Up to ``capacity`` sends at once, refilled at ``rate`` a second."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one send is allowed (0 when it is now)."""
        self._refill(now)
        # Refills add up in floating point (0.9999999999999998 tokens after a whole second): a shortfall below
        # EPSILON is a full token, else the wait (~1e-17 s) is too small to move a clock at all and never ends.
        return 0.0 if self.tokens >= 1 - EPSILON else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.capacity


class RateLimiter:
    """``await acquire(chat)`` before each message. ``overall`` sends a second for all chats (0: no limit);
    ``per_chat`` a second for each chat with bursts of ``burst`` (0: no limit); ``pause(s)`` (a 429's
    retry_after) holds every send until ``s`` seconds from now; ``acquire(chat, bulk=True)`` waits for
    everything else and leaves ``bulk_reserve`` sends of each window to it."""

    def __init__(
        self,
        timer: Timer | None = None,
        *,
        overall: float = 30,
        per_chat: float = 1.0,
        burst: int = 3,
        bulk_reserve: int = 0,
        shared: SharedBudget | None = None,
    ) -> None:
        self.timer = timer or MonotonicTimer()
        self.shared = shared
        self.overall = overall
        self.per_chat = per_chat
        self.burst = burst
        # at most `window_count` sends in any `window` seconds: 30 in 1 s for 30/s, 1 in 2 s for 0.5/s
        self.window_count = max(1, round(overall)) if overall > 0 else 0
        self.window = self.window_count / overall if overall > 0 else 0.0
        self.recent: deque[float] = deque()  # start times of the sends in the current window
        self.chats: dict[ChatKey, TokenBucket] = {}
        self.paused_until = 0.0
        self.chat_locks: dict[ChatKey, asyncio.Lock] = {}
        self.bulk_reserve = min(bulk_reserve, self.window_count - 1) if self.window_count else 0
        self.waiting = 0  # sends other than bulk waiting only for the overall window
        # bulk sends are spread evenly over the window instead of leaving in bursts of a whole window's worth: a
        # bucket of their rate, with room for two so that a send granted late (a busy event loop) is caught up
        # instead of slowing every later one
        bulk_rate = (self.window_count - self.bulk_reserve) / self.window if self.window_count else 0.0
        self.bulk_pace = TokenBucket(bulk_rate, 2, self.timer.monotonic()) if bulk_rate else None

    def share(self, sessions: async_sessionmaker[AsyncSession], channel: str) -> None:
        """On PostgreSQL, keep these limits together with every other worker process of ``channel``. Not with a
        test's virtual timer: the shared budget runs on the database's real clock."""
        if isinstance(self.timer, MonotonicTimer):
            self.shared = shared_budget(sessions, channel, overall=self.overall, per_chat=self.per_chat,
                                        burst=self.burst)

    def pause(self, seconds: float) -> None:
        """Flood control (429): nobody sends before ``seconds`` from now."""
        self.paused_until = max(self.paused_until, self.timer.monotonic() + seconds)

    async def acquire(self, chat: ChatKey, *, bulk: bool = False) -> float:
        """Wait for this chat's turn; returns the moment recorded for it, for ``departed``."""
        lock = self.chat_locks.setdefault(chat, asyncio.Lock())
        contending = False  # this (not bulk) send only waits for the overall window: bulk sends let it first
        try:
            async with lock:  # one chat's messages leave in the order they asked
                while True:
                    now = self.timer.monotonic()
                    bucket = self._bucket(chat, now)
                    own_wait = max(self.paused_until - now, bucket.wait(now) if bucket is not None else 0.0)
                    wait = max(own_wait, self._overall_wait(now, self.bulk_reserve if bulk else 0))
                    if bulk and self.bulk_pace is not None:
                        wait = max(wait, self.bulk_pace.wait(now))
                    if not bulk and contending != (own_wait <= 0):
                        contending = own_wait <= 0
                        self.waiting += 1 if contending else -1
                    if bulk and self.waiting and wait <= 0:
                        wait = self.window / self.window_count if self.window_count else 0.001
                    if wait <= 0:
                        break
                    await self.timer.sleep(wait)
                if self.shared is not None:
                    await self._book_shared(chat, bulk)
                    now = self.timer.monotonic()
                self._record(chat, now)
                if bulk and self.bulk_pace is not None:
                    self.bulk_pace.take(now)
        finally:
            if contending:
                self.waiting -= 1
        return now

    async def _book_shared(self, chat: ChatKey, bulk: bool) -> None:
        """Wait for the moment booked in the budget all worker processes share."""
        assert self.shared is not None
        while True:
            try:
                booking = await self.shared.book(
                    chat, bulk=bulk, pause=max(0.0, self.paused_until - self.timer.monotonic()))
            except Exception as exc:  # this process's own limits still hold
                log.warning("shared send budget unavailable", extra={"error": type(exc).__name__})
                return
            if booking.wait > 0:
                await self.timer.sleep(booking.wait)
            if booking.booked:
                return

    def done(self, granted: float) -> None:
        """The request granted at ``granted`` has its answer: count it in the window from now on.

        A request reaches the platform some time after its turn (it waits for a connection, for the outbox to note
        the attempt, for the HTTP client's own work, longer on a busy machine) and before its answer. Counted from
        its turn, requests that waited would let the next ones in early; counted from when it left, the client's
        variable delay still can (measured: a few 429s a minute). Counted from its answer, the window never
        holds fewer than the platform saw, so the limit holds; the price is a rate a round trip's share lower."""
        if not self.window_count:
            return
        try:
            self.recent.remove(granted)
        except ValueError:
            pass  # older than the window already (a slow request): still counted from now
        self.recent.append(self.timer.monotonic())

    def _overall_wait(self, now: float, reserve: int = 0) -> float:
        """Seconds until a send fits in the window, keeping ``reserve`` of its sends free."""
        if not self.window_count:
            return 0.0
        while self.recent and self.recent[0] <= now - self.window:
            self.recent.popleft()
        allowed = self.window_count - reserve
        if len(self.recent) < allowed:
            return 0.0
        return self.recent[len(self.recent) - allowed] + self.window - now

    def _bucket(self, chat: ChatKey, now: float) -> TokenBucket | None:
        if self.per_chat <= 0:
            return None
        bucket = self.chats.get(chat)
        if bucket is None:
            bucket = self.chats[chat] = TokenBucket(self.per_chat, self.burst, now)
        return bucket

    def _record(self, chat: ChatKey, now: float) -> None:
        if self.window_count:
            self.recent.append(now)
        bucket = self._bucket(chat, now)
        if bucket is not None:
            bucket.take(now)
        if len(self.chats) > FORGET_AFTER:  # a full bucket is a fresh one: forgetting it changes nothing
            self.chats = {c: b for c, b in self.chats.items() if not b.full(now)}
            self.chat_locks = {c: lock for c, lock in self.chat_locks.items() if lock.locked()}


@dataclass(frozen=True)
class Booking:
    """``booked``: the send leaves after ``wait`` seconds, at ``moment`` (the database's clock, in seconds);
    not booked (a bulk send while the budget is booked ahead): ask again after ``wait``."""

    wait: float
    booked: bool
    moment: float


class SharedBudget:
    """The send budget of one channel shared by every worker process on one PostgreSQL (see the module's
    docstring)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], channel: str, *, overall: float,
                 per_chat: float = 1.0, burst: int = 3) -> None:
        self.sessions = sessions
        self.channel = channel
        self.interval = 1 / (overall * SHARED_MARGIN) if overall > 0 else 0.0
        self.chat_interval = 1 / per_chat if per_chat > 0 else 0.0
        self.tolerance = (burst - 1) * self.chat_interval
        self.booked = 0

    async def book(self, chat: ChatKey, *, bulk: bool = False, pause: float = 0.0) -> Booking:
        table = SendBudget
        keys = ["", str(chat)] if self.chat_interval else [""]
        async with self.sessions() as session, session.begin():
            rows = await self._lock(session, keys)
            if len(rows) < len(keys):
                insert = upsert_insert(session)
                await session.execute(insert(table).values([{"channel": self.channel, "chat": key, "next_at": 0.0}
                                                            for key in keys if key not in rows])
                                      .on_conflict_do_nothing(index_elements=["channel", "chat"]))
                rows = await self._lock(session, keys)
            # read after the locks: a booking that waited for them starts from the moment it got them
            now = float(await session.scalar(select(func.extract("epoch", func.clock_timestamp()))) or 0.0)
            channel_next = rows[""]
            if bulk and channel_next - now > BULK_AHEAD:
                return Booking(channel_next - now - BULK_AHEAD / 2, False, now)
            moment = max(now, channel_next, now + pause)
            if self.chat_interval:
                moment = max(moment, rows[str(chat)] - self.tolerance)
            news = {"": moment + self.interval}
            if self.chat_interval:
                news[str(chat)] = max(rows[str(chat)], moment) + self.chat_interval
            for key, next_at in news.items():
                await session.execute(update(table).where(table.channel == self.channel, table.chat == key)
                                      .values(next_at=next_at))
        self.booked += 1
        if self.booked % PRUNE_EVERY == 0:
            await self.prune()
        return Booking(moment - now, True, moment)

    async def _lock(self, session: AsyncSession, keys: list[str]) -> dict[str, float]:
        """The rows of ``keys``, locked in key order (the channel's row, "", first: no deadlocks)."""
        result = await session.execute(
            select(SendBudget.chat, SendBudget.next_at)
            .where(SendBudget.channel == self.channel, SendBudget.chat.in_(keys))
            .order_by(SendBudget.chat)
            .with_for_update()
        )
        return {chat: next_at for chat, next_at in result.all()}

    async def prune(self, older_than: float = 3600.0) -> None:
        """Forget chats whose next moment is long past (a fresh row is the same as a full bucket)."""
        async with self.sessions() as session, session.begin():
            now = float(await session.scalar(select(func.extract("epoch", func.clock_timestamp()))) or 0.0)
            await session.execute(delete(SendBudget).where(
                SendBudget.channel == self.channel, SendBudget.chat != "", SendBudget.next_at < now - older_than))


def shared_budget(sessions: async_sessionmaker[AsyncSession], channel: str, *, overall: float,
                  per_chat: float = 1.0, burst: int = 3) -> SharedBudget | None:
    """A shared budget on PostgreSQL, where several worker processes may run; None on SQLite (one process)."""
    if not several_processes(sessions) or (overall <= 0 and per_chat <= 0):
        return None
    return SharedBudget(sessions, channel, overall=overall, per_chat=per_chat, burst=burst)
