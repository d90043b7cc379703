"""The outbox sender: delivers ``deliveries`` rows through the users' channels.

Rows are committed by handlers before anything is sent; this loop claims due rows, sends them and marks
them sent / failed / blocked. A claimed row whose process died is reclaimed after ``claim_timeout``, so
a crash delays a message but never loses it. On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED,
so several workers share the outbox without sending anything twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import DeliveryFailed, OutputChannel, RecipientBlocked
from bot.clock import Clock
from bot.db.models import Delivery, User
from bot.messages import Reply, dump_reply, load_reply
from bot.services import users

log = logging.getLogger("bot.outbox")

MAX_ATTEMPTS = 5


RETRY_LIVE_REPLY_AFTER = timedelta(minutes=1)


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
        user_id = await session.scalar(
            select(User.id).where(*users.key_is(channel, external_id))
        )
        if user_id is None:
            return
        session.add(
            Delivery(
                user_id=user_id,
                kind="reply",
                replies=[dump_reply(reply) for reply in replies],
                status="pending" if retryable else "failed",
                attempts=1,
                error=error[:300],
                due_at=now + RETRY_LIVE_REPLY_AFTER,
                created_at=now,
            )
        )


class OutboxSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outputs: Mapping[str, OutputChannel],
        clock: Clock,
        *,
        batch: int = 50,
        claim_timeout: timedelta = timedelta(minutes=5),
    ) -> None:
        self.sessions = sessions
        self.outputs = outputs
        self.clock = clock
        self.batch = batch
        self.claim_timeout = claim_timeout
        self.wake = asyncio.Event()

    def poke(self) -> None:
        self.wake.set()

    async def run(self, idle_seconds: float = 5.0) -> None:
        while True:
            sent = await self.send_due()
            if sent:
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), idle_seconds)
            except TimeoutError:
                pass

    async def send_due(self) -> int:
        """Send one batch of due deliveries; returns how many were attempted."""
        claimed = await self._claim()
        for delivery_id, channel, external_id, replies in claimed:
            await self._send_one(delivery_id, channel, external_id, replies)
        return len(claimed)

    async def _claim(self) -> list[tuple[int, str, str, list[dict[str, Any]]]]:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            query = (
                select(Delivery, User.channel, User.external_id)
                .join(User, User.id == Delivery.user_id)
                .where(
                    or_(
                        (Delivery.status == "pending") & (Delivery.due_at <= now),
                        (Delivery.status == "sending") & (Delivery.due_at <= now - self.claim_timeout),
                    ),
                    User.channel.in_(list(self.outputs)),
                )
                .order_by(Delivery.due_at, Delivery.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True, of=Delivery)
            )
            claimed = []
            for delivery, channel, external_id in (await session.execute(query)).all():
                delivery.status = "sending"
                delivery.due_at = now
                delivery.attempts += 1
                claimed.append((delivery.id, channel, external_id, list(delivery.replies)))
            return claimed

    async def _send_one(
        self, delivery_id: int, channel: str, external_id: str, replies: list[dict[str, Any]]
    ) -> None:
        status, error, retryable = "sent", None, False
        try:
            await self.outputs[channel].send(external_id, [load_reply(r) for r in replies])
        except RecipientBlocked:
            status, error = "blocked", "recipient blocked the bot"
        except DeliveryFailed as exc:
            status, error, retryable = "failed", str(exc)[:300], exc.retryable
        except Exception as exc:  # a bug in a channel must not stop the outbox
            log.exception("delivery crashed", extra={"delivery": delivery_id})
            status, error, retryable = "failed", type(exc).__name__[:300], True
        async with self.sessions() as session, session.begin():
            delivery = await session.get(Delivery, delivery_id)
            if delivery is None:
                return
            now = self.clock.now()
            if retryable and delivery.attempts < MAX_ATTEMPTS:
                delivery.status = "pending"
                delivery.due_at = now + timedelta(seconds=min(600, 5 * 3**delivery.attempts))
            else:
                delivery.status = status
            delivery.error = error
            if status == "sent":
                delivery.sent_at = now
            if status == "blocked":
                user = await session.get(User, delivery.user_id)
                if user is not None:
                    user.blocked_at = now
        log.info("delivery", extra={"delivery": delivery_id, "status": status})
