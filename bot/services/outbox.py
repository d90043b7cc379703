"""The outbox sender: delivers ``deliveries`` rows through the users' channels (DESIGN.md, principle 3).

Handlers commit rows before anything is sent; this sender claims due rows, sends them concurrently (a bounded
number at once, each under the channel's rate limiter) and records what happened in batches.

    pending ──claim──▶ claimed ──request leaves──▶ sending ──▶ sent / failed / blocked / skipped
     ▲ │ ▲                │ lease expired                        │ lease expired (the process died)
     │ │ └────────────────┘                                      ▼
     │ ▼                                                    unconfirmed
     held (a paused broadcast's rows; resumed: pending again)

- **Order.** Rows are claimed by ``priority`` (personal messages 0, broadcasts 100), then due time: while a
  broadcast runs, an answer or a status change still leaves at once; the channel's limiter also lets non-bulk
  sends go first (``bulk=True``).
- **Claiming.** One statement claims a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers
  share the outbox) and holds it for ``lease``; a sender renews the lease of what it still holds. Members who
  opted out of broadcasts or blocked the bot are skipped here, at claim time, not when the broadcast started.
- **Content.** Stored replies, or a renderer (``@renderer("name")``) with values, rendered at claim time in the
  recipient's language: a broadcast's text, a reminder in the member's time zone, a WhatsApp template.
- **No duplicates after a crash.** Right before the first request of a message, the row is marked ``sending``
  (group-committed with the other marks and results of that moment). After a crash, rows still ``claimed``
  never left and go back to ``pending``; rows ``sending`` may have been delivered and become ``unconfirmed``
  instead of being sent a second time. Results are written in batches by one writer (group commit), so a
  broadcast costs a few statements a second, not one transaction per message.
- **Ticks.** Features hook periodic work into the loop (``@tick``): broadcasts start when due and report
  their progress from here.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import DeliveryFailed, DeliverySkipped, OutputChannel, RecipientBlocked, Template
from bot.clock import Clock
from bot.db.models import Delivery, User
from bot.i18n import translate
from bot.messages import Reply, dump_reply, load_reply
from bot.services import users

log = logging.getLogger("bot.outbox")

PRIORITY_PERSONAL = 0  # answers, notifications, reminders, live replies kept for a retry
PRIORITY_BULK = 100  # broadcasts
OPEN_STATUSES = ("pending", "claimed", "sending")
FINAL_STATUSES = ("sent", "failed", "blocked", "skipped", "unconfirmed", "delivered", "read")  # the last two: receipts
MAX_ATTEMPTS = 5
RETRY_LIVE_REPLY_AFTER = timedelta(minutes=1)
UNCONFIRMED = "the bot stopped while sending: it may have been delivered, so it is not sent again"


# -- content rendered when sent -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    replies: tuple[Reply, ...]
    template: Template | None = None


@dataclass
class RenderContext:
    """What a renderer gets: the claim's open session, the recipient as they are now, the row, and a cache
    shared by the rows of one claim (a broadcast's row is read once per batch, not once per recipient)."""

    session: AsyncSession
    user: User
    delivery: Delivery
    cache: dict[Any, Any] = field(default_factory=dict)


Renderer = Callable[[RenderContext], Awaitable[Rendered]]
RENDERERS: dict[str, Renderer] = {}


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer by name: ``enqueue(..., renderer=name, values={...})`` rows are rendered by it when
    claimed. Raising ``DeliverySkipped`` skips the row with its reason."""

    def register(function: Renderer) -> Renderer:
        if RENDERERS.get(name, function) is not function:
            raise ValueError(f"renderer {name!r} registered twice")
        RENDERERS[name] = function
        return function

    return register


@renderer("catalog")
async def render_catalog(ctx: RenderContext) -> Rendered:
    """``values = {"key": catalog key, "values": {...}}``: the text in the recipient's language when sent."""
    values = ctx.delivery.render_values
    return Rendered((Reply(text=translate(str(values["key"]), ctx.user.language, **values.get("values", {}))),))


# -- writing rows ---------------------------------------------------------------------------------------


def new_delivery(
    user_id: int,
    replies: Sequence[Reply] = (),
    *,
    now: datetime,
    kind: str = "notification",
    priority: int = PRIORITY_PERSONAL,
    renderer: str | None = None,
    values: dict[str, Any] | None = None,
    template: Template | None = None,
    due_at: datetime | None = None,
) -> Delivery:
    """An outbox row for the caller to add to its session: committed with the caller's other writes."""
    if renderer is not None and renderer not in RENDERERS:
        raise ValueError(f"no renderer {renderer!r}")
    return Delivery(
        user_id=user_id,
        kind=kind,
        priority=priority,
        replies=[dump_reply(reply) for reply in replies],
        renderer=renderer,
        render_values=dict(values or {}),
        template=template_json(template),
        status="pending",
        attempts=0,
        due_at=due_at or now,
        created_at=now,
    )


def template_json(template: Template | None) -> dict[str, Any] | None:
    if template is None:
        return None
    return {"name": template.name, "language": template.language, "params": list(template.params)}


def template_from(data: dict[str, Any] | None, language: str = "") -> Template | None:
    if not data or not data.get("name"):
        return None
    return Template(str(data["name"]), str(data.get("language") or language),
                    tuple(str(p) for p in data.get("params") or ()))


async def record_undelivered(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    external_id: str,
    replies: Sequence[Reply],
    error: str,
    *,
    retryable: bool,
    now: datetime,
) -> None:
    """A live reply the channel gave up on becomes an outbox row: retried later by the sender when the
    failure may pass, recorded as failed otherwise. Never lost silently."""
    async with sessions() as session, session.begin():
        user_id = await session.scalar(select(User.id).where(*users.key_is(channel, external_id)))
        if user_id is None:
            return
        row = new_delivery(user_id, replies, now=now, kind="reply", due_at=now + RETRY_LIVE_REPLY_AFTER)
        row.status, row.attempts, row.error = ("pending" if retryable else "failed"), 1, error[:300]
        session.add(row)


# -- periodic work of features --------------------------------------------------------------------------

Tick = Callable[["OutboxSender"], Awaitable[None]]
TICKS: list[Tick] = []


def tick(function: Tick) -> Tick:
    """Run ``function(sender)`` in the sender's loop, about every ``OutboxSender.tick_every`` seconds and at
    each ``send_due``: work that must happen in whichever process sends (a due broadcast starting, progress)."""
    if function not in TICKS:
        TICKS.append(function)
    return function


# -- the sender -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    user_id: int
    channel: str
    external_id: str
    replies: tuple[Reply, ...]
    template: Template | None
    bulk: bool
    attempts: int


@dataclass
class Result:
    id: int
    user_id: int
    status: str
    attempts: int
    error: str | None = None
    retryable: bool = False
    refs: list[str] | None = None


class OutboxSender:
    """One per process. ``run()`` is the loop; ``send_due()`` sends everything due now and returns (tests,
    the console). ``concurrency`` bounds the messages in flight; each also waits for its channel's limiter."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outputs: Mapping[str, OutputChannel],
        clock: Clock,
        *,
        concurrency: int = 16,
        lease: timedelta = timedelta(seconds=30),
        tick_every: float = 0.5,
    ) -> None:
        self.sessions = sessions
        self.outputs = outputs
        self.clock = clock
        self.concurrency = concurrency
        self.lease = lease
        self.tick_every = tick_every
        self.worker = uuid.uuid4().hex[:8]  # in logs: which process sent what
        self.wake = asyncio.Event()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._marks: list[tuple[int, asyncio.Future[None]]] = []
        self._results: list[Result] = []
        self._dirty = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None
        self._last_tick = float("-inf")
        self._last_upkeep: datetime | None = None

    def poke(self) -> None:
        """New rows were committed: look now instead of at the next idle timeout."""
        self.wake.set()

    # -- loops ----------------------------------------------------------------------------------------

    async def run(self, idle_seconds: float = 5.0) -> None:
        """Until cancelled: claim while there is room, wait for a wake-up, a finished send or the timeout."""
        try:
            while True:
                await self._maybe_tick()
                await self._upkeep()
                if await self._fill():
                    continue
                self.wake.clear()
                waiting: set[asyncio.Future[Any]] = {asyncio.ensure_future(self.wake.wait()), *self._tasks.values()}
                timeout = min(idle_seconds, self.tick_every) if self._tasks or TICKS else idle_seconds
                _done, pending = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for future in pending - set(self._tasks.values()):
                    future.cancel()
        finally:
            await self.close()

    async def send_due(self) -> int:
        """Everything due now, sent and recorded before returning; returns how many rows were attempted."""
        await self._upkeep(force=True)
        await self._run_ticks()
        attempted = 0
        while True:
            claimed = await self._fill(force=True)
            attempted += claimed
            if self._tasks:
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            await self._flush()
            if not claimed:
                break
        await self._run_ticks()
        await self._flush()
        return attempted

    async def close(self) -> None:
        """Let the sends in flight finish and write their results (a SIGTERM, the end of a test)."""
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        await self._flush()
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None

    async def _maybe_tick(self) -> None:
        if time.monotonic() - self._last_tick >= self.tick_every:
            await self._run_ticks()

    async def _run_ticks(self) -> None:
        self._last_tick = time.monotonic()
        for function in list(TICKS):
            try:
                await function(self)
            except Exception:  # a feature's tick must not stop the outbox
                log.exception("outbox tick failed", extra={"tick": getattr(function, "__name__", "?")})

    # -- claiming ---------------------------------------------------------------------------------------

    async def _fill(self, *, force: bool = False) -> int:
        """Claim as many rows as there is room for, once at least half the room is free (one statement for
        many rows), and start sending them."""
        free = self.concurrency - len(self._tasks)
        if free <= 0 or (not force and self._tasks and free < self.concurrency // 2):
            return 0
        try:
            claimed = await self._claim(free)
        except Exception:
            log.exception("outbox claim failed")
            return 0
        for item in claimed:
            task = asyncio.create_task(self._deliver(item), name=f"outbox-{item.id}")
            self._tasks[item.id] = task
            task.add_done_callback(partial(self._forget, item.id))
        return len(claimed)

    def _forget(self, delivery_id: int, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(delivery_id, None)

    async def _claim(self, limit: int) -> list[Claimed]:
        now = self.clock.now()
        claimed: list[Claimed] = []
        skipped: list[tuple[Delivery, str]] = []
        async with self.sessions() as session, session.begin():
            query = (
                select(Delivery, User)
                .join(User, User.id == Delivery.user_id)
                .where(Delivery.status == "pending", Delivery.due_at <= now, User.channel.in_(list(self.outputs)))
                .order_by(Delivery.priority, Delivery.due_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=Delivery)
            )
            cache: dict[Any, Any] = {}
            for delivery, user in (await session.execute(query)).all():
                bulk = delivery.priority >= PRIORITY_BULK
                reason = _not_for(user, bulk)
                rendered: Rendered | None = None
                if reason is None:
                    try:
                        rendered = await self._render(session, user, delivery, cache)
                    except DeliverySkipped as exc:
                        reason = str(exc) or "skipped"
                    except Exception as exc:
                        log.exception("delivery could not be rendered", extra={"delivery": delivery.id})
                        delivery.status, delivery.error = "failed", f"render: {type(exc).__name__}"[:300]
                        continue
                if rendered is None:
                    skipped.append((delivery, reason or "skipped"))
                    continue
                delivery.status = "claimed"
                delivery.claimed_until = now + self.lease
                delivery.attempts += 1
                claimed.append(Claimed(delivery.id, user.id, user.channel, user.external_id, rendered.replies,
                                       rendered.template, bulk, delivery.attempts))
            for delivery, reason in skipped:
                delivery.status, delivery.error = "skipped", reason[:300]
        return claimed

    async def _render(self, session: AsyncSession, user: User, delivery: Delivery,
                      cache: dict[Any, Any]) -> Rendered:
        if delivery.renderer is None:
            replies = tuple(load_reply(reply) for reply in delivery.replies)
            return Rendered(replies, template_from(delivery.template, user.language))
        function = RENDERERS.get(delivery.renderer)
        if function is None:
            raise LookupError(f"no renderer {delivery.renderer!r}")
        return await function(RenderContext(session, user, delivery, cache))

    # -- sending ----------------------------------------------------------------------------------------

    async def _deliver(self, item: Claimed) -> None:
        async def attempt() -> None:
            await self._mark_sending(item.id)

        result = Result(item.id, item.user_id, "sent", item.attempts)
        try:
            refs = await self.outputs[item.channel].send(
                item.external_id, item.replies, template=item.template, bulk=item.bulk, on_attempt=attempt
            )
            result.refs = list(refs or [])
        except RecipientBlocked:
            result.status, result.error = "blocked", "recipient blocked the bot"
        except DeliverySkipped as exc:
            result.status, result.error = "skipped", str(exc)[:300] or "skipped"
        except DeliveryFailed as exc:
            result.status, result.error, result.retryable = "failed", str(exc)[:300], exc.retryable
        except Exception as exc:  # a bug in a channel must not stop the outbox
            log.exception("delivery crashed", extra={"delivery": item.id})
            result.status, result.error, result.retryable = "failed", type(exc).__name__[:300], True
        self._results.append(result)
        self._dirty.set()
        self._ensure_writer()
        log.debug("delivery", extra={"delivery": item.id, "status": result.status})

    async def _mark_sending(self, delivery_id: int) -> None:
        """Returns once the row is committed as ``sending``: from then on a crash leaves it unconfirmed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((delivery_id, future))
        self._dirty.set()
        self._ensure_writer()
        await future

    # -- writing results (one writer: group commit) ---------------------------------------------------

    def _ensure_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop(), name="outbox-writer")

    async def _write_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await self._flush()

    async def _flush(self) -> None:
        """Write every mark and result gathered since the last flush in one transaction. One flush at a time: a
        caller that must know everything is written (``send_due``, ``close``) waits for the writer's flush in
        progress instead of finding nothing left to write and returning before it commits."""
        async with self._flush_lock:
            await self._flush_now()

    async def _flush_now(self) -> None:
        marks, self._marks = self._marks, []
        results, self._results = self._results, []
        if not marks and not results:
            return
        try:
            await self._write(marks, results)
        except Exception as exc:
            log.exception("outbox results could not be written", extra={"rows": len(marks) + len(results)})
            self._results = results + self._results  # tried again at the next flush
            for _id, future in marks:
                if not future.done():
                    future.set_exception(exc)
            await asyncio.sleep(0.5)
            self._dirty.set()
            return
        for _id, future in marks:
            if not future.done():
                future.set_result(None)

    async def _write(self, marks: list[tuple[int, asyncio.Future[None]]], results: list[Result]) -> None:
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        blocked: set[int] = set()
        for result in results:
            row: dict[str, Any] = {"id": result.id, "claimed_until": None, "error": result.error}
            if result.status == "failed" and result.retryable and result.attempts < MAX_ATTEMPTS:
                row |= {"status": "pending", "due_at": now + timedelta(seconds=min(600, 5 * 3**result.attempts))}
            else:
                row["status"] = result.status
            if result.status == "sent":
                row |= {"sent_at": now, "refs": result.refs}
            if result.status == "blocked":
                blocked.add(result.user_id)
            rows.append(row)
        async with self.sessions() as session, session.begin():
            if marks:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_([delivery_id for delivery_id, _ in marks]), Delivery.status == "claimed")
                    .values(status="sending")
                )
            for shape in _by_shape(rows):  # one executemany per set of columns
                await session.execute(update(Delivery), shape)
            if blocked:
                await session.execute(
                    update(User).where(User.id.in_(blocked), User.blocked_at.is_(None)).values(blocked_at=now)
                )

    # -- leases ---------------------------------------------------------------------------------------

    async def _upkeep(self, *, force: bool = False) -> None:
        """Renew the lease of the rows this sender holds; release those of a sender that died."""
        now = self.clock.now()
        if not force and self._last_upkeep is not None and now - self._last_upkeep < self.lease / 3:
            return
        self._last_upkeep = now
        try:
            async with self.sessions() as session, session.begin():
                if self._tasks:
                    await session.execute(
                        update(Delivery)
                        .where(Delivery.id.in_(list(self._tasks)), Delivery.status.in_(("claimed", "sending")))
                        .values(claimed_until=now + self.lease)
                    )
                expired = Delivery.claimed_until < now
                if self._tasks:
                    expired = expired & Delivery.id.not_in(list(self._tasks))
                released = await session.execute(
                    update(Delivery).where(Delivery.status == "claimed", expired)
                    .values(status="pending", claimed_until=None)
                )
                doubtful = await session.execute(
                    update(Delivery).where(Delivery.status == "sending", expired)
                    .values(status="unconfirmed", claimed_until=None, error=UNCONFIRMED)
                )
            count_released = getattr(released, "rowcount", 0)
            count_doubtful = getattr(doubtful, "rowcount", 0)
            if count_released or count_doubtful:
                log.warning("outbox rows of a stopped sender taken back",
                            extra={"resent": count_released, "unconfirmed": count_doubtful})
        except Exception:
            log.exception("outbox upkeep failed")


def _not_for(user: User, bulk: bool) -> str | None:
    """Why this member gets nothing now (checked at claim time: they may have left since the row was made)."""
    if user.blocked_at is not None:
        return "recipient blocked the bot"
    if bulk and user.broadcast_opt_out:
        return "opted out of broadcasts (/stop)"
    return None


def _by_shape(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    return list(shapes.values())
