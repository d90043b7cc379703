"""SQLAlchemy's aiosqlite dialect, with each statement one trip to aiosqlite's thread instead of four.

aiosqlite runs every call on the connection's own thread, and SQLAlchemy's adapter makes one such call for each
DB-API step: open a cursor, execute, fetch the rows, close the cursor. A trip costs about 65 µs of CPU (a queue,
a thread woken, the GIL handed over and back, the loop woken) against the 10 to 50 µs SQLite takes to run our
statements, and under load each trip also waits for the GIL behind the busy event loop. Here the four steps run
as one function on that thread: a message's transaction (its user, its journal row, the commit) makes 3 to 4
trips instead of 12 (bench/whole_bot.py: see bench/README.md).

It reaches into two private names, aiosqlite's ``Connection._execute`` (run a function on the connection's
thread) and ``Connection._conn`` (the ``sqlite3`` connection), both unchanged from aiosqlite 0.17 to 0.22; the
SQLite tests run through this cursor, so a change there fails them rather than the bot in production.
Server-side cursors (``stream``) keep SQLAlchemy's own.

Writers also queue in asyncio rather than in SQLite. SQLite lets one connection write at a time; a second one that
tries is put to sleep by its busy handler for 1, 2, 5, 10, 15... ms between tries, whatever the time the first one
still needs. Under load the engine's transactions met that at every second: at a steady 200 updates/s the
transaction's own 99th percentile was 191 ms against a median of 10.7 ms. Here a connection takes the engine's
writer lock (an ``asyncio.Lock``, first come first served) before the statement that opens its write transaction,
and gives it back at commit or rollback; reads never wait for it. Another process (a CLI command) still meets
SQLite's busy timeout, as before.

Used for ``sqlite+aiosqlite`` URLs by ``bot.db.session.create_engine`` (registered as ``sqlite+lideres``).
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import weakref
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT

DRIVER = "lideres"

Outcome = tuple[Any, int, int | None, list[Any], bool]  # description, rowcount, lastrowid, rows, in a transaction
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")  # what opens a write transaction (sqlite3's implicit BEGIN)
WRITER_WAIT = 30.0  # seconds, as the busy timeout (bot/db/session.py): then "database is locked", as SQLite says


def opens_write(operation: str) -> bool:
    return operation.lstrip()[:7].upper().startswith(WRITES)


class Writers:
    """The engine's writer lock, one per event loop (an ``asyncio.Lock`` belongs to the loop it first waits on;
    tests run one engine in several)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        found = self._locks.get(loop)
        if found is None:
            found = self._locks[loop] = asyncio.Lock()
        return found


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """On aiosqlite's thread: the whole statement, its rows read and its cursor closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows, connection.in_transaction
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A DB-API cursor whose rows are already read: ``execute`` is the only trip to the thread."""

    __slots__ = ("_outcome",)

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:  # no cursor opened here
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._outcome: Outcome = (None, -1, None, [], False)

    @property
    def description(self) -> Any:
        return self._outcome[0]

    @property
    def rowcount(self) -> int:
        return self._outcome[1]

    @property
    def lastrowid(self) -> Any:
        return self._outcome[2]

    async def _async_soft_close(self) -> None:
        return None  # nothing open on the thread: the sqlite3 cursor closed with its statement

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._trip(operation, () if parameters is None else parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return await self._trip(operation, seq_of_parameters, many=True)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapted = cast(OneTripConnection, self._adapt_connection)
        if adapted.writer is None and opens_write(operation):
            await adapted.take_writer()
        connection = self._connection
        async with adapted._execute_mutex:
            self._outcome = await connection._execute(_run, connection._conn, operation, parameters, many)
        if not self._outcome[4]:  # no transaction open (a statement SQLite ran on its own): nothing to hold
            adapted.release_writer()
        self._rows = collections.deque(self._outcome[3])


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("writers", "writer")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: OneTripDBAPI, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.writers = dbapi.writers
        self.writer: asyncio.Lock | None = None  # held from the first write to commit or rollback

    async def take_writer(self) -> None:
        lock = self.writers.lock()
        try:
            await asyncio.wait_for(lock.acquire(), WRITER_WAIT)
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self.writer = lock

    def release_writer(self) -> None:
        lock, self.writer = self.writer, None
        if lock is not None:
            lock.release()

    def _ending(self, end: Callable[[], None]) -> None:
        """Whatever ends the transaction ends the write: the lock goes back even when ``end`` fails."""
        try:
            end()
        finally:
            self.release_writer()

    def commit(self) -> None:
        self._ending(super().commit)

    def rollback(self) -> None:
        self._ending(super().rollback)

    def close(self) -> None:
        self._ending(super().close)

    def terminate(self) -> None:  # the pool drops a connection it cannot trust (cancelled mid-transaction, lost)
        self._ending(super().terminate)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        self.writers = Writers()  # one engine, one database file: one dbapi (import_dbapi runs per engine)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")
