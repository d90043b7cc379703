"""Running the real web chat of an ``App`` on its own web server on loopback; a visitor as a browser would be
(cookie jar, Origin header, WebSocket frames): shared by the web chat tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from tests.fake_telegram import VirtualTimer


@contextlib.asynccontextmanager
async def running_web_chat(app: Any, timer: VirtualTimer | None = None, **options: Any) -> AsyncIterator[Any]:
    """The real WebChat of ``app`` on a random port (``chat.base_url``), stopped as ``lideres run`` stops it;
    ``options`` go to ``WebChat`` (``button_limit``)."""
    from bot.channels.web import WebChat
    from bot.server import build_server

    web_app = build_server(app)
    chat = WebChat(app, web_app, timer=timer, **options)  # timer None: real time
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    chat.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await chat.start()
    try:
        yield chat
    finally:
        await chat.stop()
        await app.engine.drain()
        await runner.cleanup()


class Visitor:
    """One browser: its cookie jar, its open page (a WebSocket) and everything the page was sent."""

    def __init__(self, base_url: str, lang: str = "es-BO") -> None:
        self.base_url = base_url
        self.lang = lang
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.frames: list[dict[str, Any]] = []
        self.changed = asyncio.Condition()
        self.reader: asyncio.Task[None] | None = None

    async def open_page(self) -> str:
        async with self.http.get(self.base_url + "/", headers={"Accept-Language": self.lang}) as response:
            assert response.status == 200
            return await response.text()

    async def connect(self, *, fresh: bool = True, origin: str | None = None) -> None:
        headers = {"Origin": origin or self.base_url}
        self.ws = await self.http.ws_connect(self.base_url + "/chat/ws", headers=headers)
        self.reader = asyncio.create_task(self._read())
        await self.send({"type": "hello", "lang": self.lang, "fresh": fresh})

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(message.data))
            async with self.changed:
                self.changed.notify_all()
        async with self.changed:
            self.changed.notify_all()

    async def send(self, frame: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def say(self, text: str) -> None:
        await self.send({"type": "text", "text": text})

    async def press(self, label: str) -> None:
        """Press the newest button whose label contains ``label``."""
        for message in reversed(self.messages):
            for row in message.get("buttons", []):
                for button in row:
                    if label.casefold() in button["label"].casefold():
                        await self.send({"type": "button", "data": button["data"]})
                        return
        raise AssertionError(f"no button {label!r}")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [m for f in self.frames if f["type"] == "messages" for m in f["messages"]]

    @property
    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.messages]

    @property
    def notices(self) -> list[str]:
        return [f["text"] for f in self.frames if f["type"] == "notice"]

    async def wait_for(self, predicate: Any, guard: float = 20.0) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), guard)

    async def wait_messages(self, count: int) -> list[dict[str, Any]]:
        await self.wait_for(lambda: len(self.messages) >= count)
        return self.messages

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
        await self.http.close()
