"""``Reply`` → the Bot API calls that show it, as plain data (``Step``), so the rules are tested without a
network: texts over 4096 characters split on paragraphs, then lines, then a hard cut; a file's caption
is the text when it fits in 1024 characters; buttons go on the last piece; ``edit`` replaces the
message whose button was pressed, once per answer.

Telegram counts lengths in UTF-16 code units (an emoji is two), so that is what is measured here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.messages import Attachment, Button, Reply

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
EMPTY_TEXT = "…"  # Telegram refuses empty messages; a bare keyboard still needs a line


@dataclass(frozen=True)
class Step:
    method: str  # "send_message", "edit_message_text", "send_document", "send_photo"
    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` units: whole paragraphs where possible, then whole lines, then cut."""
    if units(text) <= limit:
        return [text]
    pieces: list[str] = []
    for paragraph in _pack(text.split("\n\n"), "\n\n", limit):
        if units(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for line in _pack(paragraph.split("\n"), "\n", limit):
            pieces.extend([line] if units(line) <= limit else _hard_cut(line, limit))
    return [piece for piece in pieces if piece.strip()] or [text[:limit]]


def _pack(parts: Sequence[str], joiner: str, limit: int) -> list[str]:
    """Join consecutive ``parts`` greedily while they fit; an oversized part stays alone."""
    packed: list[str] = []
    current: str | None = None
    for part in parts:
        candidate = part if current is None else current + joiner + part
        if units(candidate) <= limit:
            current = candidate
            continue
        if current is not None:
            packed.append(current)
        current = part
    if current is not None:
        packed.append(current)
    return packed


def _hard_cut(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = units(char)
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        pieces.append("".join(current))
    return pieces


def plan(replies: Sequence[Reply], *, can_edit: bool = False) -> list[Step]:
    """The calls for ``replies``. ``can_edit``: the answer is to a button press whose message may be edited."""
    steps: list[Step] = []
    for reply in replies:
        files = (_media("send_document", reply.document), _media("send_photo", reply.picture))
        media = [step for step in files if step is not None]
        if media:
            steps.extend(_media_steps(reply, media))
            continue
        text = reply.text if reply.text.strip() else (EMPTY_TEXT if reply.buttons else "")
        if not text:
            continue
        pieces = split_text(text)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            method = "send_message"
            if index == 0 and reply.edit and can_edit:
                method, can_edit = "edit_message_text", False
            steps.append(Step(method, piece, reply.buttons if last else ()))
    return steps


def _media(method: str, attachment: Attachment | None) -> Step | None:
    return Step(method, attachment=attachment) if attachment is not None else None


def _media_steps(reply: Reply, media: list[Step]) -> list[Step]:
    """Caption on the first file when the text fits; otherwise the text goes first, as messages."""
    steps: list[Step] = []
    caption = reply.text
    if units(caption) > CAPTION_LIMIT:
        steps.extend(Step("send_message", piece) for piece in split_text(caption))
        caption = ""
    for index, step in enumerate(media):
        last = index == len(media) - 1
        steps.append(Step(step.method, caption if index == 0 else "", reply.buttons if last else (), step.attachment))
    return steps
