"""Fixtures: every database test runs on a real SQLite file and, when ``LIDERES_TEST_DATABASE_URL`` is set,
on PostgreSQL too. ``.ci/run`` sets it and ``LIDERES_REQUIRE_POSTGRES_TESTS=1``, so there a missing or
unreachable PostgreSQL fails the run instead of skipping."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App
from bot.clock import ManualClock
from bot.config import load_settings
from bot.db.migrate import upgrade_sync
from bot.db.models import Base
from tests.harness import ChatHarness

PG_URL = os.environ.get("LIDERES_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("LIDERES_REQUIRE_POSTGRES_TESTS") == "1"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("LIDERES_REQUIRE_POSTGRES_TESTS=1 but LIDERES_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need LIDERES_TEST_DATABASE_URL")
    import asyncio

    async def reset() -> None:
        engine = create_async_engine(PG_URL)
        async with engine.begin() as connection:
            await connection.execute(text("drop schema public cascade"))
            await connection.execute(text("create schema public"))
        await engine.dispose()

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # fixtures may be set up inside a running loop
            pool.submit(asyncio.run, reset()).result()
    except OSError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at LIDERES_TEST_DATABASE_URL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    upgrade_sync(PG_URL)
    return PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_migrated")
    engine = create_async_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"truncate {tables} restart identity cascade"))
    await engine.dispose()
    yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to change settings for its ``bot``."""
    return {}


@pytest.fixture
async def app(database_url: str, clock: ManualClock, settings_overrides: dict[str, object]) -> AsyncIterator[App]:
    settings = load_settings(database_url=database_url, admins="test:coord", **settings_overrides)
    app = await App.create(settings, clock=clock, migrate=False)
    yield app
    await app.close()


@pytest.fixture
async def bot(app: App, clock: ManualClock) -> AsyncIterator[ChatHarness]:
    harness = ChatHarness(app, clock)
    yield harness
    await harness.app.close()
