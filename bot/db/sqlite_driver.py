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

Used for ``sqlite+aiosqlite`` URLs by ``bot.db.session.create_engine`` (registered as ``sqlite+lideres``).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

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

Outcome = tuple[Any, int, int | None, list[Any]]  # description, rowcount, lastrowid, rows


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
        return description, cursor.rowcount, cursor.lastrowid, rows
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
        self._outcome: Outcome = (None, -1, None, [])

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
        connection = self._connection
        async with self._adapt_connection._execute_mutex:
            self._outcome = await connection._execute(_run, connection._conn, operation, parameters, many)
        self._rows = collections.deque(self._outcome[3])


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
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
