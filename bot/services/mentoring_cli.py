"""``lideres mentors`` and ``lideres slots``: the coordinators' command line for mentoring (the same services as the
chat's /mentors and /slots). Answers are in ``LIDERES_DEFAULT_LANGUAGE``; an error exits 1 with its reason.

    lideres mentors add --user telegram:ID --name NAME --topics a,b --languages es,en --tz Area/City
    lideres mentors list
    lideres slots add --mentor telegram:ID --start ISO-8601 --minutes N [--repeat weekly --count N]
    lideres slots list [--mentor telegram:ID]

A start without an offset is a wall-clock time in the mentor's zone; a weekly series keeps that wall-clock time.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db.migrate import upgrade
from bot.db.models import Mentor, User
from bot.db.session import create_engine, session_factory
from bot.i18n import translate
from bot.services import mentoring, users
from bot.services.timezones import format_when, parse_iso

Command = Callable[[AsyncSession, Settings, argparse.Namespace, Callable[..., None]], Awaitable[int]]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mentors = commands.add_parser("mentors", help="mentors: add or update one, list them")
    mentor_commands = mentors.add_subparsers(dest="mentors_command", required=True)
    add = mentor_commands.add_parser("add", help="add a mentor (or update the one linked to that user)")
    add.add_argument("--user", required=True, help="their chat user, channel:id (e.g. telegram:12345)")
    add.add_argument("--name", required=True, help="the name entrepreneurs see")
    add.add_argument("--topics", required=True, help="comma-separated, e.g. finanzas,marketing")
    add.add_argument("--languages", required=True, help="comma-separated: es, en")
    add.add_argument("--tz", required=True, help="their time zone, e.g. Europe/Madrid")
    add.set_defaults(func=_runner(_mentors_add))
    listing = mentor_commands.add_parser("list", help="the mentors, their topics, languages and zones")
    listing.set_defaults(func=_runner(_mentors_list))

    slots = commands.add_parser("slots", help="mentors' free times: add, list")
    slot_commands = slots.add_subparsers(dest="slots_command", required=True)
    slot_add = slot_commands.add_parser("add", help="add a free time (or a weekly series) of a mentor")
    slot_add.add_argument("--mentor", required=True, help="the mentor's chat user, channel:id")
    slot_add.add_argument("--start", required=True, help="ISO-8601; without an offset, in the mentor's zone")
    slot_add.add_argument("--minutes", required=True, type=int, help="how long")
    slot_add.add_argument("--repeat", choices=["weekly"], help="repeat at the same time each week")
    slot_add.add_argument("--count", type=int, default=1,
                          help=f"how many times in all (at most {mentoring.MAX_REPEAT})")
    slot_add.set_defaults(func=_runner(_slots_add))
    slot_list = slot_commands.add_parser("list", help="coming free and booked times")
    slot_list.add_argument("--mentor", help="only this mentor's (channel:id)")
    slot_list.set_defaults(func=_runner(_slots_list))


def _runner(command: Command) -> Callable[[Settings, argparse.Namespace], int]:
    """Migrate, open one transaction, run ``command`` in it (committed unless it fails), print its lines."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        lines: list[str] = []

        def say(key: str, **values: object) -> None:
            lines.append(translate(key, settings.default_language, **values))

        async def main() -> int:
            await upgrade(settings.database_url)
            engine = create_engine(settings.database_url)
            try:
                async with session_factory(engine)() as session, session.begin():
                    return await command(session, settings, args, say)
            finally:
                await engine.dispose()

        code = asyncio.run(main())
        print("\n".join(lines))
        return code

    return run


