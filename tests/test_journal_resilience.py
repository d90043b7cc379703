"""The bot killed between two steps of an update's life, then started again: what the person sees afterwards.

- An update Telegram handed over (getUpdates) while the journal could not take it yet, then SIGKILL: the offset
  was not confirmed, so Telegram hands it over again and it is answered once. (PTB's Updater confirmed a batch as
  soon as it was in its in-memory queue: such an update was never answered.)
- An answer of several messages cut by SIGKILL after its first message: the restart sends the rest, and the
  first is not shown twice.
- A button's answer that edits the pressed message, made by the previous process just before it died: the
  restart's edit changes nothing (no new message); one not made yet is made in place, not as a new message.

The first two run ``lideres run`` as a process against the fake Bot API, on a real SQLite file and on PostgreSQL;
the third restarts the channel in this process on a journal row left as a kill would leave it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.buttons import ButtonCodec
from bot.channels.journal import Journal
from bot.channels.telegram.convert import Inbound, to_record
from bot.config import PROJECT_ROOT
from bot.db.models import ProcessedUpdate
from bot.messages import Button, Incoming, Reply
from tests.fake_telegram import TOKEN, Call, FakeTelegram, running_channel
from tests.test_multiprocess import until

ANA, LUIS = 4_201, 4_202
HELP = "Puedo ayudarte"


class WatchedFake(FakeTelegram):
    """Also notes the offset of every getUpdates as it arrives (the offset is what tells Telegram that the updates
    below it arrived: it drops them then)."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.offsets: list[int] = []

    async def _m_getUpdates(self, p: dict[str, Any], f: dict[str, Any]) -> Any:
        self.offsets.append(int(p.get("offset") or 0))
        self._notify_soon()
        return await super()._m_getUpdates(p, f)


@pytest.fixture
async def fake() -> AsyncIterator[WatchedFake]:
    server = await WatchedFake().start()
    yield server
    await server.close()


@pytest.fixture
def settings_overrides(fake: FakeTelegram) -> dict[str, object]:
    return {"telegram_token": TOKEN, "telegram_api_url": fake.api_url}


class BotProcess:
    """``lideres run`` (polling), killed with SIGKILL and started again under the same worker name, as a
    supervisor restarts it."""

    def __init__(self, fake: FakeTelegram, database_url: str, folder: Path) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("LIDERES_")}
        env |= {"LIDERES_TELEGRAM_TOKEN": TOKEN, "LIDERES_TELEGRAM_API_URL": fake.api_url,
                "LIDERES_DATABASE_URL": database_url, "LIDERES_WEB_PORT": "0", "LIDERES_WEB_CHAT": "false",
                "LIDERES_WORKER_ID": "resilience-test"}
        self.env, self.log = env, folder / "bot.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=PROJECT_ROOT, env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=output)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 60)


