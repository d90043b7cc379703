"""What the engine and the outbox need from a channel's output side."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar, runtime_checkable

from bot.messages import Reply

if TYPE_CHECKING:
    from bot.channels.pacing import ChatKey, RateLimiter

T = TypeVar("T")
E = TypeVar("E", bound=Exception)

MAX_FLOOD_RETRIES = 10
MAX_NETWORK_RETRIES = 4


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


class Flood(NamedTuple):
    """The platform said "too many requests": wait ``wait(floods)`` seconds (``floods`` counts this send's
    limited answers, this one included) and try again. ``everyone``: a limit on the whole bot or number, so
    every send pauses; otherwise a limit on one recipient, and only this send waits. ``reason`` is kept when
    the send gives up."""

    wait: Callable[[int], float]
    reason: str
    everyone: bool = True


class Retry(NamedTuple):
    """A failure that may pass (network errors, timeouts, 5xx): try again after a backoff, a bounded number of
    times; ``reason`` is kept when the send gives up."""

    reason: str


# What a platform's error means for a send: try again (Flood, Retry), or the exception that ends it.
Outcome = Flood | Retry | RecipientBlocked | DeliverySkipped | DeliveryFailed


async def send_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    chat: ChatKey,
    limiter: RateLimiter,
    in_flight: AbstractAsyncContextManager[object],
    errors: tuple[type[E], ...],
    outcome: Callable[[E], Outcome],
    mark_blocked: Callable[[str], Awaitable[None]],
    bulk: bool = False,
    on_attempt: Attempt | None = None,
) -> T:
    """``call()`` under the platform's limits, tried again while it may still work: the one loop of every
    channel that pushes through a rate-limited API (Telegram, WhatsApp). Each try waits its turn in
    ``limiter`` and for one of ``in_flight``; an error of ``errors`` is judged by the platform's ``outcome``:

    - ``Flood``: up to ``MAX_FLOOD_RETRIES`` times; a limit on everyone pauses the limiter (even on giving up,
      so the other sends respect it), a limit on this recipient only waits here;
    - ``Retry``: up to ``MAX_NETWORK_RETRIES`` times, after ``backoff``;
    - ``RecipientBlocked``: ``mark_blocked(chat)`` first, so live replies stop too, then raised;
    - ``DeliverySkipped`` or ``DeliveryFailed``: raised as it is.

    Giving up raises ``DeliveryFailed(retryable=True)``: the outbox tries again later."""
    floods = failures = 0
    while True:
        granted = await limiter.acquire(chat, bulk=bulk)
        try:
            async with in_flight:
                if on_attempt is not None:  # as late as possible: a crash after it leaves the message in doubt
                    await on_attempt()
                    on_attempt = None
                try:
                    return await call()
                finally:
                    limiter.done(granted)  # counted in the limiter's window until its answer
        except errors as error:
            verdict = outcome(error)
        if isinstance(verdict, Flood):
            floods += 1
            seconds = verdict.wait(floods)
            if verdict.everyone:
                limiter.pause(seconds)
            if floods > MAX_FLOOD_RETRIES:
                raise DeliveryFailed(verdict.reason, retryable=True)
            if not verdict.everyone:
                await limiter.timer.sleep(seconds)
        elif isinstance(verdict, Retry):
            failures += 1
            if failures > MAX_NETWORK_RETRIES:
                raise DeliveryFailed(verdict.reason, retryable=True)
            await limiter.timer.sleep(backoff(failures))
        else:
            if isinstance(verdict, RecipientBlocked):
                await mark_blocked(str(chat))
            raise verdict


def backoff(failures: int) -> float:
    """0.5 s, 1 s, 2 s, 4 s (capped at 8 s), with a little jitter so retries of many chats spread out."""
    return min(8.0, 0.5 * 2.0 ** (failures - 1)) * (1 + random.random() / 4)


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


class DirectOutput:
    """An output with no platform between it and the user (a list kept in memory, an open web page or its
    mailbox): no limits to wait for and nothing to retry, and no conversation window, so no template."""

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
        if on_attempt is not None:
            await on_attempt()
        return await self.hand_over(external_id, replies)

    async def hand_over(self, external_id: str, replies: Sequence[Reply]) -> list[str]:
        """Deliver ``replies`` and return their references."""
        raise NotImplementedError


class CollectingOutput(DirectOutput):
    """An output that keeps what it was asked to send: the test double of a real channel, and the
    output of channels that have no push (the console)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[tuple[str, Reply]] = []
        self.edits: list[tuple[str, str, Reply]] = []  # (user, reference, new content)

    async def hand_over(self, external_id: str, replies: Sequence[Reply]) -> list[str]:
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
