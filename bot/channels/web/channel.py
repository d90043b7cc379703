"""The web chat: a page at ``/`` on the bot's own server, talking to the engine over a WebSocket.

    GET  /                    the page (plain HTML, JS and CSS shipped with the package; no build step), in
                              the browser's language; sets the signed visitor cookie if it has none
    GET  /chat/ws             the conversation: JSON frames both ways (below)
    POST /chat/upload         a file for the conversation (multipart "file"), handled like a message
    GET  /chat/files/{id}     a file of the conversation, for its owner only
    GET  /chat/static/...     the page's script and style

Frames from the page: ``{"type": "hello", "lang": "es-MX", "fresh": true}`` (first; a fresh page, with no
transcript, is greeted as if it had typed /start), ``{"type": "text", "text": ...}``,
``{"type": "button", "data": <signed payload>}`` (a payload longer than ``BUTTON_LIMIT`` travels as the key of
its row in ``button_payloads``, written before the page gets the button, so any worker reads it back). Frames
to the page: ``{"type": "ready", "lang", "strings"}`` (the page's own words in the visitor's language),
``{"type": "messages", "messages": [...]}``, ``{"type": "notice", "text"}`` (slow down, too long, not
understood).

Messages from the outbox (answers from coordinators, reminders, broadcasts) reach an open page at once; for a
closed one they wait in the mailbox, shown at the next visit (and looked for every few seconds, so a page open
on another worker gets them too). Each visitor's messages are rate limited (``LIDERES_WEB_RATE`` a minute,
bursts of 10); frames over 64 KB close the socket, texts over 4096 characters and frames that are not JSON are
refused with a notice and a log line. Logs name visitors by their id, never what they typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import mimetypes
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import BodyPartReader, WSMsgType, web

from bot.channels.base import DirectOutput
from bot.channels.buttons import ButtonCodec
from bot.channels.pacing import MonotonicTimer, Timer, TokenBucket
from bot.channels.web import store
from bot.channels.web.identity import COOKIE, MAX_AGE, Visitors, web_secret
from bot.channels.web.render import WEB_REF, file_id, page_message, public_url
from bot.config import LANGUAGES
from bot.i18n import catalog, normalize_language, translate
from bot.messages import Attachment, Incoming, Reply
from bot.services import users

log = logging.getLogger("bot.web")

CHANNEL = store.CHANNEL
STATIC = Path(str(resources.files("bot.channels.web") / "static"))
MAX_FRAME = 64 * 1024  # bytes; aiohttp closes the socket on a bigger frame
MAX_TEXT = 4096  # characters of one message
MAX_UPLOAD = 20 * 1024 * 1024  # bytes; the idea form's own limit (10 MB) is told in the conversation
MAX_SOCKETS = 5  # open pages of one visitor
BUTTON_LIMIT = 512  # bytes of a button's data: longer payloads are kept in the database
BURST = 10
MAILBOX_EVERY = 5.0  # seconds between looks at the mailbox for pages open here
MIME = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


class WebChat:
    def __init__(self, app: Any, web_app: web.Application, *, timer: Timer | None = None,
                 button_limit: int = BUTTON_LIMIT) -> None:
        self.app = app
        settings = app.settings
        secret = web_secret(settings)
        self.visitors = Visitors(secret)
        # A payload too long for the page's button data is kept in the database: any worker reads it back.
        self.codec = ButtonCodec(secret, purpose="web", limit=button_limit, sessions=app.sessions)
        self.secure = settings.web_public
        self.rate = settings.web_rate / 60.0
        self.timer: Timer = timer or MonotonicTimer()
        self.sockets: dict[str, set[web.WebSocketResponse]] = {}
        self.buckets: dict[str, TokenBucket] = {}
        self.user_ids: dict[str, int] = {}
        self.accepting = False
        self.closed = False
        self.poller: asyncio.Task[None] | None = None
        self.output = WebOutput(self)
        app.outputs[CHANNEL] = self.output
        router = web_app.router
        router.add_get("/", self._page)
        router.add_get("/chat/ws", self._socket)
        router.add_post("/chat/upload", self._upload)
        router.add_get("/chat/files/{file_id}", self._file)
        router.add_static("/chat/static", STATIC, append_version=True)
        web_app.on_cleanup.append(self._on_cleanup)

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        await store.prune(self.app.sessions, self.app.clock.now())
        self.accepting = True
        self.poller = asyncio.create_task(self._poll_mailbox(), name="web-mailbox")

    async def stop(self) -> None:
        """Take no new messages; open pages are told to come back (close code 1012, service restart)."""
        self.accepting = False
        for sockets in list(self.sockets.values()):
            for ws in list(sockets):
                await ws.close(code=1012, message=b"restarting")

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.stop()
        if self.poller is not None:
            self.poller.cancel()
            await asyncio.gather(self.poller, return_exceptions=True)

    async def _on_cleanup(self, _web_app: web.Application) -> None:
        await self.close()

    # -- the page ------------------------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        lang = preferred_language(request.headers.get("Accept-Language"), self.app.settings.default_language)
        page = render_page((STATIC / "index.html").read_text(encoding="utf-8"), lang)
        response = web.Response(text=page, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)
        if self.visitors.check(request.cookies.get(COOKIE)) is None:
            _visitor, cookie = self.visitors.new()
            response.set_cookie(COOKIE, cookie, max_age=MAX_AGE, httponly=True, samesite="Lax", secure=self.secure,
                                path="/")
        return response

    def _visitor(self, request: web.Request) -> str | None:
        """The visitor of a request from our own page: a valid cookie and, when the browser says where the
        request comes from, our own origin (another site cannot use a visitor's cookie through their browser)."""
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            log.warning("web chat: request from another origin refused")
            return None
        return self.visitors.check(request.cookies.get(COOKIE))

    # -- the conversation ------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        visitor = self._visitor(request)
        if visitor is None:
            return web.Response(status=403, text="no visitor cookie: open the chat page first")
        if not self.accepting:
            return web.Response(status=503)
        if len(self.sockets.get(visitor, ())) >= MAX_SOCKETS:
            return web.Response(status=429, text="too many open pages")
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME, heartbeat=30)
        await ws.prepare(request)
        self.sockets.setdefault(visitor, set()).add(ws)
        lang: str | None = None
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    lang = await self._frame(visitor, ws, frame.data, lang)
                elif frame.type == WSMsgType.BINARY:
                    log.warning("web chat: binary frame ignored", extra={"visitor": visitor})
                    await self._notice(ws, visitor, "web.not_understood", lang)
                elif frame.type == WSMsgType.ERROR:
                    log.warning("web chat: socket closed on a bad frame", extra={"visitor": visitor,
                                                                                "error": type(ws.exception()).__name__})
        finally:
            sockets = self.sockets.get(visitor)
            if sockets is not None:
                sockets.discard(ws)
                if not sockets:
                    del self.sockets[visitor]
        if ws.close_code == 1009:
            log.warning("web chat: frame over the size limit, socket closed", extra={"visitor": visitor})
        return ws

    async def _frame(self, visitor: str, ws: web.WebSocketResponse, data: str, lang: str | None) -> str | None:
        """One frame from the page; returns the page's language as far as it is known."""
        try:
            frame = json.loads(data)
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            log.warning("web chat: frame is not a JSON object with a type", extra={"visitor": visitor,
                                                                                  "bytes": len(data)})
            await self._notice(ws, visitor, "web.not_understood", lang)
            return lang
        kind = frame["type"]
        if kind == "hello":
            lang = str(frame.get("lang") or "")[:20] or None
            await self._hello(visitor, ws, lang, fresh=frame.get("fresh") is True)
            return lang
        if kind not in ("text", "button"):
            log.warning("web chat: unknown frame type", extra={"visitor": visitor, "type": kind[:20]})
            await self._notice(ws, visitor, "web.not_understood", lang)
            return lang
        if not self._allowed(visitor):
            log.info("web chat: visitor over the rate limit", extra={"visitor": visitor})
            await self._notice(ws, visitor, "web.slow_down", lang)
            return lang
        if kind == "text":
            text = frame.get("text")
            if not isinstance(text, str):
                await self._notice(ws, visitor, "web.not_understood", lang)
                return lang
            if len(text) > MAX_TEXT:
                log.info("web chat: text over the limit refused", extra={"visitor": visitor, "chars": len(text)})
                await self._notice(ws, visitor, "web.too_long", lang, max=MAX_TEXT)
                return lang
            await self._submit(ws, visitor, Incoming(channel=CHANNEL, user_id=visitor, language=lang, text=text))
            return lang
        data = str(frame.get("data") or "")[:1024]
        await self.codec.load(data)  # a long payload another worker (or the previous run) encoded
        payload = self.codec.decode(data)
        if payload is None:
            await self._notice(ws, visitor, "core.button_expired", lang)
            return lang
        await self._submit(ws, visitor, Incoming(channel=CHANNEL, user_id=visitor, language=lang, payload=payload))
        return lang

    async def _hello(self, visitor: str, ws: web.WebSocketResponse, platform_lang: str | None, *, fresh: bool) -> None:
        lang = await self._language(visitor, platform_lang)
        await _send(ws, {"type": "ready", "lang": lang, "strings": page_strings(lang)})
        user_id = await self._user_id(visitor)
        if user_id is not None:
            waiting = await store.take(self.app.sessions, [user_id])
            if waiting.get(user_id):
                await _send(ws, {"type": "messages", "messages": waiting[user_id]})
        if fresh and self._allowed(visitor):
            await self._submit(ws, visitor, Incoming(channel=CHANNEL, user_id=visitor, language=platform_lang,
                                                     text="/start"))

    def _allowed(self, visitor: str) -> bool:
        now = self.timer.monotonic()
        bucket = self.buckets.get(visitor)
        if bucket is None:
            if len(self.buckets) > 10_000:
                self.buckets = {v: b for v, b in self.buckets.items() if not b.full(now)}
            bucket = self.buckets[visitor] = TokenBucket(self.rate, BURST, now)
        if bucket.wait(now) > 0:
            return False
        bucket.take(now)
        return True

    async def _submit(self, ws: web.WebSocketResponse | None, visitor: str, incoming: Incoming) -> None:
        async def respond(_incoming: Incoming, replies: list[Reply]) -> None:
            await self.deliver(visitor, replies)

        if not self.accepting or not await self.app.engine.submit(incoming, respond):
            if ws is not None:
                await self._notice(ws, visitor, "web.restarting", incoming.language)

    async def _notice(self, ws: web.WebSocketResponse, visitor: str, key: str, lang: str | None,
                      **values: object) -> None:
        text = translate(key, await self._language(visitor, lang), **values)
        await _send(ws, {"type": "notice", "text": text})

    async def _language(self, visitor: str, platform_lang: str | None) -> str:
        """The language the visitor chose in the chat (/lang), else their browser's."""
        async with self.app.sessions() as session:
            user = await users.find(session, CHANNEL, visitor)
        if user is not None:
            self.user_ids[visitor] = user.id
            return user.language
        return normalize_language(platform_lang, self.app.settings.default_language)

    async def _user_id(self, visitor: str) -> int | None:
        if visitor not in self.user_ids:
            user_id = await store.user_id_of(self.app.sessions, visitor)
            if user_id is None:
                return None
            self.user_ids[visitor] = user_id
        return self.user_ids[visitor]

    # -- files -----------------------------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        visitor = self._visitor(request)
        if visitor is None:
            return web.json_response({"error": "forbidden"}, status=403)
        lang = preferred_language(request.headers.get("Accept-Language"), self.app.settings.default_language)
        lang = await self._language(visitor, lang)
        if not self.accepting:
            return web.json_response({"error": translate("web.restarting", lang)}, status=503)
        if request.content_length is not None and request.content_length > MAX_UPLOAD + 64 * 1024:
            log.info("web chat: upload over the limit refused", extra={"visitor": visitor})
            return web.json_response({"error": translate("web.file_too_big", lang, max=MAX_UPLOAD // 2**20)},
                                     status=413)
        try:
            upload = await read_upload(request, MAX_UPLOAD)
        except ValueError as exc:
            log.info("web chat: upload refused", extra={"visitor": visitor, "reason": str(exc)})
            key = "web.file_too_big" if "limit" in str(exc) else "web.upload_failed"
            return web.json_response({"error": translate(key, lang, max=MAX_UPLOAD // 2**20)}, status=400)
        if not self._allowed(visitor):
            return web.json_response({"error": translate("web.slow_down", lang)}, status=429)
        filename, mime, data = upload
        user_id = await self._ensure_user(visitor, lang)
        ref = await store.save_file(self.app.sessions, user_id, filename, mime, data, self.app.clock.now())
        kind = "photo" if mime.startswith("image/") else "document"
        attachment = Attachment(kind, WEB_REF + ref, filename=filename, mime_type=mime, size=len(data))
        await self._submit(None, visitor, Incoming(channel=CHANNEL, user_id=visitor, language=lang,
                                                   attachment=attachment))
        return web.json_response({"ok": True, "name": filename, "size": len(data)})

    async def _ensure_user(self, visitor: str, lang: str) -> int:
        async with self.app.sessions() as session, session.begin():
            incoming = Incoming(channel=CHANNEL, user_id=visitor, language=lang)
            user = await users.get_or_create(session, incoming, self.app.settings, self.app.clock.now())
            self.user_ids[visitor] = user.id
            return user.id

    async def _file(self, request: web.Request) -> web.StreamResponse:
        visitor = self._visitor(request)
        user_id = await self._user_id(visitor) if visitor is not None else None
        found = await store.load_file(self.app.sessions, request.match_info["file_id"], user_id) if user_id else None
        if found is None:
            return web.Response(status=404)
        disposition = "inline" if found.mime_type in INLINE_TYPES else "attachment"
        name = found.filename.replace('"', "")
        headers = {"Content-Disposition": f"{disposition}; filename=\"{name}\"",
                   "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
                   "Cache-Control": "private, max-age=3600"}
        return web.Response(body=found.data, content_type=found.mime_type, headers=headers)

    # -- replies out -----------------------------------------------------------------------------------

    async def deliver(self, visitor: str, replies: Sequence[Reply]) -> list[str]:
        """Show ``replies`` on the visitor's open pages, or keep them for the next visit."""
        user_id = await self._user_id(visitor)
        if user_id is None:
            return []
        messages = [await self._page_message(user_id, reply) for reply in replies]
        messages = [m for m in messages if m.get("text") or m.get("buttons") or m.get("document")
                    or m.get("picture")]
        if not messages:
            return []
        await self.codec.save()  # long button payloads, before the page (or the mailbox) has their buttons
        if await self._push(visitor, messages):
            return ["web:shown"]
        mailbox_id = await store.post(self.app.sessions, user_id, messages, self.app.clock.now())
        return [f"web:mailbox:{mailbox_id}"]

    async def _push(self, visitor: str, messages: list[dict[str, Any]]) -> bool:
        shown = False
        for ws in list(self.sockets.get(visitor, ())):
            shown = await _send(ws, {"type": "messages", "messages": messages}) or shown
        return shown

    async def _page_message(self, user_id: int, reply: Reply) -> dict[str, Any]:
        return page_message(reply, self.codec.encode, await self._url(user_id, reply.document),
                            await self._url(user_id, reply.picture))

    async def _url(self, user_id: int, attachment: Attachment | None) -> str | None:
        if attachment is None:
            return None
        if attachment.data is not None:
            mime = attachment.mime_type or mimetypes.guess_type(attachment.filename or "")[0] or \
                "application/octet-stream"
            kept = await store.save_file(self.app.sessions, user_id, attachment.filename or "file", mime,
                                         attachment.data, self.app.clock.now())
            return f"/chat/files/{kept}"
        kept_id = file_id(attachment)
        return f"/chat/files/{kept_id}" if kept_id else public_url(attachment)

    async def _poll_mailbox(self) -> None:
        """Messages another worker's outbox left for pages open here."""
        while True:
            await asyncio.sleep(MAILBOX_EVERY)
            try:
                await self.show_waiting()
            except Exception:
                log.exception("web chat: mailbox look-up failed")

    async def show_waiting(self) -> None:
        open_here = {visitor: self.user_ids[visitor] for visitor in self.sockets if visitor in self.user_ids}
        if not open_here:
            return
        waiting = await store.take(self.app.sessions, list(open_here.values()))
        for visitor, user_id in open_here.items():
            if waiting.get(user_id) and not await self._push(visitor, waiting[user_id]):
                await store.post(self.app.sessions, user_id, waiting[user_id], self.app.clock.now())


class WebOutput(DirectOutput):
    """``app.outputs["web"]``: the outbox's way to a visitor: their open page, or the mailbox."""

    name = CHANNEL

    def __init__(self, chat: WebChat) -> None:
        self.chat = chat

    async def hand_over(self, external_id: str, replies: Sequence[Reply]) -> list[str]:
        return await self.chat.deliver(external_id, replies)


async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> bool:
    """Send a frame; False when the page has gone (it reconnects and finds the mailbox)."""
    if ws.closed:
        return False
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_json(frame)
        return True
    return False


async def read_upload(request: web.Request, limit: int) -> tuple[str, str, bytes]:
    """(file name, type, bytes) of the multipart field "file", read in chunks and refused past ``limit``."""
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name != "file":
            continue
        chunks: list[bytes] = []
        size = 0
        while chunk := await part.read_chunk(256 * 1024):
            size += len(chunk)
            if size > limit:
                raise ValueError("over the size limit")
            chunks.append(chunk)
        if not size:
            raise ValueError("empty file")
        name = Path(unquote(part.filename or "file").replace("\\", "/")).name  # some clients percent-encode it
        name = "".join(ch for ch in name if ch.isprintable())[:200] or "file"
        declared = (part.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        mime = declared if MIME.fullmatch(declared) else mimetypes.guess_type(name)[0] or "application/octet-stream"
        return name, mime, b"".join(chunks)
    raise ValueError("no file field")


def preferred_language(header: str | None, default: str) -> str:
    """The first of the browser's languages we speak (``Accept-Language: en-GB,en;q=0.9,es;q=0.8``)."""
    for part in (header or "").split(","):
        code = part.split(";")[0].strip().split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return default


def page_strings(lang: str) -> dict[str, str]:
    """The page's own words (``web.*`` in the catalogs) in ``lang``."""
    return {key.removeprefix("web."): text for key, text in catalog(lang).items() if key.startswith("web.page.")}


def render_page(template: str, lang: str) -> str:
    """``{{lang}}`` and ``{{page.title}}``-style placeholders filled, HTML-escaped, from the catalog."""
    strings = page_strings(lang)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "lang":
            return lang
        if name == "strings":
            return html.escape(json.dumps(strings, ensure_ascii=False), quote=True)
        return html.escape(strings.get(name, name), quote=True)

    return re.sub(r"\{\{([a-z_.]+)\}\}", fill, template)


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' https: data:; connect-src 'self'; "
                               "style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
