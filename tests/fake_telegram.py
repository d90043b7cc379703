"""A fake Telegram Bot API on loopback: enough of the protocol for python-telegram-bot, and a record of what
the bot did, so end-to-end tests run the real application over real HTTP.

    fake = FakeTelegram()
    await fake.start()                      # http://127.0.0.1:<random port>; fake.api_url ends in /bot
    fake.message(1001, "/start")            # inject updates (command, button press, document, photo, ...)
    await fake.wait_sent(2, chat_id=1001)   # wait on an event, never sleep; the timeout only guards failure
    fake.fail("sendMessage", 429, retry_after=3, times=5)   # or 403, 500, or fake.stall(...)
    FakeTelegram(limits=Limits())           # Telegram's flood control: 429 past 30 messages/s or ~1/s per chat
    fake.deliver_to([url1, url2, url3])     # webhook mode: POST each update to the workers in turn

It validates what Telegram validates and the bot could get wrong (4096-character texts, 64-byte callback
data, 1024-character captions, editing a message that exists). Requests are recorded with ``clock()``,
which a test can point at a virtual timer.

Standalone, to try ``lideres run`` by hand:

    python -m tests.fake_telegram --port 8081
    # then type /start (or any text) to send it as user 1001; "press <label>" presses a button;
    # or POST {"user_id": 1001, "text": "/start"} to http://127.0.0.1:8081/_control/message
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "123456:TEST-token_for-the-fake-api"
BOT_ID = 123456
MESSAGE_METHODS = ("sendMessage", "editMessageText", "sendDocument", "sendPhoto")
WEBHOOK_CONNECTIONS = 40  # the Bot API's default max_connections: updates it POSTs at once to a webhook
INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"}
JSON_PARAMS = {"reply_markup", "commands", "allowed_updates", "scope", "link_preview_options", "reply_parameters"}


@dataclass
class Call:
    """One request the bot made, with what the fake answered."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        return (self.params.get("reply_markup") or {}).get("inline_keyboard", [])

    @property
    def labels(self) -> list[str]:
        return [button["text"] for row in self.buttons for button in row]


@dataclass
class Limits:
    """Flood control as Telegram applies it to messages (sends and edits): at most ``overall`` in any one-second
    window, and per chat a bucket of ``burst`` refilled at ``per_chat`` a second; beyond, 429 with retry_after."""

    overall: int = 30
    per_chat: float = 1.0
    burst: int = 4
    retry_after: int = 1


@dataclass
class Rule:
    method: str | None
    status: int
    times: int | None  # None: until removed
    retry_after: int | None = None
    chat_id: int | None = None
    description: str | None = None
    stall: bool = False

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        return (self.method in (None, method)) and (self.chat_id in (None, params.get("chat_id")))


