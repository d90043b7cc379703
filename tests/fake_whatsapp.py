"""A fake WhatsApp Cloud API (Graph API) on loopback, playing Meta on both sides: it takes what the bot sends
(``POST /{version}/{phone id}/messages``, media uploads) and it delivers users' messages to the bot's webhook,
signed with the app secret, the way Meta does. End-to-end tests run the real channel over real HTTP.

    fake = await FakeWhatsApp(clock=app_clock.now).start()   # API_URL = fake.api_url
    fake.webhook_url = "http://127.0.0.1:<bot port>/webhooks/whatsapp"
    await fake.text(ANA, "hola")                # POSTs a signed webhook; returns the HTTP status
    await fake.wait_sent(2, to=ANA)             # waits on an event, never sleeps; the guard only stops a hang
    await fake.press(ANA, "Acepto")             # a reply button or a list row, by title
    await fake.choose(ANA, "Título")            # a numbered option: types its number
    fake.fail(131056, times=2)                  # Graph API errors on demand (or status=500, 429 ...)

It refuses what the real API refuses and a bot could get wrong: more than 3 reply buttons, titles over 20
characters or repeated, lists over 10 rows, row titles over 24, bodies over 1024 (4096 for text), ids over
256 (200 for rows), empty texts, unknown templates or a wrong number of parameters, and free-form messages to
a user whose last message is more than 24 hours old (131047). With ``auto_status`` it sends the "sent" and
"delivered" status callbacks for every message it accepts, as Meta does (with ``status_first``, before it
answers the send, as Meta sometimes does).

Standalone, to try ``lideres run`` by hand: ``python -m tests.fake_whatsapp --bot http://127.0.0.1:8080``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "EAAG-test-access-token"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PHONE_NUMBER_ID = "106540352242922"
VERSION = "v21.0"
WINDOW = timedelta(hours=24)


@dataclass
class Sent:
    """One message the bot sent, as the API accepted it."""

    to: str
    message: dict[str, Any]
    id: str
    status: int = 200

    @property
    def type(self) -> str:
        return str(self.message.get("type"))

    @property
    def text(self) -> str:
        kind = self.type
        if kind == "text":
            return str(self.message["text"]["body"])
        if kind == "interactive":
            return str(self.message["interactive"]["body"]["text"])
        if kind in ("document", "image"):
            return str(self.message[kind].get("caption", ""))
        if kind == "template":
            params = [p["text"] for c in self.message["template"].get("components", []) for p in c["parameters"]]
            return " ".join(params)
        return ""

    @property
    def options(self) -> list[tuple[str, str]]:
        """(title, id) of its reply buttons or list rows."""
        if self.type != "interactive":
            return []
        interactive = self.message["interactive"]
        if interactive["type"] == "button":
            return [(b["reply"]["title"], b["reply"]["id"]) for b in interactive["action"]["buttons"]]
        return [(row["title"], row["id"]) for section in interactive["action"]["sections"] for row in section["rows"]]

    @property
    def labels(self) -> list[str]:
        return [title for title, _ in self.options]


@dataclass
class Failure:
    code: int | None
    status: int
    times: int | None
    to: str | None = None
    title: str = "error"


@dataclass
class FakeWhatsApp:
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    token: str = TOKEN
    app_secret: str = APP_SECRET
    phone_number_id: str = PHONE_NUMBER_ID
    auto_status: bool = False
    status_first: bool = False  # with auto_status: the callbacks are posted before the send is answered
    webhook_url: str | None = None
    templates: dict[str, int] = field(default_factory=lambda: {"lideres_aviso": 1, "lideres_novedades": 1})
    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[str, dict[str, Any], int, str]] = field(default_factory=list)  # (to, message, code, why)
    reads: list[str] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    last_inbound: dict[str, datetime] = field(default_factory=dict)
    webhook_statuses: list[int] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port = 0
        self.on_sent: Callable[[Sent], None] | None = None

    # -- server ----------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeWhatsApp:
        app = web.Application(client_max_size=110 * 1024 * 1024)
        app.router.add_post(f"/{VERSION}/{{number}}/messages", self._messages)
        app.router.add_post(f"/{VERSION}/{{number}}/media", self._upload)
        app.router.add_get(f"/{VERSION}/{{object_id}}", self._object)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    @property
    def api_url(self) -> str:
        """What LIDERES_WHATSAPP_API_URL should be."""
        return f"http://127.0.0.1:{self.port}/{VERSION}"

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], guard: float = 20.0) -> None:
        """Until ``predicate()`` holds; re-checked after every request. ``guard`` only stops a hung test."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), guard)

    async def wait_sent(self, count: int, *, to: str | None = None, guard: float = 20.0) -> list[Sent]:
        await self.wait_for(lambda: len(self.to(to)) >= count, guard)
        return self.to(to)

    def to(self, who: str | None = None) -> list[Sent]:
        return [s for s in self.sent if who is None or s.to == who]

    def texts(self, who: str | None = None) -> list[str]:
        return [s.text for s in self.to(who)]

    def fail(self, code: int | None = None, *, status: int = 400, times: int | None = 1, to: str | None = None,
             title: str = "error") -> Failure:
        """Answer the next ``times`` sends (None: all) with WhatsApp error ``code`` and HTTP ``status``."""
        failure = Failure(code, status, times, to, title)
        self.failures.append(failure)
        return failure

    # -- the Graph API -------------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _object(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 190, "Invalid OAuth access token.")
        object_id = request.match_info["object_id"]
        if object_id == self.phone_number_id:
            return web.json_response({"id": object_id, "display_phone_number": "+1 555 000 1111",
                                      "verified_name": "LÍDERES"})
        if object_id in self.media:
            return web.json_response({"id": object_id, "url": f"http://127.0.0.1:{self.port}/media/{object_id}",
                                      "messaging_product": "whatsapp", **self.media[object_id]})
        return _error(404, 100, "Unsupported get request. Object does not exist")

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 190, "Invalid OAuth access token.")
        form = await request.post()
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp" or not isinstance(upload, web.FileField):
            return _error(400, 100, "Invalid parameter")
        content = upload.file.read()
        media_id = str(900_000_000 + next(self._ids))
        self.media[media_id] = {"mime_type": upload.content_type, "file_size": len(content), "sha256": "x"}
        self.uploads.append({"id": media_id, "filename": upload.filename, "size": len(content),
                             "mime_type": upload.content_type})
        await self._notify()
        return web.json_response({"id": media_id})

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 190, "Invalid OAuth access token.")
        if request.match_info["number"] != self.phone_number_id:
            return _error(400, 100, "Unsupported post request. Object does not exist")
        try:
            message = await request.json()
        except ValueError:
            return _error(400, 100, "Invalid JSON")
        if message.get("status") == "read":
            self.reads.append(str(message.get("message_id")))
            await self._notify()
            return web.json_response({"success": True})
        to = str(message.get("to", ""))
        failure = self._failure_for(to)
        if failure is not None:
            self.refused.append((to, message, failure.code or failure.status, failure.title))
            await self._notify()
            return _error(failure.status, failure.code, failure.title)
        problem = self._check(message)
        if problem is not None:
            code, why = problem
            self.refused.append((to, message, code, why))
            await self._notify()
            return _error(400, code, why)
        wamid = f"wamid.FAKE{next(self._ids):06d}"
        sent = Sent(to, {k: v for k, v in message.items() if k not in ("messaging_product", "recipient_type", "to")},
                    wamid)
        self.sent.append(sent)
        if self.on_sent is not None:
            self.on_sent(sent)
        await self._notify()
        if self.auto_status and self.webhook_url:
            if self.status_first:  # Meta's callback can overtake its own answer
                await self._statuses(sent)
            else:
                asyncio.get_running_loop().create_task(self._statuses(sent))
        return web.json_response({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                                  "messages": [{"id": wamid}]})

    def _failure_for(self, to: str) -> Failure | None:
        for failure in self.failures:
            if (failure.times is None or failure.times > 0) and failure.to in (None, to):
                if failure.times is not None:
                    failure.times -= 1
                return failure
        return None

    def _check(self, message: dict[str, Any]) -> tuple[int, str] | None:
        """What the real API would refuse, as (code, reason)."""
        if message.get("messaging_product") != "whatsapp" or not str(message.get("to", "")).isdigit():
            return 100, "Invalid parameter: messaging_product or to"
        kind = message.get("type")
        to = str(message["to"])
        if kind != "template":
            last = self.last_inbound.get(to)
            if last is None or self.clock() - last >= WINDOW:
                return 131047, "Re-engagement message: more than 24 hours have passed since the user last replied"
        if kind == "text":
            body = message.get("text", {}).get("body", "")
            if not body.strip() or len(body) > 4096:
                return 100, "Invalid parameter: text.body must be 1 to 4096 characters"
            return None
        if kind == "interactive":
            return _check_interactive(message.get("interactive", {}))
        if kind in ("document", "image"):
            media = message.get(kind, {})
            if not (media.get("id") or media.get("link")):
                return 100, f"Invalid parameter: {kind} needs an id or a link"
            if media.get("id") and not str(media["id"]).isdigit():
                return 131053, "Media upload error: unknown media id"
            if len(media.get("caption", "")) > 1024:
                return 100, "Invalid parameter: caption over 1024 characters"
            return None
        if kind == "template":
            template = message.get("template", {})
            wanted = self.templates.get(template.get("name"))
            if wanted is None:
                return 132001, "Template name does not exist in the translation"
            params = [p for c in template.get("components", []) for p in c.get("parameters", [])]
            if len(params) != wanted:
                return 132000, "Number of parameters does not match the expected number of params"
            if any("\n" in p.get("text", "") or len(p.get("text", "")) > 1024 for p in params):
                return 132018, "Template parameter has new-line characters or is too long"
            return None
        return 131051, "Unsupported message type"

    async def _statuses(self, sent: Sent) -> None:
        for status in ("sent", "delivered"):
            await self.status(sent.id, status, to=sent.to)

    # -- Meta's side: webhooks to the bot --------------------------------------------------------------------

    def sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    async def post(self, body: bytes | dict[str, Any], *, signature: str | None = None,
                   headers: dict[str, str] | None = None) -> int:
        """POST a webhook body to the bot, signed unless ``signature`` is given; returns the HTTP status."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        if self._http is None:
            self._http = aiohttp.ClientSession()
        assert self.webhook_url, "set fake.webhook_url to the bot's webhook first"
        sent_headers = {"Content-Type": "application/json",
                        "X-Hub-Signature-256": signature if signature is not None else self.sign(raw),
                        **(headers or {})}
        async with self._http.post(self.webhook_url, data=raw, headers=sent_headers) as response:
            await response.read()
            self.webhook_statuses.append(response.status)
            return response.status

    def body(self, *, messages: Sequence[dict[str, Any]] = (), statuses: Sequence[dict[str, Any]] = (),
             contacts: Sequence[dict[str, Any]] = (), number: str | None = None) -> dict[str, Any]:
        value: dict[str, Any] = {"messaging_product": "whatsapp",
                                 "metadata": {"display_phone_number": "15550001111",
                                              "phone_number_id": number or self.phone_number_id}}
        if messages:
            value["contacts"] = list(contacts)
            value["messages"] = list(messages)
        if statuses:
            value["statuses"] = list(statuses)
        return {"object": "whatsapp_business_account",
                "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}

    def message(self, wa_id: str, kind: str, content: dict[str, Any], *, message_id: str | None = None,
                name: str = "Ana") -> dict[str, Any]:
        """One user message as a webhook body; the user's 24-hour window opens now."""
        self.last_inbound[wa_id] = self.clock()
        message = {"from": wa_id, "id": message_id or f"wamid.IN{next(self._ids):06d}",
                   "timestamp": str(int(self.clock().timestamp())), "type": kind, kind: content}
        return self.body(messages=[message], contacts=[{"profile": {"name": name}, "wa_id": wa_id}])

    async def text(self, wa_id: str, text: str, **options: Any) -> int:
        return await self.post(self.message(wa_id, "text", {"body": text}, **options))

    async def document(self, wa_id: str, filename: str = "plan.pdf", *, size: int = 120_000,
                       mime_type: str = "application/pdf", caption: str | None = None, **options: Any) -> int:
        media_id = str(800_000_000 + next(self._ids))
        self.media[media_id] = {"mime_type": mime_type, "file_size": size, "sha256": "x"}
        content = {"id": media_id, "mime_type": mime_type, "sha256": "x", "filename": filename}
        if caption:
            content["caption"] = caption
        return await self.post(self.message(wa_id, "document", content, **options))

    async def image(self, wa_id: str, *, size: int = 80_000, caption: str | None = None, **options: Any) -> int:
        media_id = str(700_000_000 + next(self._ids))
        self.media[media_id] = {"mime_type": "image/jpeg", "file_size": size, "sha256": "x"}
        content = {"id": media_id, "mime_type": "image/jpeg", "sha256": "x"}
        if caption:
            content["caption"] = caption
        return await self.post(self.message(wa_id, "image", content, **options))

    async def press(self, wa_id: str, title: str, **options: Any) -> int:
        """Press the newest reply button or list row sent to ``wa_id`` whose title contains ``title``."""
        for sent in reversed(self.to(wa_id)):
            for shown, button_id in sent.options:
                if title.casefold() in shown.casefold():
                    kind = sent.message["interactive"]["type"]
                    reply_kind = "button_reply" if kind == "button" else "list_reply"
                    content = {"type": reply_kind, reply_kind: {"id": button_id, "title": shown}}
                    return await self.post(self.message(wa_id, "interactive", content, **options))
        raise AssertionError(f"no button {title!r} for {wa_id}: {[s.labels for s in self.to(wa_id)][-3:]}")

    async def press_id(self, wa_id: str, button_id: str, **options: Any) -> int:
        content = {"type": "button_reply", "button_reply": {"id": button_id, "title": "?"}}
        return await self.post(self.message(wa_id, "interactive", content, **options))

    def number_of(self, wa_id: str, label: str) -> int:
        """The number of option ``label`` in the newest numbered list sent to ``wa_id``."""
        for sent in reversed(self.to(wa_id)):
            for line in sent.text.splitlines():
                number, dot, rest = line.partition(". ")
                if dot and number.isdigit() and label.casefold() in rest.casefold():
                    return int(number)
        raise AssertionError(f"no numbered option {label!r} for {wa_id}")

    async def choose(self, wa_id: str, label: str, **options: Any) -> int:
        """Answer a numbered list by typing the number of ``label``."""
        return await self.text(wa_id, str(self.number_of(wa_id, label)), **options)

    async def status(self, wamid: str, status: str, *, to: str, code: int | None = None,
                     title: str = "error") -> int:
        entry: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(self.clock().timestamp())),
                                 "recipient_id": to}
        if code is not None:
            entry["errors"] = [{"code": code, "title": title}]
        return await self.post(self.body(statuses=[entry]))


