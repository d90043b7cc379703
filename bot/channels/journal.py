"""The journal of what a platform delivered: each update (Telegram's numbered updates, WhatsApp's "wamid"
messages) is handled once, even when the platform delivers it again (a webhook answered too late, a polling
offset not confirmed before a restart) or two webhook workers both receive it. Shared by every channel; the
``channel`` column keeps their ids apart.

Update ids are inserted into ``processed_updates`` before the updates are handled; an id whose insert
affects no row (ON CONFLICT DO NOTHING) is someone else's already. The inserts are batched: ``Intake``
takes every update waiting and records them in one statement, because one round trip per update, done
one update at a time, capped the whole channel at about 50 updates a second on a busy event loop.
Rows older than a week are pruned: Telegram keeps undelivered updates for 24 hours, WhatsApp retries for
about a day.

A recorded id is never delivered again, so the row also keeps what the engine needs (``incoming``). A channel
gives ``within`` to ``Engine.submit``: the replies are written on the row in the handler's own transaction, and
the channel marks the row ``handled_at`` once they are sent: a crash in between leaves a handled, unanswered row
whose replies are sent on restart, so the update is neither handled twice (on a conversation that has moved on)
nor left unanswered (replies wait seconds in a paced send queue under load). A crash during the send itself may
send a reply twice: at least once, never lost. The marks are group-committed: a flusher task writes whatever
marks are waiting in one UPDATE, and those made meanwhile form the next (written as they came, the marks went
out about one per statement under load; held back for a fixed linger, they left a window in which a kill sent
answers twice). For an update with several replies, each sent reply but the last is noted the same way
(``mark_sent``: the row keeps only the replies not sent yet), so a restart resends none of those already out.
On start, ``unanswered`` gives the rows of the last 24 hours that were taken but never handled or never answered
(the process died in between), with their stored replies if any; older ones are only marked, with a warning.
One row the database refuses (an id or a value it cannot hold) cannot poison the others:
when a batch fails for a reason of its rows, the rows are written one by one and a row refused on its own
is dropped with a log line (its update is not handled: nothing of it could be kept). When the database
itself is unavailable (locked, gone, timed out), nothing is dropped: the batch counts as new (better
twice than never) and marks wait for the next write.
Several worker processes (webhook mode on PostgreSQL, behind one URL) share the journal through leases: a
row taken and not yet handled carries its worker (``lease_owner``: the worker's stable name and a token of
this run) and a ``lease_until``, renewed every third of the lease while the process lives (``keep``) and
cleared with the handled mark. ``unhandled`` takes over, in one statement, the rows whose lease expired (their
worker died or hung) and those a previous run of this same worker left (at once: it is not running them):
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so of two workers looking at once each row goes to exactly one; a
row whose lease was renewed meanwhile no longer matches. SQLite stays one process (one writer at a time),
where the same statement runs without the lock clause. A clean stop releases what it still holds.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, func, null, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.models import ProcessedUpdate
from bot.db.session import upsert_insert
from bot.messages import Reply, dump_reply, load_reply
from bot.workqueue import KeyedQueue

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot.journal")
KEEP = timedelta(days=7)
PRUNE_EVERY = 10_000
REPLAY_WITHIN = timedelta(hours=24)  # the platforms' own redelivery window
MARK_BATCH = 1000
LEASE = timedelta(seconds=30)
TAKE_BATCH = 1000
Record = dict[str, Any]
Item = TypeVar("Item")
UpdateId = int | str  # a platform's id of what it delivered: Telegram's update number, WhatsApp's "wamid..."
# Stored as text (WhatsApp's ids are strings); ids come back as text, and a number's digits keep its order.

# SQLSTATE classes of a database that cannot take a statement now (connection, rollback/deadlock,
# resources, operator intervention such as a statement timeout, system error), and lock not available.
UNAVAILABLE_SQLSTATES = ("08", "40", "53", "57", "58", "55P03", "55006")


def database_unavailable(exc: BaseException) -> bool:
    """The database could not take the statement at all (locked, gone, overloaded, timed out), as opposed
    to refusing one of its rows (a value out of range, a constraint). Only the second is a row's fault."""
    unavailable = (OSError, TimeoutError, sa_exc.OperationalError, sa_exc.InterfaceError,
                   sa_exc.DisconnectionError, sa_exc.TimeoutError)
    if isinstance(exc, unavailable):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        state = str(getattr(exc.orig, "sqlstate", "") or "")
        return exc.connection_invalidated or (bool(state) and state.startswith(UNAVAILABLE_SQLSTATES))
    return False


