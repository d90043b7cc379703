"""The SQLite driver (bot/db/sqlite_driver.py): statements give the same results as aiosqlite's own adapter, and
writers of one engine queue in asyncio instead of meeting SQLite's lock. SQLite's busy timeout is set to 0 here,
so a writer that did reach SQLite's lock while another held it would fail at once with "database is locked"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.session import create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")

    @event.listens_for(engine.sync_engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:  # after the engine's own pragmas
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    yield engine
    await engine.dispose()


async def test_statements_return_rows_counts_and_ids(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "b"}, {"body": "c"}])
        changed = await connection.execute(text("UPDATE notes SET body = body || '!' WHERE id > 1"))
        assert changed.rowcount == 2
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT id, body FROM notes ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [(1, "a"), (2, "b!"), (3, "c!")]


async def test_a_second_writer_waits_for_the_first_to_commit(engine: AsyncEngine) -> None:
    first_wrote = asyncio.Event()
    first_may_commit = asyncio.Event()

    async def first() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('first')"))
            first_wrote.set()
            await first_may_commit.wait()

    async def second() -> None:
        await first_wrote.wait()
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('second')"))

    writers = asyncio.gather(first(), second())
    await first_wrote.wait()
    async with engine.connect() as reader:  # a reader does not wait for the writer (WAL)
        assert (await reader.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0
    first_may_commit.set()
    await writers  # without the writer lock the second fails: "database is locked"
    async with engine.connect() as connection:
        bodies = (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
    assert bodies == ["first", "second"]


async def test_a_rolled_back_writer_lets_the_next_one_write(engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
            raise RuntimeError("the handler failed")
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT body FROM notes"))).scalars().all() == ["kept"]


async def test_a_writer_cancelled_mid_transaction_lets_the_next_one_write(engine: AsyncEngine) -> None:
    wrote = asyncio.Event()

    async def abandoned() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('abandoned')"))
            wrote.set()
            await asyncio.Event().wait()  # until cancelled: a user's message cut short by a shutdown

    task = asyncio.create_task(abandoned())
    await wrote.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with engine.begin() as connection:  # would wait 30 s, then "database is locked", if the lock leaked
        await connection.execute(text("INSERT INTO notes (body) VALUES ('next')"))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT body FROM notes"))).scalars().all() == ["next"]