def _check_interactive(interactive: dict[str, Any]) -> tuple[int, str] | None:
    body = interactive.get("body", {}).get("text", "")
    if not body.strip() or len(body) > 1024:
        return 100, "Invalid parameter: interactive body must be 1 to 1024 characters"
    action = interactive.get("action", {})
    if interactive.get("type") == "button":
        buttons = action.get("buttons", [])
        titles = [b.get("reply", {}).get("title", "") for b in buttons]
        ids = [b.get("reply", {}).get("id", "") for b in buttons]
        if not 1 <= len(buttons) <= 3:
            return 100, "Invalid parameter: 1 to 3 buttons"
        if any(not 1 <= len(t) <= 20 for t in titles) or len(set(titles)) != len(titles):
            return 100, "Invalid parameter: button titles must be 1 to 20 characters and unique"
        if any(not 1 <= len(i) <= 256 for i in ids) or len(set(ids)) != len(ids):
            return 100, "Invalid parameter: button ids must be 1 to 256 characters and unique"
        return None
    if interactive.get("type") == "list":
        rows = [row for section in action.get("sections", []) for row in section.get("rows", [])]
        if not 1 <= len(action.get("button", "")) <= 20:
            return 100, "Invalid parameter: the list button must be 1 to 20 characters"
        if not 1 <= len(rows) <= 10:
            return 131009, "Parameter value is not valid: a list has 1 to 10 rows"
        if any(not 1 <= len(r.get("title", "")) <= 24 or len(r.get("description", "")) > 72 for r in rows):
            return 100, "Invalid parameter: row titles 1 to 24 characters, descriptions up to 72"
        ids = [r.get("id", "") for r in rows]
        if any(not 1 <= len(i) <= 200 for i in ids) or len(set(ids)) != len(ids):
            return 100, "Invalid parameter: row ids must be 1 to 200 characters and unique"
        return None
    return 131051, "Unsupported interactive type"


