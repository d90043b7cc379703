"""Who a web chat visitor is: a random id in a signed, HttpOnly cookie. The signature (HMAC-SHA256 with the
web secret) means a visitor cannot pose as another by editing the cookie; HttpOnly keeps it from page
scripts; SameSite=Lax keeps other sites' forms and sockets from riding on it.

The secret is ``LIDERES_WEB_SECRET``; unset, one is generated into ``var/web-secret`` (readable only by this
user) so cookies survive restarts on one machine. Several machines must share a configured secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings

COOKIE = "lideres_visitor"
MAX_AGE = 365 * 24 * 3600  # a year: a returning entrepreneur finds their drafts and messages
PREFIX = "v-"  # external ids of web visitors: "v-<random>"


def web_secret(settings: Settings) -> str:
    """The configured secret, or the one generated on first start and kept under var/."""
    if settings.web_secret is not None and settings.web_secret.get_secret_value():
        return settings.web_secret.get_secret_value()
    path: Path = PROJECT_ROOT / "var" / "web-secret"
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    return value


class Visitors:
    """Issues and checks visitor cookies."""

    def __init__(self, secret: str) -> None:
        self.key = hashlib.sha256(b"lideres-web-visitor\0" + secret.encode()).digest()

    def _sign(self, visitor: str) -> str:
        digest = hmac.new(self.key, visitor.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()

    def new(self) -> tuple[str, str]:
        """A fresh visitor: (external id, cookie value)."""
        visitor = PREFIX + secrets.token_urlsafe(16)
        return visitor, f"{visitor}.{self._sign(visitor)}"

    def check(self, cookie: str | None) -> str | None:
        """The visitor's external id, or None when the cookie is missing, malformed or forged."""
        if not cookie or len(cookie) > 100:
            return None
        visitor, dot, signature = cookie.rpartition(".")
        if not dot or not visitor.startswith(PREFIX):
            return None
        if not hmac.compare_digest(signature.encode(), self._sign(visitor).encode()):
            return None
        return visitor
