"""Sending to Telegram in a way that survives the real platform.

Every message waits its turn in the ``RateLimiter``; a 429 pauses all sends for its ``retry_after`` and is
tried again; network errors, timeouts and 5xx answers are tried again with backoff a bounded number of
times; a 403 means the person blocked the bot: ``User.blocked_at`` is set and ``RecipientBlocked`` raised,
so the outbox stops writing to them. What finally fails raises ``DeliveryFailed``. Logs name the chat,
never the text; the bot token is masked out of any error text kept.

A timeout after Telegram accepted a message cannot be told apart from one before, so a retried timeout
may, rarely, show a message twice; everything else is sent at most once per call.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import update
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels.base import (
    Attempt,
    DeliveryFailed,
    Flood,
    Outcome,
    RecipientBlocked,
    Retry,
    Template,
    send_with_retries,
)
from bot.channels.buttons import ButtonCodec
from bot.channels.pacing import RateLimiter
from bot.channels.telegram.convert import CHANNEL
from bot.channels.telegram.render import Step, plan
from bot.db.models import User
from bot.messages import Attachment, Button, Reply
from bot.services import users

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot.telegram")
T = TypeVar("T")

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # Reply.link_preview=False
MAX_IN_FLIGHT = 8  # 8 requests at ~100 ms round trip is ~80/s, above Telegram's 30/s; more only costs CPU
MIN_IN_FLIGHT = 2
IN_FLIGHT_RATE = 50  # requests a second the number under way is sized for (Telegram allows 30 messages a second)


class InFlight:
    """How many requests may be under way at once: enough for ``rate`` a second at the round trip seen lately
    (Little's law), at least ``low``, at most ``high``. ``async with in_flight:`` around each request.

    Each request under way costs CPU in httpx's pool (httpcore 1.0 polls every idle connection's socket on every
    request), so on a near link (a local Bot API server, the fake: a few ms) two at once answer faster than eight
    (bench/whole_bot.py: 66 → 109 updates/s on SQLite), while across the internet (~100 ms) five or more are
    needed for 30 messages a second. The average starts at 100 ms, as if far: the first burst is not held back."""

    def __init__(self, low: int = MIN_IN_FLIGHT, high: int = MAX_IN_FLIGHT, rate: float = IN_FLIGHT_RATE) -> None:
        self.low, self.high, self.rate = low, max(low, high), rate
        self.round_trip = 0.1  # seconds, a moving average
        self.active = 0
        self._started: dict[asyncio.Task[object] | None, list[float]] = {}
        self._changed: asyncio.Condition | None = None

    @property
    def limit(self) -> int:
        return max(self.low, min(self.high, int(math.ceil(self.round_trip * self.rate))))

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:  # made on first use, inside the running loop
            self._changed = asyncio.Condition()
        return self._changed

    async def __aenter__(self) -> None:
        changed = self._condition()
        if self.active >= self.limit:
            async with changed:
                await changed.wait_for(lambda: self.active < self.limit)
        self.active += 1
        self._started.setdefault(asyncio.current_task(), []).append(time.monotonic())

    async def __aexit__(self, *_exc: object) -> None:
        self.active -= 1
        task = asyncio.current_task()
        started = self._started[task]
        began = started.pop()
        if not started:
            del self._started[task]
        self.round_trip += 0.1 * (time.monotonic() - began - self.round_trip)
        changed = self._condition()
        async with changed:
            changed.notify_all()


class TelegramOutput:
    """``app.outputs["telegram"]``: the outbox's way to Telegram, and the channel's for live replies."""

    name = CHANNEL

    def __init__(
        self,
        bot: Bot,
        codec: ButtonCodec,
        limiter: RateLimiter,
        mark_blocked: Callable[[str], Awaitable[None]],
        *,
        secret: str = "",
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.bot = bot
        self.codec = codec
        self.limiter = limiter
        self.mark_blocked = mark_blocked
        self.secret = secret  # masked out of error texts
        # Requests at once. Waiting for a chat's turn is free, but each concurrent HTTP request costs: httpx's
        # pool gets slower with every connection in use (measured: 64 at once halved the channel's throughput),
        # so no more are under way than the round trip needs (``InFlight``).
        self.max_in_flight = max_in_flight
        self.in_flight = InFlight(high=max_in_flight)

    async def send(
        self,
        external_id: str,
        replies: Sequence[Reply],
        *,
        template: Template | None = None,
        bulk: bool = False,
        on_attempt: Attempt | None = None,
    ) -> list[str]:
        """OutputChannel: the outbox's notifications, reminders and broadcasts (Telegram needs no template).
        Returns the message ids sent, so a message can be edited later (a broadcast's progress)."""
        try:
            chat_id = int(external_id)
        except ValueError:
            raise DeliveryFailed("not a Telegram user id", retryable=False) from None
        return await self.deliver(chat_id, replies, bulk=bulk, on_attempt=on_attempt)

    async def edit(self, external_id: str, reference: str, reply: Reply) -> None:
        """EditableOutput: replace the text and buttons of a message the bot sent."""
        chat_id, message_id = int(external_id), int(reference)
        markup = self._keyboard(reply.buttons)
        await self.codec.save()  # long payloads in the database before any worker could see a press
        bot = self.bot

        async def edit() -> object:
            try:
                return await _api(bot, "editMessageText", {"chat_id": chat_id, "message_id": message_id,
                                                           "text": reply.text, "reply_markup": markup})
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return None
                raise

        await self._call(chat_id, edit)

    async def deliver(
        self,
        chat_id: int,
        replies: Sequence[Reply],
        *,
        edit_message_id: str | None = None,
        bulk: bool = False,
        on_attempt: Attempt | None = None,
    ) -> list[str]:
        """Show ``replies`` in ``chat_id``; ``edit_message_id`` is the message whose button was pressed.
        Returns the ids of the messages sent or edited."""
        references: list[str] = []
        for step in plan(replies, can_edit=edit_message_id is not None):
            message_id = await self._step(chat_id, step, edit_message_id, bulk, on_attempt)
            on_attempt = None  # once: from the first request on, the message may have been delivered
            if message_id is not None:
                references.append(message_id)
        return references

    async def answer_callback(self, callback_id: str) -> None:
        """Stop the button's spinner. Best effort: a query older than Telegram's limit cannot be answered."""
        try:
            async with self.in_flight:
                await _api(self.bot, "answerCallbackQuery", {"callback_query_id": callback_id})
        except TelegramError as exc:
            log.info("callback answer failed", extra={"error": type(exc).__name__})

    # -- one call, with limits and retries -----------------------------------------------------------

    async def _step(self, chat_id: int, step: Step, edit_message_id: str | None, bulk: bool = False,
                    on_attempt: Attempt | None = None) -> str | None:
        markup = self._keyboard(step.buttons)
        await self.codec.save()  # long payloads in the database before any worker could see a press
        preview = None if step.link_preview else NO_PREVIEW
        bot = self.bot
        call: Callable[[], Awaitable[object]]
        if step.method == "edit_message_text" and edit_message_id is not None:
            message_id = int(edit_message_id)
            text = {"chat_id": chat_id, "text": step.text, "reply_markup": markup, "link_preview_options": preview}

            async def edit() -> object:
                try:
                    return await _api(bot, "editMessageText", {**text, "message_id": message_id})
                except BadRequest as exc:
                    if "not modified" in exc.message.lower():
                        return None  # the same text and buttons again: nothing to change
                    # too old, deleted, or not a text message: show the answer as a new message
                    return await _api(bot, "sendMessage", text)

            call = edit
        elif step.method in ("send_document", "send_photo") and step.attachment is not None:
            send = bot.send_document if step.method == "send_document" else bot.send_photo
            caption = step.text or None
            attachment = step.attachment
            keyboard = InlineKeyboardMarkup.de_json(markup, bot) if markup is not None else None

            def call() -> Awaitable[Message]:
                return send(chat_id, _file_input(attachment), caption=caption, reply_markup=keyboard,
                            filename=attachment.filename)
        else:
            params = {"chat_id": chat_id, "text": step.text, "reply_markup": markup, "link_preview_options": preview}

            def call() -> Awaitable[object]:
                return _api(bot, "sendMessage", params)
        sent = await self._call(chat_id, call, bulk=bulk, on_attempt=on_attempt)
        if isinstance(sent, Message):
            return str(sent.message_id)
        return str(sent["message_id"]) if isinstance(sent, dict) and "message_id" in sent else None

    def _keyboard(self, buttons: tuple[tuple[Button, ...], ...]) -> dict[str, object] | None:
        """The Bot API's InlineKeyboardMarkup as plain JSON data: PTB's objects would only be turned back into it."""
        rows = [[{"text": b.label, "callback_data": self.codec.encode(b.payload)} for b in row]
                for row in buttons if row]
        return {"inline_keyboard": rows} if rows else None

    async def _call(self, chat_id: int, call: Callable[[], Awaitable[T]], *, bulk: bool = False,
                    on_attempt: Attempt | None = None) -> T:
        return await send_with_retries(
            call, chat=chat_id, limiter=self.limiter, in_flight=self.in_flight, errors=(TelegramError,),
            outcome=lambda error: self._outcome(chat_id, error), mark_blocked=self.mark_blocked, bulk=bulk,
            on_attempt=on_attempt,
        )

    def _outcome(self, chat_id: int, error: TelegramError) -> Outcome:
        """What a Telegram error means for a send (see ``send_with_retries``)."""
        if isinstance(error, RetryAfter):
            seconds = retry_after_seconds(error)
            log.warning("telegram flood control", extra={"chat": chat_id, "retry_after": seconds})
            return Flood(lambda _floods: seconds, "flood control: too many 429 answers")
        if isinstance(error, Forbidden):
            return RecipientBlocked(str(chat_id))
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            return Retry(self._reason(error))  # connection errors, timeouts, 5xx
        # a bad request, an invalid token, a conflict, a group migrated: trying again will not help
        return DeliveryFailed(self._reason(error), retryable=False)

    def _reason(self, exc: TelegramError) -> str:
        text = f"{type(exc).__name__}: {exc.message}"
        return text.replace(self.secret, "***") if self.secret else text


async def _api(bot: Bot, method: str, params: dict[str, object]) -> object:
    """A Bot API call through PTB's request machinery (its timeouts, its errors: ``RetryAfter``, ``Forbidden``,
    ``BadRequest``...), with the answer left as the API's JSON: a reply's id is all we read of it, and PTB parses
    each sent message into a ``Message`` with its user and chat (~0.3 ms). Without that parsing and PTB's
    keyboard objects, bench/whole_bot.py on SQLite went from 121 to 157 updates/s. ``None`` parameters are left
    out, as PTB does; a copy is passed because PTB fills in its defaults in place."""
    return await bot._post(method, dict(params))  # noqa: SLF001 - Bot.do_api_request warns for methods PTB has


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds; PTB 22 warns when the int form is read, so read it quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _file_input(attachment: Attachment) -> bytes | Path | str:
    """Generated bytes, a local file, or a Telegram file_id / URL (sent by reference)."""
    if attachment.data is not None:
        return attachment.data
    if attachment.file_ref and not attachment.file_ref.startswith(("http://", "https://")):
        path = Path(attachment.file_ref)
        try:
            if path.is_file():
                return path
        except OSError:  # a file_id is not a path, and may be too long to be one
            pass
    return attachment.file_ref


def blocked_marker(app: App) -> Callable[[str], Awaitable[None]]:
    """Marks a Telegram user as having blocked the bot (the outbox marks it too; this covers live replies)."""

    async def mark(external_id: str) -> None:
        async with app.sessions() as session, session.begin():
            await session.execute(
                update(User)
                .where(*users.key_is(CHANNEL, external_id), User.blocked_at.is_(None))
                .values(blocked_at=app.clock.now())
            )
        log.info("user blocked the bot", extra={"external_id": external_id})

    return mark
