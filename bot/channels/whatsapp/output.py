"""Sending to the WhatsApp Cloud API in a way that survives the real platform.

Messages are POSTed to ``{API_URL}/{PHONE_NUMBER_ID}/messages``. Every message waits its turn in the
``RateLimiter``: the number's throughput overall (80/s by default) and WhatsApp's pair limit per user (one
message every 6 seconds, bursts of up to 45 borrowed from later). Errors map as Telegram's do:

- throughput, app or pair rate limits (130429, 4, 80007, 131056) and HTTP 429: every send (or that user's)
  waits, then the message is tried again;
- network errors, timeouts, 5xx and WhatsApp's "try again" codes (1, 2, 131000, 131016): tried again with
  backoff a bounded number of times, then ``DeliveryFailed(retryable=True)``;
- "message undeliverable" (131026: not on WhatsApp, or the person blocked the number): ``User.blocked_at``
  is set and ``RecipientBlocked`` raised;
- outside the 24-hour window (131047): ``DeliverySkipped``;
- anything else (a bad parameter, an unknown template, a rejected token): ``DeliveryFailed(retryable=False)``.

Outside the 24-hour window only templates may be sent: ``send`` (the outbox's way) checks the window first
and sends the delivery's template, or the configured notice template with the text as its parameter, or
skips with the reason. Logs name the user by id and never carry the text or the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import (
    Attempt,
    DeliveryFailed,
    DeliverySkipped,
    Flood,
    Outcome,
    RecipientBlocked,
    Retry,
    Template,
    backoff,
    send_with_retries,
)
from bot.channels.buttons import ButtonCodec
from bot.channels.pacing import RateLimiter
from bot.channels.whatsapp import choices
from bot.channels.whatsapp.convert import CHANNEL, pseudonym
from bot.channels.whatsapp.render import Media, plan
from bot.clock import Clock
from bot.db.models import User
from bot.i18n import translate
from bot.messages import Attachment, Reply
from bot.services import users

log = logging.getLogger("bot.whatsapp")

WINDOW = timedelta(hours=24)
MAX_IN_FLIGHT = 16  # requests at once: 16 at ~150 ms round trip is ~100/s, above the 80/s throughput
PAIR_RATE = 1 / 6  # messages a second to one user over time
PAIR_BURST = 45
RATE_LIMITED = {4, 80007, 130429}  # app-wide or number-wide: everyone waits
PAIR_LIMITED = 131056  # this user only
TRY_AGAIN = {1, 2, 131000, 131016}
UNDELIVERABLE = 131026
OUTSIDE_WINDOW = 131047
TOKEN_REJECTED = 190
PARAM_LIMIT = 1024  # a template parameter; it may hold no line breaks


class GraphError(Exception):
    """A Graph API error answer: the HTTP status and WhatsApp's code, title and details."""

    def __init__(self, status: int, code: int | None, title: str) -> None:
        super().__init__(f"whatsapp {code if code is not None else status}: {title}"[:300])
        self.status = status
        self.code = code


