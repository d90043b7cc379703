"""Broadcasts: who they reach (audiences), how they start, what each member receives, and the progress their
author sees.

A broadcast is one ``broadcasts`` row (text per language, optional picture or document, audience filters,
status, schedule). When it is due, the outbox's tick starts it: one ``INSERT … SELECT`` puts a delivery row
per recipient in the outbox (never one ORM object per person), in the same transaction that marks it
running, so a crash starts it either wholly or not at all, and a second worker cannot start it twice. The
rows carry no text: the ``broadcast`` renderer picks the recipient's language when each row is claimed.
Members who opted out (/stop) or blocked the bot are left out here and checked again at claim time.

Every few seconds the tick edits the author's progress message in place (sent / failed / blocked, a bar, an
ETA); when nothing is left it writes the final report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import ColumnElement, String, and_, cast, exists, func, literal, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import JSON

from bot.channels.base import EditableOutput
from bot.db.models import ROLES, Broadcast, Delivery, Submission, User
from bot.db.session import upsert_insert
from bot.i18n import translate
from bot.messages import Attachment, Reply
from bot.services.outbox import (
    OPEN_STATUSES,
    PRIORITY_BULK,
    OutboxSender,
    RenderContext,
    Rendered,
    renderer,
    template_from,
    tick,
)

log = logging.getLogger("bot.broadcasts")

MAX_TEXT = 4096  # Telegram's limit for a text message; a caption is cut into text + file by the channel
DIMENSIONS = ("region", "language", "role", "status", "sdg", "source")
NO_SUBMISSION = "none"  # the "status" value of members who never submitted an idea
PROGRESS_EVERY = timedelta(seconds=3)
BAR = 10
LIVE = ("running", "paused", "cancelled")  # statuses whose author still gets a progress edit


# -- audiences ------------------------------------------------------------------------------------------

Audience = dict[str, list[str]]


def clean_audience(raw: Any) -> Audience:
    """Only known dimensions with non-empty string values: what a stored or pressed audience may hold."""
    if not isinstance(raw, dict):
        return {}
    audience: Audience = {}
    for dimension in DIMENSIONS:
        values = raw.get(dimension)
        if isinstance(values, list):
            kept = sorted({str(value)[:64] for value in values if isinstance(value, str) and value})
            if kept:
                audience[dimension] = kept
    return audience


def recipients_where(audience: Audience) -> list[ColumnElement[bool]]:
    """Conditions on ``User`` for the members an audience reaches: everyone who agreed to the privacy notice,
    has not opted out and has not blocked the bot, narrowed by each dimension (values of one dimension are
    alternatives; dimensions combine)."""
    conditions: list[ColumnElement[bool]] = [
        User.consent_at.is_not(None),
        User.broadcast_opt_out.is_(False),
        User.blocked_at.is_(None),
    ]
    submitted = Submission.user_id == User.id
    for dimension, values in clean_audience(audience).items():
        if dimension == "region":
            conditions.append(or_(User.region.in_(values),
                                  exists().where(submitted, Submission.region.in_(values))))
        elif dimension == "language":
            conditions.append(User.language.in_(values))
        elif dimension == "role":
            conditions.append(User.role.in_([value for value in values if value in ROLES]))
        elif dimension == "source":
            conditions.append(User.source.in_(values))
        elif dimension == "status":
            statuses = [value for value in values if value != NO_SUBMISSION]
            either: list[ColumnElement[bool]] = (
                [exists().where(submitted, Submission.status.in_(statuses))] if statuses else [])
            if NO_SUBMISSION in values:
                either.append(not_(exists().where(submitted, Submission.status != "draft")))
            conditions.append(or_(*either))
        elif dimension == "sdg":
            # answers["sdgs"] is a JSON list of strings; its text form contains "8" (quoted) when 8 is in it,
            # which reads the same on SQLite and PostgreSQL
            sdgs = cast(Submission.answers["sdgs"], String)
            matches = or_(*(sdgs.like(f'%"{value}"%') for value in values if value.isdigit()))
            conditions.append(exists().where(submitted, Submission.status != "draft", matches))
    return conditions


async def count_recipients(session: AsyncSession, audience: Audience) -> int:
    return int(await session.scalar(select(func.count(User.id)).where(*recipients_where(audience))) or 0)


async def enqueue_recipients(session: AsyncSession, broadcast: Broadcast, now: datetime) -> int:
    """One ``INSERT … SELECT``: a pending delivery per recipient; a recipient already enqueued is left alone
    (the unique (broadcast, user) index), so running it twice adds nobody twice."""
    insert = upsert_insert(session)
    rows = select(
        User.id,
        literal("broadcast"),
        literal(PRIORITY_BULK),
        literal(broadcast.id),
        literal([], JSON),
        literal("broadcast"),
        literal({}, JSON),
        literal("pending"),
        literal(0),
        literal(now, Delivery.due_at.type),
        literal(now, Delivery.created_at.type),
    ).where(*recipients_where(clean_audience(broadcast.audience)))
    columns = ["user_id", "kind", "priority", "broadcast_id", "replies", "renderer", "render_values", "status",
               "attempts", "due_at", "created_at"]
    statement = insert(Delivery).from_select(columns, rows).on_conflict_do_nothing(
        index_elements=["broadcast_id", "user_id"]
    )
    await session.execute(statement)
    return int(await session.scalar(select(func.count(Delivery.id)).where(Delivery.broadcast_id == broadcast.id))
               or 0)


async def opt_out(session: AsyncSession, user: User) -> None:
    """/stop: no more broadcasts, from the running ones' next message on (the claim checks again too)."""
    user.broadcast_opt_out = True
    await session.execute(
        update(Delivery).where(Delivery.user_id == user.id, Delivery.broadcast_id.is_not(None),
                               Delivery.status.in_(("pending", "held")))
        .values(status="skipped", error="opted out of broadcasts (/stop)")
    )


