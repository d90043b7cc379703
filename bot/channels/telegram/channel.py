"""The Telegram channel: python-telegram-bot does the HTTP (its Bot; the long-polling loop and the webhook route
on the bot's own aiohttp server are ours); everything else is ours too. Conversation state is in the database (no
ConversationHandler, no PTB persistence); updates go in arrival order to ``Engine.submit``, which handles each
user's messages in order with a bounded pool of workers.

    update → Inbound (or ignored) → Intake (batched dedupe) → engine.submit → respond → send queue → output

An update is recorded with what the engine needs before Telegram is told it arrived (the next poll's offset,
the webhook's 200), its replies are stored on that record in the handler's transaction, and it is marked
handled once they are sent (each reply of several noted as it leaves). On start, before taking new updates,
those recorded but never handled (the process died in between) are handled, or their stored replies not yet
sent are sent.

Stopping follows ``serve()``: ``stop()`` takes no new updates, ``Engine.drain`` finishes those in flight
(their replies still go out), and the web server's cleanup sends what is queued and closes the HTTP client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import select
from telegram import BotCommand, Update
from telegram.error import InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ContextTypes, ExtBot

from bot.channels.base import DeliveryFailed, RecipientBlocked
from bot.channels.buttons import ButtonCodec
from bot.channels.journal import Intake, Journal
from bot.channels.pacing import RateLimiter, Timer
from bot.channels.telegram.convert import CHANNEL, Inbound, from_record, to_inbound, to_record
from bot.channels.telegram.http import AiohttpRequest
from bot.channels.telegram.output import TelegramOutput, blocked_marker, retry_after_seconds
from bot.channels.telegram.render import plan
from bot.config import LANGUAGES, ConfigError
from bot.db.models import User
from bot.i18n import normalize_language, translate
from bot.messages import Incoming, Reply
from bot.services import users
from bot.services.outbox import record_undelivered
from bot.workqueue import KeyedQueue

if TYPE_CHECKING:
    from typing import TypeAlias

    from bot.app import App

    # What ``_build`` makes: PTB's default bot and context, its own dict stores (unused here), no job queue.
    BotApplication: TypeAlias = Application[
        ExtBot[None], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any], None
    ]

log = logging.getLogger("bot.telegram")

WEBHOOK_PATH = "/telegram/webhook"
# A webhook call ends once its update is handled (see ``_webhook``), or after this many seconds regardless: the
# update is recorded by then, and Telegram is not kept waiting on one slow chat.
HANDLED_WAIT = 10.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
UPDATE_ID_MIN, UPDATE_ID_MAX = -(2**63), 2**63 - 1  # a signed 64-bit integer, as the Bot API's are


class TelegramStartError(ConfigError):
    """The channel could not start. The message never holds the token (PTB's InvalidToken text does)."""


@dataclass(frozen=True)
class Outgoing:
    """One job for the chat's send queue: the engine's replies, or a notice the channel answers itself."""

    replies: tuple[Reply, ...] = ()
    notice: tuple[str, tuple[tuple[str, object], ...]] | None = None
    language: str | None = None
    callback_id: str | None = None
    edit_message_id: str | None = None
    update_id: str | None = None  # the journal row marked handled once these replies are sent


class TelegramChannel:
    def __init__(
        self,
        app: App,
        web_app: web.Application,
        *,
        timer: Timer | None = None,
        limiter: RateLimiter | None = None,
        read_timeout: float | None = None,
        poll_timeout: int = 10,  # seconds; getUpdates takes whole seconds
    ) -> None:
        settings = app.settings
        if settings.telegram_token is None:
            raise ValueError("LIDERES_TELEGRAM_TOKEN is not set")
        token = settings.telegram_token.get_secret_value()
        self.app = app
        self.webhook_url: str | None = settings.telegram_webhook_url
        configured = settings.telegram_webhook_secret
        self.secret = configured.get_secret_value() if configured else derived_secret(token)
        self.poll_timeout = poll_timeout
        self.application = self._build(token, settings.telegram_api_url, read_timeout)
        self.codec = ButtonCodec(token, sessions=app.sessions)  # long payloads shared by the workers
        self.limiter = limiter or limiter_for(settings.telegram_max_rate, timer)
        if limiter is None and settings.shared_send_budget:
            self.limiter.share(app.sessions, CHANNEL)  # on PostgreSQL, one budget for all the worker processes
        self.output = TelegramOutput(self.application.bot, self.codec, self.limiter, blocked_marker(app), secret=token)
        # Live replies leave through their own per-chat queue, so an engine worker hands its replies over and
        # goes on to the next message instead of waiting for Telegram; one chat's replies keep their order.
        self.sender: KeyedQueue[int, Outgoing] = KeyedQueue(self._send_all, workers=64, name="telegram-sender")
        self.updates = Journal.for_app(app, CHANNEL)
        self.intake: Intake[Inbound] = Intake(self.updates, self._dispatch, serialize=to_record,
                                              skipped=self._handled)
        self.in_handling: dict[str, asyncio.Future[None]] = {}  # webhook calls waiting for their update's end
        self.accepting = False
        self.closed = False
        self.poller: asyncio.Task[None] | None = None
        self.fetching = False  # the poller waits on getUpdates (nothing taken and not yet recorded)
        self.confirm: int | None = None  # the offset that tells Telegram the updates taken so far arrived
        app.outputs[CHANNEL] = self.output
        if self.webhook_url:
            web_app.router.add_post(WEBHOOK_PATH, self._webhook)
        web_app.on_cleanup.append(self._on_cleanup)

    def _build(self, token: str, api_url: str | None, read_timeout: float | None) -> BotApplication:
        # No Updater: polling is ours (``_poll``), and webhook updates go to the journal from the route.
        builder = Application.builder().token(token).concurrent_updates(False).job_queue(None).updater(None)
        if api_url:
            builder = builder.base_url(api_url)  # PTB semantics: the token is appended (or fills "{token}")
            if api_url.rstrip("/").endswith("/bot"):
                builder = builder.base_file_url(api_url.rstrip("/")[: -len("/bot")] + "/file/bot")
        # aiohttp instead of PTB's httpx: on a near Bot API, httpx/httpcore cost as much CPU per request as the
        # bot's own work on a message (bot/channels/telegram/http.py; bench/README.md, "Whole bot").
        def request() -> AiohttpRequest:
            return AiohttpRequest() if read_timeout is None else AiohttpRequest(read_timeout=read_timeout)

        builder = builder.request(request()).get_updates_request(request())
        return builder.build()

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """getMe, command menu, then polling or the webhook. A wrong token or an unreachable API fails here."""
        try:
            await self.application.initialize()
        except InvalidToken:
            log.error("telegram: the Bot API rejected LIDERES_TELEGRAM_TOKEN")
            raise TelegramStartError("the Bot API rejected LIDERES_TELEGRAM_TOKEN") from None  # PTB's text has it
        except TelegramError as exc:
            log.error("telegram: Bot API unreachable at start", extra={"error": type(exc).__name__})
            raise TelegramStartError(f"the Bot API is unreachable ({type(exc).__name__})") from None
        await self.application.start()
        await self.updates.prune()
        await self.publish_commands()
        await self.replay()
        self.updates.keep(self.replay)  # renew this worker's leases; take over those of a worker that died
        self.accepting = True
        if self.webhook_url:
            await self.application.bot.set_webhook(self.webhook_url, secret_token=self.secret,
                                                   allowed_updates=ALLOWED_UPDATES)
            log.info("telegram webhook set", extra={"path": WEBHOOK_PATH})
        else:
            try:
                await self.application.bot.delete_webhook()  # getUpdates is refused while a webhook is set
            except TelegramError as exc:
                log.warning("telegram: could not remove the webhook", extra={"error": type(exc).__name__})
            self.poller = asyncio.create_task(self._poll(), name="telegram-polling")
            log.info("telegram long polling started")

    async def stop(self) -> None:
        """Take no new updates; those already taken are finished by ``Engine.drain``."""
        self.accepting = False
        if self.poller is not None:
            if self.fetching:  # waiting for Telegram: nothing of ours to finish
                self.poller.cancel()
            await asyncio.gather(self.poller, return_exceptions=True)  # else it ends after the batch it takes
            self.poller = None
        if self.application.running:
            await self.application.stop()
        await self.intake.wait_idle()  # everything taken is with the engine before Engine.drain
        if self.confirm is not None:  # tell Telegram what was taken, so a restart is not sent it again
            with contextlib.suppress(TelegramError):
                await self.application.bot.get_updates(offset=self.confirm, timeout=0, allowed_updates=ALLOWED_UPDATES)
            self.confirm = None

    async def close(self) -> None:
        """Send what is queued, then close the HTTP client. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.application.running:
            await self.stop()  # normally done already, before Engine.drain
        await self.intake.close()
        await self.sender.close()  # before the journal: each sent answer marks its update handled
        await self.updates.close()
        await self.application.shutdown()

    async def _on_cleanup(self, _web_app: web.Application) -> None:
        await self.close()

    async def publish_commands(self) -> None:
        """The command menu in each language (and the default language for everyone else)."""
        commands = [(name, key) for name, key in self.app.engine.menu_commands() if _valid_command(name)]
        default = self.app.settings.default_language
        bot = self.application.bot
        try:
            for lang in (*LANGUAGES, None):
                menu = [BotCommand(name, translate(key, lang or default)[:256]) for name, key in commands]
                await bot.set_my_commands(menu, language_code=lang)
        except TelegramError as exc:
            log.warning("telegram: could not publish the command menu", extra={"error": type(exc).__name__})

    # -- updates in ----------------------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret.encode()):
            log.warning("telegram webhook: wrong secret", extra={"remote": request.remote})
            return web.Response(status=403)
        if not self.accepting:
            return web.Response(status=503)  # Telegram tries again later, e.g. on the restarted process
        try:
            data = await request.json()
        except web.HTTPRequestEntityTooLarge:
            log.warning("telegram webhook: body over the limit", extra={"remote": request.remote,
                                                                        "bytes": request.content_length})
            return web.Response(status=413)
        except Exception:
            log.warning("telegram webhook: body is not JSON", extra={"remote": request.remote})
            return web.Response(status=400)
        if not isinstance(data, dict) or not valid_update_id(data.get("update_id")):
            log.warning("telegram webhook: bad update id", extra={"remote": request.remote, "type": _kind(data)})
            return web.Response(status=400)
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:
            log.warning("telegram webhook: not an update", extra={"remote": request.remote})
            return web.Response(status=400)
        key = str(update.update_id)
        handled = self.in_handling.setdefault(key, asyncio.get_running_loop().create_future())
        try:
            recorded = await self._take(update)
            if recorded is not None:
                await recorded  # a 200 tells Telegram it arrived: it never sends it again
                # Telegram sends a chat's next update only once this call ends: ending it once the update is
                # handled, not just recorded, keeps each chat's order when several workers share the webhook
                # (the next one may reach another worker, which must not handle it first).
                await asyncio.wait([handled], timeout=HANDLED_WAIT)
        finally:
            if self.in_handling.get(key) is handled:
                del self.in_handling[key]
        return web.Response()

    def _handled(self, update_id: int | str) -> None:
        """The update's answer is queued (or it was a duplicate): its webhook call may end."""
        handled = self.in_handling.get(str(update_id))
        if handled is not None and not handled.done():
            handled.set_result(None)

    async def _poll(self) -> None:
        """Long polling. Ours rather than PTB's Updater, which confirms a batch (the next getUpdates' offset)
        as soon as it is in its in-memory queue: a process killed before those updates reached the journal lost
        them for good, since Telegram never sends a confirmed update again. Here the offset moves past a batch
        once the journal holds it. Errors are tried again as PTB's loop does: a timeout at once, a flood wait
        after its ``retry_after``, others after a pause growing to 30 s."""
        bot = self.application.bot
        pause = 0.0
        while self.accepting:
            self.fetching = True
            try:
                updates = await bot.get_updates(offset=self.confirm, timeout=self.poll_timeout,
                                                allowed_updates=ALLOWED_UPDATES)
            except InvalidToken:
                log.error("telegram: the Bot API rejected the token, polling stopped")
                return
            except RetryAfter as exc:
                pause = retry_after_seconds(exc) + 0.5
            except TimedOut:
                pause = 0.0
            except TelegramError as exc:
                _polling_error(exc)
                pause = 1.0 if pause == 0 else min(30.0, 1.5 * pause)
            else:
                pause = 0.0
                self.fetching = False
                recorded = [await self._take(update) for update in updates]
                await asyncio.gather(*(future for future in recorded if future is not None))
                if updates:
                    self.confirm = updates[-1].update_id + 1
            finally:
                self.fetching = False
            if pause:
                self.fetching = True  # nothing taken: a stop may cut the pause short
                await asyncio.sleep(pause)
                self.fetching = False

    async def _take(self, update: Update) -> asyncio.Future[None] | None:
        """One update, in arrival order: to the journal and on (``Intake``), or handled here. Returns what
        to wait for before telling Telegram the update arrived (once it is recorded), or None (nothing to keep).
        Must stay quick: no sending here."""
        if not valid_update_id(update.update_id):  # polling: the webhook refused it at the door already
            log.warning("telegram: bad update id, update dropped", extra={"type": type(update.update_id).__name__})
            return None
        try:
            if update.my_chat_member is not None:
                await self._membership(update)
                return None
            if update.callback_query is not None:
                await self.codec.load(update.callback_query.data)  # a long payload another worker stored
            inbound = to_inbound(update, self.codec)
            if inbound is None:
                log.debug("telegram update ignored", extra={"update_id": update.update_id})
                return None
            return await self.intake.put(update.update_id, inbound)
        except Exception:
            log.exception("telegram update failed", extra={"update_id": update.update_id})
            return None

    async def replay(self) -> int:
        """Hand the engine the updates a previous process recorded but never handled, in update order, and
        send the replies of those it handled but never answered. An answer to a button press edits the pressed
        message as it would have: an edit the previous process already made changes nothing (Telegram answers
        "not modified" and nothing shows twice), and a message gone is answered with a new one."""
        try:
            pending = await self.updates.unanswered()
        except Exception:
            log.exception("telegram: could not read unhandled updates")
            return 0
        for update_id, record, replies in pending:
            try:
                inbound = from_record(record)
            except Exception:
                log.exception("telegram: unhandled update unreadable, skipped", extra={"update_id": update_id})
                self.updates.mark_handled(update_id)
                continue
            if replies is not None:
                log.info("telegram: sending the answer a previous run did not", extra={"update_id": update_id})
                pressed = inbound.incoming.message_id if inbound.callback_id and inbound.incoming else None
                await self.sender.put(inbound.chat_id, Outgoing(tuple(replies), edit_message_id=pressed,
                                                                update_id=update_id))
                continue
            log.info("telegram: handling an update a previous run did not", extra={"update_id": update_id})
            await self._dispatch(update_id, inbound)
        return len(pending)

    async def _dispatch(self, update_id: int | str, inbound: Inbound) -> None:
        """A fresh update (its id recorded), in arrival order: to the engine, or a notice to send."""
        if inbound.incoming is None:
            assert inbound.notice is not None
            job = Outgoing(notice=(inbound.notice, inbound.notice_values), language=inbound.language,
                           callback_id=inbound.callback_id)
            await self.sender.put(inbound.chat_id, job)
            self._handled(update_id)
            return
        chat_id, callback_id = inbound.chat_id, inbound.callback_id
        edit = callback_id is not None

        async def respond(incoming: Incoming, replies: list[Reply]) -> None:
            await self.sender.put(chat_id, Outgoing(tuple(replies), callback_id=callback_id,
                                                    edit_message_id=incoming.message_id if edit else None,
                                                    update_id=str(update_id)))
            self._handled(update_id)

        if not await self.app.engine.submit(inbound.incoming, respond, self.updates.within(update_id)):
            log.warning("telegram update dropped: engine draining", extra={"update_id": update_id})
            self._handled(update_id)

    async def _membership(self, update: Update) -> None:
        """The user blocked the bot (status "kicked" in their private chat): stop bulk messages to them now."""
        change = update.my_chat_member
        assert change is not None
        if change.chat.type == "private" and change.new_chat_member.status == "kicked":
            await self.output.mark_blocked(str(change.from_user.id))

    # -- replies out ---------------------------------------------------------------------------------

    async def _send_all(self, chat_id: int, jobs: Sequence[Outgoing]) -> None:
        for job in jobs:
            await self._send(chat_id, job)

    async def _send(self, chat_id: int, job: Outgoing) -> None:
        if job.callback_id is not None:
            await self.output.answer_callback(job.callback_id)
        replies: tuple[Reply, ...] = job.replies
        if job.notice is not None:
            key, values = job.notice
            lang = await self._language(chat_id, job.language)
            replies = (Reply(text=translate(key, lang, **dict(values))),)
        edit, sent = job.edit_message_id, 0
        try:
            # One reply at a time, each noted once out (the last by the handled mark): a restart after a kill
            # sends only the replies not sent yet instead of the whole answer again.
            for reply in replies:
                await self.output.deliver(chat_id, (reply,), edit_message_id=edit)
                sent += 1
                if edit is not None and _edits((reply,)):
                    edit = None  # one edit per answer, as ``plan`` of the whole answer would
                if job.update_id is not None and sent < len(replies):
                    self.updates.mark_sent(job.update_id, replies[sent:])
        except RecipientBlocked:
            log.info("telegram reply not delivered: blocked", extra={"user": str(chat_id)})
        except Exception as exc:  # logged with the user id, never the text, and kept in the outbox
            log.warning("telegram reply not delivered", extra={"user": str(chat_id), "error": type(exc).__name__,
                                                               "reason": str(exc)[:200]})
            retryable = isinstance(exc, DeliveryFailed) and exc.retryable
            await record_undelivered(self.app.sessions, CHANNEL, str(chat_id), replies[sent:],
                                     str(exc) or type(exc).__name__, retryable=retryable, now=self.app.clock.now())
        if job.update_id is not None:  # answered (or its answer kept in the outbox): nothing left to do on restart
            self.updates.mark_handled(job.update_id)

    async def _language(self, chat_id: int, platform_language: str | None) -> str:
        """The language the user chose with /lang, else their platform's."""
        async with self.app.sessions() as session:
            saved = await session.scalar(
                select(User.language).where(*users.key_is(CHANNEL, str(chat_id)))
            )
        return saved or normalize_language(platform_language, self.app.settings.default_language)


def _edits(replies: Sequence[Reply]) -> bool:
    """Whether showing ``replies`` uses up the answer's one edit of the pressed message."""
    return any(step.method == "edit_message_text" for step in plan(replies, can_edit=True))


def limiter_for(max_rate: float, timer: Timer | None = None) -> RateLimiter:
    """Telegram's pacing: ``max_rate`` a second overall and about one a second per chat; 0 (a local Bot API
    server, benchmarks) is no limit at all, the per-chat one included."""
    if max_rate <= 0:
        return RateLimiter(timer, overall=0, per_chat=0)
    return RateLimiter(timer, overall=max_rate)


def valid_update_id(value: object) -> bool:
    """An id Telegram could have sent: an integer (not a bool, a float or text) in signed 64-bit range.
    Telegram's are far inside it; anything else did not come from Telegram, and would reach the update
    journal and the polling offset (id + 1) as something neither was made for."""
    return type(value) is int and UPDATE_ID_MIN <= value <= UPDATE_ID_MAX


def _kind(data: object) -> str:
    """For the log: what was sent instead of an update id, never the value itself."""
    value = data.get("update_id") if isinstance(data, dict) else data
    return type(value).__name__ if type(value) is not int else "int out of range"


def derived_secret(token: str) -> str:
    """A webhook secret when none is configured: stable across workers and restarts, never the token itself."""
    return hmac.new(token.encode(), b"lideres-telegram-webhook", hashlib.sha256).hexdigest()


def _valid_command(name: str) -> bool:
    """What setMyCommands accepts; a command it refuses would fail the whole menu."""
    return COMMAND_NAME.fullmatch(name) is not None


def _polling_error(exc: TelegramError) -> None:
    """PTB's default logs the exception with its traceback; the type is enough, and keeps URLs out."""
    log.warning("telegram polling error", extra={"error": type(exc).__name__})
