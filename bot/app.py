"""Builds the running bot from settings: database, engine with the feature routers, outputs, outbox."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import secrets
import signal
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels import Channel, enabled_plugins
from bot.channels.base import OutputChannel
from bot.clock import Clock
from bot.config import PROJECT_ROOT, Settings
from bot.db.content_version import ContentVersions
from bot.db.migrate import upgrade
from bot.db.session import create_engine, session_factory
from bot.engine import Engine, freeze_heap
from bot.router import Router
from bot.services import privacy
from bot.services.outbox import OutboxSender
from bot.services.reminders import ReminderClock

log = logging.getLogger("bot.app")


class App:
    def __init__(self, settings: Settings, db: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(db)
        self.clock = clock
        self.outputs: dict[str, OutputChannel] = {}
        self.engine = Engine(settings, self.sessions, _routers(), clock=clock)
        self.outbox = OutboxSender(self.sessions, self.outputs, clock)
        self.engine.on_outbox = self.outbox.poke
        self.reminders = ReminderClock(self.sessions, clock, settings.reminder_grace_period, on_queued=self.outbox.poke)
        # a reload asked of one worker process reaches the others (they poll the version row)
        self.content_versions = ContentVersions(
            self.sessions, clock, partial(self.engine.reload_content, announce=False),
            every=settings.content_check_seconds,
        )
        self.engine.on_reloaded = self.content_versions.announce
        self.draining = False
        self.engine.load_content()

    @classmethod
    async def create(cls, settings: Settings, *, clock: Clock | None = None, migrate: bool = True) -> App:
        if migrate:
            await upgrade(settings.database_url)
        return cls(settings, create_engine(settings.database_url), clock or Clock())

    async def close(self) -> None:
        await self.reminders.stop()
        await self.db.dispose()


def control_token_file(settings: Settings) -> Path:
    """Where the bot serving ``settings.web_port`` keeps its control secret (one per port)."""
    return PROJECT_ROOT / "var" / f"control-{settings.web_port}.token"


# Control-token files this process wrote, each kept open with an exclusive flock for the process's life:
# a token file nobody holds locked belongs to a process that is gone (killed, crashed) and is removed.
_HELD_TOKENS: dict[Path, int] = {}


def write_control_token(settings: Settings) -> str:
    """A fresh secret for the loopback control endpoint, readable only by this user (``lideres kb reload``).
    ``remove_control_token`` deletes the file when the bot stops; files left by processes that died
    without stopping are deleted here, so they do not pile up under var/."""
    path = control_token_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_control_tokens(path.parent)
    token = secrets.token_urlsafe(32)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".control-", suffix=".tmp")  # mode 0600
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # before the file has its name: never seen unlocked
        os.write(fd, token.encode())
        os.replace(temporary, path)
    except BaseException:
        os.close(fd)
        Path(temporary).unlink(missing_ok=True)
        raise
    previous = _HELD_TOKENS.pop(path, None)
    if previous is not None:
        os.close(previous)
    _HELD_TOKENS[path] = fd
    return token


def chat_url(settings: Settings, addresses: list[Any]) -> str:
    """Where to open the web chat: the port actually bound (``LIDERES_WEB_PORT=0`` picks one), and this machine's
    loopback address when the server listens on every interface."""
    port = addresses[0][1] if addresses else settings.web_port
    host = "127.0.0.1" if settings.web_host in ("", "0.0.0.0", "::") else settings.web_host
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def remove_control_token(settings: Settings) -> None:
    """The bot stops: its control-token file goes (if it is still the one this process wrote)."""
    path = control_token_file(settings)
    fd = _HELD_TOKENS.pop(path, None)
    if fd is None:
        return
    try:
        if _same_file(fd, path):
            path.unlink()
    finally:
        os.close(fd)


def remove_stale_control_tokens(folder: Path) -> list[Path]:
    """Delete the control-token files no living process holds locked."""
    removed = []
    for path in folder.glob("control-*.token"):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # gone meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # held: its bot is running
        else:
            if _same_file(fd, path):
                path.unlink()
                removed.append(path)
        finally:
            os.close(fd)
    if removed:
        log.info("stale control tokens removed", extra={"count": len(removed)})
    return removed


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _routers() -> list[Router]:
    from handlers import all_routers

    return all_routers()


async def serve(settings: Settings) -> None:
    """``lideres run``: web server, channels from the configuration, outbox; stops cleanly on SIGTERM."""
    from aiohttp import web

    from bot.server import build_server

    app = await App.create(settings)
    web_app = build_server(app, control_token=write_control_token(settings))
    plugins = enabled_plugins(settings)
    channels: list[Channel] = [plugin.create(app, web_app) for plugin in plugins]
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.web_host, settings.web_port)
    await site.start()
    for channel in channels:
        await channel.start()
    outbox_task = asyncio.create_task(app.outbox.run(), name="outbox")
    housekeeping_task = asyncio.create_task(privacy.housekeeping(app.sessions, settings, app.clock),
                                            name="privacy-housekeeping")
    content_task = asyncio.create_task(app.content_versions.run(), name="content-versions")
    await app.reminders.start()  # what fell due while the bot was down, then a job per pending reminder
    freeze_heap()  # last: what start-up built stays; what messages build is collected as usual

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            log.warning("second signal: exiting now")
            os._exit(1)
        stop.set()

    # Before "bot started": a supervisor (or a test) that signals as soon as it reads the line must get a clean
    # stop, not the default handler's abrupt exit.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    log.info("bot started", extra={"web": f"{settings.web_host}:{settings.web_port}",
                                   "channels": [plugin.name for plugin in plugins]})
    if settings.web_chat:
        print(f"Web chat: {chat_url(settings, runner.addresses)}", flush=True)  # what `make run` shows a person
    await stop.wait()
    log.info("stopping: no new messages, finishing those in flight")
    app.draining = True
    for channel in channels:
        await channel.stop()
    await app.engine.drain()
    await app.reminders.stop()
    # The outbox stops while the channels can still send: the sends in flight finish and their results are
    # written. Closed first, a channel would fail them half-way and leave rows in doubt ("sending").
    outbox_task.cancel()
    housekeeping_task.cancel()
    content_task.cancel()
    await asyncio.gather(outbox_task, housekeeping_task, content_task, return_exceptions=True)
    for channel in channels:
        await channel.close()
    await runner.cleanup()
    await app.close()
    remove_control_token(settings)
    log.info("stopped")
