"""``Reply`` → the WhatsApp Cloud API messages that show it, as plain data, so the rules are tested without a
network. WhatsApp's limits (checked by tests/fake_whatsapp.py too):

- text: 4096 characters a message: longer texts split on paragraphs, then lines;
- reply buttons: at most 3, titles up to 20 characters and all different; body up to 1024;
- list messages: at most 10 rows, row titles up to 24 and descriptions up to 72; the button opening the
  list up to 20;
- captions of documents and images up to 1024.

So a reply's buttons become: up to 3 reply buttons when their titles fit (a decorative emoji is dropped first
to make room); otherwise, and up to 10, a list whose rows keep the whole label as their description when the
title had to be shortened; more than 10, numbered lines the user answers by typing the number (the caller
remembers which payload each number stands for). Numbers run on across the replies of one answer, so "3"
is never ambiguous. A text too long for an interactive body goes first as plain messages, and the buttons
come with its last part.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.channels.text import shorten, split_text, units
from bot.messages import Attachment, Button, Reply

TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # interactive message body, and media captions
MAX_BUTTONS = 3
BUTTON_TITLE = 20
MAX_ROWS = 10
ROW_TITLE = 24
ROW_DESCRIPTION = 72
LIST_BUTTON = 20

Translate = Callable[[str], str]  # catalog key → text in the recipient's language


@dataclass(frozen=True)
class Media:
    """A file to show: ``kind`` is "document" or "image"; the output turns the attachment into a media id or
    a link before sending."""

    kind: str
    attachment: Attachment
    caption: str = ""


@dataclass
class Plan:
    """The messages for one answer, in order (``Media`` or a ready message object without ``to``), and the
    payloads of the numbered options, by number from 1."""

    messages: list[dict[str, Any] | Media] = field(default_factory=list)
    numbered: list[str] = field(default_factory=list)

    @property
    def has_buttons(self) -> bool:
        return bool(self.numbered) or any(
            isinstance(m, dict) and m.get("type") == "interactive" for m in self.messages
        )


def plan(replies: Sequence[Reply], encode: Callable[[str], str], t: Translate) -> Plan:
    """The messages for ``replies``; ``encode`` signs a payload into a button id, ``t`` gives the channel's
    own words (the list's button, "answer with the number") in the recipient's language."""
    result = Plan()
    for reply in replies:
        text = reply.text
        media = [Media("document", reply.document)] if reply.document else []
        media += [Media("image", reply.picture)] if reply.picture else []
        if media:
            if units(text) <= BODY_LIMIT:
                media[0] = Media(media[0].kind, media[0].attachment, text)
                text = ""
            else:
                result.messages.extend(_texts(text))
                text = ""
            result.messages.extend(media)
            if reply.buttons:
                _buttons(result, t("whatsapp.choose"), reply.button_list, encode, t)
            continue
        if reply.buttons:
            _buttons(result, text, reply.button_list, encode, t)
        elif text.strip():
            result.messages.extend(_texts(text, preview=reply.link_preview and "://" in text))
    return result


def _texts(text: str, preview: bool = False) -> list[dict[str, Any] | Media]:
    return [{"type": "text", "text": {"body": piece, "preview_url": preview}} for piece in split_text(text, TEXT_LIMIT)]


def _buttons(result: Plan, text: str, buttons: list[Button], encode: Callable[[str], str], t: Translate) -> None:
    # Two buttons that do the same ("continue" and the same item in the menu below it) would carry the same id,
    # which WhatsApp refuses in one message: the first is kept.
    buttons = list({button.payload: button for button in reversed(buttons)}.values())[::-1]
    if len(buttons) > MAX_ROWS:
        _numbered(result, text, buttons, t)
        return
    text = text if text.strip() else t("whatsapp.choose")
    pieces = split_text(text, TEXT_LIMIT)
    if units(pieces[-1]) > BODY_LIMIT:
        pieces = pieces[:-1] + split_text(pieces[-1], BODY_LIMIT)
    result.messages.extend(_texts("\n\n".join(pieces[:-1])) if len(pieces) > 1 else [])
    body = pieces[-1]
    titles = button_titles(buttons)
    if titles is not None:
        result.messages.append(_reply_buttons(body, buttons, titles, encode))
    else:
        result.messages.append(_list(body, buttons, encode, t))


def button_titles(buttons: Sequence[Button]) -> list[str] | None:
    """Reply-button titles for ``buttons``, or None when they do not fit as reply buttons: more than 3, or a
    label that cannot be said in 20 characters without cutting words (then a list keeps it whole)."""
    if len(buttons) > MAX_BUTTONS:
        return None
    titles = []
    for button in buttons:
        title = " ".join(button.label.split())
        if units(title) > BUTTON_TITLE:
            title = drop_symbols(title)
        if not title or units(title) > BUTTON_TITLE:
            return None
        titles.append(title)
    return titles if len(set(titles)) == len(titles) else None


def drop_symbols(label: str) -> str:
    """"✏️ Beneficiarios" → "Beneficiarios": a leading emoji or symbol is decoration, the words are the meaning."""
    words = label.split(" ")
    while len(words) > 1 and not any(ch.isalnum() for ch in words[0]):
        words = words[1:]
    return " ".join(words)


def _reply_buttons(
    body: str, buttons: Sequence[Button], titles: list[str], encode: Callable[[str], str]
) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {"buttons": [{"type": "reply", "reply": {"id": encode(b.payload), "title": title}}
                                   for b, title in zip(buttons, titles, strict=True)]},
        },
    }


def _list(body: str, buttons: Sequence[Button], encode: Callable[[str], str], t: Translate) -> dict[str, Any]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, button in enumerate(buttons, start=1):
        label = " ".join(button.label.split())
        title = label if units(label) <= ROW_TITLE else shorten(drop_symbols(label), ROW_TITLE)
        if title in seen:  # titles need not be unique in a list, but two alike would be a guess for the user
            title = shorten(f"{index}. {title}", ROW_TITLE)
        seen.add(title)
        row = {"id": encode(button.payload), "title": title}
        if title != label:
            row["description"] = shorten(label, ROW_DESCRIPTION)
        rows.append(row)
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": shorten(t("whatsapp.list_button"), LIST_BUTTON), "sections": [{"rows": rows}]},
        },
    }


def _numbered(result: Plan, text: str, buttons: Sequence[Button], t: Translate) -> None:
    first = len(result.numbered) + 1
    lines = [f"{first + offset}. {' '.join(b.label.split())}" for offset, b in enumerate(buttons)]
    result.numbered.extend(b.payload for b in buttons)
    parts = [text] if text.strip() else []
    parts += ["\n".join(lines), t("whatsapp.answer_by_number")]
    result.messages.extend(_texts("\n\n".join(parts)))
