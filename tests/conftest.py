"""Fixtures: every database test runs on a real SQLite file and, when ``LIDERES_TEST_DATABASE_URL`` is set,
on PostgreSQL too. ``.ci/run`` sets it and ``LIDERES_REQUIRE_POSTGRES_TESTS=1``, so there a missing or
unreachable PostgreSQL fails the run instead of skipping."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App
from bot.clock import ManualClock
from bot.config import load_settings
from bot.db.migrate import upgrade_sync
from bot.db.models import Base
from bot.messages import Incoming
from tests.fake_telegram import FakeTelegram, VirtualTimer
from tests.harness import ChatHarness

PG_URL = os.environ.get("LIDERES_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("LIDERES_REQUIRE_POSTGRES_TESTS") == "1"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


def _run_async(coroutine) -> None:  # noqa: ANN001
    """Session fixtures may be set up inside a running event loop: run on a thread of its own."""
    import asyncio

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


@contextlib.contextmanager
def empty_postgres(label: str) -> Iterator[str]:
    """The URL of a new, empty database beside LIDERES_TEST_DATABASE_URL's, dropped afterwards (skipped, or
    failed under LIDERES_REQUIRE_POSTGRES_TESTS=1, without PostgreSQL)."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("LIDERES_REQUIRE_POSTGRES_TESTS=1 but LIDERES_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need LIDERES_TEST_DATABASE_URL")
    admin_url = make_url(PG_URL)
    name = f"{admin_url.database}_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def create_or_drop(statement: str) -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    try:
        _run_async(create_or_drop(f'create database "{name}"'))
    except OSError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at LIDERES_TEST_DATABASE_URL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        _run_async(create_or_drop(f'drop database if exists "{name}" with (force)'))


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    """A database of this test run's own, so two runs on one machine (a developer's and CI's) never share
    tables."""
    with empty_postgres("run") as run_url:
        upgrade_sync(run_url)
        yield run_url


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
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API on 127.0.0.1 with its default token; a module needing another (flood limits, a virtual
    clock, a watched one) defines its own ``fake``."""
    server = await FakeTelegram().start()
    yield server
    await server.close()


@pytest.fixture
def timer() -> VirtualTimer:
    """A virtual clock for a channel's rate limiter: its waits pass at once, and are recorded."""
    return VirtualTimer()


@pytest.fixture
def seen(app: Any) -> list[Incoming]:
    """Every Incoming the engine handled (a spy on Engine.handle)."""
    incomings: list[Incoming] = []
    handle = app.engine.handle

    async def spy(incoming: Incoming, within: Any = None) -> Any:
        incomings.append(incoming)
        return await handle(incoming, within)

    app.engine.handle = spy
    return incomings


@pytest.fixture
async def bot(app: App, clock: ManualClock) -> AsyncIterator[ChatHarness]:
    harness = ChatHarness(app, clock)
    yield harness
    await harness.app.close()
