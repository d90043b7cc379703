"""Delivery receipts: what a platform later says about a message the outbox sent (WhatsApp's status callbacks:
sent, delivered, read, failed) written onto its ``deliveries`` row, found by the references the channel
returned when it sent it (``Delivery.refs``).

A row only moves forward: sent → delivered → read; a failure after the fact (the platform accepted the
message, then could not deliver it) makes it ``failed`` with the platform's reason, ``skipped`` when the
reason is the 24-hour window, ``blocked`` when the person cannot be reached. Receipts arrive out of order
and more than once; one for a message that is not the outbox's (a live reply) is ignored.

A receipt can also come before its row knows the message: the outbox writes a send's references in its next
group commit, and the platform may call back first. Such a receipt, for a recipient with a row still marked
``sending``, is handed back as early, for the channel to apply again a moment later, instead of being lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Delivery, User

log = logging.getLogger("bot.receipts")

PROGRESS = {"sending": 0, "unconfirmed": 0, "sent": 1, "delivered": 2, "read": 3}
LOOK_BACK = timedelta(days=30)  # WhatsApp gives up on undelivered messages long before this


@dataclass(frozen=True)
class Receipt:
    """``status`` of the message ``reference`` sent to ``external_id``; ``outcome`` for a failure: "failed",
    "skipped" or "blocked", with ``error`` saying why."""

    reference: str
    external_id: str
    status: str  # sent, delivered, read, failed
    error: str | None = None
    outcome: str = "failed"


@dataclass(frozen=True)
class Applied:
    changed: int  # rows moved
    early: list[Receipt]  # for a recipient whose row is still "sending": try again once it is written


async def apply(
    sessions: async_sessionmaker[AsyncSession], channel: str, receipts: Sequence[Receipt], now: datetime
) -> Applied:
    """Write ``receipts`` onto their rows in one transaction."""
    wanted = {receipt.reference for receipt in receipts}
    recipients = {receipt.external_id for receipt in receipts}
    changed = 0
    early: list[Receipt] = []
    async with sessions() as session, session.begin():
        rows = await session.execute(
            select(Delivery, User)
            .join(User, User.id == Delivery.user_id)
            .where(User.channel == channel, User.external_id.in_(recipients),
                   Delivery.refs.is_not(None) | (Delivery.status == "sending"),
                   Delivery.created_at >= now - LOOK_BACK)
        )
        by_reference: dict[str, tuple[Delivery, User]] = {}
        in_flight: set[str] = set()
        for delivery, user in rows.all():
            if delivery.status == "sending":
                in_flight.add(user.external_id)
            for reference in delivery.refs or ():
                if str(reference) in wanted:
                    by_reference[str(reference)] = (delivery, user)
        for receipt in receipts:
            found = by_reference.get(receipt.reference)
            if found is None:
                if receipt.external_id in in_flight:
                    early.append(receipt)
                continue  # otherwise a live reply, or a row long gone
            delivery, user = found
            if _advance(delivery, user, receipt, now):
                changed += 1
    if changed:
        log.info("delivery receipts", extra={"channel": channel, "rows": changed})
    return Applied(changed, early)


def _advance(delivery: Delivery, user: User, receipt: Receipt, now: datetime) -> bool:
    current = PROGRESS.get(delivery.status)
    if current is None:
        return False  # failed, skipped, blocked: already final
    if receipt.status == "failed":
        delivery.status = receipt.outcome
        delivery.error = (receipt.error or "the platform could not deliver it")[:300]
        if receipt.outcome == "blocked" and user.blocked_at is None:
            user.blocked_at = now
        return True
    if PROGRESS.get(receipt.status, -1) <= current:
        return False  # late or repeated: never backwards
    delivery.status = receipt.status
    if delivery.sent_at is None:
        delivery.sent_at = now
    return True
