"""Channels: the only code that knows a platform. Each channel module exports ``PLUGIN``; ``serve()`` starts
those whose settings turn them on, and each adds its own routes (webhooks, the web chat) to the bot's HTTP
server. Adding a channel is a module here and a line in ``CHANNELS``; the app and the engine do not change.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App
    from bot.config import Settings

CHANNELS = ("bot.channels.telegram", "bot.channels.whatsapp", "bot.channels.web")  # modules exporting PLUGIN


class Channel(Protocol):
    """A live input channel (Telegram polling or webhook, WhatsApp, web chat)."""

    async def start(self) -> None:
        """Begin taking messages; a wrong token or an unreachable platform fails here."""
        ...

    async def stop(self) -> None:
        """Stop taking new messages; messages already taken are finished by ``Engine.drain``."""
        ...

    async def close(self) -> None:
        """Send what is queued and release connections (after ``Engine.drain``). Idempotent."""
        ...


@dataclass(frozen=True)
class ChannelPlugin:
    name: str
    enabled: Callable[[Settings], bool]
    create: Callable[[App, web.Application], Channel]  # registers the channel's routes on the server


def plugins() -> list[ChannelPlugin]:
    return [importlib.import_module(module).PLUGIN for module in CHANNELS]


def enabled_plugins(settings: Settings) -> list[ChannelPlugin]:
    return [plugin for plugin in plugins() if plugin.enabled(settings)]
