"""Reminders: messages due at a time, kept as rows (DESIGN.md, principles 2-4).

    pending ──due, within the grace period──▶ queued ──the outbox──▶ sent / failed / blocked / skipped
       ├──due while the bot was down, past LIDERES_REMINDER_GRACE──▶ missed
       └──its session cancelled or moved──▶ cancelled

- **The rows are the schedule.** A row says whom, when, and what to say: a catalog key with values (a date as
  ``{"at": ISO}``, rendered in the reader's zone) and buttons whose labels are catalog keys. Nothing is frozen
  text: the outbox renders it when it sends (``@renderer("reminder")``), in the language and zone the recipient
  has at that moment.
- **The scheduler is only a clock.** ``ReminderClock`` keeps an APScheduler 3 ``AsyncIOScheduler`` with the
  memory job store (its SQLAlchemy store is synchronous and cannot be shared by two processes): one job per
  pending row at its due time. Jobs are rebuilt from the rows at start-up, after a transaction that changed rows
  commits in this process, and every minute (rows another process wrote). A job only wakes ``run_due``; what is
  due always comes from the database.
- **Exactly once.** ``run_due`` moves due rows from pending to queued and adds their outbox rows in one
  transaction, claiming them with ``FOR UPDATE SKIP LOCKED`` and a status check (on SQLite the first write takes
  the database's lock): two processes waking at the same instant queue each reminder once. The outbox then
  sends it at most once (its own claims), with its retries, rate limits and recorded outcome.
- **Downtime.** At start-up (and on every run) a row due more than the grace period ago is marked missed;
  one due within it is queued at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from babel.dates import format_timedelta
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.channels.base import DeliverySkipped
from bot.clock import Clock
from bot.db.models import Delivery, Reminder
from bot.i18n import translate
from bot.messages import Button, Reply
from bot.services.outbox import RenderContext, Rendered, new_delivery, renderer
from bot.services.timezones import format_when

log = logging.getLogger("bot.reminders")

PENDING, QUEUED, MISSED, CANCELLED = "pending", "queued", "missed", "cancelled"
RESYNC_EVERY = timedelta(minutes=1)  # rows written by another process get a job here within this time
CLAIM_BATCH = 500
JOB_PREFIX = "reminder:"
_CHANGED = "reminders_changed"  # Session.info flag: rows changed, resync this process's clock on commit


# -- writing rows (in the caller's transaction) ------------------------------------------------------------


def at(moment: datetime, until: datetime | None = None) -> dict[str, str]:
    """A value rendered as a date and time in the reader's language and zone (a span with ``until``)."""
    value = {"at": moment.astimezone(UTC).isoformat()}
    if until is not None:
        value["until"] = until.astimezone(UTC).isoformat()
    return value


def countdown(moment: datetime) -> dict[str, str]:
    """A value rendered as the time left until ``moment`` when the message is sent ("in 1 hour")."""
    return {"left_until": moment.astimezone(UTC).isoformat()}


def add(
    session: AsyncSession,
    *,
    session_id: int,
    user_id: int,
    kind: str,
    due_at: datetime,
    key: str,
    values: Mapping[str, Any],
    now: datetime,
    buttons: Sequence[Sequence[tuple[str, str]]] = (),
    expires_at: datetime | None = None,
) -> Reminder:
    """A pending reminder, committed with the caller's writes. ``buttons`` are rows of (label key, payload);
    ``expires_at``: not sent once that moment has passed (a reminder of a session that already started)."""
    stored = dict(values)
    if expires_at is not None:
        stored["_expires"] = expires_at.astimezone(UTC).isoformat()
    row = Reminder(
        session_id=session_id,
        user_id=user_id,
        kind=kind,
        due_at=due_at,
        status=PENDING,
        key=key,
        values=stored,
        buttons=[[{"label": label, "payload": payload} for label, payload in line] for line in buttons],
        created_at=now,
    )
    session.add(row)
    mark_changed(session)
    return row


