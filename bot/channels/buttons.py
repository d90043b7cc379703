"""Button payloads signed so a forged one is recognised, fitting a platform's limit on button data
(Telegram's ``callback_data`` is 64 bytes; WhatsApp's reply-button id 256 characters). Shared by channels.

A payload travels as ``<signature><kind><body>``: the signature is 8 base64url characters of an HMAC keyed
from the bot token, ``kind`` is ``=`` when the body is the payload itself and ``~`` when the payload was
too long and the body is a key into a bounded in-memory map. Inline payloads (all of today's handlers')
stay valid across restarts and workers, because the key derives from the channel's secret (its token); a
long payload's key is lost on restart and that button then answers "expired", politely, like any stale button.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict

LIMIT = 64  # bytes, Telegram's limit on callback_data (the default)
SIGNATURE_LENGTH = 8
INLINE, STORED = "=", "~"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class ButtonCodec:
    """``encode(payload)`` → button data of at most ``limit`` bytes; ``decode(data)`` → the payload or None.
    ``purpose`` keeps each channel's signatures apart even when two channels share a secret."""

    def __init__(
        self, secret: str, *, purpose: str = "telegram", limit: int = LIMIT, stored_max: int = 50_000
    ) -> None:
        self.key = hashlib.sha256(f"lideres-{purpose}-callback".encode() + b"\0" + secret.encode()).digest()
        self.limit = limit
        self.stored: OrderedDict[str, str] = OrderedDict()
        self.stored_max = stored_max

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest()[:6])

    def encode(self, payload: str) -> str:
        """Button data of at most ``limit`` bytes for ``payload``."""
        body = INLINE + payload
        if SIGNATURE_LENGTH + len(body.encode()) > self.limit:
            key = _b64(hashlib.sha256(payload.encode()).digest()[:12])
            self.stored[key] = payload
            self.stored.move_to_end(key)
            while len(self.stored) > self.stored_max:
                self.stored.popitem(last=False)
            body = STORED + key
        return self._sign(body) + body

    def decode(self, data: str | None) -> str | None:
        """The payload, or None when ``data`` is forged, malformed or its stored payload is gone."""
        if not data or len(data) <= SIGNATURE_LENGTH:
            return None
        signature, body = data[:SIGNATURE_LENGTH], data[SIGNATURE_LENGTH:]
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        if body[0] == INLINE:
            return body[1:]
        if body[0] == STORED:
            return self.stored.get(body[1:])
        return None
