"""The web chat (the only package that speaks its protocol): a page at ``/`` and a WebSocket on the bot's own
server, on unless ``LIDERES_WEB_CHAT=false``, so ``make run`` with no configuration has a chat to open.

Modules: ``identity`` (the signed visitor cookie), ``render`` (Reply → what the page shows), ``store`` (the
mailbox for closed pages, uploaded and generated files), ``channel`` (the routes, the socket, rate limits, the
outbox's ``app.outputs["web"]``), ``static/`` (the page: HTML, JS and CSS, no build step).
"""

from bot.channels import ChannelPlugin
from bot.channels.web.channel import WebChat

PLUGIN = ChannelPlugin(name="web", enabled=lambda settings: settings.web_chat, create=WebChat)

__all__ = ["PLUGIN", "WebChat"]
