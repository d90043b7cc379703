"""Running the real Telegram channel of an ``App`` in webhook mode on its own web server: shared by the
webhook tests and the webhook probes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.channels.telegram import TelegramChannel
from bot.server import build_server
from tests.fake_telegram import TOKEN, FakeTelegram, VirtualTimer

SECRET = "s3cret-Webhook_token"
PUBLIC_URL = "https://bot.example.org/telegram/webhook"


def webhook_settings(fake: FakeTelegram) -> dict[str, object]:
    """Settings for webhook mode against ``fake``: Telegram is told to POST to ``PUBLIC_URL`` with ``SECRET``."""
    return {"telegram_token": TOKEN, "telegram_api_url": fake.api_url, "telegram_webhook_url": PUBLIC_URL,
            "telegram_webhook_secret": SECRET}


@contextlib.asynccontextmanager
async def running_webhook(app: Any) -> AsyncIterator[tuple[TelegramChannel, TestClient]]:
    """The app's Telegram channel in webhook mode on its own web server, with a client that POSTs as Telegram
    would; stopped as ``lideres run`` stops it."""
    web_app = build_server(app)
    channel = TelegramChannel(app, web_app, timer=VirtualTimer())
    await channel.start()
    client = TestClient(TestServer(web_app))
    await client.start_server()
    try:
        yield channel, client
    finally:
        await channel.stop()
        await app.engine.drain()
        await client.close()  # the web server's cleanup sends what is queued and closes PTB (as in serve())


def take(fake: FakeTelegram) -> dict[str, Any]:
    """The update the fake just made (in webhook mode nobody polls it)."""
    return fake.updates.pop()