class FakeTelegram:
    def __init__(self, token: str = TOKEN, *, clock: Callable[[], float] = time.monotonic,
                 first_update_id: int = 1000, limits: Limits | None = None) -> None:
        self.token = token
        self.clock = clock
        self.limits = limits
        self.window: deque[float] = deque()  # accepted messages in the last second (limits)
        self.buckets: dict[int, tuple[float, float]] = {}  # chat → (tokens, when)
        self.too_many = 0  # 429 answers given by the limits
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.rules: list[Rule] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message id) → Message as sent
        self.callback_ids: set[str] = set()
        self.answered_callbacks: list[str] = []
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str | None, list[dict[str, str]]] = {}  # language_code → menu
        self.changed = asyncio.Condition()
        self.closing = asyncio.Event()
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.on_sent: Callable[[Call], None] | None = None
        self.meter: LoadMeter | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.webhook_urls: list[str] = []
        self._connections = asyncio.Semaphore(WEBHOOK_CONNECTIONS)
        self._chat_calls: dict[Any, asyncio.Task[Any] | None] = {}  # chat → its update being POSTed
        self.delivered: dict[int, str] = {}  # update id → the webhook URL that answered 200
        self._turn = itertools.count()
        self._http: aiohttp.ClientSession | None = None

    # -- server ----------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_post("/_control/message", self._control_message)
        app.router.add_post("/_control/press", self._control_press)
        app.router.add_get("/_control/sent", self._control_sent)
        app.router.add_post("/_control/load", self._control_load)
        app.router.add_post("/_control/summary", self._control_summary)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What LIDERES_TELEGRAM_API_URL should be (PTB appends the token)."""
        return f"{self.url}/bot"

    async def close(self) -> None:
        self.closing.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        async with self.changed:
            self.changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what the bot did -----------------------------------------------------------------------------

    def sent(self, method: str | tuple[str, ...] = MESSAGE_METHODS, chat_id: int | None = None) -> list[Call]:
        """Successful calls of ``method`` (by default everything that shows a message), in arrival order."""
        methods = (method,) if isinstance(method, str) else method
        return [c for c in self.calls if c.method in methods and c.status == 200
                and (chat_id is None or c.chat_id == chat_id)]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [call.text for call in self.sent(chat_id=chat_id)]

    def failed(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.status != 200 and (method is None or c.method == method)]

    async def wait_for(self, predicate: Callable[[], bool], guard: float = 20.0) -> None:
        """Until ``predicate()`` holds; re-checked after every request and injection. ``guard`` only stops
        a test that would otherwise hang."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), guard)

    async def wait_sent(self, count: int, *, chat_id: int | None = None,
                        method: str | tuple[str, ...] = MESSAGE_METHODS, guard: float = 20.0) -> list[Call]:
        await self.wait_for(lambda: len(self.sent(method, chat_id)) >= count, guard)
        return self.sent(method, chat_id)

    # -- failures on demand ---------------------------------------------------------------------------

    def fail(self, method: str | None, status: int, *, times: int | None = 1, retry_after: int | None = None,
             chat_id: int | None = None, description: str | None = None) -> Rule:
        """Answer the next ``times`` matching calls (None: all of them) with ``status``."""
        rule = Rule(method, status, times, retry_after, chat_id, description)
        self.rules.append(rule)
        return rule

    def stall(self, method: str | None, *, times: int | None = 1, chat_id: int | None = None) -> Rule:
        """Never answer the next matching calls (the client times out); nothing is delivered."""
        rule = Rule(method, 0, times, chat_id=chat_id, stall=True)
        self.rules.append(rule)
        return rule

    def _rule_for(self, method: str, params: dict[str, Any]) -> Rule | None:
        for rule in self.rules:
            if rule.matches(method, params) and (rule.times is None or rule.times > 0):
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None

    # -- updates in -----------------------------------------------------------------------------------

    def inject(self, update: dict[str, Any]) -> int:
        """Queue a raw update (its ``update_id`` is assigned unless given: give one twice to duplicate it)."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self.updates.append(update)
        if self.webhook_urls:
            task = asyncio.get_running_loop().create_task(self._post_update(update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._notify_soon()
        return update["update_id"]

    # -- webhook delivery -------------------------------------------------------------------------------

    def deliver_to(self, urls: list[str]) -> None:
        """Webhook mode behind a load balancer: every update injected from now on is POSTed, with the secret
        the bot gave setWebhook, to the next of ``urls`` in turn (several at once, as Telegram opens several
        connections: at most setWebhook's ``max_connections``, 40 unless given; one chat's updates one after the
        other, each once the call before it ended). A call refused or not answered 200 (a worker killed, or
        stopping) goes to the next URL, as Telegram delivers again; ``delivered`` records which URL took each
        update."""
        self.webhook_urls = list(urls)
        self._connections = asyncio.Semaphore(int((self.webhook or {}).get("max_connections", WEBHOOK_CONNECTIONS)))

    async def _post_update(self, update: dict[str, Any]) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        secret = (self.webhook or {}).get("secret_token", "")
        start = next(self._turn)
        chat, this = _chat_of(update), asyncio.current_task()
        previous = self._chat_calls.get(chat)
        self._chat_calls[chat] = this
        try:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])  # as Telegram: a chat's next update once its previous call ended
            async with self._connections:
                await self._post_to_workers(update, secret, start)
        finally:
            if self._chat_calls.get(chat) is this:
                del self._chat_calls[chat]

    async def _post_to_workers(self, update: dict[str, Any], secret: str, start: int) -> None:
        for attempt in range(3 * len(self.webhook_urls)):
            url = self.webhook_urls[(start + attempt) % len(self.webhook_urls)]
            try:
                async with self._http.post(url, json=update,
                                           headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as response:
                    if response.status == 200:
                        self.delivered[update["update_id"]] = url
                        async with self.changed:
                            self.changed.notify_all()
                        return
            except (aiohttp.ClientError, OSError, TimeoutError):
                continue  # refused or reset: the next worker
        raise AssertionError(f"update {update['update_id']} reached no webhook worker")

    @staticmethod
    def user(user_id: int, first_name: str = "Ana", language_code: str | None = "es") -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    def _message(self, user_id: int, *, first_name: str = "Ana", language_code: str | None = "es",
                 **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": self.user(user_id, first_name, language_code),
            **content,
        }

    def message(self, user_id: int, text: str, *, update_id: int | None = None, **who: Any) -> int:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        update: dict[str, Any] = {"message": self._message(user_id, **who, **content)}
        if update_id is not None:
            update["update_id"] = update_id
        return self.inject(update)

    def document(self, user_id: int, file_name: str = "plan.pdf", size: int = 120_000,
                 mime_type: str = "application/pdf", caption: str | None = None, **who: Any) -> int:
        document = {"file_id": f"DOC{next(self._file_ids)}", "file_unique_id": f"u{next(self._file_ids)}",
                    "file_name": file_name, "mime_type": mime_type, "file_size": size}
        content: dict[str, Any] = {"document": document}
        if caption:
            content["caption"] = caption
        return self.inject({"message": self._message(user_id, **who, **content)})

    def photo(self, user_id: int, **who: Any) -> int:
        sizes = [{"file_id": f"PHO{next(self._file_ids)}-{w}", "file_unique_id": f"p{w}", "width": w,
                  "height": w * 3 // 4, "file_size": w * 100} for w in (90, 320, 1280)]
        return self.inject({"message": self._message(user_id, **who, photo=sizes)})

    def sticker(self, user_id: int, **who: Any) -> int:
        sticker = {"file_id": f"STK{next(self._file_ids)}", "file_unique_id": "s1", "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False, "file_size": 20_000}
        return self.inject({"message": self._message(user_id, **who, sticker=sticker)})

    def location(self, user_id: int, **who: Any) -> int:
        return self.inject({"message": self._message(user_id, **who, location={"latitude": -17.78,
                                                                               "longitude": -63.18})})

    def edited_message(self, user_id: int, text: str, **who: Any) -> int:
        message = self._message(user_id, **who, text=text, edit_date=int(time.time()))
        return self.inject({"edited_message": message})

    def channel_post(self, text: str, chat_id: int = -100123) -> int:
        post = {"message_id": next(self._message_ids), "date": int(time.time()), "text": text,
                "chat": {"id": chat_id, "type": "channel", "title": "News"}}
        return self.inject({"channel_post": post})

    def unknown(self) -> int:
        """An update type newer than the client knows."""
        return self.inject({"future_kind_of_update": {"id": 1, "something": True}})

    def blocked_by(self, user_id: int) -> int:
        """my_chat_member: the user blocked the bot."""
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "Lideres"}
        change = {"chat": {"id": user_id, "type": "private", "first_name": "Ana"}, "from": self.user(user_id),
                  "date": int(time.time()), "old_chat_member": {"status": "member", "user": bot},
                  "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0}}
        return self.inject({"my_chat_member": change})

    def press(self, user_id: int, data: str, message_id: int | None = None, *, update_id: int | None = None,
              **who: Any) -> int:
        """A button press with ``data`` as callback_data (forge one by passing anything)."""
        query_id = f"cbq{next(self._update_ids)}"
        self.callback_ids.add(query_id)
        message = self.messages.get((user_id, message_id or 0)) or self._message(user_id, text="…")
        query = {"id": query_id, "from": self.user(user_id, who.get("first_name", "Ana"),
                                                   who.get("language_code", "es")),
                 "chat_instance": "ci1", "data": data, "message": message}
        update: dict[str, Any] = {"callback_query": query}
        if update_id is not None:
            update["update_id"] = update_id
        return self.inject(update)

    def press_button(self, user_id: int, label: str, **who: Any) -> int:
        """Press the newest button in the chat whose label contains ``label``."""
        for message in reversed(list(self.messages.values())):
            if message["chat"]["id"] != user_id:
                continue
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label.casefold() in button["text"].casefold():
                        return self.press(user_id, button["callback_data"], message["message_id"], **who)
        raise AssertionError(f"no button {label!r} in chat {user_id}")

    def _notify_soon(self) -> None:
        async def notify() -> None:
            async with self.changed:
                self.changed.notify_all()

        try:
            task = asyncio.get_running_loop().create_task(notify())
        except RuntimeError:
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the Bot API ----------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_params(request)
        call = Call(method, params, self.clock(), files=files)
        rule = self._rule_for(method, params)
        if rule is not None and rule.stall:
            call.status = 0
            self.calls.append(call)
            await self.closing.wait()
            return _error(500, "Internal Server Error: stalled")
        if rule is None and method in MESSAGE_METHODS and not self._within_limits(params.get("chat_id"), call.at):
            rule = Rule(method, 429, 1, retry_after=self.limits.retry_after if self.limits else 1)
            self.too_many += 1
        if rule is not None:
            response = _rule_response(rule)
            call.status = rule.status
        else:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                response = _error(404, "Not Found: method not found")
                call.status = 404
            else:
                try:
                    result = await handler(params, files)
                except _ApiError as exc:
                    response, call.status = _error(exc.status, exc.description), exc.status
                else:
                    call.result = result
                    response = web.json_response({"ok": True, "result": result})
        if method != "getUpdates" or call.status != 200 or call.result:
            self.calls.append(call)
        if call.status == 200 and method in MESSAGE_METHODS:
            if self.on_sent is not None:
                self.on_sent(call)
            if self.meter is not None:
                self.meter.on_sent(call)
        async with self.changed:
            self.changed.notify_all()
        return response

    def _within_limits(self, chat_id: Any, now: float) -> bool:
        """Take a message's place under the limits, or False (answered 429, as Telegram's flood control does)."""
        if self.limits is None:
            return True
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= self.limits.overall:
            return False
        if isinstance(chat_id, int):
            tokens, when = self.buckets.get(chat_id, (float(self.limits.burst), now))
            tokens = min(float(self.limits.burst), tokens + (now - when) * self.limits.per_chat)
            if tokens < 1:
                self.buckets[chat_id] = (tokens, now)
                return False
            self.buckets[chat_id] = (tokens - 1, now)
        self.window.append(now)
        return True

    def summary(self, text: str) -> dict[str, Any]:
        """Benchmarks: the messages showing ``text`` (a broadcast), per chat, and the flood-control answers."""
        calls = [c for c in self.sent() if c.text == text]
        per_chat = Counter(c.chat_id for c in calls)
        times = [c.at for c in calls]
        return {"sent": len(calls), "chats": len(per_chat), "duplicates": sum(n - 1 for n in per_chat.values()),
                "too_many": self.too_many, "first": min(times, default=0.0), "last": max(times, default=0.0)}

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Lideres Test", "username": "lideres_test_bot",
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _m_getMe(self, _p: dict[str, Any], _f: dict[str, Any]) -> Any:
        return self._bot_user()

    async def _m_getUpdates(self, p: dict[str, Any], _f: dict[str, Any]) -> Any:
        offset, limit, timeout = p.get("offset", 0), p.get("limit", 100), p.get("timeout", 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

        def available() -> bool:
            return self.closing.is_set() or any(u["update_id"] >= offset for u in self.updates)

        if not available() and timeout:
            try:
                async with self.changed:
                    await asyncio.wait_for(self.changed.wait_for(available), timeout)
            except TimeoutError:
                pass
        return [u for u in self.updates if u["update_id"] >= offset][:limit]

    async def _m_setWebhook(self, p: dict[str, Any], _f: dict[str, Any]) -> Any:
        self.webhook = p
        return True

    async def _m_deleteWebhook(self, _p: dict[str, Any], _f: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _m_setMyCommands(self, p: dict[str, Any], _f: dict[str, Any]) -> Any:
        for command in p.get("commands", []):
            if not 1 <= len(command.get("description", "")) <= 256:
                raise _ApiError(400, "Bad Request: command description is invalid")
        self.commands[p.get("language_code")] = p.get("commands", [])
        return True

    async def _m_answerCallbackQuery(self, p: dict[str, Any], _f: dict[str, Any]) -> Any:
        if p.get("callback_query_id") not in self.callback_ids:
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.answered_callbacks.append(p["callback_query_id"])
        return True

    async def _m_sendMessage(self, p: dict[str, Any], _f: dict[str, Any]) -> Any:
        text = p.get("text") or ""
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if _units(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._store(p, text=text)

    async def _m_editMessageText(self, p: dict[str, Any], _f: dict[str, Any]) -> Any:
        key = (p.get("chat_id"), p.get("message_id"))
        message = self.messages.get(key)  # type: ignore[arg-type]
        if message is None or "text" not in message:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if _units(p.get("text") or "") > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        _check_markup(p)
        if message["text"] == p.get("text") and message.get("reply_markup") == p.get("reply_markup"):
            raise _ApiError(400, "Bad Request: message is not modified")
        message["text"] = p.get("text")
        message["edit_date"] = int(time.time())
        if p.get("reply_markup"):
            message["reply_markup"] = p["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def _m_sendDocument(self, p: dict[str, Any], f: dict[str, Any]) -> Any:
        info = f.get("document") or {"filename": None, "size": 1000, "content_type": None}
        by_reference = p.get("document") if isinstance(p.get("document"), str) else None
        document = {"file_id": by_reference or f"SENT{next(self._file_ids)}",
                    "file_unique_id": f"s{next(self._file_ids)}", "file_name": info.get("filename"),
                    "mime_type": info.get("content_type"), "file_size": info.get("size")}
        return self._store(p, document=document, **_caption(p))

    async def _m_sendPhoto(self, p: dict[str, Any], _f: dict[str, Any]) -> Any:
        photo = [{"file_id": f"SENT{next(self._file_ids)}", "file_unique_id": "sp", "width": 800, "height": 600}]
        return self._store(p, photo=photo, **_caption(p))

    async def _m_getFile(self, p: dict[str, Any], _f: dict[str, Any]) -> Any:
        file_id = p.get("file_id", "")
        return {"file_id": file_id, "file_unique_id": f"f{file_id}", "file_size": 1000,
                "file_path": f"documents/{file_id}.bin"}

    def _store(self, p: dict[str, Any], **content: Any) -> dict[str, Any]:
        _check_markup(p)
        chat_id = p.get("chat_id")
        if not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found")
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private"}, "from": self._bot_user(), **content}
        if p.get("reply_markup"):
            message["reply_markup"] = p["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    # -- control endpoints (standalone mode) ----------------------------------------------------------

    async def _control_message(self, request: web.Request) -> web.Response:
        body = await request.json()
        update_id = self.message(int(body.get("user_id", 1001)), body["text"], first_name=body.get("first_name", "Ana"),
                                 language_code=body.get("language_code", "es"))
        return web.json_response({"update_id": update_id})

    async def _control_press(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            update_id = self.press_button(int(body.get("user_id", 1001)), body["label"])
        except AssertionError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        return web.json_response({"update_id": update_id})

    async def _control_load(self, request: web.Request) -> web.Response:
        """Benchmarks: inject ``users × messages`` texts (all at once, or ``rate`` a second), answer when
        each has its reply, with the throughput and the latency from injection to reply."""
        body = await request.json()
        meter = self.meter = LoadMeter()
        result = await meter.run(self, int(body.get("users", 200)), int(body.get("messages", 10)),
                                 body.get("text", "/menu"), float(body.get("rate", 0)),
                                 int(body.get("first_user", 10_000)))
        self.meter = None
        return web.json_response(result)

    async def _control_summary(self, request: web.Request) -> web.Response:
        return web.json_response(self.summary((await request.json())["text"]))

    async def _control_sent(self, _request: web.Request) -> web.Response:
        return web.json_response([{"method": c.method, "chat_id": c.chat_id, "text": c.text, "buttons": c.labels}
                                  for c in self.sent()])


def _chat_of(update: dict[str, Any]) -> Any:
    """The chat an update belongs to (its sender's when it names none)."""
    for kind in ("message", "edited_message", "channel_post", "callback_query", "my_chat_member"):
        body = update.get(kind)
        if isinstance(body, dict):
            chat = (body.get("message") or body).get("chat") or {}
            return chat.get("id", (body.get("from") or {}).get("id"))
    return None


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _rule_response(rule: Rule) -> web.Response:
    if rule.status == 429:
        retry_after = rule.retry_after or 1
        return _error(429, rule.description or f"Too Many Requests: retry after {retry_after}",
                      {"retry_after": retry_after})
    defaults = {403: "Forbidden: bot was blocked by the user", 400: "Bad Request", 500: "Internal Server Error",
                502: "Bad Gateway", 503: "Service Unavailable"}
    return _error(rule.status, rule.description or defaults.get(rule.status, "Error"))


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _caption(p: dict[str, Any]) -> dict[str, Any]:
    caption = p.get("caption")
    if caption and _units(caption) > 1024:
        raise _ApiError(400, "Bad Request: message caption is too long")
    return {"caption": caption} if caption else {}


def _check_markup(p: dict[str, Any]) -> None:
    for row in (p.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """PTB posts form-encoded bodies, multipart when there are files; other clients may post JSON."""
    params: dict[str, Any] = {}
    files: dict[str, dict[str, Any]] = {}
    if request.content_type == "application/json":
        params = await request.json() if request.can_read_body else {}
        return params, files
    form = await request.post() if request.can_read_body else {}
    for name, value in {**request.query, **form}.items():
        if isinstance(value, web.FileField):
            content = value.file.read()
            files[name] = {"filename": value.filename, "size": len(content), "content_type": value.content_type}
            continue
        params[name] = _coerce(name, value)
    return params, files


def _coerce(name: str, value: str) -> Any:
    if name in INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            pass
        try:
            return float(value)  # PTB sends timeouts as "10.0"
        except ValueError:
            return value
    if name in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class LoadMeter:
    """Counts answers and pairs each with its update: one answer per update, a user's answers in order."""

    def __init__(self) -> None:
        self.injected: dict[int, deque[float]] = defaultdict(deque)
        self.latencies: list[float] = []
        self.target = 0
        self.done = asyncio.Event()

    def on_sent(self, call: Call) -> None:
        queue = self.injected.get(call.chat_id or 0)
        if queue:
            self.latencies.append(time.perf_counter() - queue.popleft())
        if len(self.latencies) >= self.target:
            self.done.set()

    async def run(self, fake: FakeTelegram, users: int, messages: int, text: str, rate: float,
                  first_user: int) -> dict[str, float]:
        self.target = users * messages
        began = time.perf_counter()
        for index in range(self.target):
            if rate:
                delay = began + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            user = first_user + index % users
            self.injected[user].append(time.perf_counter())
            fake.message(user, text)
        await self.done.wait()
        elapsed = time.perf_counter() - began
        latencies = sorted(self.latencies)
        return {"updates": self.target, "seconds": elapsed, "per_second": self.target / elapsed,
                "p50_ms": statistics.median(latencies) * 1000,
                "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000}


class VirtualTimer:
    """A clock for ``RateLimiter`` that jumps instead of waiting: ``sleep(s)`` moves time to at least
    ``now + s`` and yields. Nobody wakes before their time, and a test of a 30-second pause takes no time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


# -- standalone -------------------------------------------------------------------------------------------


async def _standalone(port: int, token: str, user_id: int, quiet: bool, first_update_id: int,
                      limits: bool = False) -> None:
    fake = FakeTelegram(token, first_update_id=first_update_id, limits=Limits() if limits else None)

    def show(call: Call) -> None:
        buttons = "  " + " | ".join(f"[{label}]" for label in call.labels) if call.labels else ""
        print(f"bot → {call.chat_id} ({call.method}): {call.text}{buttons}", flush=True)

    fake.on_sent = None if quiet else show
    await fake.start(port=port)
    print(f"fake Bot API at {fake.api_url} (token {token})", flush=True)
    print(f"  LIDERES_TELEGRAM_TOKEN={token} LIDERES_TELEGRAM_API_URL={fake.api_url} lideres run", flush=True)
    print(f"type a message to send it as user {user_id}; 'press <label>' presses a button", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                await asyncio.Event().wait()  # stdin closed (backgrounded): keep serving; use /_control
            line = line.strip()
            if not line:
                continue
            try:
                if line.startswith("press "):
                    fake.press_button(user_id, line[6:].strip())
                else:
                    fake.message(user_id, line)
            except AssertionError as exc:
                print(exc, flush=True)
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Telegram Bot API for trying the bot by hand")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123:abc")
    parser.add_argument("--user", type=int, default=1001, help="the user id typed lines come from")
    parser.add_argument("--quiet", action="store_true", help="do not print what the bot sends (benchmarks)")
    parser.add_argument("--first-update-id", type=int, default=1000,
                        help="start update ids here (a bot reusing its database skips ids it has seen)")
    parser.add_argument("--limits", action="store_true",
                        help="answer 429 beyond 30 messages/s overall or about 1/s per chat, as Telegram does")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_standalone(args.port, args.token, args.user, args.quiet, args.first_update_id, args.limits))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()


@contextlib.asynccontextmanager
async def running_channel(app: Any, timer: VirtualTimer | None = None, **options: Any) -> AsyncIterator[Any]:
    """The real TelegramChannel of ``app`` (polling, or webhook when configured), stopped the way
    ``lideres run`` stops it: no new updates, engine drained, queued replies sent, HTTP client closed."""
    from bot.channels.telegram import TelegramChannel
    from bot.server import build_server

    web_app = build_server(app)
    channel = TelegramChannel(app, web_app, timer=timer, **options)
    channel.web_app = web_app
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()
        await app.engine.drain()
        await channel.close()
