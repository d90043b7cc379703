"""The Telegram channel (the only package that imports ``telegram``): ``TelegramChannel(app, server)``, on
when ``LIDERES_TELEGRAM_TOKEN`` is set.

Modules: ``convert`` (update → Incoming), ``render`` (Reply → Bot API calls), ``output`` (sending with
retries; the outbox's ``app.outputs["telegram"]``), ``channel``
(polling or webhook, lifecycle, command menu, the per-chat send queue). Shared with other channels:
``bot.channels.journal`` (each update handled once), ``bot.channels.buttons`` (signed button data),
``bot.channels.pacing`` (rate limits), ``bot.workqueue``.
"""

from bot.channels import ChannelPlugin
from bot.channels.telegram.channel import TelegramChannel

PLUGIN = ChannelPlugin(
    name="telegram",
    enabled=lambda settings: settings.telegram_token is not None,
    create=TelegramChannel,
)

__all__ = ["PLUGIN", "TelegramChannel"]
