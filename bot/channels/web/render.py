"""``Reply`` → what the page shows, as JSON: the text, rows of buttons (labels and signed data), a file to
download or a picture, and whether it replaces the message whose button was pressed (``edit``, a
multichoice question redrawn). The page puts text in with ``textContent``: nothing here is HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.messages import Attachment, Reply

WEB_REF = "web:"  # file_ref of a file kept by the web chat (``WebFile``), by its id


def page_message(
    reply: Reply, encode: Callable[[str], str], document_url: str | None = None, picture_url: str | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {"text": reply.text}
    if reply.buttons:
        message["buttons"] = [[{"label": b.label, "data": encode(b.payload)} for b in row] for row in reply.buttons
                              if row]
    if reply.document is not None:
        message["document"] = {"name": reply.document.filename or "file", "url": document_url,
                               "size": reply.document.size}
    if reply.picture is not None and picture_url is not None:
        message["picture"] = {"url": picture_url, "name": reply.picture.filename or ""}
    if reply.edit:
        message["edit"] = True
    return message


def file_id(attachment: Attachment) -> str | None:
    """The ``WebFile`` id of a file the web chat keeps, or None."""
    ref = attachment.file_ref
    return ref[len(WEB_REF):] if ref.startswith(WEB_REF) and ref[len(WEB_REF):].isalnum() else None


def public_url(attachment: Attachment) -> str | None:
    """A link anyone can open (a picture on the network's site); nothing else is shown by reference."""
    return attachment.file_ref if attachment.file_ref.startswith("https://") else None
