"""Engine and session factory. SQLite gets WAL, foreign keys and a busy timeout on every connection.

Statement parameters are hidden from SQLAlchemy's error messages (``hide_parameters``): a failed write's
exception is logged with its traceback, and its parameters are what the user typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.db import sqlite_driver


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        parsed = make_url(url)
        if parsed.drivername == "sqlite+aiosqlite":  # the same driver, one trip to its thread per statement
            parsed = parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
        engine = create_async_engine(parsed, connect_args={"timeout": 30}, hide_parameters=True,
                                     pool_reset_on_return=None)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # No ping before each checkout: it was a round trip per transaction (PostgreSQL 46 -> 116 updates/s in
    # bench/whole_bot.py without it). A connection the server closed fails its first statement instead; SQLAlchemy
    # then drops the pool's older connections, and Engine.handle handles that message again.
    return create_async_engine(url, pool_size=10, max_overflow=10, hide_parameters=True, pool_reset_on_return=None)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def upsert_insert(session: AsyncSession) -> Callable[..., Any]:
    """The dialect's ``insert`` (with ``on_conflict_do_nothing`` / ``on_conflict_do_update``) for this session:
    both databases we run on support ON CONFLICT, but SQLAlchemy spells it per dialect."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def several_processes(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether worker processes other than this one may share the database: PostgreSQL. SQLite is one process
    by design (one writer at a time), so what they coordinate through the database is skipped there."""
    bind = sessions.kw.get("bind")
    return bind is not None and bind.dialect.name == "postgresql"