def _error(status: int, code: int | None, message: str) -> web.Response:
    error: dict[str, Any] = {"message": f"({'#' + str(code) if code else status}) {message}", "type": "OAuthException",
                             "fbtrace_id": "AbCdEf"}
    if code is not None:
        error["code"] = code
        error["error_data"] = {"messaging_product": "whatsapp", "details": message}
    return web.json_response({"error": error}, status=status)


# -- standalone -------------------------------------------------------------------------------------------


async def _standalone(port: int, bot: str, wa_id: str) -> None:
    fake = FakeWhatsApp(webhook_url=f"{bot.rstrip('/')}/webhooks/whatsapp", auto_status=True)

    def show(sent: Sent) -> None:
        options = "  " + " | ".join(f"[{label}]" for label in sent.labels) if sent.labels else ""
        print(f"bot → {sent.to} ({sent.type}): {sent.text}{options}", flush=True)

    fake.on_sent = show
    await fake.start(port=port)
    print(f"fake Graph API at {fake.api_url}", flush=True)
    print(f"  LIDERES_WHATSAPP_TOKEN={TOKEN} LIDERES_WHATSAPP_PHONE_NUMBER_ID={PHONE_NUMBER_ID} "
          f"LIDERES_WHATSAPP_APP_SECRET={APP_SECRET} LIDERES_WHATSAPP_VERIFY_TOKEN={VERIFY_TOKEN} "
          f"LIDERES_WHATSAPP_API_URL={fake.api_url} lideres run", flush=True)
    print(f"type a message to send it as {wa_id}; 'press <title>' presses a button or a list row", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                await asyncio.Event().wait()
            line = line.strip()
            if not line:
                continue
            try:
                status = await (fake.press(wa_id, line[6:]) if line.startswith("press ") else fake.text(wa_id, line))
                if status != 200:
                    print(f"the bot answered HTTP {status}", flush=True)
            except (AssertionError, aiohttp.ClientError) as exc:
                print(exc, flush=True)
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake WhatsApp Cloud API for trying the bot by hand")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--bot", default="http://127.0.0.1:8080", help="the bot's web server")
    parser.add_argument("--user", default="59170012345", help="the wa_id typed lines come from")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_standalone(args.port, args.bot, args.user))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
