"""``lideres admin`` and ``lideres export``: the coordinators' command line, on the same services as the chat.

    lideres admin grant telegram:12345 coordinator   # also for someone who never wrote to the bot yet
    lideres admin revoke telegram:12345              # back to entrepreneur
    lideres export submissions --format xlsx --out ideas.xlsx   # tables: bot.services.exports.EXPORTS

Each change is written to the audit log (``via: cli``); an error exits 1 with its reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.db.migrate import upgrade
from bot.db.models import ROLES
from bot.db.session import create_engine, session_factory
from bot.services import exports, roles
from bot.services.submissions import load_form


def add_commands(subparsers: Any) -> None:
    admin = subparsers.add_parser("admin", help="roles of members (admins, coordinators, mentors)")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    grant = admin_commands.add_parser("grant", help="give a member a role")
    grant.add_argument("member", help="CHANNEL:ID, e.g. telegram:12345")
    grant.add_argument("role", choices=ROLES)
    grant.set_defaults(func=_grant)
    revoke = admin_commands.add_parser("revoke", help="take a member's role back (entrepreneur)")
    revoke.add_argument("member", help="CHANNEL:ID")
    revoke.set_defaults(func=_revoke)

    export = subparsers.add_parser("export", help="write a table as CSV or XLSX")
    export.add_argument("what", choices=sorted(exports.EXPORTS))
    export.add_argument("--format", choices=exports.FORMATS, default="xlsx")
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument("--lang", choices=["es", "en"], default=None, help="language of the answers' labels")
    export.set_defaults(func=_export)


def _grant(settings: Settings, args: argparse.Namespace) -> int:
    return _set(settings, args.member, args.role)


def _revoke(settings: Settings, args: argparse.Namespace) -> int:
    return _set(settings, args.member, roles.DEFAULT_ROLE)


def _set(settings: Settings, member_text: str, role: str) -> int:
    member = roles.parse_member(member_text, "")
    if member is None or not member[0]:
        print(f"lideres: {member_text!r} is not CHANNEL:ID (e.g. telegram:12345)", file=sys.stderr)
        return 1

    async def run() -> int:
        await upgrade(settings.database_url)
        db = create_engine(settings.database_url)
        try:
            async with session_factory(db)() as session, session.begin():
                change = await roles.set_role(session, *member, role, actor_id=None, now=Clock().now(), create=True,
                                              via="cli")
        finally:
            await db.dispose()
        assert change is not None
        state = f"was {change.before}" if change.changed else "unchanged"
        print(f"{member[0]}:{member[1]} is {role} ({state})")
        if role != "admin" and roles.bootstrapped(settings, change.user):
            print("note: listed in LIDERES_ADMINS, so admin again at the next message", file=sys.stderr)
        return 0

    return asyncio.run(run())


def _export(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> int:
        await upgrade(settings.database_url)
        db = create_engine(settings.database_url)
        try:
            async with session_factory(db)() as session:
                table = await exports.build(session, args.what, load_form(settings.form_file),
                                            args.lang or settings.default_language)
        finally:
            await db.dispose()
        args.out.write_bytes(exports.render(table, args.format))
        print(f"{args.out}: {len(table.rows)} rows of {args.what} ({args.format})")
        return 0

    return asyncio.run(run())