def worker_name(port: int) -> str:
    """A worker's default name: unique among the processes sharing a database (one web port per process on a
    host) and the same after a restart, so a restarted worker takes back its leftovers at once."""
    return f"{socket.gethostname()}:{port}"


# Built once: an ORM update() built per message was a measurable share of the engine's time (bench/README.md).
_JOURNAL = cast(Table, ProcessedUpdate.__table__)
_STORE_REPLIES = update(_JOURNAL).where(_JOURNAL.c.channel == bindparam("journal_channel"),
                                        _JOURNAL.c.update_id == bindparam("journal_update"))
# Recording a batch of update ids: one executemany (SQLAlchemy sends it as multi-row INSERTs), compiled once per
# dialect; a multi-row ``.values(rows)`` was compiled afresh for every batch, its VALUES being part of the statement.
_RECORD: dict[str, Any] = {}


def _record_statement(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    statement = _RECORD.get(dialect)
    if statement is None:
        statement = _RECORD[dialect] = (upsert_insert(session)(_JOURNAL)
                                        .on_conflict_do_nothing(index_elements=["channel", "update_id"])
                                        .returning(_JOURNAL.c.update_id))
    return statement


# Rows whose replies are all sent: the group commit's one statement (an expanding IN, so any number of ids).
_SET_HANDLED = (update(_JOURNAL)
                .where(_JOURNAL.c.channel == bindparam("journal_channel"),
                       _JOURNAL.c.update_id.in_(bindparam("journal_updates", expanding=True)))
                .values(handled_at=bindparam("handled_now"), lease_owner=None, lease_until=None, replies=null()))
# The replies still to send of rows not yet handled: one UPDATE with a value per row (executemany).
_KEEP_UNSENT = (update(_JOURNAL)
                .where(_JOURNAL.c.channel == bindparam("journal_channel"),
                       _JOURNAL.c.update_id == bindparam("journal_update"), _JOURNAL.c.handled_at.is_(None))
                .values(replies=bindparam("unsent")))


class Journal:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, channel: str, *,
                 worker: str | None = None, lease: timedelta = LEASE) -> None:
        self.sessions = sessions
        self.clock = clock
        self.channel = channel
        self.worker = worker or worker_name(0)
        self.owner = f"{self.worker}#{uuid.uuid4().hex[:8]}"  # this run of the worker
        self.lease = lease
        self.keeper: asyncio.Task[None] | None = None
        self.since_prune = 0
        self.to_mark: list[str] = []
        self.progress: dict[str, list[Reply]] = {}  # update id → its replies not sent yet (some were)
        self.marking = asyncio.Event()  # marks are waiting
        self.marked = asyncio.Event()  # none waiting and none being written
        self.marked.set()
        self.flusher: asyncio.Task[None] | None = None

    @classmethod
    def for_app(cls, app: App, channel: str) -> Journal:
        settings = app.settings
        return cls(app.sessions, app.clock, channel, worker=settings.worker_id or worker_name(settings.web_port),
                   lease=timedelta(seconds=settings.journal_lease_seconds))

    async def record(self, entries: Sequence[tuple[UpdateId, Record | None]]) -> set[str]:
        """Record ``(update_id, what to handle again)`` pairs; returns the ids (as text) that were not recorded
        before. An entry with nothing to handle again (a notice) counts as handled at once."""
        unique = {str(update_id): item for update_id, item in reversed(entries)}  # the first of each id
        if not unique:
            return set()
        now = self.clock.now()
        rows = [
            # A notice (nothing to handle again) leaves out ``incoming``, which stays SQL NULL (a JSON None would be
            # stored as 'null'), and counts as handled.
            {"channel": self.channel, "update_id": update_id, "created_at": now, "handled_at": now,
             "lease_owner": None, "lease_until": None}
            if item is None else
            {"channel": self.channel, "update_id": update_id, "created_at": now, "incoming": item,
             "handled_at": None, "lease_owner": self.owner, "lease_until": now + self.lease}
            for update_id, item in sorted(unique.items(), key=lambda pair: _order(pair[0]))
        ]
        try:
            fresh = await self._insert(rows)
        except Exception as exc:
            if database_unavailable(exc):
                raise
            fresh = await self._insert_one_by_one(rows)
        self.since_prune += len(fresh)
        if self.since_prune >= PRUNE_EVERY:
            await self.prune()
        return fresh

    async def _insert(self, rows: list[Record]) -> set[str]:
        async with self.sessions() as session, session.begin():
            statement = _record_statement(session)
            fresh: set[str] = set()
            for group in ([row for row in rows if "incoming" in row], [row for row in rows if "incoming" not in row]):
                if group:  # an executemany's rows all name the same columns
                    fresh.update((await session.execute(statement, group)).scalars())
            return fresh

    async def _insert_one_by_one(self, rows: list[Record]) -> set[str]:
        """The batch failed for a reason of its rows: each on its own, dropping those refused on their own.
        Raises if the database itself becomes unavailable meanwhile."""
        fresh: set[str] = set()
        for row in rows:
            try:
                fresh |= await self._insert([row])
            except Exception as exc:
                if database_unavailable(exc):
                    raise
                log.error("journal: update could not be stored, dropped",
                          extra={"channel": self.channel, "update_id": row["update_id"][:64],
                                 "error": type(exc).__name__})
        return fresh

    # -- handled -------------------------------------------------------------------------------------

    def within(self, update_id: UpdateId) -> Callable[[AsyncSession, list[Reply]], Awaitable[None]]:
        """For ``Engine.submit``: in the handler's transaction, ``update_id`` is handled and these are its
        replies. Committed with the handler's writes, so a crash before they are sent leaves them to send on
        restart (``unanswered``) instead of an update handled twice or a reply lost."""

        async def store_replies(session: AsyncSession, replies: list[Reply]) -> None:
            await session.execute(_STORE_REPLIES, {"journal_channel": self.channel, "journal_update": str(update_id),
                                                   "replies": [dump_reply(reply) for reply in replies]})

        return store_replies

    def mark_handled(self, update_id: UpdateId) -> None:
        """``update_id``'s replies are sent (or kept in the outbox); written with the others waiting, in one
        statement."""
        key = str(update_id)
        self.progress.pop(key, None)
        self.to_mark.append(key)
        self._wake()

    def mark_sent(self, update_id: UpdateId, unsent: Sequence[Reply]) -> None:
        """Some of ``update_id``'s replies are sent, ``unsent`` are not yet: a restart sends only those
        (written with the marks). Without it, a process killed after the first of several replies resent them
        all."""
        self.progress[str(update_id)] = list(unsent)
        self._wake()

    def _wake(self) -> None:
        self.marked.clear()
        self.marking.set()
        if self.flusher is None:
            self.flusher = asyncio.create_task(self._flush_marks(), name=f"{self.channel}-handled-marks")

    async def _flush_marks(self) -> None:
        """Group commit: whatever is waiting is written at once, in one transaction, and the marks made during
        that write form the next batch. A mark not yet written when the process dies means replies sent again
        on restart, so it waits no longer than the write before it (a fixed linger of 0.1 s, tried before, sent
        about 40 answers twice in a run killed 6 times under load)."""
        while True:
            await self.marking.wait()
            self.marking.clear()
            await self._write_marks()
            if not self.to_mark and not self.progress:
                self.marked.set()

    async def _write_marks(self) -> None:
        pending, self.to_mark = self.to_mark, []
        progress, self.progress = self.progress, {}
        handled = set(pending)
        progress = {key: unsent for key, unsent in progress.items() if key not in handled}
        if progress:
            try:
                await self._set_progress(progress)
            except Exception as exc:
                # kept for the next write unless handled meanwhile; lost, the restart sends all the replies
                log.warning("journal: could not note the replies sent",
                            extra={"channel": self.channel, "count": len(progress), "error": type(exc).__name__})
                if database_unavailable(exc):
                    self.progress = {**progress, **self.progress}
        for start in range(0, len(pending), MARK_BATCH):
            ids = pending[start : start + MARK_BATCH]
            try:
                await self._set_handled(ids)
            except Exception as exc:
                if database_unavailable(exc) or not await self._mark_one_by_one(ids):
                    # kept for the next mark (or close); if never written, handled again on start
                    log.exception("journal: could not mark updates handled",
                                  extra={"channel": self.channel, "count": len(ids)})
                    self.to_mark[:0] = pending[start:]
                    self.marked.set()
                    return

    async def _set_progress(self, progress: dict[str, list[Reply]]) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(_KEEP_UNSENT, [
                {"journal_channel": self.channel, "journal_update": key,
                 "unsent": [dump_reply(reply) for reply in unsent]}
                for key, unsent in progress.items()])

    async def _mark_one_by_one(self, update_ids: Sequence[str]) -> bool:
        """The batch failed for a reason of its ids: each on its own, dropping an id refused on its own (it
        cannot have been recorded either). False if the database became unavailable (nothing dropped then,
        the marks written so far are harmless to write again)."""
        for update_id in update_ids:
            try:
                await self._set_handled([update_id])
            except Exception as exc:
                if database_unavailable(exc):
                    return False
                log.error("journal: update could not be marked handled, dropped",
                          extra={"channel": self.channel, "update_id": update_id[:64],
                                 "error": type(exc).__name__})
        return True

    async def _set_handled(self, update_ids: Sequence[str]) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(_SET_HANDLED, {"journal_channel": self.channel, "journal_updates": list(update_ids),
                                                 "handled_now": self.clock.now()})

    async def flush(self) -> None:
        """Until every mark made so far is written (or failed)."""
        await self.marked.wait()

    async def close(self) -> None:
        if self.keeper is not None:
            self.keeper.cancel()
            await asyncio.gather(self.keeper, return_exceptions=True)
            self.keeper = None
        await self.flush()
        if self.flusher is not None:
            self.flusher.cancel()
            await asyncio.gather(self.flusher, return_exceptions=True)
            self.flusher = None
        if self.to_mark or self.progress:  # a write failed earlier: one last try
            await self._write_marks()
        try:  # what this run took and did not handle (the engine stopped first) is for another worker now
            await self._lease_own(until=self.clock.now())
        except Exception:
            log.exception("journal: could not release leases", extra={"channel": self.channel})

    # -- leases --------------------------------------------------------------------------------------

    def keep(self, take_over: Callable[[], Awaitable[object]], every: float | None = None) -> None:
        """Until ``close``: every third of the lease (or ``every`` seconds), renew this run's leases, then call
        ``take_over`` (the channel's replay, which takes the expired rows with ``unhandled``)."""
        if self.keeper is None:
            period = every if every is not None else self.lease.total_seconds() / 3
            self.keeper = asyncio.create_task(self._keep(take_over, period), name=f"{self.channel}-leases")

    async def _keep(self, take_over: Callable[[], Awaitable[object]], every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.renew()
            except Exception:  # tried again next time; if it keeps failing, another worker takes them
                log.exception("journal: could not renew leases", extra={"channel": self.channel})
            try:
                await take_over()
            except Exception:
                log.exception("journal: taking over expired leases failed", extra={"channel": self.channel})

    async def renew(self) -> int:
        """Extend the lease of every row this run took and has not handled; returns how many."""
        return await self._lease_own(until=self.clock.now() + self.lease)

    async def _lease_own(self, until: datetime) -> int:
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(ProcessedUpdate)
                .where(ProcessedUpdate.lease_owner == self.owner, ProcessedUpdate.channel == self.channel,
                       ProcessedUpdate.handled_at.is_(None))
                .values(lease_until=until)
            )
            return cast(CursorResult[Any], result).rowcount

    async def unanswered(self, limit: int = TAKE_BATCH) -> list[tuple[str, Record, list[Reply] | None]]:
        """Take over (lease to this run) the rows taken in the last 24 hours but never handled whose lease
        expired or whose worker is this one's previous run, and return them in update order, each with its
        stored replies when it was handled but not answered (send them; do not handle it again); older ones are
        marked handled (Telegram would not have redelivered them either) with a warning."""
        now = self.clock.now()
        table = ProcessedUpdate
        takeable = (
            select(table.update_id)
            # a lease is set on exactly the rows taken and not handled (0006 gave the older ones theirs): the
            # index on (channel, lease_until) finds those few among a week of handled updates
            .where(table.channel == self.channel, table.lease_until.is_not(None), table.handled_at.is_(None),
                   table.incoming.is_not(None),
                   or_(table.lease_until <= now, table.lease_owner.startswith(f"{self.worker}#", autoescape=True)),
                   or_(table.lease_owner.is_(None), table.lease_owner != self.owner))  # not what this run holds
            .order_by(table.created_at, func.length(table.update_id), table.update_id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL: rows another worker is taking are skipped
        )
        async with self.sessions() as session, session.begin():
            taken = (await session.execute(
                update(table)
                .where(table.channel == self.channel, table.update_id.in_(takeable))
                .values(lease_owner=self.owner, lease_until=now + self.lease)
                .returning(table.update_id, table.incoming, table.created_at, table.replies)
            )).all()
        rows = sorted(taken, key=lambda row: (row.created_at, _order(row.update_id)))
        pending = [(row.update_id, row.incoming, _loaded(row.replies)) for row in rows
                   if row.created_at >= now - REPLAY_WITHIN and row.incoming is not None]
        stale = [row.update_id for row in rows if row.created_at < now - REPLAY_WITHIN or row.incoming is None]
        if stale:
            log.warning("journal: unhandled updates too old to handle, skipped",
                        extra={"channel": self.channel, "update_ids": stale})
            await self._set_handled(stale)
        if pending:
            log.info("journal: updates taken over", extra={"channel": self.channel, "count": len(pending)})
        return pending

    async def first_time(self, update_id: UpdateId, item: Record | None = None) -> bool:
        return str(update_id) in await self.record([(update_id, item)])

    async def prune(self) -> int:
        self.since_prune = 0
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                delete(ProcessedUpdate).where(
                    ProcessedUpdate.channel == self.channel,
                    ProcessedUpdate.created_at < self.clock.now() - KEEP,
                )
            )
            # A DELETE returns a CursorResult; Session.execute is typed for every statement as a plain Result.
            return cast(CursorResult[Any], result).rowcount


