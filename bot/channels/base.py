"""What the engine and the outbox need from a channel's output side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.messages import Reply


class RecipientBlocked(Exception):
    """The user blocked the bot (Telegram 403): stop sending them bulk messages."""


class DeliveryFailed(Exception):
    """Sending failed; ``retryable`` says whether trying again later may work."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


class DeliverySkipped(Exception):
    """The channel chose not to send, and says why (e.g. WhatsApp outside its 24-hour window with no template):
    the outbox records the row as ``skipped`` with that reason, and does not try again."""


@dataclass(frozen=True)
class Template:
    """A message the platform approved in advance, for channels that need one outside a conversation window
    (WhatsApp's 24-hour rule): its name, its language and the values of its parameters, in order."""

    name: str
    language: str = ""
    params: tuple[str, ...] = ()


Attempt = Callable[[], Awaitable[None]]


class OutputChannel(Protocol):
    name: str

    async def send(
        self,
        external_id: str,
        replies: Sequence[Reply],
        *,
        template: Template | None = None,
        bulk: bool = False,
        on_attempt: Attempt | None = None,
    ) -> list[str]:
        """Deliver ``replies`` to a user who is not waiting on a live conversation (notifications,
        broadcasts, reminders) and return the platform's references of the messages sent (to edit them
        later). ``bulk`` sends yield to everything else under the platform's limits. ``on_attempt`` is
        awaited right before the first request that may deliver something, so the outbox knows from then
        on that a crash leaves the message in doubt rather than unsent. Raises ``RecipientBlocked``,
        ``DeliverySkipped`` or ``DeliveryFailed``."""
        ...


@runtime_checkable
class EditableOutput(Protocol):
    """A channel that can change a message it sent (Telegram), e.g. a broadcast's progress."""

    async def edit(self, external_id: str, reference: str, reply: Reply) -> None:
        """Replace the text (and buttons) of the message ``reference``. Raises ``DeliveryFailed``."""
        ...


class CollectingOutput:
    """An output that keeps what it was asked to send: the test double of a real channel, and the
    output of channels that have no push (the console)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[tuple[str, Reply]] = []
        self.edits: list[tuple[str, str, Reply]] = []  # (user, reference, new content)

    async def send(
        self,
        external_id: str,
        replies: Sequence[Reply],
        *,
        template: Template | None = None,
        bulk: bool = False,
        on_attempt: Attempt | None = None,
    ) -> list[str]:
        if on_attempt is not None:
            await on_attempt()
        references = []
        for reply in replies:
            self.sent.append((external_id, reply))
            references.append(str(len(self.sent)))
        return references

    async def edit(self, external_id: str, reference: str, reply: Reply) -> None:
        self.edits.append((external_id, reference, reply))

    def to(self, external_id: str) -> list[Reply]:
        return [reply for who, reply in self.sent if who == external_id]

    def current(self, external_id: str, reference: str) -> Reply:
        """What the message ``reference`` shows now, after its edits."""
        shown = self.sent[int(reference) - 1][1]
        for who, ref, reply in self.edits:
            if who == external_id and ref == reference:
                shown = reply
        return shown
