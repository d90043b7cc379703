"""Alembic environment (async): used by ``lideres db upgrade`` and at start-up."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.db.models import Base
from bot.db.session import create_engine

config = context.config
target_metadata = Base.metadata
# PostgreSQL advisory lock key: worker processes starting at once migrate one after the
# other; the second finds the revisions applied and does nothing.
MIGRATION_LOCK = int.from_bytes(b"lideres", "big")


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # held until the migration's transaction ends; taken before Alembic reads the applied revisions
            connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def _run_online() -> None:
    """Alembic is synchronous; when called from a running event loop, migrate on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_migrations_online())
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run_migrations_online()).result()


if context.is_offline_mode():
    run_migrations_offline()
else:
    _run_online()