@pytest.fixture
async def bot(fake: FakeTelegram, database_url: str, tmp_path: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(fake, database_url, tmp_path)
    await process.start()
    yield process
    await process.stop()


@contextlib.asynccontextmanager
async def journal_blocked(database_url: str) -> AsyncIterator[Callable[[], Awaitable[bool]]]:
    """Nothing can be written to the journal meanwhile: a database too busy to take the insert in time. Gives
    a check of whether a writer is waiting on the journal (PostgreSQL shows it in ``pg_locks``; SQLite cannot
    tell, and the check says yes at once)."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        assert path is not None
        connection = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        await asyncio.to_thread(connection.execute, "BEGIN IMMEDIATE")  # the one writer, until the rollback

        async def cannot_tell() -> bool:
            return True

        try:
            yield cannot_tell
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("LOCK TABLE processed_updates IN EXCLUSIVE MODE"))  # reads still go

            async def waiting() -> bool:
                async with engine.connect() as other:
                    return bool(await other.scalar(text(
                        "select count(*) from pg_locks l join pg_class c on c.oid = l.relation"
                        " where c.relname = 'processed_updates' and not l.granted")))

            try:
                yield waiting
            finally:
                await connection.rollback()
    finally:
        await engine.dispose()


def handed_over(fake: FakeTelegram, update_id: int) -> bool:
    """getUpdates has returned ``update_id`` to the bot."""
    return any(call.method == "getUpdates" and any(update["update_id"] == update_id for update in call.result or [])
               for call in fake.calls)


def count(fake: FakeTelegram, chat_id: int, start: str) -> int:
    return sum(1 for shown in fake.texts(chat_id) if shown.startswith(start))


async def test_an_update_handed_over_before_a_kill_and_not_yet_recorded_is_answered_after_the_restart(
        fake, bot, database_url):
    fake.message(ANA, "/help")  # waits in the fake until the bot polls
    await fake.wait_for(lambda: count(fake, ANA, HELP) == 1, guard=60)

    async with journal_blocked(database_url) as writer_waiting:
        second = fake.message(ANA, "/help")
        await fake.wait_for(lambda: handed_over(fake, second))

        async def recording_or_confirmed() -> bool:  # PTB's Updater confirmed at once, before recording
            return any(offset > second for offset in fake.offsets) or await writer_waiting()

        await until(recording_or_confirmed)
        await bot.kill()  # the bot holds the update and cannot record it yet
    await bot.start()

    await fake.wait_for(lambda: count(fake, ANA, HELP) == 2, guard=60)
    fake.message(ANA, "/help")  # a person's messages are handled in order: once this is answered, all are
    await fake.wait_for(lambda: count(fake, ANA, HELP) == 3, guard=60)
    assert count(fake, ANA, HELP) == 3  # each /help answered once: none lost, none twice


async def test_an_answer_cut_by_a_kill_after_its_first_message_is_completed_without_repeating_it(
        fake, bot, database_url):
    def welcome(call: Call) -> bool:
        return call.chat_id == ANA and call.labels == ["Español", "English"]

    stalled: list[Any] = []

    def on_sent(call: Call) -> None:
        if welcome(call) and not stalled:  # the answer's next message never gets through: the kill finds it there
            stalled.append(fake.stall("sendMessage", chat_id=ANA, times=None))

    fake.on_sent = on_sent
    start = fake.message(ANA, "/start")
    await fake.wait_for(lambda: bool(stalled), guard=60)

    engine = create_async_engine(database_url)
    try:
        async def only_the_rest_left() -> bool:  # the welcome is noted as sent: one reply left on the row
            async with engine.connect() as connection:
                row = (await connection.execute(select(ProcessedUpdate.replies, ProcessedUpdate.handled_at).where(
                    ProcessedUpdate.update_id == str(start)))).one()
            return row.handled_at is None and row.replies is not None and len(row.replies) == 1

        await until(only_the_rest_left)
    finally:
        await engine.dispose()
    await bot.kill()
    fake.rules.remove(stalled[0])
    await bot.start()

    await fake.wait_for(lambda: any("✅ Acepto" in call.labels for call in fake.sent(chat_id=ANA)), guard=60)
    fake.message(ANA, "/help")
    await fake.wait_for(lambda: count(fake, ANA, HELP) == 1, guard=60)
    shown = fake.sent(chat_id=ANA)
    assert sum(1 for call in shown if welcome(call)) == 1  # not shown again
    assert sum(1 for call in shown if "✅ Acepto" in call.labels) == 1  # the rest of the answer, once


async def test_a_button_answer_edited_before_a_kill_is_not_shown_again_and_one_not_edited_yet_is_edited(
        fake, app):
    codec = ButtonCodec(TOKEN)
    answer = Reply(text="2 ODS marcados. Pulsa «Listo».", buttons=((Button("Listo", "t_done:1"),),), edit=True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Listo", callback_data=codec.encode("t_done:1"))]])
    journal = Journal(app.sessions, app.clock, "telegram")
    async with Bot(TOKEN, base_url=fake.api_url) as previous:  # what the killed process had shown
        pressed = {chat: await previous.send_message(chat, "Marca de 1 a 3 ODS.", reply_markup=keyboard)
                   for chat in (ANA, LUIS)}
        await previous.edit_message_text(answer.text, chat_id=ANA, message_id=pressed[ANA].message_id,
                                         reply_markup=keyboard)  # Ana's edit went out; Luis's did not
    for update_id, chat in ((910_001, ANA), (910_002, LUIS)):
        incoming = Incoming(channel="telegram", user_id=str(chat), payload="t_toggle:3",
                            message_id=str(pressed[chat].message_id), language="es")
        record = to_record(Inbound(chat_id=chat, user_id=str(chat), language="es", incoming=incoming,
                                   callback_id=f"cbq-{chat}"))
        await journal.record([(update_id, record)])
        async with app.sessions() as session, session.begin():  # the handler's transaction committed
            await journal.within(update_id)(session, [answer])
    await journal.close()  # then the kill: no handled mark
    before = {chat: len(fake.sent(chat_id=chat)) for chat in (ANA, LUIS)}

    async with running_channel(app) as channel:  # replays on start
        await channel.sender.join()
        await channel.updates.flush()
        async with app.sessions() as session:
            handled = dict((await session.execute(
                select(ProcessedUpdate.update_id, ProcessedUpdate.handled_at))).all())

    assert len(fake.sent(chat_id=ANA)) == before[ANA]  # Ana sees nothing new: her answer was already there
    luis = fake.sent(chat_id=LUIS)[before[LUIS]:]
    assert [(call.method, call.text) for call in luis] == [("editMessageText", answer.text)]  # in place
    for chat in (ANA, LUIS):
        assert fake.messages[(chat, pressed[chat].message_id)]["text"] == answer.text
    assert handled["910001"] is not None and handled["910002"] is not None