def opt_in(user: User) -> bool:
    """/start after /stop: the member gets broadcasts again. True when they had stopped them."""
    if not user.broadcast_opt_out:
        return False
    user.broadcast_opt_out = False
    return True


# -- the row's content ----------------------------------------------------------------------------------


def attachment_of(broadcast: Broadcast) -> Attachment | None:
    data = broadcast.attachment
    if not data:
        return None
    return Attachment(kind=str(data.get("kind") or "document"), file_ref=str(data.get("file_ref") or ""),
                      filename=data.get("filename"), mime_type=data.get("mime_type"), size=data.get("size"))


def attachment_json(attachment: Attachment | None) -> dict[str, Any] | None:
    if attachment is None:
        return None
    return {"kind": attachment.kind, "file_ref": attachment.file_ref, "filename": attachment.filename,
            "mime_type": attachment.mime_type, "size": attachment.size}


def message_for(broadcast: Broadcast, lang: str) -> Reply:
    """What a member sees, in their language (the author's text when there is none in it)."""
    texts = broadcast.texts or {}
    text = str(texts.get(lang) or next(iter(texts.values()), ""))
    attachment = attachment_of(broadcast)
    if attachment is None:
        return Reply(text=text)
    if attachment.kind == "photo":
        return Reply(text=text, picture=attachment)
    return Reply(text=text, document=attachment)


@renderer("broadcast")
async def render_broadcast(ctx: RenderContext) -> Rendered:
    broadcast_id = ctx.delivery.broadcast_id
    broadcast = ctx.cache.get(("broadcast", broadcast_id))
    if broadcast is None:
        broadcast = ctx.cache[("broadcast", broadcast_id)] = await ctx.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise LookupError(f"broadcast {broadcast_id} not found")
    return Rendered((message_for(broadcast, ctx.user.language),), template_from(broadcast.template, ctx.user.language))


# -- starting, pausing, cancelling ----------------------------------------------------------------------


@tick
async def start_due(sender: OutboxSender) -> None:
    """Scheduled broadcasts whose time has come start: marked running and their recipients enqueued, in one
    transaction that only one worker can win."""
    now = sender.clock.now()
    async with sender.sessions() as session:
        due = list(await session.scalars(
            select(Broadcast.id).where(Broadcast.status == "scheduled", Broadcast.scheduled_at <= now)
            .order_by(Broadcast.scheduled_at, Broadcast.id)
        ))
    for broadcast_id in due:
        async with sender.sessions() as session, session.begin():
            won = await session.execute(
                update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == "scheduled")
                .values(status="running", started_at=now)
            )
            if not getattr(won, "rowcount", 0):
                continue
            broadcast = await session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            broadcast.recipients = await enqueue_recipients(session, broadcast, now)
        log.info("broadcast started", extra={"broadcast": broadcast_id, "recipients": broadcast.recipients})
        sender.poke()


