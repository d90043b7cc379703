"""The Telegram channel (the only package that imports ``telegram``): ``TelegramChannel(app, server)``, on
when ``LIDERES_TELEGRAM_TOKEN`` is set.

Modules: ``convert`` (update → Incoming), ``render`` (Reply → Bot API calls), ``callbacks`` (signed 64-byte
button data), ``limiter`` (30/s overall, 1/s per chat, 429 pauses), ``output`` (sending with retries; the
outbox's ``app.outputs["telegram"]``), ``sender`` (per-chat reply queue), ``dedupe`` (update ids handled
once), ``channel`` (polling or webhook, lifecycle, command menu).
"""

from bot.channels import ChannelPlugin
from bot.channels.telegram.channel import TelegramChannel

PLUGIN = ChannelPlugin(
    name="telegram",
    enabled=lambda settings: settings.telegram_token is not None,
    create=TelegramChannel,
)

__all__ = ["PLUGIN", "TelegramChannel"]
