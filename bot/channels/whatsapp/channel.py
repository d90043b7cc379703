"""The WhatsApp channel: Meta's webhook on the bot's own aiohttp server, and the Cloud API for answers.

    GET  /webhooks/whatsapp   the subscription check: hub.verify_token must match, hub.challenge is echoed
    POST /webhooks/whatsapp   a body signed with the app secret (X-Hub-Signature-256, checked on the raw bytes
                              before anything is parsed), answered 200 at once; then

    message → Inbound (a long button payload read from the database first) → Intake (journal: each wamid
              once) → prepare (number → option, file size) → engine.submit → respond → send queue (mark read,
              then the answer) → output (long button payloads written before the message leaves)
    status  → receipts queue → the outbox rows (``bot.services.receipts``)

Everything taken is recorded with what the engine needs before it is handled and marked handled after the
engine commits; on start, what a previous process took but never handled is handled first. Stopping follows
``serve()``: ``stop()`` answers 503 to Meta (it retries later, e.g. on the restarted process), ``Engine.drain``
finishes what was taken, and the server's cleanup sends what is queued and closes the HTTP client.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.base import DeliveryFailed, RecipientBlocked
from bot.channels.buttons import ButtonCodec
from bot.channels.journal import Intake, Journal
from bot.channels.pacing import RateLimiter, Timer
from bot.channels.whatsapp import choices
from bot.channels.whatsapp.convert import (
    CHANNEL,
    Inbound,
    Receipt,
    button_ids,
    from_record,
    parse_body,
    to_record,
)
from bot.channels.whatsapp.output import (
    OUTSIDE_WINDOW,
    PAIR_BURST,
    PAIR_RATE,
    UNDELIVERABLE,
    WhatsAppOutput,
)
from bot.config import ConfigError
from bot.i18n import translate
from bot.messages import Incoming, Reply
from bot.services import receipts
from bot.services.outbox import record_undelivered
from bot.workqueue import KeyedQueue

log = logging.getLogger("bot.whatsapp")

WEBHOOK_PATH = "/webhooks/whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_BODY = 1024 * 1024  # bytes; Meta's bodies are a few KB
BUTTON_ID_LIMIT = 200  # a list row's id (a reply button's may be 256)
EARLY_RECEIPT_TRIES = 10
EARLY_RECEIPT_WAIT = 1.0  # seconds


class WhatsAppStartError(ConfigError):
    """The channel could not start; the message never holds the token."""


@dataclass(frozen=True)
class Outgoing:
    """One job for a user's send queue: mark their message read, answer with replies or a notice."""

    read: str | None = None
    replies: tuple[Reply, ...] = ()
    notice: str | None = None
    message_id: str | None = None  # the journal row marked handled once these replies are sent