def _loaded(replies: list[Any] | None) -> list[Reply] | None:
    return None if replies is None else [load_reply(reply) for reply in replies]


def _order(update_id: str) -> tuple[int, str]:
    """Numbers in numeric order as text: shorter first, then by digits."""
    return len(update_id), update_id


class Intake(Generic[Item]):
    """Between a channel's input and the engine: a batch worker of the one work queue takes every update
    waiting, records their ids in one statement, hands the fresh ones on in arrival order (so each user's
    order is kept) and skips the rest. ``put`` waits when too much is waiting (back-pressure)."""

    def __init__(self, updates: Journal, handle: Callable[[Any, Item], Awaitable[None]], *,
                 serialize: Callable[[Item], Record | None] = lambda _item: None,
                 skipped: Callable[[Any], None] = lambda _update_id: None, batch: int = 500,
                 limit: int = 10_000) -> None:
        self.updates = updates
        self.handle = handle
        self.serialize = serialize
        self.skipped = skipped  # told of each duplicate, which ``handle`` never sees
        self.queue: KeyedQueue[str, tuple[UpdateId, Item, asyncio.Future[None]]] = KeyedQueue(
            self._take, workers=1, batch=batch, limit=limit, name=f"{updates.channel}-intake"
        )

    async def put(self, update_id: UpdateId, item: Item) -> asyncio.Future[None]:
        """Queue the update; the future is done once its id is recorded (or recording failed and it is handed
        on anyway). Only then may the platform be told it arrived: a platform never delivers again what it was
        told arrived (Telegram's polling offset, a webhook's 200), so an update it lets go of before the journal
        holds it dies with the process."""
        recorded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self.queue.put(self.updates.channel, (update_id, item, recorded))
        return recorded

    async def _take(self, _channel: str, batch: Sequence[tuple[UpdateId, Item, asyncio.Future[None]]]) -> None:
        try:
            fresh = await self.updates.record([(update_id, self.serialize(item)) for update_id, item, _ in batch])
        except Exception:  # better twice than never: the engine gets them anyway
            log.exception("journal: could not record update ids",
                          extra={"channel": self.updates.channel, "count": len(batch)})
            fresh = {str(update_id) for update_id, _, _ in batch}
        finally:
            for _, _, recorded in batch:
                if not recorded.done():
                    recorded.set_result(None)
        for update_id, item, _ in batch:
            if str(update_id) not in fresh:
                log.info("journal: duplicate update skipped",
                         extra={"channel": self.updates.channel, "update_id": str(update_id)[:64]})
                self.skipped(update_id)
                continue
            fresh.discard(str(update_id))  # a second copy in the same batch is a duplicate too
            try:
                await self.handle(update_id, item)
            except Exception:
                log.exception("journal: update failed", extra={"channel": self.updates.channel,
                                                              "update_id": str(update_id)[:64]})

    async def wait_idle(self) -> None:
        """Until every update put so far is recorded and handed on."""
        await self.queue.join()

    async def close(self) -> None:
        await self.queue.close()
