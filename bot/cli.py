"""The ``lideres`` command (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot import logs
from bot.config import ConfigError, Settings, load_settings
from bot.services.coordinators_cli import add_commands as add_coordinator_commands
from bot.services.knowledge.commands import add_commands as add_knowledge_commands
from bot.services.mentoring_cli import add_commands as add_mentoring_commands
from bot.services.privacy import add_commands as add_privacy_commands


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
    except ConfigError as exc:  # a content file the bot cannot start with (e.g. the idea form)
        print(f"lideres: configuration error: {exc}", file=sys.stderr)
        return 2
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
    db_upgrade.add_argument("revision", nargs="?", default="heads")
    db_upgrade.set_defaults(func=_db_upgrade)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal (or pipe lines in)")
    chat.add_argument("--user", default="console-user", help="who you are (a console user id)")
    chat.add_argument("--lang", choices=["es", "en"], default=None, help="your platform language")
    chat.set_defaults(func=_chat)

    kb = commands.add_parser("kb", help="knowledge base tools")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True)
    kb_reload = kb_commands.add_parser(
        "reload", help="reload the knowledge base in the running bot (or check it when none runs)"
    )
    kb_reload.set_defaults(func=_kb_reload)
    add_knowledge_commands(commands)  # ask, and kb check beside kb reload
    add_coordinator_commands(commands)  # admin grant / revoke, export
    add_mentoring_commands(commands)  # mentors add/list, slots add/list
    add_privacy_commands(commands)  # privacy export, forget, purge

    form = commands.add_parser("form", help="the network's idea-submission form")
    form_commands = form.add_subparsers(dest="form_command", required=True)
    form_check = form_commands.add_parser("check", help="validate the form file (LIDERES_FORM_FILE)")
    form_check.add_argument("file", nargs="?", type=Path, help="a form file (default: LIDERES_FORM_FILE)")
    form_check.set_defaults(func=_form_check)
    return parser


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
        outbox = asyncio.create_task(app.outbox.run())  # broadcasts start and finish as with `lideres run`
        try:
            await ConsoleChat(app.engine, args.user, args.lang or settings.default_language).run()
        finally:
            outbox.cancel()
            await asyncio.gather(outbox, return_exceptions=True)
            await app.close()

    asyncio.run(chat())
    return 0


def _kb_reload(settings: Settings, _args: argparse.Namespace) -> int:
    """Ask the bot running on this machine (same LIDERES_WEB_PORT) to reload; without one, check the files,
    which the bot loads when it starts."""
    import json
    import urllib.error
    import urllib.request

    from bot.app import control_token_file
    from bot.services.knowledge.entries import load_knowledge

    token_file = control_token_file(settings)
    host = "127.0.0.1" if settings.web_host in ("0.0.0.0", "") else settings.web_host
    request = urllib.request.Request(
        f"http://{host}:{settings.web_port}/control/reload",
        method="POST",
        headers={"Authorization": f"Bearer {token_file.read_text().strip() if token_file.exists() else ''}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            summary = json.load(response)
    except (urllib.error.URLError, OSError):
        loaded = load_knowledge(settings.knowledge_dir)
        for problem in loaded.problems:
            print(problem)
        print(f"no running bot answered on port {settings.web_port}; {len(loaded.entries)} entries are valid "
              "and will load when it starts")
        return 1 if loaded.problems else 0
    for problem in summary.get("knowledge_problems", []):
        print(problem)
    print(f"reloaded in the running bot: {summary.get('knowledge_entries', 0)} entries")
    return 1 if summary.get("knowledge_problems") else 0


def _form_check(settings: Settings, args: argparse.Namespace) -> int:
    """Check a form file before the bot loads it: every problem, by place, or a one-line summary."""
    from bot.services.submissions import load_form

    path = args.file or settings.form_file
    form = load_form(path)  # a FormError is a ConfigError: main() prints its problems, exit 2
    print(f"{path}: {len(form.fields)} fields, the call is {'open' if form.competition.open else 'closed'}")
    return 0
