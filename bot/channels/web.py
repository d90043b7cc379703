"""The bot's own aiohttp server: health check now; webhooks and the web chat mount their routes here."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from bot.app import App


def build_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=2 * 1024 * 1024)

    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with app.sessions() as session:
                await session.execute(text("select 1"))
        except Exception:
            return web.json_response({"status": "database unavailable"}, status=503)
        return web.json_response({"status": "ok", "draining": app.draining})

    web_app.router.add_get("/healthz", healthz)
    return web_app