class WhatsAppChannel:
    def __init__(
        self,
        app: Any,
        web_app: web.Application,
        *,
        timer: Timer | None = None,
        limiter: RateLimiter | None = None,
        mark_read: bool = True,
        button_id_limit: int = BUTTON_ID_LIMIT,
    ) -> None:
        settings = app.settings
        missing = [name for name in ("whatsapp_token", "whatsapp_phone_number_id", "whatsapp_app_secret",
                                     "whatsapp_verify_token") if not getattr(settings, name)]
        if missing:
            raise WhatsAppStartError(f"LIDERES_{missing[0].upper()} must be set with LIDERES_WHATSAPP_TOKEN")
        self.app = app
        self.phone_number_id: str = settings.whatsapp_phone_number_id
        self.app_secret: bytes = settings.whatsapp_app_secret.get_secret_value().encode()
        self.verify_token: str = settings.whatsapp_verify_token.get_secret_value()
        token = settings.whatsapp_token.get_secret_value()
        # Button ids are signed with a key from the app secret: it outlives access tokens, which are rotated.
        # A payload too long for an id is kept in the database, so any worker (or the next run) reads it back.
        self.codec = ButtonCodec(settings.whatsapp_app_secret.get_secret_value(), purpose="whatsapp",
                                 limit=button_id_limit, sessions=app.sessions)
        self.limiter = limiter or RateLimiter(timer, overall=settings.whatsapp_max_rate, per_chat=PAIR_RATE,
                                              burst=PAIR_BURST)
        if limiter is None and settings.shared_send_budget:
            self.limiter.share(app.sessions, CHANNEL)  # on PostgreSQL, one budget for all the worker processes
        self.output = WhatsAppOutput(
            api_url=settings.whatsapp_api_url, phone_number_id=self.phone_number_id, token=token,
            codec=self.codec, limiter=self.limiter, sessions=app.sessions, clock=app.clock,
            default_language=settings.default_language, notice_template=settings.whatsapp_notice_template,
            log_key=self.app_secret,
        )
        self.mark_read = mark_read
        self.journal = Journal.for_app(app, CHANNEL)
        self.intake: Intake[Inbound] = Intake(self.journal, self._take, serialize=to_record)
        # Per user, in order: preparing a message may ask the database or the Graph API, which the intake (one
        # task for everyone) must not wait for; sending waits for the limiter, which an engine worker must not.
        self.prepare: KeyedQueue[str, tuple[str, Inbound, bool]] = KeyedQueue(
            self._prepare_all, workers=16, name="whatsapp-prepare")
        self.sender: KeyedQueue[str, Outgoing] = KeyedQueue(self._send_all, workers=64, name="whatsapp-sender")
        self.receipts: KeyedQueue[str, Receipt] = KeyedQueue(
            self._apply_receipts, workers=1, batch=500, name="whatsapp-receipts")
        self._early: set[asyncio.Task[None]] = set()
        self.accepting = False
        self.closed = False
        app.outputs[CHANNEL] = self.output
        web_app.router.add_get(WEBHOOK_PATH, self._verify)
        web_app.router.add_post(WEBHOOK_PATH, self._webhook)
        web_app.on_cleanup.append(self._on_cleanup)

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token and the number against the Graph API, handle what a previous run left, then take
        webhooks. A wrong token or an unreachable API fails here, never with the token in the message."""
        try:
            async with self.output.http.get(f"{self.output.api_url}/{self.phone_number_id}") as response:
                if response.status in (401, 403):
                    raise WhatsAppStartError("the Graph API rejected LIDERES_WHATSAPP_TOKEN")
                if response.status == 404 or response.status >= 400:
                    raise WhatsAppStartError(
                        f"the Graph API does not know LIDERES_WHATSAPP_PHONE_NUMBER_ID (HTTP {response.status})")
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.error("whatsapp: Graph API unreachable at start", extra={"error": type(exc).__name__})
            raise WhatsAppStartError(f"the Graph API is unreachable ({type(exc).__name__})") from None
        await self.journal.prune()
        await self.replay()
        self.journal.keep(self.replay)  # renew this worker's leases; take over those of a worker that died
        self.accepting = True
        log.info("whatsapp webhook ready", extra={"path": WEBHOOK_PATH})

    async def stop(self) -> None:
        """Take no new webhooks (503: Meta tries again later); hand what was taken to the engine."""
        self.accepting = False
        await self.intake.wait_idle()
        await self.prepare.join()
        await self.receipts.join()

    async def close(self) -> None:
        """Send what is queued, write what is pending, close the HTTP client. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.accepting = False
        await self.intake.close()
        await self.prepare.close()
        await self.sender.close()  # before the journal: each sent answer marks its message handled
        await self.journal.close()
        await self.receipts.close()
        for task in list(self._early):  # receipts still waiting for their rows are given up: status only
            task.cancel()
        await self.output.close()

    async def _on_cleanup(self, _web_app: web.Application) -> None:
        await self.close()

    async def replay(self) -> int:
        """Hand the engine the messages a previous process recorded but never handled, in arrival order, and
        send the replies of those it handled but never answered."""
        try:
            pending = await self.journal.unanswered()
        except Exception:
            log.exception("whatsapp: could not read unhandled messages")
            return 0
        for message_id, record, replies in pending:
            try:
                inbound = from_record(str(message_id), record)
            except Exception:
                log.exception("whatsapp: unhandled message unreadable, skipped", extra={"message_id": message_id})
                self.journal.mark_handled(message_id)
                continue
            if replies is not None:
                log.info("whatsapp: sending the answer a previous run did not", extra={"message_id": message_id})
                await self.sender.put(inbound.wa_id, Outgoing(replies=tuple(replies), message_id=str(message_id)))
                continue
            log.info("whatsapp: handling a message a previous run did not", extra={"message_id": message_id})
            await self.prepare.put(inbound.wa_id, (str(message_id), inbound, True))
        return len(pending)

    # -- webhooks in -----------------------------------------------------------------------------------

    async def _verify(self, request: web.Request) -> web.Response:
        """Meta's subscription check: echo ``hub.challenge`` when the token is ours."""
        query = request.query
        given = query.get("hub.verify_token", "").encode()
        if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(given, self.verify_token.encode()):
            log.warning("whatsapp webhook verification refused", extra={"remote": request.remote})
            return web.Response(status=403)
        log.info("whatsapp webhook verified")
        return web.Response(text=query.get("hub.challenge", ""))

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await read_limited(request, MAX_BODY)
        if body is None:
            log.warning("whatsapp webhook: body over 1 MB refused", extra={"remote": request.remote})
            return web.Response(status=413)
        if not signature_matches(self.app_secret, body, request.headers.get(SIGNATURE_HEADER, "")):
            log.warning("whatsapp webhook: bad or missing signature", extra={"remote": request.remote})
            return web.Response(status=401)
        if not self.accepting:
            return web.Response(status=503)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            log.warning("whatsapp webhook: body is not JSON", extra={"bytes": len(body)})
            return web.Response(status=400)
        for button_id in button_ids(data, self.phone_number_id):
            await self.codec.load(button_id)  # a long payload another worker encoded; forged ids read nothing
        parsed = parse_body(data, self.phone_number_id, self.codec)
        for inbound in parsed.messages:
            await self.intake.put(inbound.message_id, inbound)
        for receipt in parsed.receipts:
            await self.receipts.put("receipts", receipt)
        return web.Response(text="ok")

    async def _take(self, message_id: str, inbound: Inbound) -> None:
        """A message seen for the first time (its id recorded), in arrival order: prepared per user."""
        await self.prepare.put(inbound.wa_id, (message_id, inbound, False))

    async def _prepare_all(self, wa_id: str, jobs: Sequence[tuple[str, Inbound, bool]]) -> None:
        for message_id, inbound, replayed in jobs:
            await self._dispatch(message_id, inbound, replayed=replayed)

    async def _dispatch(self, message_id: str, inbound: Inbound, *, replayed: bool) -> None:
        if self.mark_read and not replayed:
            await self.sender.put(inbound.wa_id, Outgoing(read=message_id))
        if inbound.incoming is None:
            await self.sender.put(inbound.wa_id, Outgoing(notice=inbound.notice))
            return
        incoming = await self._complete(inbound.incoming)

        async def respond(_incoming: Incoming, replies: list[Reply]) -> None:
            await self.sender.put(inbound.wa_id, Outgoing(replies=tuple(replies), message_id=message_id))

        if not await self.app.engine.submit(incoming, respond, self.journal.within(message_id)):
            log.warning("whatsapp message dropped: engine draining", extra={"message_id": message_id})

    async def _complete(self, incoming: Incoming) -> Incoming:
        """What the webhook does not say: which option a typed number picks, and how big a file is."""
        if incoming.text is not None and incoming.attachment is None:
            payload = await choices.chosen(self.app.sessions, CHANNEL, incoming.user_id, incoming.text,
                                           self.app.clock.now())
            if payload is not None:
                return replace(incoming, text=None, payload=payload)
        attachment = incoming.attachment
        if attachment is not None and attachment.size is None:
            size = await self.output.media_size(attachment.file_ref)
            if size is not None:
                return replace(incoming, attachment=replace(attachment, size=size))
        return incoming

    async def _apply_receipts(self, _key: str, batch: Sequence[Receipt]) -> None:
        found = [receipts.Receipt(r.message_id, r.recipient, r.status, r.error, outcome=_outcome(r.code))
                 for r in batch if r.recipient]
        applied = await receipts.apply(self.app.sessions, CHANNEL, found, self.app.clock.now())
        if applied.early:
            task = asyncio.create_task(self._apply_early(applied.early), name="whatsapp-early-receipts")
            self._early.add(task)
            task.add_done_callback(self._early.discard)

    async def _apply_early(self, early: list[receipts.Receipt]) -> None:
        """Receipts that came before the outbox wrote their message's references: tried again a few times,
        a second apart (the outbox writes within one), then dropped with a log line."""
        for _attempt in range(EARLY_RECEIPT_TRIES):
            await asyncio.sleep(EARLY_RECEIPT_WAIT)
            early = (await receipts.apply(self.app.sessions, CHANNEL, early, self.app.clock.now())).early
            if not early:
                return
        log.warning("whatsapp receipts dropped: their messages were never recorded", extra={"receipts": len(early)})

    # -- replies out ---------------------------------------------------------------------------------

    async def _send_all(self, wa_id: str, jobs: Sequence[Outgoing]) -> None:
        for job in jobs:
            await self._send(wa_id, job)

    async def _send(self, wa_id: str, job: Outgoing) -> None:
        if job.read is not None:
            await self.output.mark_read(job.read)
            return
        replies = job.replies
        if job.notice is not None:
            lang = await self.output.language_of(wa_id)
            replies = (Reply(text=translate(job.notice, lang)),)
        try:
            await self.output.deliver(wa_id, replies)
        except RecipientBlocked:
            log.info("whatsapp reply not delivered: unreachable", extra={"user": self.output.who(wa_id)})
        except Exception as exc:  # logged with the user id, never the text, and kept in the outbox
            log.warning("whatsapp reply not delivered", extra={"user": self.output.who(wa_id),
                                                               "error": type(exc).__name__, "reason": str(exc)[:200]})
            retryable = isinstance(exc, DeliveryFailed) and exc.retryable
            await record_undelivered(self.app.sessions, CHANNEL, wa_id, replies, str(exc) or type(exc).__name__,
                                     retryable=retryable, now=self.app.clock.now())
        if job.message_id is not None:  # answered (or its answer kept in the outbox): nothing left on restart
            self.journal.mark_handled(job.message_id)


def _outcome(code: int | None) -> str:
    if code == OUTSIDE_WINDOW:
        return "skipped"
    if code == UNDELIVERABLE:
        return "blocked"
    return "failed"


def signature_matches(secret: bytes, body: bytes, header: str) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>`` is the HMAC-SHA256 of the raw body with the app secret."""
    scheme, _, given = header.partition("=")
    if scheme != "sha256" or not given:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.strip().lower().encode(), expected.encode())


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The raw body, or None when it is over ``limit`` bytes (refused before reading it all when it says so)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


__all__ = ["WEBHOOK_PATH", "WhatsAppChannel"]
