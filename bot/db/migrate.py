"""Alembic, driven from code so ``lideres db upgrade`` and start-up need no alembic.ini."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config

from bot.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_sync(database_url: str, revision: str = "heads") -> None:
    """``heads``: features developed side by side each add a revision on top of the same parent (branches),
    and every branch is applied; a merge revision can join them later without changing what runs."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


async def upgrade(database_url: str, revision: str = "heads") -> None:
    """Alembic's async env runs its own event loop, so it runs in a thread here."""
    await asyncio.to_thread(upgrade_sync, database_url, revision)
