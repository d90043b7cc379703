"""The bot's own HTTP server (aiohttp): the health check and the loopback control endpoint. It is not a
channel: channels (Telegram's webhook, WhatsApp, the web chat) add their routes to it when they start.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

if TYPE_CHECKING:
    from bot.app import App

LOOPBACK = {"127.0.0.1", "::1"}


def build_server(app: App, control_token: str | None = None) -> web.Application:
    web_app = web.Application(client_max_size=2 * 1024 * 1024)

    async def reload_content(request: web.Request) -> web.Response:
        """``lideres kb reload``: loopback only, with the token the running bot wrote under var/."""
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if (
            control_token is None
            or request.remote not in LOOPBACK
            or not hmac.compare_digest(offered.encode(), control_token.encode())
        ):
            return web.json_response({"error": "forbidden"}, status=403)
        return web.json_response(await app.engine.reload_content())

    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with app.sessions() as session:
                await session.execute(text("select 1"))
        except Exception:
            return web.json_response({"status": "database unavailable"}, status=503)
        return web.json_response({"status": "ok", "draining": app.draining})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_post("/control/reload", reload_content)
    return web_app
