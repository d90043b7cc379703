"""Telegram ``Update`` → what the bot does with it: an ``Incoming`` for the engine, a short notice the
channel answers itself (file too big, a button that is not ours), or nothing (edits, channel posts,
groups, update types the bot does not use).

The bot is a one-to-one assistant: only private chats with people are handled, so the chat id is the
user id and the outbox can reach the same person later by ``User.external_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from telegram import Message, Update

from bot.channels.buttons import ButtonCodec
from bot.messages import Attachment, Incoming, dump_incoming, load_incoming

CHANNEL = "telegram"
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # Bot API getFile refuses bigger files


@dataclass(frozen=True)
class Inbound:
    chat_id: int
    user_id: str
    language: str | None
    incoming: Incoming | None = None  # for the engine
    notice: str | None = None  # catalog key the channel answers with instead of the engine
    notice_values: tuple[tuple[str, object], ...] = ()
    callback_id: str | None = None  # a button press, to be answered with answerCallbackQuery


def to_inbound(update: Update, codec: ButtonCodec) -> Inbound | None:
    """What to do with ``update``; None means ignore it."""
    if update.callback_query is not None:
        return _button(update, codec)
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None  # edited messages, channel posts, chat-member changes, polls, unknown types
    if message.chat.type != "private":
        return None
    user = message.from_user
    base = Inbound(chat_id=message.chat.id, user_id=str(user.id), language=user.language_code)
    attachment = attachment_of(message)
    if attachment is not None and attachment.size is not None and attachment.size > DOWNLOAD_LIMIT:
        return replace(base, notice="telegram.file_too_big",
                       notice_values=(("size", round(attachment.size / 1024 / 1024)),))
    text = message.text if message.text is not None else message.caption
    if text is None and attachment is None:
        return replace(base, notice="telegram.unsupported")  # location, contact, poll, dice...
    incoming = Incoming(
        channel=CHANNEL,
        user_id=str(user.id),
        text=text,
        attachment=attachment,
        message_id=str(message.message_id),
        display_name=user.first_name,
        language=user.language_code,
    )
    return replace(base, incoming=incoming)


def _button(update: Update, codec: ButtonCodec) -> Inbound | None:
    query = update.callback_query
    assert query is not None
    message = query.message
    if query.from_user.is_bot or (message is not None and message.chat.type != "private"):
        return None
    user = query.from_user
    base = Inbound(chat_id=user.id, user_id=str(user.id), language=user.language_code, callback_id=query.id)
    payload = codec.decode(query.data)
    if payload is None:
        return replace(base, notice="core.button_expired")
    incoming = Incoming(
        channel=CHANNEL,
        user_id=str(user.id),
        payload=payload,
        message_id=str(message.message_id) if message is not None else None,
        display_name=user.first_name,
        language=user.language_code,
    )
    return replace(base, incoming=incoming)


def attachment_of(message: Message) -> Attachment | None:
    """The file in ``message``, by reference (file_id); the biggest size of a photo."""
    if message.document is not None:
        d = message.document
        return Attachment("document", d.file_id, d.file_name, d.mime_type, d.file_size)
    if message.photo:
        p = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        return Attachment("photo", p.file_id, None, "image/jpeg", p.file_size)
    if message.sticker is not None:
        s = message.sticker
        mime = "video/webm" if s.is_video else "application/x-tgsticker" if s.is_animated else "image/webp"
        return Attachment("sticker", s.file_id, None, mime, s.file_size)
    for kind in ("voice", "audio", "video", "video_note", "animation"):
        media = getattr(message, kind)
        if media is not None:
            return Attachment(kind, media.file_id, getattr(media, "file_name", None),
                              getattr(media, "mime_type", None), media.file_size)
    return None


def to_record(inbound: Inbound) -> dict[str, Any] | None:
    """What ``processed_updates.incoming`` keeps of ``inbound``, so the engine can handle it after a crash;
    None for a notice (answered at once, nothing to handle again)."""
    if inbound.incoming is None:
        return None
    return {"chat_id": inbound.chat_id, "callback_id": inbound.callback_id, "incoming": dump_incoming(inbound.incoming)}


def from_record(record: dict[str, Any]) -> Inbound:
    incoming = load_incoming(record["incoming"])
    return Inbound(chat_id=int(record["chat_id"]), user_id=incoming.user_id, language=incoming.language,
                   incoming=incoming, callback_id=record.get("callback_id"))
