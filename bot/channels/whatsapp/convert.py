"""A WhatsApp Cloud API webhook body → what the bot does with it: an ``Inbound`` per user message (an
``Incoming`` for the engine, or a short notice the channel answers itself) and a ``Receipt`` per status
callback (sent, delivered, read, failed) for the outbox.

Meta wraps everything as ``entry[].changes[].value``; a value carries ``messages`` (with the senders'
``contacts``), ``statuses`` or ``errors``. Only values for our own phone number id are taken: one app may serve
several numbers. A user is their ``wa_id`` (the phone number as digits), which is also where replies go.
Anything malformed is skipped with a log line (ids only), never raised: one bad item must not cost the
others of the same body.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from bot.channels.buttons import ButtonCodec
from bot.messages import Attachment, Incoming, dump_incoming, load_incoming

log = logging.getLogger("bot.whatsapp")

CHANNEL = "whatsapp"
MEDIA_KINDS = {"image": "photo", "document": "document", "audio": "voice", "video": "video", "sticker": "sticker"}
IGNORED_TYPES = {"reaction", "system", "ephemeral"}  # a 👍 on a message or a number change asks for no answer
RECEIPT_STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class Inbound:
    """One user message: for the engine (``incoming``), or a notice to answer (``notice``, a catalog key)."""

    message_id: str  # the wamid: the journal's key, and what is marked as read
    wa_id: str
    incoming: Incoming | None = None
    notice: str | None = None


@dataclass(frozen=True)
class Receipt:
    """A status callback for a message we sent."""

    message_id: str
    status: str  # one of RECEIPT_STATUSES
    recipient: str = ""  # the wa_id it was sent to
    error: str | None = None  # "131047 Re-engagement message" for a failed one
    code: int | None = None


@dataclass
class Parsed:
    messages: list[Inbound] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    skipped: int = 0  # items that were not understood (logged)


def parse_body(body: Any, phone_number_id: str, codec: ButtonCodec) -> Parsed:
    """Everything in one webhook body that is for ``phone_number_id``. Long button payloads are decoded from
    what ``codec`` knows: the caller ``load``-s those of ``button_ids(body)`` first."""
    parsed = Parsed()
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        log.warning("whatsapp webhook: not a WhatsApp Business Account body")
        parsed.skipped += 1
        return parsed
    for value in _values(body, phone_number_id, quiet=False):
        _take_value(value, codec, parsed)
    return parsed


def button_ids(body: Any, phone_number_id: str) -> list[str]:
    """The button data of the presses in ``body`` (reply buttons, list rows, template quick replies), as sent:
    what the codec may have to read from the database before ``parse_body`` decodes it. Nothing is checked
    or logged here; ``parse_body`` does both."""
    found: list[str] = []
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        return found
    for value in _values(body, phone_number_id, quiet=True):
        for message in _list(value.get("messages")):
            if not isinstance(message, dict):
                continue
            kind = message.get("type")
            content = message.get(kind) if isinstance(kind, str) and kind in ("interactive", "button") else None
            if not isinstance(content, dict):
                continue
            reply = content.get(content.get("type")) if kind == "interactive" else content
            data = reply.get("id" if kind == "interactive" else "payload") if isinstance(reply, dict) else None
            if isinstance(data, str) and data:
                found.append(data)
    return found


def _values(body: dict[str, Any], phone_number_id: str, *, quiet: bool) -> Iterator[dict[str, Any]]:
    """The ``entry[].changes[].value`` objects of a body that carry messages for ``phone_number_id``."""
    for entry in _list(body.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue  # account updates, template status changes: not for the chat
            metadata = value.get("metadata")
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if str(number) != phone_number_id:
                if not quiet:
                    log.info("whatsapp webhook: a value for another phone number ignored")
                continue
            yield value


def _take_value(value: dict[str, Any], codec: ButtonCodec, parsed: Parsed) -> None:
    names = {
        str(contact.get("wa_id")): (contact.get("profile") or {}).get("name")
        for contact in _list(value.get("contacts"))
        if isinstance(contact, dict)
    }
    for message in _list(value.get("messages")):
        try:
            inbound = to_inbound(message, names, codec)
        except (KeyError, TypeError, ValueError, AttributeError):
            inbound = None
            log.warning("whatsapp webhook: malformed message skipped",
                        extra={"message_id": _id_of(message)})
        if inbound is None:
            parsed.skipped += 1
            continue
        parsed.messages.append(inbound)
    for status in _list(value.get("statuses")):
        receipt = to_receipt(status)
        if receipt is None:
            parsed.skipped += 1
            continue
        parsed.receipts.append(receipt)
    for error in _list(value.get("errors")):
        if isinstance(error, dict):
            log.warning("whatsapp webhook: platform error", extra={"code": error.get("code"),
                                                                   "title": str(error.get("title"))[:100]})


def to_inbound(message: Any, names: dict[str, Any], codec: ButtonCodec) -> Inbound | None:
    """One entry of ``value.messages``; None when it asks for nothing (a reaction) or is not a message."""
    if not isinstance(message, dict):
        return None
    message_id, wa_id, kind = str(message["id"]), str(message["from"]), str(message.get("type", ""))
    if not message_id or not wa_id.isdigit():
        raise ValueError("message without id or sender")
    name = names.get(wa_id)
    base = Inbound(message_id=message_id, wa_id=wa_id)
    common = Incoming(channel=CHANNEL, user_id=wa_id, message_id=message_id,
                      display_name=str(name)[:200] if name else None)
    if kind in IGNORED_TYPES:
        log.info("whatsapp message ignored", extra={"message_id": message_id, "type": kind})
        return None
    if kind == "text":
        return replace(base, incoming=replace(common, text=str(message["text"]["body"])))
    if kind == "interactive":
        interactive = message["interactive"]
        reply = interactive.get(interactive.get("type")) or {}
        payload = codec.decode(str(reply.get("id", "")))
        if payload is None:
            return replace(base, notice="core.button_expired")
        return replace(base, incoming=replace(common, payload=payload))
    if kind == "button":  # a quick-reply button of a template message
        button = message["button"]
        payload = codec.decode(str(button.get("payload", "")))
        if payload is not None:
            return replace(base, incoming=replace(common, payload=payload))
        return replace(base, incoming=replace(common, text=str(button.get("text", ""))))
    if kind == "request_welcome":  # the person opened the chat for the first time
        return replace(base, incoming=replace(common, text="/start"))
    if kind in MEDIA_KINDS:
        media = message[kind]
        attachment = Attachment(
            MEDIA_KINDS[kind],
            str(media["id"]),
            filename=media.get("filename"),
            mime_type=media.get("mime_type"),
        )
        return replace(base, incoming=replace(common, text=media.get("caption"), attachment=attachment))
    log.info("whatsapp message of a type the bot does not handle", extra={"message_id": message_id, "type": kind[:30]})
    return replace(base, notice="whatsapp.unsupported")  # location, contacts, order, unsupported, unknown


def to_receipt(status: Any) -> Receipt | None:
    if not isinstance(status, dict) or status.get("status") not in RECEIPT_STATUSES or not status.get("id"):
        log.warning("whatsapp webhook: status callback not understood", extra={"message_id": _id_of(status)})
        return None
    error, code = None, None
    errors = _list(status.get("errors"))
    if errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code") if isinstance(first.get("code"), int) else None
        error = f"{code} {first.get('title') or first.get('message') or ''}".strip()[:300]
    return Receipt(message_id=str(status["id"]), status=str(status["status"]),
                   recipient=str(status.get("recipient_id") or ""), error=error, code=code)


def to_record(inbound: Inbound) -> dict[str, Any] | None:
    """What the journal keeps of ``inbound``, so the engine can handle it after a crash; None for a notice."""
    if inbound.incoming is None:
        return None
    return {"wa_id": inbound.wa_id, "incoming": dump_incoming(inbound.incoming)}


def from_record(message_id: str, record: dict[str, Any]) -> Inbound:
    return Inbound(message_id=message_id, wa_id=str(record["wa_id"]), incoming=load_incoming(record["incoming"]))


def pseudonym(key: bytes, wa_id: str) -> str:
    """How logs name a WhatsApp user: their id is their phone number, personal data, so a keyed hash of it
    (the same in every line, so one user's lines can be followed; not reversible without the app secret)."""
    return "wa-" + hmac.new(key, wa_id.encode(), hashlib.sha256).hexdigest()[:12]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _id_of(item: Any) -> str | None:
    return str(item.get("id"))[:100] if isinstance(item, dict) and item.get("id") else None
