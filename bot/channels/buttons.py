"""Button payloads signed so a forged one is recognised, fitting a platform's limit on button data
(Telegram's ``callback_data`` is 64 bytes; WhatsApp's reply-button id 256 characters). Shared by channels.

A payload travels as ``<signature><kind><body>``: the signature is 8 base64url characters of an HMAC keyed
from the bot token, ``kind`` is ``=`` when the body is the payload itself and ``~`` when the payload was
too long and the body is a key (a hash of the payload) into the table ``button_payloads``. Inline payloads
(nearly all of the handlers') stay valid across restarts and workers, because the key derives from the
channel's secret (its token). Long payloads are kept in a bounded map in memory and, when the codec has
``sessions``, written to the database (``save``, before the message carrying them is sent): a worker process
that did not encode one reads it back (``load``, before ``decode``). Without ``sessions`` (unit tests) a long
payload's key is lost on restart and that button then answers "expired", politely, like any stale button.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import ButtonPayload
from bot.db.session import upsert_insert

log = logging.getLogger("bot.buttons")
LIMIT = 64  # bytes, Telegram's limit on callback_data (the default)
SIGNATURE_LENGTH = 8
INLINE, STORED = "=", "~"
KEEP = timedelta(days=180)  # a stored payload not encoded again for this long is deleted
PRUNE_EVERY = 1000  # saves


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class ButtonCodec:
    """``encode(payload)`` → button data of at most ``limit`` bytes; ``decode(data)`` → the payload or None.
    ``purpose`` keeps each channel's signatures (and stored payloads) apart even when two channels share a
    secret."""

    def __init__(
        self, secret: str, *, purpose: str = "telegram", limit: int = LIMIT, stored_max: int = 50_000,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.key = hashlib.sha256(f"lideres-{purpose}-callback".encode() + b"\0" + secret.encode()).digest()
        self.purpose = purpose
        self.limit = limit
        self.stored: OrderedDict[str, str] = OrderedDict()
        self.stored_max = stored_max
        self.sessions = sessions
        self.unsaved: dict[str, str] = {}
        self.saved_since_prune = 0
        self.save_lock = asyncio.Lock()

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest()[:6])

    def encode(self, payload: str) -> str:
        """Button data of at most ``limit`` bytes for ``payload``. A long payload is written to the database by
        the next ``save``."""
        body = INLINE + payload
        if SIGNATURE_LENGTH + len(body.encode()) > self.limit:
            key = _b64(hashlib.sha256(payload.encode()).digest()[:12])
            self._remember(key, payload)
            if self.sessions is not None:
                self.unsaved[key] = payload
            body = STORED + key
        return self._sign(body) + body

    def decode(self, data: str | None) -> str | None:
        """The payload, or None when ``data`` is forged, malformed or its stored payload is gone (or, on a
        worker that did not encode it, not ``load``-ed first)."""
        key = self._stored_key(data)
        if key is not None:
            return self.stored.get(key)
        if data is None or not self._verified(data):
            return None
        body = data[SIGNATURE_LENGTH:]
        return body[1:] if body[0] == INLINE else None

    async def save(self) -> None:
        """Write the long payloads encoded since the last call (one statement); call it before the message
        with their buttons leaves, so a press reaching any worker finds them. Never raises: when the database
        cannot take them, they wait for the next call (this process can still decode them)."""
        if not self.unsaved or self.sessions is None:
            return
        async with self.save_lock:
            pending, self.unsaved = self.unsaved, {}
            if not pending:
                return
            now = datetime.now(UTC)
            try:
                async with self.sessions() as session, session.begin():
                    insert = upsert_insert(session)
                    statement = insert(ButtonPayload).values(
                        [{"purpose": self.purpose, "key": key, "payload": payload, "used_at": now}
                         for key, payload in pending.items()])
                    await session.execute(statement.on_conflict_do_update(
                        index_elements=["purpose", "key"], set_={"used_at": statement.excluded.used_at}))
                    self.saved_since_prune += len(pending)
                    if self.saved_since_prune >= PRUNE_EVERY:
                        self.saved_since_prune = 0
                        await session.execute(delete(ButtonPayload).where(ButtonPayload.used_at < now - KEEP))
            except Exception as exc:  # the message still goes: this process knows them, the next save retries
                self.unsaved = {**pending, **self.unsaved}
                log.warning("buttons: long payloads not saved yet", extra={"count": len(pending),
                                                                          "error": type(exc).__name__})

    async def load(self, data: str | None) -> None:
        """Read a stored payload this process does not know (another worker, or a previous run, encoded it)
        from the database, for ``decode``. Nothing to do for inline, forged or known data."""
        key = self._stored_key(data)
        if key is None or key in self.stored or self.sessions is None:
            return
        try:
            async with self.sessions() as session:
                payload = await session.scalar(select(ButtonPayload.payload).where(
                    ButtonPayload.purpose == self.purpose, ButtonPayload.key == key))
        except Exception as exc:  # the button answers "expired"; the update itself goes on
            log.warning("buttons: stored payload unreadable", extra={"error": type(exc).__name__})
            return
        if payload is not None:
            self._remember(key, payload)

    def _stored_key(self, data: str | None) -> str | None:
        """The key of correctly signed data that refers to a stored payload."""
        if data is None or not self._verified(data) or data[SIGNATURE_LENGTH] != STORED:
            return None
        return data[SIGNATURE_LENGTH + 1:]

    def _verified(self, data: str) -> bool:
        if len(data) <= SIGNATURE_LENGTH:
            return False
        signature, body = data[:SIGNATURE_LENGTH], data[SIGNATURE_LENGTH:]
        return hmac.compare_digest(signature.encode(), self._sign(body).encode())

    def _remember(self, key: str, payload: str) -> None:
        self.stored[key] = payload
        self.stored.move_to_end(key)
        while len(self.stored) > self.stored_max:
            self.stored.popitem(last=False)