async def _mentors_add(session: AsyncSession, settings: Settings, args: argparse.Namespace,
                       say: Callable[..., None]) -> int:
    key = mentoring.parse_user_key(args.user)
    name, topics = mentoring.clean_name(args.name), mentoring.clean_topics(args.topics)
    languages, zone = mentoring.clean_languages(args.languages), mentoring.clean_zone(args.tz)
    if key is None:
        say("mentoring.cli.bad_user", user=args.user[:40])
        return 1
    for checked in (name, topics, languages, zone):
        if isinstance(checked, mentoring.Problem):
            say(checked.key, **checked.values)
            return 1
    assert isinstance(name, str) and isinstance(topics, list) and isinstance(languages, list)
    assert isinstance(zone, str)
    user = await mentoring.user_by_key(session, *key, language=settings.default_language)
    mentor, created = await mentoring.save_mentor(session, user, name=name, topics=topics, languages=languages,
                                                  timezone=zone, now=Clock().now())
    say("mentoring.cli.mentor_added" if created else "mentoring.cli.mentor_updated", name=mentor.name,
        user=args.user, topics=", ".join(topics), languages=", ".join(languages), zone=zone)
    return 0


async def _mentors_list(session: AsyncSession, settings: Settings, _args: argparse.Namespace,
                        say: Callable[..., None]) -> int:
    mentors = await mentoring.all_mentors(session)
    if not mentors:
        say("mentoring.cli.no_mentors")
    for mentor in mentors:
        user = await session.get(User, mentor.user_id)
        say("mentoring.cli.mentor_line", name=mentor.name,
            user=f"{user.channel}:{user.external_id}" if user else "?", topics=", ".join(mentor.topics),
            languages=", ".join(mentor.languages), zone=mentor.timezone,
            state="" if mentor.active else translate("mentoring.inactive", settings.default_language))
    return 0


async def _mentor(session: AsyncSession, text: str, say: Callable[..., None]) -> Mentor | None:
    key = mentoring.parse_user_key(text)
    user = await users.find(session, *key) if key else None
    mentor = await mentoring.mentor_of(session, user.id) if user else None
    if mentor is None:
        say("mentoring.cli.no_such_mentor", user=text[:40])
    return mentor


async def _slots_add(session: AsyncSession, settings: Settings, args: argparse.Namespace,
                     say: Callable[..., None]) -> int:
    mentor = await _mentor(session, args.mentor, say)
    if mentor is None:
        return 1
    start = parse_iso(args.start, mentor.timezone)
    if start is None:
        say("mentoring.cli.bad_start", start=args.start[:40])
        return 1
    problem = mentoring.check_minutes(args.minutes)
    if problem is not None:
        say(problem.key, **problem.values)
        return 1
    count = args.count if args.repeat == "weekly" else 1
    if not 1 <= count <= mentoring.MAX_REPEAT:
        say("mentoring.error.count", max=mentoring.MAX_REPEAT)
        return 1
    lang = settings.default_language
    added = await mentoring.add_slots(session, mentor, start, args.minutes, now=Clock().now(), count=count)
    for slot in added.created:
        say("mentoring.cli.slot_added", id=slot.id, name=mentor.name,
            when=format_when(slot.starts_at, lang, mentor.timezone, slot.ends_at))
    for when, refused in added.refused:
        say("mentoring.cli.slot_refused", when=format_when(when, lang, mentor.timezone), reason=refused.text(lang))
    return 0 if added.created else 1


async def _slots_list(session: AsyncSession, settings: Settings, args: argparse.Namespace,
                      say: Callable[..., None]) -> int:
    lang, now = settings.default_language, Clock().now()
    if args.mentor:
        mentor = await _mentor(session, args.mentor, say)
        if mentor is None:
            return 1
        mentors = [mentor]
    else:
        mentors = await mentoring.all_mentors(session)
    shown = 0
    for mentor in mentors:
        for view in await mentoring.mentor_slots(session, mentor.id, now, limit=200):
            when = format_when(view.slot.starts_at, lang, mentor.timezone, view.slot.ends_at)
            if view.booked is None:
                say("mentoring.cli.slot_free", id=view.slot.id, name=mentor.name, when=when)
            else:
                say("mentoring.cli.slot_booked", id=view.slot.id, name=mentor.name, when=when,
                    topic=view.booked.topic)
            shown += 1
    if not shown:
        say("mentoring.cli.no_slots")
    return 0
