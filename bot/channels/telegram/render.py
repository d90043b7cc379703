"""``Reply`` → the Bot API calls that show it, as plain data (``Step``), so the rules are tested without a
network: texts over 4096 characters split on paragraphs, then lines, then a hard cut; a file's caption
is the text when it fits in 1024 characters; buttons go on the last piece; ``edit`` replaces the
message whose button was pressed, once per answer.

Telegram counts lengths in UTF-16 code units (an emoji is two), so that is what is measured here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.channels.text import split_text as _split_text
from bot.channels.text import units
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
    link_preview: bool = True  # False: no preview of the text's links (Reply.link_preview)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` units (Telegram's limit by default): ``bot.channels.text`` does the splitting
    for every channel."""
    return _split_text(text, limit)


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
            steps.append(Step(method, piece, reply.buttons if last else (), link_preview=reply.link_preview))
    return steps


def _media(method: str, attachment: Attachment | None) -> Step | None:
    return Step(method, attachment=attachment) if attachment is not None else None


def _media_steps(reply: Reply, media: list[Step]) -> list[Step]:
    """Caption on the first file when the text fits; otherwise the text goes first, as messages."""
    steps: list[Step] = []
    caption = reply.text
    if units(caption) > CAPTION_LIMIT:
        steps.extend(Step("send_message", piece, link_preview=reply.link_preview) for piece in split_text(caption))
        caption = ""
    for index, step in enumerate(media):
        last = index == len(media) - 1
        steps.append(Step(step.method, caption if index == 0 else "", reply.buttons if last else (), step.attachment))
    return steps
