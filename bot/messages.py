"""The channel-neutral language of the engine: ``Incoming`` in, ``Reply`` out.

Channels translate platform payloads into ``Incoming`` and render ``Reply``; handlers only ever see these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

from pydantic import ConfigDict, TypeAdapter


@dataclass(frozen=True)
class Attachment:
    """A file the user sent or the bot sends. Stored by reference (``file_ref``); only generated files
    (exports, charts) carry their bytes, which serialize as base64."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    kind: str  # "document", "photo", "sticker", "voice", "video", ...
    file_ref: str = ""  # platform file id, or a path/URL for outgoing files
    filename: str | None = None
    mime_type: str | None = None
    size: int | None = None
    data: bytes | None = None  # outgoing generated files (exports, charts)


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, pressed a button, or sent a file."""

    channel: str
    user_id: str  # the platform's id for the user, unique within the channel
    text: str | None = None
    payload: str | None = None  # the button payload, when a button was pressed
    attachment: Attachment | None = None
    message_id: str | None = None
    display_name: str | None = None
    language: str | None = None  # what the platform says the user's language is

    @property
    def command(self) -> str | None:
        """``/Start@MyBot arg`` → ``start``; None when the text is not a command."""
        if not self.text or not self.text.startswith("/") or len(self.text) < 2:
            return None
        word = self.text[1:].split(maxsplit=1)[0]
        return word.split("@", 1)[0].lower() or None

    @property
    def command_args(self) -> str:
        if self.command is None or self.text is None:
            return ""
        parts = self.text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One outgoing message. ``buttons`` is a list of rows; ``edit`` asks to replace the message the
    pressed button belongs to, where the channel can. ``link_preview=False``: the channel shows no preview
    of links in the text (views that show coordinators what users typed)."""

    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = field(default_factory=tuple)
    document: Attachment | None = None
    picture: Attachment | None = None
    edit: bool = False
    link_preview: bool = True

    @property
    def button_list(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


def rows(*buttons: Button, per_row: int = 1) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out ``per_row`` to a row."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


# One mechanism for storing messages (outbox rows, journals of updates, replies kept for a retry): pydantic
# reads the dataclasses above, so a field added there is stored and read back with no code to update here.
_INCOMING: TypeAdapter[Incoming] = TypeAdapter(Incoming)
_REPLY: TypeAdapter[Reply] = TypeAdapter(Reply)


def dump_incoming(incoming: Incoming) -> dict[str, Any]:
    """JSON-ready form of ``incoming`` (attachment bytes as base64)."""
    # pydantic types dump_python as Any for every type; a dataclass dumps as a dict of its fields.
    return cast(dict[str, Any], _INCOMING.dump_python(incoming, mode="json"))


def load_incoming(data: dict[str, Any]) -> Incoming:
    return _INCOMING.validate_json(json.dumps(data))  # JSON mode: the bytes come back from base64


def dump_reply(reply: Reply) -> dict[str, Any]:
    """JSON-ready form of ``reply``: text, buttons, document, picture and every other field."""
    return cast(dict[str, Any], _REPLY.dump_python(reply, mode="json"))  # Any in pydantic's types, as above


def load_reply(data: dict[str, Any]) -> Reply:
    return _REPLY.validate_json(json.dumps(data))
