"""Running the real WhatsApp channel of an ``App`` on its own web server on loopback, against tests/fake_whatsapp.py:
shared by the WhatsApp tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from tests.fake_telegram import VirtualTimer
from tests.fake_whatsapp import APP_SECRET, PHONE_NUMBER_ID, TOKEN, VERIFY_TOKEN, FakeWhatsApp


def whatsapp_settings(fake: FakeWhatsApp, **more: object) -> dict[str, object]:
    return {"whatsapp_token": TOKEN, "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_app_secret": APP_SECRET, "whatsapp_verify_token": VERIFY_TOKEN,
            "whatsapp_api_url": fake.api_url, **more}


@contextlib.asynccontextmanager
async def running_whatsapp(app: Any, fake: FakeWhatsApp, timer: VirtualTimer | None = None,
                           **options: Any) -> AsyncIterator[Any]:
    """The real WhatsAppChannel of ``app`` on the bot's own aiohttp server (a random port), its webhook URL
    given to the fake; stopped the way ``lideres run`` stops it."""
    from bot.channels.whatsapp import WhatsAppChannel
    from bot.server import build_server

    web_app = build_server(app)
    channel = WhatsAppChannel(app, web_app, timer=timer or VirtualTimer(), **options)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    channel.base_url = f"http://127.0.0.1:{port}"
    fake.webhook_url = f"{channel.base_url}/webhooks/whatsapp"
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()
        await app.engine.drain()
        await runner.cleanup()  # the server's cleanup sends what is queued and closes the HTTP client
