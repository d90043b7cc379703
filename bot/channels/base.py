"""What the engine and the outbox need from a channel's output side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.messages import Reply


class RecipientBlocked(Exception):
    """The user blocked the bot (Telegram 403): stop sending them bulk messages."""


class DeliveryFailed(Exception):
    """Sending failed; ``retryable`` says whether trying again later may work."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


class OutputChannel(Protocol):
    name: str

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        """Deliver ``replies`` to a user who is not waiting on a live conversation (notifications,
        broadcasts, reminders). Raises ``RecipientBlocked`` or ``DeliveryFailed``."""
        ...


class CollectingOutput:
    """An output that keeps what it was asked to send: the test double of a real channel, and the
    output of channels that have no push (the console)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        self.sent.extend((external_id, reply) for reply in replies)

    def to(self, external_id: str) -> list[Reply]:
        return [reply for who, reply in self.sent if who == external_id]
