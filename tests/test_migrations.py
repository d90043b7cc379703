"""The migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.db.models import Base
from bot.db.session import create_engine


async def test_migrated_schema_matches_the_models(database_url):
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
        if database_url.startswith("sqlite"):
            assert (await connection.execute(text("pragma journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("pragma foreign_keys"))).scalar() == 1
    await engine.dispose()
    assert diff == []