async def cancel(session: AsyncSession, session_id: int, user_ids: Iterable[int] | None = None) -> int:
    """Cancel the reminders of a session not sent yet: pending rows, and queued rows whose outbox row has not
    been claimed (the renderer then skips them). Returns how many."""
    waiting = select(Delivery.id).where(Delivery.status == "pending")
    query = (
        update(Reminder)
        .where(
            Reminder.session_id == session_id,
            (Reminder.status == PENDING) | ((Reminder.status == QUEUED) & Reminder.delivery_id.in_(waiting)),
        )
        .values(status=CANCELLED)
        .execution_options(synchronize_session=False)
    )
    if user_ids is not None:
        query = query.where(Reminder.user_id.in_(list(user_ids)))
    result = await session.execute(query)
    mark_changed(session)
    return int(getattr(result, "rowcount", 0) or 0)


def mark_changed(session: AsyncSession) -> None:
    """The clock of this process rebuilds its jobs once this transaction commits."""
    session.info[_CHANGED] = True


# -- rendering, when the outbox sends -----------------------------------------------------------------------


def readable(values: Mapping[str, Any], lang: str, zone_name: str, now: datetime) -> dict[str, str]:
    """The values of a row as text for ``lang`` and ``zone_name``: dates in that zone, time left from ``now``."""
    shown: dict[str, str] = {}
    for name, value in values.items():
        if name.startswith("_"):
            continue
        if isinstance(value, dict) and "at" in value:
            until = datetime.fromisoformat(value["until"]) if value.get("until") else None
            shown[name] = format_when(datetime.fromisoformat(value["at"]), lang, zone_name, until)
        elif isinstance(value, dict) and "left_until" in value:
            left = max(datetime.fromisoformat(value["left_until"]) - now, timedelta(0))
            shown[name] = str(format_timedelta(left, add_direction=True, locale=lang))
        else:
            shown[name] = str(value)
    return shown


@renderer("reminder")
async def render_reminder(ctx: RenderContext) -> Rendered:
    """``values = {"reminder": id}``. The row's key and values in the recipient's language and zone now; a
    cancelled reminder, or one that expired while waiting, is skipped. The outbox row's due time is when it
    was queued or last retried: the "now" of the message."""
    reminder = await ctx.session.get(Reminder, int(ctx.delivery.render_values["reminder"]))
    if reminder is None or reminder.status == CANCELLED:
        raise DeliverySkipped("reminder cancelled")
    now = ctx.delivery.due_at
    expires = reminder.values.get("_expires")
    if expires and now >= datetime.fromisoformat(expires):
        raise DeliverySkipped("reminder expired before it could be sent")
    zone_name = ctx.user.timezone or str(reminder.values.get("zone") or "UTC")
    lang = ctx.user.language
    text = translate(reminder.key, lang, **readable(reminder.values, lang, zone_name, now))
    buttons = tuple(
        tuple(Button(translate(str(b["label"]), lang), str(b["payload"])) for b in line) for line in reminder.buttons
    )
    return Rendered((Reply(text=text, buttons=buttons),))


# -- the clock ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    queued: int
    missed: int


