"""The WhatsApp Cloud API channel (the only package that speaks its protocol): ``WhatsAppChannel(app, server)``,
on when ``LIDERES_WHATSAPP_TOKEN`` is set.

Modules: ``convert`` (webhook body → Inbound messages and receipts), ``render`` (Reply → Cloud API messages:
reply buttons, lists, numbered options), ``choices`` (what a typed number stands for), ``output`` (sending
with limits, retries and the 24-hour window; the outbox's ``app.outputs["whatsapp"]``), ``channel`` (the
webhook, lifecycle, the per-user queues). Shared with other channels: ``bot.channels.buttons``,
``bot.channels.pacing``, ``bot.channels.text``, ``bot.workqueue``, the journal of messages taken.
"""

from bot.channels import ChannelPlugin
from bot.channels.whatsapp.channel import WhatsAppChannel

PLUGIN = ChannelPlugin(
    name="whatsapp",
    enabled=lambda settings: settings.whatsapp_token is not None,
    create=WhatsAppChannel,
)

__all__ = ["PLUGIN", "WhatsAppChannel"]
