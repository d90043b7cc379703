"""Probes of the Telegram webhook as an attacker, or a bad day, would send them (issue 15), on SQLite and
PostgreSQL, through the real application, python-telegram-bot and HTTP against the fake Bot API:

- a write that fails (the database locked by another process) must leave a traceback in the log, and
  nothing the user typed: no phone number, no e-mail;
- while the database is locked the user's message is not lost: once the lock goes, it is answered;
- an update id that is not a 64-bit integer (2**63, a string) is refused at the door, and one row the
  database cannot store cannot make the update journal count a batch as new, or keep later updates from
  being marked handled (they were answered twice after a restart);
- a body over the web server's limit answers 413.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event, make_url, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot import logs as bot_logs
from bot.app import App
from bot.channels.journal import Intake, Journal
from bot.channels.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from bot.db.models import Base, ProcessedUpdate
from tests.fake_telegram import FakeTelegram, running_channel
from tests.telegram_support import SECRET, running_webhook, take, webhook_settings

ANA, LUIS = 1001, 1002
NEWCOMERS = (2001, 2002, 2003)
PHONE, EMAIL = "+34 612 345 678", "ana.garcia@example.org"
PERSONAL = (PHONE, "612 345 678", EMAIL, "ana.garcia")
GOOD = {SECRET_HEADER: SECRET}
TOO_BIG = 2**63  # one past a signed 64-bit integer (the journal's column was a BIGINT when this was found)
UNSTORABLE = "\ud800"  # a lone surrogate (JSON may carry one): no database can encode it, as id or as value
APOLOGY = "algo salió mal"  # core.error


@pytest.fixture
def settings_overrides(fake: FakeTelegram) -> dict[str, object]:
    return webhook_settings(fake)


class LogWatch(logging.Handler):
    """The log as ``lideres run`` writes it (bot.logs.configure at INFO), captured; and a way to wait for an
    event to be logged instead of sleeping."""

    def __init__(self, buffer: io.StringIO) -> None:
        super().__init__(logging.DEBUG)
        self.buffer = buffer
        self.events: list[str] = []
        self.waiting: list[tuple[str, asyncio.Event]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.events.append(message)
        for wanted, arrived in self.waiting:
            if wanted in message:
                arrived.set()

    async def seen(self, wanted: str, guard: float = 30.0) -> None:
        arrived = asyncio.Event()
        self.waiting.append((wanted, arrived))
        if any(wanted in message for message in self.events):
            arrived.set()
        await asyncio.wait_for(arrived.wait(), guard)

    @property
    def output(self) -> str:
        return self.buffer.getvalue()


@pytest.fixture
def logs() -> Iterator[LogWatch]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    buffer = io.StringIO()
    bot_logs.configure("INFO")
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
    watch = LogWatch(buffer)
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


def wait_for_locks_at_most(db: AsyncEngine, seconds: float) -> None:
    """How long this app's statements wait for a lock another process holds before they fail (30 s in
    production; short here, so that a write genuinely fails within the test)."""

    @event.listens_for(db.sync_engine, "connect")
    def _short_wait(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if db.dialect.name == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")
        else:
            cursor.execute(f"SET lock_timeout = {int(seconds * 1000)}")
        cursor.close()


@asynccontextmanager
async def write_lock(database_url: str) -> AsyncIterator[None]:
    """Another process holds the database's write lock (``BEGIN EXCLUSIVE`` on SQLite; every table locked
    against writes on PostgreSQL); reads still work, as they do under a real lock."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_async_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.connect() as connection:
        await connection.begin()
        await connection.execute(text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            await connection.rollback()
    await engine.dispose()


async def deliver(client: TestClient, update: dict[str, Any]) -> int:
    """POST ``update`` to the webhook as Telegram would; the HTTP status."""
    response = await client.post(WEBHOOK_PATH, json=update, headers=GOOD)
    return response.status


def assert_no_personal_data(output: str) -> None:
    for value in PERSONAL:
        assert value not in output, f"{value!r} reached the log"


# -- defect 1: personal data in the log when a write fails --------------------------------------------------


async def test_a_locked_database_logs_tracebacks_without_what_the_user_typed_and_the_message_is_answered(
        fake, app, database_url, logs):
    wait_for_locks_at_most(app.db, 1.0)  # the engine's write waits this long for the lock to go
    async with running_webhook(app) as (_channel, client):
        async with write_lock(database_url):
            fake.message(ANA, f"Hola, mi teléfono es {PHONE} y mi correo {EMAIL}, ¿me llaman?")
            # the call ends once the update is answered, so it stays open while the lock holds the handler
            call = asyncio.create_task(deliver(client, take(fake)))
            await logs.seen("could not record update ids")  # the journal's write failed: the lock is real
        assert await call == 200
        answer = (await fake.wait_sent(1, chat_id=ANA))[0]  # the lock is gone: answered, not lost
        assert APOLOGY not in answer.text
    output = logs.output
    assert "could not record update ids" in output
    assert "Traceback" in output and ("database is locked" in output or "lock timeout" in output)
    assert_no_personal_data(output)


async def test_every_write_that_fails_under_a_lock_logs_no_values(fake, app, database_url, logs):
    """The lock outlasts every wait: the journal, the handler and keeping the failed message all fail, and
    the user gets the apology with a reference; the log has the three tracebacks, the reference and no
    value."""
    wait_for_locks_at_most(app.db, 0.3)
    async with running_webhook(app) as (_channel, client):
        async with write_lock(database_url):
            fake.message(ANA, f"Mi teléfono es {PHONE} y mi correo {EMAIL}")
            assert await deliver(client, take(fake)) == 200
            apology = (await fake.wait_sent(1, chat_id=ANA))[0]
            await logs.seen("could not keep the failed message")
    assert APOLOGY in apology.text
    reference = apology.text.rsplit(" ", 1)[-1]
    output = logs.output
    for logged in ("could not record update ids", "handler failed", "could not keep the failed message"):
        assert logged in output
    assert output.count("Traceback") >= 3 and reference in output
    assert_no_personal_data(output)


# -- defect 2: an update id the database cannot store -------------------------------------------------------


@pytest.mark.parametrize("bad_id", [TOO_BIG, UNSTORABLE], ids=["2**63", "lone-surrogate"])
async def test_an_unstorable_update_id_is_refused_and_nothing_is_answered_twice_after_a_restart(
        fake, app, clock, logs, bad_id):
    async with running_webhook(app) as (channel, client):
        fake.message(ANA, "/menu")
        menu = take(fake)
        assert await deliver(client, menu) == 200
        await fake.wait_sent(1, chat_id=ANA)
        await channel.updates.flush()
        assert await deliver(client, menu) == 200  # Telegram delivers it again...
        fake.message(LUIS, "/menu", update_id=bad_id)  # ...next to an id that is not Telegram's
        assert await deliver(client, take(fake)) == 400
        for newcomer in NEWCOMERS:
            fake.message(newcomer, "/menu")
            assert await deliver(client, take(fake)) == 200
        await fake.wait_for(lambda: all(fake.sent(chat_id=user) for user in NEWCOMERS))
    await logs.seen("bad update id")

    restarted = await App.create(app.settings, clock=clock, migrate=False)
    try:
        async with running_webhook(restarted):
            pass  # start-up handles what the previous run took and did not mark handled
    finally:
        await restarted.close()
    answers = {user: len(fake.sent(chat_id=user)) for user in (ANA, LUIS, *NEWCOMERS)}
    assert answers == {ANA: 1, LUIS: 0, **dict.fromkeys(NEWCOMERS, 1)}
    async with app.sessions() as session:
        rows = (await session.execute(select(ProcessedUpdate.update_id, ProcessedUpdate.handled_at))).all()
    assert len(rows) == 4 and all(handled_at is not None for _id, handled_at in rows)


@pytest.mark.parametrize("update_id", ["1", 1.0, True, None, -(2**63) - 1, TOO_BIG, 10**30, UNSTORABLE])
async def test_the_webhook_refuses_update_ids_that_are_not_64_bit_integers(fake, app, update_id):
    async with running_webhook(app) as (_channel, client):
        fake.message(ANA, "/menu")
        update = take(fake)
        update["update_id"] = update_id
        response = await client.post(WEBHOOK_PATH, json=update, headers=GOOD)
        assert response.status == 400
        for body in ([update], "just a string", 5):  # not an update at all
            assert (await client.post(WEBHOOK_PATH, json=body, headers=GOOD)).status == 400
    assert not fake.sent(chat_id=ANA)


async def test_polling_drops_an_update_id_out_of_range(fake, app, logs):
    app.settings = app.settings.model_copy(update={"telegram_webhook_url": None})
    menu = fake.message(ANA, "/menu")
    fake.message(LUIS, "/menu", update_id=TOO_BIG)  # last: its confirmation skips nothing of Ana's
    async with running_channel(app) as channel:
        await fake.wait_sent(1, chat_id=ANA)
        await logs.seen("bad update id")
        await channel.updates.flush()
    assert not fake.sent(chat_id=LUIS)
    async with app.sessions() as session:
        assert (await session.scalars(select(ProcessedUpdate.update_id))).all() == [str(menu)]  # ids kept as text


async def test_one_unstorable_id_does_not_make_its_batch_new(app, logs):
    journal = Journal(app.sessions, app.clock, "telegram")
    handled: list[tuple[object, str]] = []

    async def handle(update_id: object, item: str) -> None:
        handled.append((update_id, item))

    intake: Intake[str] = Intake(journal, handle, serialize=lambda item: {"item": item})
    await intake.put(10, "menu")
    await intake.wait_idle()
    for update_id, item in [(10, "menu, delivered again"), (UNSTORABLE, "bad"), (11, "help"), (12, "idea")]:
        await intake.put(update_id, item)  # one batch: put before the intake task runs
    await intake.close()
    for update_id, _item in handled:
        journal.mark_handled(update_id)
    await journal.close()
    assert handled == [(10, "menu"), (11, "help"), (12, "idea")]
    assert await journal.unanswered() == []
    await logs.seen("could not be stored")
    logs.output.encode("utf-8")  # the dropped id is in the log, written so that a UTF-8 file takes it


async def test_one_unstorable_id_does_not_keep_the_others_from_being_marked_handled(app, logs):
    journal = Journal(app.sessions, app.clock, "telegram")
    assert await journal.record([(20, {"item": "a"}), (21, {"item": "b"}), (22, {"item": "c"})]) == {"20", "21", "22"}
    for update_id in (20, UNSTORABLE, 21):
        journal.mark_handled(update_id)
    await journal.flush()
    journal.mark_handled(22)  # a later batch
    await journal.close()
    assert await journal.unanswered() == []
    assert journal.to_mark == []
    await logs.seen("could not be marked handled")


# -- smaller ------------------------------------------------------------------------------------------------


async def test_a_body_over_the_limit_answers_413(fake, app):
    async with running_webhook(app) as (_channel, client):
        huge = b'{"update_id": 1, "padding": "' + b"x" * (3 * 1024 * 1024) + b'"}'
        response = await client.post(WEBHOOK_PATH, data=huge, headers={**GOOD, "Content-Type": "application/json"})
        assert response.status == 413
        refused = await client.post(WEBHOOK_PATH, data=huge, headers={SECRET_HEADER: "wrong"})
        assert refused.status == 403  # the secret is checked before the body is read