async def run_due(sessions: async_sessionmaker[AsyncSession], now: datetime, grace: timedelta) -> Run:
    """Mark rows past the grace period missed, and queue the due ones in the outbox, in one transaction."""
    async with sessions() as session, session.begin():
        missed = await session.execute(  # first, a write: on SQLite it takes the lock before anything is read
            update(Reminder)
            .where(Reminder.status == PENDING, Reminder.due_at < now - grace)
            .values(status=MISSED)
            .execution_options(synchronize_session=False)
        )
        due = (
            select(Reminder)
            .where(Reminder.status == PENDING, Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(CLAIM_BATCH)
            .with_for_update(skip_locked=True)
        )
        rows = list(await session.scalars(due))
        deliveries = [new_delivery(reminder.user_id, now=now, kind="reminder", renderer="reminder",
                                   values={"reminder": reminder.id}) for reminder in rows]
        session.add_all(deliveries)
        await session.flush()  # one batched insert for the batch, ids returned
        for reminder, delivery in zip(rows, deliveries, strict=True):
            reminder.status, reminder.queued_at, reminder.delivery_id = QUEUED, now, delivery.id
        count_missed = int(getattr(missed, "rowcount", 0) or 0)
    if rows or count_missed:
        log.info("reminders due", extra={"queued": len(rows), "missed": count_missed})
    return Run(len(rows), count_missed)


_RUNNING: set[ReminderClock] = set()


class ReminderClock:
    """Wakes the bot when reminders fall due (see the module's doc). One per process; ``start`` in ``lideres run``.

    ``on_queued`` is called after reminders were queued (the outbox sender's ``poke``)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        grace: timedelta,
        *,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.grace = grace
        self.on_queued = on_queued
        self.scheduler: AsyncIOScheduler | None = None
        self.runs = 0  # completed wake-ups, for tests to wait on
        self._lock = asyncio.Lock()
        self._ran = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self.scheduler is not None

    async def start(self) -> Run:
        """Send what fell due while the bot was down (within the grace period), then schedule the rest."""
        self.scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        )
        self.scheduler.start()
        _RUNNING.add(self)
        first = await self.run_due()
        await self.resync()
        self.scheduler.add_job(self._periodic, "interval", seconds=RESYNC_EVERY.total_seconds(),
                               id="reminders:resync")
        return first

    async def stop(self) -> None:
        _RUNNING.discard(self)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run_due(self) -> Run:
        """Queue what is due now (by the bot's clock); a failure is logged and retried at the next wake-up."""
        async with self._lock:
            try:
                result = await run_due(self.sessions, self.clock.now(), self.grace)
            except Exception:
                log.exception("reminders could not be queued")
                result = Run(0, 0)
        if result.queued and self.on_queued is not None:
            self.on_queued()
        async with self._ran:
            self.runs += 1
            self._ran.notify_all()
        return result

    async def resync(self) -> int:
        """Make the jobs match the pending rows: one per row at its due time. Returns how many there are."""
        scheduler = self.scheduler
        if scheduler is None:
            return 0
        try:
            async with self.sessions() as session:
                rows = (await session.execute(
                    select(Reminder.id, Reminder.due_at).where(Reminder.status == PENDING)
                )).all()
        except Exception:
            log.exception("reminder jobs could not be rebuilt")
            return len(scheduler.get_jobs()) - 1
        wanted = {f"{JOB_PREFIX}{row_id}": due_at for row_id, due_at in rows}
        for job in scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                try:
                    job.remove()
                except JobLookupError:  # it ran meanwhile
                    pass
        for job_id, due_at in wanted.items():
            job = scheduler.get_job(job_id)
            if job is None or job.next_run_time != due_at:
                scheduler.add_job(self._due, "date", run_date=due_at, id=job_id, replace_existing=True)
        return len(wanted)

    def job_times(self) -> dict[int, datetime]:
        """Reminder id → when its job wakes the bot (tests, diagnostics)."""
        if self.scheduler is None:
            return {}
        return {int(job.id.removeprefix(JOB_PREFIX)): job.next_run_time
                for job in self.scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}

    def wake(self) -> None:
        """Let the scheduler look at the time now (after a test moved it) instead of at its next timer."""
        if self.scheduler is not None:
            self.scheduler.wakeup()

    async def wait_runs(self, count: int) -> None:
        """Until ``count`` wake-ups have completed in all (tests wait on this, never on time)."""
        async with self._ran:
            await self._ran.wait_for(lambda: self.runs >= count)

    async def settled(self) -> None:
        """Until the job rebuilds started by commits are done (tests: the jobs of a booking just made)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _due(self) -> None:
        await self.run_due()

    async def _resync_soon(self) -> None:
        await self.resync()

    async def _periodic(self) -> None:
        await self.resync()
        await self.run_due()

    def _changed(self) -> None:
        """Rows changed in a transaction of this process: rebuild the jobs soon (off the committing code)."""
        task = asyncio.get_running_loop().create_task(self._resync_soon())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _serves(self, session: Session) -> bool:
        bind = self.sessions.kw.get("bind")
        return bind is not None and getattr(bind, "sync_engine", None) is session.bind


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """Any transaction that wrote reminder rows (``mark_changed``) resyncs the clock running on its database."""
    if not session.info.pop(_CHANGED, False):
        return
    for clock in list(_RUNNING):
        if clock._serves(session):
            clock._changed()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
