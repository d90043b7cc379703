"""``lideres chat``: talk to the bot in a terminal, or drive it with piped standard input.

Buttons are shown numbered; the user answers with the number or the label. One line is one message.
``/file PATH`` sends a file as an attachment, to try the flows that take one. What the network sent this user
through the outbox (an answer, an introduction, a notice) is shown before the next prompt (``ConsoleInbox``).
"""

from __future__ import annotations

import asyncio
import mimetypes
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from sqlalchemy import select

from bot.db.models import Delivery, User
from bot.engine import Engine
from bot.messages import Attachment, Button, Incoming, Reply, load_reply
from bot.services import users
from bot.services.outbox import RENDERERS, RenderContext

CHANNEL = "console"


def render(reply: Reply, number_from: int = 1) -> str:
    lines = [reply.text] if reply.text else []
    if reply.document:
        lines.append(f"[document: {reply.document.filename or reply.document.file_ref}]")
    if reply.picture:
        lines.append(f"[picture: {reply.picture.filename or reply.picture.file_ref}]")
    for offset, button in enumerate(reply.button_list):
        lines.append(f"  [{number_from + offset}] {button.label}")
    return "\n".join(lines)


def _label_key(label: str) -> str:
    """"✅ Acepto", "acepto" and "ACEPTO!" name the same button: letters and digits, case-folded."""
    return "".join(ch for ch in label.casefold() if ch.isalnum() or ch == " ").strip()


class ConsoleInbox:
    """The console has no push, so the outbox's rows for this console user are shown when the user is at the
    prompt, and marked sent. Only this user's rows are taken: two terminals on one database (two people
    talking to each other through the bot) each see their own."""

    def __init__(self, engine: Engine, user: str) -> None:
        self.engine = engine
        self.user = user

    async def take(self) -> list[Reply]:
        now = self.engine.clock.now()
        async with self.engine.sessions() as session, session.begin():
            query = (select(Delivery, User).join(User, User.id == Delivery.user_id)
                     .where(*users.key_is(CHANNEL, self.user), Delivery.status == "pending",
                            Delivery.due_at <= now)
                     .order_by(Delivery.due_at, Delivery.id).with_for_update(skip_locked=True, of=Delivery))
            replies: list[Reply] = []
            for delivery, user in (await session.execute(query)).all():
                function = RENDERERS.get(delivery.renderer) if delivery.renderer else None
                if function is not None:
                    replies += (await function(RenderContext(session, user, delivery))).replies
                else:
                    replies += [load_reply(reply) for reply in delivery.replies]
                delivery.status, delivery.sent_at, delivery.attempts = "sent", now, delivery.attempts + 1
            return replies


class ConsoleChat:
    def __init__(self, engine: Engine, user: str, lang: str, out: TextIO = sys.stdout) -> None:
        self.engine = engine
        self.user = user
        self.lang = lang
        self.out = out
        self.buttons: list[Button] = []
        self.counter = 0
        self.inbox = ConsoleInbox(engine, user)

    def to_incoming(self, line: str) -> Incoming:
        self.counter += 1
        text = line.rstrip("\n")
        common = Incoming(channel=CHANNEL, user_id=self.user, display_name=self.user, language=self.lang,
                          message_id=str(self.counter))
        stripped = text.strip()
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.buttons):
            return replace(common, payload=self.buttons[int(stripped) - 1].payload)
        typed = _label_key(stripped)
        for button in self.buttons:
            if typed and typed == _label_key(button.label):
                return replace(common, payload=button.payload)
        if stripped.startswith("/file "):
            path = Path(stripped[6:].strip())
            mime = mimetypes.guess_type(path.name)[0]
            kind = "photo" if (mime or "").startswith("image/") else "document"
            size = path.stat().st_size if path.exists() else None
            return replace(common, attachment=Attachment(kind, str(path), path.name, mime, size))
        return replace(common, text=text)

    def show(self, replies: list[Reply]) -> None:
        self.buttons = []
        for reply in replies:
            print(render(reply, len(self.buttons) + 1), file=self.out)
            for attachment in (reply.document, reply.picture):
                if attachment is not None and attachment.data is not None:
                    print(f"  (saved as {self.save(attachment)})", file=self.out)
            self.buttons.extend(reply.button_list)
        self.out.flush()

    def save(self, attachment: Attachment) -> Path:
        """A file the bot generated (an export, /mydata, a chart), written where the person can open it."""
        folder = Path(tempfile.gettempdir()) / "lideres-console" / self.user
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(attachment.filename or "file").name
        path.write_bytes(attachment.data or b"")
        return path

    async def run(self, lines: TextIO = sys.stdin) -> None:
        interactive = lines.isatty()
        loop = asyncio.get_running_loop()
        while True:
            waiting = await self.inbox.take()
            if waiting:
                print("📬", file=self.out)
                self.show(waiting)
            if interactive:
                print("> ", end="", file=self.out, flush=True)
            line = await loop.run_in_executor(None, lines.readline)
            if not line:
                return
            if interactive and line.strip() in {"/quit", "/exit"}:
                return
            self.show(await self.engine.handle(self.to_incoming(line)))