async def set_paused(session: AsyncSession, broadcast: Broadcast, paused: bool) -> bool:
    """Pause a running broadcast (its pending rows are held, so nothing that takes pending rows sends them) or
    resume a paused one (held rows are pending again)."""
    if broadcast.status != ("running" if paused else "paused"):
        return False
    before, after = ("pending", "held") if paused else ("held", "pending")
    await session.execute(update(Delivery).where(Delivery.broadcast_id == broadcast.id, Delivery.status == before)
                          .values(status=after))
    broadcast.status = "paused" if paused else "running"
    broadcast.progress_at = None  # the author's progress message shows the change at the next tick
    return True


async def cancel(session: AsyncSession, broadcast: Broadcast, now: datetime) -> bool:
    """Nobody else gets it: scheduled ones never start; the pending rows of a started one are skipped."""
    if broadcast.status not in ("scheduled", "running", "paused"):
        return False
    await session.execute(
        update(Delivery).where(Delivery.broadcast_id == broadcast.id, Delivery.status.in_(("pending", "held")))
        .values(status="skipped", error="broadcast cancelled")
    )
    if broadcast.status == "scheduled":
        broadcast.finished_at = now
    broadcast.status = "cancelled"
    broadcast.progress_at = None
    return True


# -- figures and progress -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    total: int
    counts: dict[str, int]

    @property
    def sent(self) -> int:
        """Sent, and those the platform has since confirmed delivered or read (``bot.services.receipts``)."""
        return sum(self.counts.get(status, 0) for status in ("sent", "delivered", "read"))

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)

    @property
    def unconfirmed(self) -> int:
        """Being sent when the bot stopped: perhaps received, perhaps not; never sent again on its own."""
        return self.counts.get("unconfirmed", 0)

    @property
    def blocked(self) -> int:
        return self.counts.get("blocked", 0)

    @property
    def skipped(self) -> int:
        return self.counts.get("skipped", 0)

    @property
    def open(self) -> int:
        return sum(self.counts.get(status, 0) for status in (*OPEN_STATUSES, "held"))

    @property
    def done(self) -> int:
        return self.total - self.open


async def figures(session: AsyncSession, broadcast_ids: Sequence[int]) -> dict[int, Figures]:
    """Per broadcast, its rows by status: one grouped query (progress is a query, DESIGN.md principle 3)."""
    if not broadcast_ids:
        return {}
    rows = await session.execute(
        select(Delivery.broadcast_id, Delivery.status, func.count(Delivery.id))
        .where(Delivery.broadcast_id.in_(list(broadcast_ids)))
        .group_by(Delivery.broadcast_id, Delivery.status)
    )
    counts: dict[int, dict[str, int]] = {broadcast_id: {} for broadcast_id in broadcast_ids}
    for broadcast_id, status, count in rows.all():
        if broadcast_id is not None:
            counts[broadcast_id][status] = int(count)
    return {key: Figures(sum(value.values()), value) for key, value in counts.items()}


def number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)