class WhatsAppOutput:
    """``app.outputs["whatsapp"]``: the outbox's way to WhatsApp, and the channel's for live replies."""

    name = CHANNEL

    def __init__(
        self,
        *,
        api_url: str,
        phone_number_id: str,
        token: str,
        codec: ButtonCodec,
        limiter: RateLimiter,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        default_language: str = "es",
        notice_template: str | None = None,
        log_key: bytes = b"",
        request_timeout: float = 30.0,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.messages_url = f"{self.api_url}/{phone_number_id}/messages"
        self.media_url = f"{self.api_url}/{phone_number_id}/media"
        self.token = token
        self.codec = codec
        self.limiter = limiter
        self.sessions = sessions
        self.clock = clock
        self.default_language = default_language
        self.notice_template = notice_template
        self.log_key = log_key
        self.timeout = aiohttp.ClientTimeout(total=request_timeout)
        self.max_in_flight = max_in_flight
        self._http: aiohttp.ClientSession | None = None
        self._in_flight: asyncio.Semaphore | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout
            )
        return self._http

    @property
    def in_flight(self) -> asyncio.Semaphore:
        if self._in_flight is None:
            self._in_flight = asyncio.Semaphore(self.max_in_flight)
        return self._in_flight

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    # -- the outbox ----------------------------------------------------------------------------------

    async def send(
        self,
        external_id: str,
        replies: Sequence[Reply],
        *,
        template: Template | None = None,
        bulk: bool = False,
        on_attempt: Attempt | None = None,
    ) -> list[str]:
        """OutputChannel: notifications, reminders, broadcasts. Inside the user's 24-hour window the replies
        themselves; outside it a template, or ``DeliverySkipped`` with the reason."""
        if not external_id.isdigit():
            raise DeliveryFailed("not a WhatsApp user id", retryable=False)
        user = await self._user(external_id)
        if user is None:
            raise DeliveryFailed("no such WhatsApp user", retryable=False)
        if self.in_window(user.last_seen_at):
            return await self.deliver(external_id, replies, language=user.language, bulk=bulk, live=False,
                                      on_attempt=on_attempt)
        chosen = template or self._notice(replies)
        if chosen is None:
            raise DeliverySkipped("outside WhatsApp's 24-hour window, and no template for it")
        message = template_message(chosen, user.language)
        return [await self._post(external_id, message, bulk=bulk, on_attempt=on_attempt)]

    def in_window(self, last_message_at: datetime | None) -> bool:
        """Free-form messages are allowed for 24 hours after the user's last message. ``last_seen_at`` is
        written at most every 10 minutes, so this errs on the side of a template, never of a refusal."""
        return last_message_at is not None and self.clock.now() - last_message_at < WINDOW

    def _notice(self, replies: Sequence[Reply]) -> Template | None:
        """The configured notice template, carrying the message's text as its one parameter."""
        text = " · ".join(" ".join(reply.text.split()) for reply in replies if reply.text.strip())
        if self.notice_template is None or not text:
            return None
        return Template(self.notice_template, params=(text,))

    async def _user(self, external_id: str) -> User | None:
        async with self.sessions() as session:
            return await users.find(session, CHANNEL, external_id)

    # -- one answer ----------------------------------------------------------------------------------

    async def deliver(
        self,
        wa_id: str,
        replies: Sequence[Reply],
        *,
        language: str | None = None,
        bulk: bool = False,
        live: bool = True,
        on_attempt: Attempt | None = None,
    ) -> list[str]:
        """Show ``replies`` to ``wa_id``; returns the message ids. ``live``: an answer to what the user just
        sent (it replaces or clears the numbered options; a notification only replaces them)."""
        saved_language, has_options = await choices.recipient(self.sessions, CHANNEL, wa_id)
        lang = language or saved_language or self.default_language
        planned = plan(replies, self.codec.encode, lambda key: translate(key, lang))
        await self.codec.save()  # long button payloads, before the message leaves: a press may reach another worker
        if planned.numbered or (live and has_options):
            # written before the message leaves, so an answer typed at once finds it
            await choices.offer(self.sessions, CHANNEL, wa_id, planned.numbered, self.clock.now())
        references: list[str] = []
        for message in planned.messages:
            body = await self._media_message(wa_id, message) if isinstance(message, Media) else message
            references.append(await self._post(wa_id, body, bulk=bulk, on_attempt=on_attempt))
            on_attempt = None  # noted once, right before the first request that may deliver something
        return references

    async def language_of(self, wa_id: str) -> str:
        user = await self._user(wa_id)
        return user.language if user is not None else self.default_language

    async def _media_message(self, wa_id: str, media: Media) -> dict[str, Any]:
        """A document or image by WhatsApp media id, by link, or uploaded first (generated or local files)."""
        attachment = media.attachment
        reference: dict[str, Any]
        if attachment.data is not None or _local_file(attachment) is not None:
            reference = {"id": await self.upload(wa_id, attachment)}
        elif attachment.file_ref.startswith(("http://", "https://")):
            reference = {"link": attachment.file_ref}
        else:
            reference = {"id": attachment.file_ref}
        if media.caption.strip():
            reference["caption"] = media.caption
        if media.kind == "document" and attachment.filename:
            reference["filename"] = attachment.filename
        return {"type": media.kind, media.kind: reference}

    async def upload(self, wa_id: str, attachment: Attachment) -> str:
        """POST the file to ``/{PHONE_NUMBER_ID}/media``; its media id."""
        path = _local_file(attachment)
        data = attachment.data if attachment.data is not None else path.read_bytes() if path else b""
        mime = attachment.mime_type or "application/octet-stream"
        filename = attachment.filename or (path.name if path else "file")

        def form() -> aiohttp.FormData:
            fields = aiohttp.FormData()
            fields.add_field("messaging_product", "whatsapp")
            fields.add_field("type", mime)
            fields.add_field("file", data, filename=filename, content_type=mime)
            return fields

        answer = await self._request(wa_id, lambda: self.http.post(self.media_url, data=form()), bulk=False)
        media_id = answer.get("id")
        if not media_id:
            raise DeliveryFailed("whatsapp: the media upload gave no id", retryable=True)
        return str(media_id)

    # -- other calls -----------------------------------------------------------------------------------

    async def mark_read(self, message_id: str) -> None:
        """Blue ticks on the user's message: they see it was read. Best effort, no retries."""
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        try:
            async with self.in_flight, self.http.post(self.messages_url, json=body) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("whatsapp: could not mark a message read", extra={"error": type(exc).__name__})

    async def media_size(self, media_id: str) -> int | None:
        """The size of a file the user sent (the webhook does not say it), so limits can be checked."""
        try:
            async with self.in_flight, self.http.get(f"{self.api_url}/{media_id}") as response:
                if response.status != 200:
                    return None
                info = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.info("whatsapp: media size unknown", extra={"error": type(exc).__name__})
            return None
        size = info.get("file_size") if isinstance(info, dict) else None
        return int(size) if isinstance(size, int | str) and str(size).isdigit() else None

    # -- one request, with limits and retries --------------------------------------------------------

    async def _post(self, wa_id: str, message: dict[str, Any], *, bulk: bool, on_attempt: Attempt | None = None) -> str:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id, **message}
        answer = await self._request(wa_id, lambda: self.http.post(self.messages_url, json=body), bulk=bulk,
                                     on_attempt=on_attempt)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise DeliveryFailed("whatsapp: the answer carried no message id", retryable=False) from None

    async def _request(
        self, wa_id: str, call: Callable[[], Any], *, bulk: bool, on_attempt: Attempt | None = None
    ) -> dict[str, Any]:
        async def attempt() -> dict[str, Any]:
            async with call() as response:
                answer = await _json(response)
            if response.status == 200 and "error" not in answer:
                return answer
            raise _graph_error(response.status, answer)

        return await send_with_retries(
            attempt, chat=wa_id, limiter=self.limiter, in_flight=self.in_flight,
            errors=(GraphError, aiohttp.ClientError, TimeoutError), outcome=lambda error: self._outcome(wa_id, error),
            mark_blocked=self._mark_blocked, bulk=bulk, on_attempt=on_attempt,
        )

    def _outcome(self, wa_id: str, error: Exception) -> Outcome:
        """What a Graph API or network error means for a send (see the module's docstring)."""
        if not isinstance(error, GraphError):  # aiohttp.ClientError, TimeoutError
            return Retry(f"whatsapp: {type(error).__name__}")
        if error.status == 429 or error.code in RATE_LIMITED or error.code == PAIR_LIMITED:
            log.warning("whatsapp rate limit", extra={"user": self.who(wa_id), "code": error.code})
            if error.code == PAIR_LIMITED:  # 1, 4, 16, ... seconds, for this user only
                return Flood(lambda floods: 4.0 ** (floods - 1), f"{error} (still limited)", everyone=False)
            return Flood(backoff, f"{error} (still limited)")
        if error.status >= 500 or error.code in TRY_AGAIN:
            return Retry(self._masked(error))
        if error.code == UNDELIVERABLE:
            return RecipientBlocked(wa_id)
        if error.code == OUTSIDE_WINDOW:
            return DeliverySkipped("outside WhatsApp's 24-hour window")
        return DeliveryFailed(self._masked(error), retryable=False)

    def _masked(self, error: GraphError) -> str:
        return str(error).replace(self.token, "***") if self.token else str(error)

    async def _mark_blocked(self, wa_id: str) -> None:
        async with self.sessions() as session, session.begin():
            await users.mark_blocked(session, CHANNEL, wa_id, self.clock.now())
        log.info("whatsapp user unreachable", extra={"user": self.who(wa_id)})

    def who(self, wa_id: str) -> str:
        """The user as logs name them (never their phone number)."""
        return pseudonym(self.log_key, wa_id)


def template_message(template: Template, language: str) -> dict[str, Any]:
    """A template message: its name, language (the user's unless the template names one) and body parameters,
    each on one line and within WhatsApp's limit."""
    message: dict[str, Any] = {"name": template.name, "language": {"code": template.language or language}}
    if template.params:
        parameters = [{"type": "text", "text": _one_line(param)} for param in template.params]
        message["components"] = [{"type": "body", "parameters": parameters}]
    return {"type": "template", "template": message}


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PARAM_LIMIT else flat[: PARAM_LIMIT - 1] + "…"


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        answer = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return answer if isinstance(answer, dict) else {}


def _graph_error(status: int, answer: dict[str, Any]) -> GraphError:
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = error.get("code") if isinstance(error.get("code"), int) else None
    title = str(error.get("error_user_title") or error.get("message") or f"HTTP {status}")
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    return GraphError(status if status != 200 else 400, code, f"{title}{f' ({details})' if details else ''}")


def _local_file(attachment: Attachment) -> Path | None:
    if not attachment.file_ref or attachment.file_ref.startswith(("http://", "https://")):
        return None
    path = Path(attachment.file_ref)
    try:
        return path if path.is_file() else None
    except OSError:  # a media id is not a path, and may be too long to be one
        return None
