"""The ``lideres`` command (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from bot import logs
from bot.config import ConfigError, Settings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"lideres: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level if args.command != "chat" else "WARNING")
    try:
        return int(args.func(settings, args) or 0)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lideres", description="lideres-bot, the network's chat assistant")
    commands = parser.add_subparsers(dest="command")

    run = commands.add_parser("run", help="upgrade the database, load content and start the bot")
    run.set_defaults(func=_run)

    config = commands.add_parser("config", help="print the effective configuration, secrets masked")
    config.set_defaults(func=_config)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_commands.add_parser("upgrade", help="apply the migrations")
    db_upgrade.add_argument("revision", nargs="?", default="head")
    db_upgrade.set_defaults(func=_db_upgrade)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal (or pipe lines in)")
    chat.add_argument("--user", default="console-user", help="who you are (a console user id)")
    chat.add_argument("--lang", choices=["es", "en"], default=None, help="your platform language")
    chat.set_defaults(func=_chat)

    for extend in COMMAND_EXTENSIONS:
        extend(commands)
    return parser


COMMAND_EXTENSIONS: list[Callable[[argparse._SubParsersAction], None]] = []


def _run(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.app import serve

    asyncio.run(serve(settings))
    return 0


def _config(settings: Settings, _args: argparse.Namespace) -> int:
    for name, value in settings.masked().items():
        print(f"{name}={value}")
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db.migrate import upgrade_sync

    upgrade_sync(settings.database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.channels.console import ConsoleChat

    async def chat() -> None:
        app = await App.create(settings)
        try:
            await ConsoleChat(app.engine, args.user, args.lang or settings.default_language).run()
        finally:
            await app.close()

    asyncio.run(chat())
    return 0