def duration(seconds: float, lang: str) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return translate("broadcast.seconds", lang, n=seconds)
    if seconds < 3600:
        return translate("broadcast.minutes", lang, m=seconds // 60, s=seconds % 60)
    return translate("broadcast.hours", lang, h=seconds // 3600, m=seconds % 3600 // 60)


def figures_line(figures: Figures, lang: str) -> str:
    line = translate("broadcast.figures", lang, sent=number(figures.sent, lang), failed=number(figures.failed, lang),
                     blocked=number(figures.blocked, lang), skipped=number(figures.skipped, lang))
    if figures.unconfirmed:
        line += " · " + translate("broadcast.unconfirmed", lang, count=number(figures.unconfirmed, lang))
    return line


async def resend_unconfirmed(session: AsyncSession, broadcast: Broadcast) -> int:
    """The coordinator's choice for members in doubt after a crash: send to them again (some may get it twice)."""
    if broadcast.status not in ("done", "cancelled", "running", "paused"):
        return 0
    result = await session.execute(
        update(Delivery).where(Delivery.broadcast_id == broadcast.id, Delivery.status == "unconfirmed")
        .values(status="held" if broadcast.status == "paused" else "pending", error=None)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count and broadcast.status in ("done", "cancelled"):
        broadcast.status, broadcast.finished_at, broadcast.progress_at = "running", None, None
    return count


def progress_text(broadcast: Broadcast, figures: Figures, lang: str, now: datetime) -> str:
    """The author's progress message: state, bar, figures and an estimate of the time left."""
    total = max(figures.total, 1)
    share = figures.done / total
    filled = round(share * BAR)
    bar = "▓" * filled + "░" * (BAR - filled)
    state = translate(f"broadcast.state.{broadcast.status}", lang)
    lines = [translate("broadcast.progress_title", lang, number=broadcast.id, state=state),
             f"{bar} {round(share * 100)}% · {number(figures.done, lang)}/{number(figures.total, lang)}",
             figures_line(figures, lang)]
    if broadcast.status == "running" and broadcast.started_at is not None and figures.done:
        elapsed = (now - broadcast.started_at).total_seconds()
        if elapsed > 0:
            left = figures.open / (figures.done / elapsed)
            lines.append(translate("broadcast.eta", lang, time=duration(left, lang)))
    if broadcast.status in ("done", "cancelled") and broadcast.started_at is not None:
        lines.append(translate("broadcast.took", lang, time=duration((now - broadcast.started_at).total_seconds(),
                                                                     lang)))
    return "\n".join(lines)


@tick
async def report_progress(sender: OutboxSender) -> None:
    """At most every ``PROGRESS_EVERY`` per broadcast (whichever worker wins the row's ``progress_at``): edit
    the author's progress message, or send it the first time; when nothing is left, the final report."""
    now = sender.clock.now()
    async with sender.sessions() as session:
        candidates = list(await session.scalars(
            select(Broadcast.id).where(Broadcast.status.in_(LIVE), Broadcast.finished_at.is_(None), _report_due(now))
        ))
    for broadcast_id in candidates:
        try:
            await _report_one(sender, broadcast_id, now)
        except Exception:
            log.exception("broadcast progress failed", extra={"broadcast": broadcast_id})


def _report_due(now: datetime) -> ColumnElement[bool]:
    """Not reported for ``PROGRESS_EVERY``, or finished (the final report does not wait)."""
    still_open = exists().where(Delivery.broadcast_id == Broadcast.id, Delivery.status.in_(OPEN_STATUSES))
    return or_(Broadcast.progress_at.is_(None), Broadcast.progress_at <= now - PROGRESS_EVERY,
               and_(Broadcast.status.in_(("running", "cancelled")), not_(still_open)))


async def _report_one(sender: OutboxSender, broadcast_id: int, now: datetime) -> None:
    async with sender.sessions() as session, session.begin():
        won = await session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.finished_at.is_(None), _report_due(now))
            .values(progress_at=now)
        )
        if not getattr(won, "rowcount", 0):
            return
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        counted = (await figures(session, [broadcast_id]))[broadcast_id]
        final = counted.open == 0 and broadcast.status in ("running", "cancelled")
        if final:
            if broadcast.status == "running":
                broadcast.status = "done"
            broadcast.finished_at = now
        author = await session.get(User, broadcast.author_id) if broadcast.author_id is not None else None
        progress_ref = broadcast.progress_ref
        text = progress_text(broadcast, counted, author.language if author else "es", now)
        lang = author.language if author else "es"
    if final:
        log.info("broadcast finished", extra={"broadcast": broadcast_id, "status": broadcast.status,
                                              **{f"n_{k}": v for k, v in counted.counts.items()}})
    if author is None or author.channel not in sender.outputs:
        return
    output = sender.outputs[author.channel]
    try:
        if progress_ref is not None and isinstance(output, EditableOutput):
            await output.edit(author.external_id, progress_ref, Reply(text=text))
        elif progress_ref is None:
            refs = await output.send(author.external_id, [Reply(text=text)])
            if refs:
                async with sender.sessions() as session, session.begin():
                    await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id)
                                          .values(progress_ref=refs[0]))
        if final:  # a new message as well, so the author's phone tells them it is over
            done = translate(f"broadcast.final.{broadcast.status}", lang, number=broadcast_id,
                             figures=figures_line(counted, lang))
            await output.send(author.external_id, [Reply(text=done)])
    except Exception as exc:  # the author's progress is a courtesy: the broadcast goes on
        log.warning("broadcast progress not shown", extra={"broadcast": broadcast_id, "error": type(exc).__name__})

