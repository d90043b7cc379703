"""What the bot stores about a person, and their rights over it: a copy of everything (/mydata, ``lideres
privacy export``) and being forgotten (/forgetme, ``lideres privacy forget``); first contacts who never agree
to the privacy notice are forgotten the same way after ``settings.unconsented_retention_days``.

The map of a person's data is derived from the models' metadata, so a table added later is covered with no
list to update here:

- **their rows**: every row of every table with a foreign key to ``users.id`` naming them. Forgetting follows
  what the key declares for a deleted person: ``ON DELETE SET NULL`` (someone else's record that names them
  as its author or actor: an answer, an audit entry, a review) is unlinked; any other key (their own data:
  profile, conversation, questions, messages to them, introductions) is deleted; except the tables with a
  retention rule (``RETAINED``): a submitted idea keeps its aggregate answers (region, SDGs, stage), status,
  reference and day, and loses its title, texts, contact and files, for the competition's statistics.
- **their platform records**: rows that name them by platform identity instead of a key: tables with
  ``channel`` and ``external_id`` columns (messages whose handler failed) and message journals (a ``channel``
  column and a JSON column holding the serialized ``Incoming``, whose ``user_id`` is theirs). Deleted.
- **copies**: the bot quotes a member in messages and records meant for others (a coordinator's notice of
  their question, the contact sent to the member whose introduction they accepted). In ``COPY_TABLES`` their
  name, platform id, e-mails, phones and texts are replaced by ``REDACTED``; their e-mails and phones are
  redacted in every other table too (an identifier is theirs wherever it is). Names and texts are not
  rewritten in other members' own texts: "Ana" in someone else's idea may be another Ana.
- **the users row** stays as an anonymous record (no platform id, no name; dates to the day), so the
  network's counts (people per source, language, region) and the retained submissions stay right.

Afterwards every text and JSON column of every table is searched again for what was theirs, and the places
still holding any are reported (table and column, never the value).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import re
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, String, Table, Text, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import AuditLog, Base, Submission, User
from bot.db.session import create_engine, session_factory
from bot.services import mentoring, submissions, users
from bot.services.network import EMAIL_IN_TEXT

log = logging.getLogger("bot.privacy")

FORGOTTEN_CHANNEL = "forgotten"  # the channel of anonymous records: no channel delivers to it
REDACTED = "[…]"
COPY_TABLES = ("deliveries", "audit_log")  # rows written by the bot for others that may quote a member
MIN_TEXT = 12  # a string the member wrote counts as their text (searched in copies) from this length and 2 words
MIN_EXTERNAL_ID = 4  # shorter platform ids ("ana" in the console) would match inside ordinary words
AGGREGATE_TYPES = ("choice", "multichoice")  # answers that stay in a forgotten member's submission

_MACHINE = re.compile(r"^[a-z0-9_:./-]*$")  # choice values, statuses, payloads: not a person's words


# -- the map, from the metadata ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A column of ``table`` that names a user by ``users.id``."""

    table: Table
    column: Column[Any]
    ondelete: str

    @property
    def owned(self) -> bool:
        """Rows the user owns (deleted with them), as opposed to records naming them (unlinked)."""
        return self.ondelete != "SET NULL"


def links() -> list[Link]:
    users = User.__table__
    found = []
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table is users and key.column.name == "id":
                found.append(Link(table, key.parent, (key.ondelete or "").upper()))
    return found


def identity_tables() -> list[Table]:
    """Tables naming a person by platform identity (``channel`` and ``external_id``), users aside."""
    return [table for table in Base.metadata.sorted_tables
            if table.name != User.__tablename__ and {"channel", "external_id"} <= set(table.c.keys())]


def journal_columns() -> list[tuple[Table, Column[Any]]]:
    """Message journals: a ``channel`` column beside a JSON column of serialized ``Incoming`` messages."""
    return [(table, column) for table in Base.metadata.sorted_tables if "channel" in table.c
            and "external_id" not in table.c for column in table.c if column.name == "incoming"
            and isinstance(column.type, JSON)]


def text_columns(table: Table) -> list[Column[Any]]:
    """Columns that can hold a person's words or identifiers: text and JSON, keys aside."""
    return [column for column in table.c if isinstance(column.type, (String, Text, JSON))
            and not column.primary_key and not column.foreign_keys]


# -- reading a person's data ---------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A database value as JSON: dates as ISO text, bytes as base64."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def _row(mapping: Any) -> dict[str, Any]:
    return {str(key): plain(value) for key, value in dict(mapping).items()}


async def _rows(session: AsyncSession, table: Table, *where: ColumnElement[bool]) -> list[dict[str, Any]]:
    result = await session.execute(select(table).where(*where))
    return [_row(mapping) for mapping in result.mappings()]


async def _journal_rows(session: AsyncSession, table: Table, column: Column[Any], user: User
                        ) -> list[dict[str, Any]]:
    """Journal rows of the user's channel whose message came from them (pre-filtered by text, then read)."""
    query = select(table).where(table.c.channel == user.channel, _contains_any(session, [column], [user.external_id]))
    rows = []
    for mapping in (await session.execute(query)).mappings():
        message = mapping[column.name]
        if isinstance(message, dict) and message.get("user_id") == user.external_id:
            rows.append(_row(mapping))
    return rows


@dataclass
class PersonalData:
    """Everything stored about one member, by table."""

    user: dict[str, Any]
    own: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # rows they own, by table
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # others' records naming them
    platform: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # rows naming their platform id
    mentions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # others' messages quoting them

    def document(self, now: datetime) -> dict[str, Any]:
        return {"generated_at": now.isoformat(), "you": self.user, "your_data": self.own,
                "records_naming_you": self.records, "your_messages_as_received": self.platform,
                "messages_to_others_quoting_you": self.mentions}


async def collect(session: AsyncSession, user: User, *, mentions: bool = True) -> PersonalData:
    """Every row about ``user`` in every table (see the module's docstring for how they are found);
    ``mentions``: also others' messages quoting them (a scan of the copy tables, which forgetting redacts
    anyway without reading them first)."""
    users = Base.metadata.tables[User.__tablename__]
    data = PersonalData(user=(await _rows(session, users, users.c.id == user.id))[0])
    for link in links():
        rows = await _rows(session, link.table, link.column == user.id)
        if rows:
            target = data.own if link.owned else data.records
            target.setdefault(link.table.name, []).extend(rows)
    for table in identity_tables():
        rows = await _rows(session, table, table.c.channel == user.channel, table.c.external_id == user.external_id)
        if rows:
            data.platform[table.name] = rows
    for table, column in journal_columns():
        rows = await _journal_rows(session, table, column, user)
        if rows:
            data.platform.setdefault(table.name, []).extend(rows)
    if not mentions:
        return data
    values = personal_values(user, data)
    own_ids = {(name, row.get("id")) for name, rows in data.own.items() for row in rows}
    for table in _copy_tables():
        for row in await _rows_quoting(session, table, values):
            if (table.name, row.get("id")) not in own_ids:
                data.mentions.setdefault(table.name, []).append(row)
    return data


async def export(session: AsyncSession, user: User, now: datetime) -> bytes:
    """The JSON document /mydata sends: everything stored about ``user``, readable as it is."""
    document = (await collect(session, user)).document(now)
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode()


# -- what is theirs, to find it elsewhere ------------------------------------------------------------------


@dataclass(frozen=True)
class Values:
    """What identifies a member or is their own words, to find and redact where the bot copied it."""

    identifiers: frozenset[str]  # e-mails and phones: theirs wherever they appear
    names: frozenset[str]  # platform name, profile name, platform id: whole words, in copies
    texts: frozenset[str]  # what they wrote (two words and MIN_TEXT characters or more), in copies

    @property
    def everything(self) -> list[str]:
        return sorted(self.identifiers | self.names | self.texts)


def _strings(value: Any, key: str | None = None) -> Iterator[tuple[str | None, str]]:
    """Every string inside a value, with the key it is under (None at the top or in a list)."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for inner, item in value.items():
            yield from _strings(item, str(inner))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, key)


def personal_values(user: User, data: PersonalData) -> Values:
    """Identifiers and words of ``user`` from the rows they own and their messages as received (not from
    messages the bot wrote to them, which are the bot's words, nor from others' records naming them)."""
    identifiers: set[str] = set()
    names = {name.strip() for name in (user.display_name,) if name and len(name.strip()) >= 2}
    if len(user.external_id) >= MIN_EXTERNAL_ID:
        names.add(user.external_id)
    names.update(str(row["name"]).strip() for row in data.own.get("profiles", []) if row.get("name"))
    texts: set[str] = set()
    sources = {name: rows for name, rows in [*data.own.items(), *data.platform.items()] if name not in COPY_TABLES}
    for name, rows in sources.items():
        columns = {column.name for column in text_columns(Base.metadata.tables[name])}
        for row in rows:
            for column in columns & set(row):
                for key, text in _strings(row[column]):
                    if key in IDENTITY_KEYS:
                        continue
                    identifiers.update(found.group() for found in EMAIL_IN_TEXT.finditer(text))
                    if _is_phone(key, text):
                        identifiers.add(" ".join(text.split()))
                    elif len(text.strip()) >= MIN_TEXT and " " in text.strip() and not _MACHINE.match(text):
                        texts.add(text.strip())
    return Values(frozenset(identifiers), frozenset(names), frozenset(texts - identifiers))


IDENTITY_KEYS = ("user_id", "message_id", "update_id", "file_ref", "payload", "channel")  # inside journals


def _is_phone(key: str | None, text: str) -> bool:
    """A phone number: under a ``phone`` key, or written like one (with + or separators; a bare run of
    digits elsewhere is more likely a platform id or a count)."""
    phone = submissions.normalize_phone(text.strip()) if any(ch.isdigit() for ch in text) else None
    if phone is None:
        return False
    return key == "phone" or phone.startswith("+") or any(ch in phone for ch in " -.()")


def _escape_like(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _contains_any(session: AsyncSession, columns: Sequence[Column[Any]], values: Iterable[str]
                  ) -> ColumnElement[bool]:
    """A pre-filter: one of the columns, as text, contains one of ``values`` (case-insensitive) as stored, or
    as a JSON column stores it (non-ASCII escaped). The columns are joined into one text per row, so a table
    is scanned once whatever its number of columns; the match is then confirmed column by column in Python."""
    texts: list[ColumnElement[Any]] = [
        func.coalesce(column if isinstance(column.type, (String, Text)) else column.cast(Text), "")
        for column in columns]
    joined = texts[0]
    for text in texts[1:]:
        joined = joined + "\x1f" + text
    patterns = set()
    for value in values:
        patterns.add(value)
        patterns.add(json.dumps(value)[1:-1])
    # SQLite's LIKE already ignores (ASCII) case; ILIKE there would lower() the row's text once per pattern.
    like = joined.like if session.get_bind().dialect.name == "sqlite" else joined.ilike
    return or_(*(like(f"%{_escape_like(pattern)}%", escape="/") for pattern in sorted(patterns)))


def _copy_tables() -> list[Table]:
    return [Base.metadata.tables[name] for name in COPY_TABLES if name in Base.metadata.tables]


async def _rows_quoting(session: AsyncSession, table: Table, values: Values) -> list[dict[str, Any]]:
    columns = text_columns(table)
    if not values.everything or not columns:
        return []
    query = select(table).where(_contains_any(session, columns, values.everything))
    redactor = Redactor(values)
    return [_row(mapping) for mapping in (await session.execute(query)).mappings()
            if any(redactor.changes(mapping[column.name]) for column in columns)]


class Redactor:
    """Replaces a member's values in a text or inside a JSON value (names as whole words)."""

    def __init__(self, values: Values) -> None:
        self.values = values
        exact = sorted(values.identifiers | values.texts, key=len, reverse=True)
        whole = sorted(values.names, key=len, reverse=True)
        parts = [re.escape(value) for value in exact] + [rf"(?<!\w){re.escape(value)}(?!\w)" for value in whole]
        self.pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def text(self, text: str) -> str:
        return self.pattern.sub(REDACTED, text) if self.pattern is not None else text

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value

    def changes(self, value: Any) -> bool:
        return value is not None and self.value(value) != value


async def _holding(session: AsyncSession, table: Table, values: Values
                   ) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Rows of ``table`` holding one of ``values`` in some text or JSON column: (primary key, {column: value}
    of the columns that hold one}). One scan of the table, pre-filtered in SQL, confirmed in Python."""
    columns = text_columns(table)
    keys = list(table.primary_key.columns)
    if not columns or not keys or not values.everything:
        return []
    redactor = Redactor(values)
    query = select(*keys, *columns).where(_contains_any(session, columns, values.everything))
    found = []
    for row in (await session.execute(query)).all():
        holding = {column.name: row[len(keys) + index] for index, column in enumerate(columns)
                   if redactor.changes(row[len(keys) + index])}
        if holding:
            found.append((tuple(row[:len(keys)]), holding))
    return found


async def _redact(session: AsyncSession, table: Table, values: Values) -> int:
    """Redact ``values`` in every text and JSON column of ``table``; returns the rows changed."""
    redactor = Redactor(values)
    keys = list(table.primary_key.columns)
    rows = await _holding(session, table, values)
    for key, holding in rows:
        where = and_(*(column == value for column, value in zip(keys, key, strict=True)))
        await session.execute(update(table).where(where)
                              .values({name: redactor.value(value) for name, value in holding.items()}))
    return len(rows)


def _scope(table: Table, values: Values) -> Values:
    """All of ``values`` in the copy tables; elsewhere only identifiers (a name may be someone else's)."""
    return values if table.name in COPY_TABLES else Values(values.identifiers, frozenset(), frozenset())


async def remaining(session: AsyncSession, values: Values) -> dict[str, int]:
    """``table.column`` → rows that still hold one of ``values`` (names and texts only in copies, where
    they are redacted; elsewhere a name may be someone else's)."""
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for _key, holding in await _holding(session, table, _scope(table, values)):
            for name in holding:
                found[f"{table.name}.{name}"] = found.get(f"{table.name}.{name}", 0) + 1
    return found


# -- forgetting ----------------------------------------------------------------------------------------------


async def _retain_submissions(session: AsyncSession, user: User, settings: Settings) -> int:
    """Drafts go; a submitted idea stays for the competition's statistics with its aggregate answers (the
    form's choice fields: region, SDGs, stage), status and reference, its dates to the day, and nothing the
    person wrote. Comments of reviews on it (text columns of tables pointing at it) are cleared too."""
    await session.execute(delete(Submission).where(Submission.user_id == user.id, Submission.status == "draft"))
    try:
        form = submissions.load_form(settings.form_file)
        aggregate = {item.name for item in form.fields if item.type in AGGREGATE_TYPES}
    except submissions.FormError:
        aggregate = set()  # without the form nothing can be told apart: keep no answer
    kept = list(await session.scalars(select(Submission).where(Submission.user_id == user.id)))
    for submission in kept:
        submission.answers = {name: value for name, value in (submission.answers or {}).items() if name in aggregate}
        submission.title = None
        submission.created_at = _day(submission.created_at)
        submission.updated_at = _day(submission.updated_at)
        submission.submitted_at = _day(submission.submitted_at) if submission.submitted_at else None
    ids = [submission.id for submission in kept]
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table is Submission.__table__ and ids:
                clearable = [c for c in table.c if isinstance(c.type, Text) and c.nullable]
                if clearable:
                    await session.execute(update(table).where(key.parent.in_(ids))
                                          .values({column.name: None for column in clearable}))
    await session.flush()
    return len(kept)


RETAINED = {"submissions": _retain_submissions}  # table → what stays of a forgotten member's rows


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Forgotten:
    """What forgetting did, by table, and where something of theirs may remain (names, never values)."""

    user_id: int
    deleted: dict[str, int] = field(default_factory=dict)
    unlinked: dict[str, int] = field(default_factory=dict)
    retained: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    remaining: dict[str, int] = field(default_factory=dict)
    sessions_cancelled: int = 0  # coming mentoring sessions, the other side told


async def forget(session: AsyncSession, user: User, settings: Settings, now: datetime, *,
                 reason: str = "request") -> Forgotten:
    """Forget ``user`` in the caller's transaction (see the module's docstring). The users row stays as an
    anonymous record; nothing in it or anywhere else names them afterwards. Whoever had a mentoring session
    with them still to come is told first (the rows that would tell them go with the rest)."""
    done = Forgotten(user.id, sessions_cancelled=await mentoring.withdraw(session, user, now=now))
    data = await collect(session, user, mentions=False)
    values = personal_values(user, data)
    for name, rule in RETAINED.items():
        if name in Base.metadata.tables:
            kept = await rule(session, user, settings)
            if kept:
                done.retained[name] = kept
    for link in reversed(links()):  # rows that point at others' first, so no key stops a delete
        if link.table.name in RETAINED:
            continue
        if link.owned:
            result = await session.execute(delete(link.table).where(link.column == user.id))
            _count(done.deleted, link.table.name, result)
        else:
            result = await session.execute(update(link.table).where(link.column == user.id)
                                           .values({link.column.name: None}))
            _count(done.unlinked, link.table.name, result)
    for table in identity_tables():
        result = await session.execute(delete(table).where(table.c.channel == user.channel,
                                                           table.c.external_id == user.external_id))
        _count(done.deleted, table.name, result)
    for table, column in journal_columns():
        keys = list(table.primary_key.columns)
        for row in await _journal_rows(session, table, column, user):
            result = await session.execute(delete(table).where(*(key == row[key.name] for key in keys)))
            _count(done.deleted, table.name, result)
    for table in Base.metadata.sorted_tables:
        changed = await _redact(session, table, _scope(table, values))
        if changed:
            done.redacted[table.name] = changed
    anonymise(user, now)
    session.add(AuditLog(actor_id=None, action="privacy.forget", target=f"user:{user.id}",
                         details={"reason": reason}, created_at=now))
    await session.flush()
    done.remaining = await remaining(session, values)
    log.info("member forgotten", extra={"user": user.id, "reason": reason, "deleted": done.deleted,
                                        "retained": done.retained, "redacted": done.redacted})
    if done.remaining:
        log.warning("personal values may remain", extra={"user": user.id, "places": done.remaining})
    return done


def _count(counts: dict[str, int], table: str, result: Any) -> None:
    rowcount = int(getattr(result, "rowcount", 0) or 0)
    if rowcount > 0:
        counts[table] = counts.get(table, 0) + rowcount


def anonymise(user: User, now: datetime) -> None:
    """The users row as an anonymous record: kept for the counts (source, language, region, role, whether
    they agreed), with nothing that leads back to the person. A new message from them starts afresh."""
    user.channel = FORGOTTEN_CHANNEL
    user.external_id = uuid.uuid4().hex
    user.display_name = None
    user.timezone = None
    user.language_chosen = False
    user.role = "entrepreneur"
    user.broadcast_opt_out = True
    user.blocked_at = _day(now)
    user.last_seen_at = None
    user.created_at = _day(user.created_at)
    user.consent_at = _day(user.consent_at) if user.consent_at else None


async def find(session: AsyncSession, who: str) -> User | None:
    """``CHANNEL:ID`` (as in ``LIDERES_ADMINS``) → that user, not an anonymous record."""
    channel, _, external_id = who.partition(":")
    if not channel or not external_id or channel == FORGOTTEN_CHANNEL:
        return None
    return await users.find(session, channel, external_id)


async def unconsented(session: AsyncSession, now: datetime, days: int, limit: int = 500) -> list[int]:
    """Ids of first contacts older than ``days`` who never agreed to the privacy notice."""
    query = (select(User.id).where(User.consent_at.is_(None), User.channel != FORGOTTEN_CHANNEL,
                                   User.created_at < now - timedelta(days=days))
             .order_by(User.id).limit(limit))
    return list(await session.scalars(query))


async def purge_unconsented(sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """Forget first contacts who never agreed within ``settings.unconsented_retention_days``; one transaction
    each, so one failure leaves the others done. Returns how many were forgotten."""
    async with sessions() as session:
        ids = await unconsented(session, now, settings.unconsented_retention_days)
    done = 0
    for user_id in ids:
        try:
            async with sessions() as session, session.begin():
                user = await session.get(User, user_id, with_for_update=True)
                if user is None or user.consent_at is not None or user.channel == FORGOTTEN_CHANNEL:
                    continue  # they agreed (or were forgotten) meanwhile
                await forget(session, user, settings, now, reason="no consent")
                done += 1
        except Exception:
            log.exception("could not anonymise a first contact", extra={"user": user_id})
    return done


async def housekeeping(sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock,
                       every: float = 3600) -> None:
    """``lideres run``'s hourly pass: first contacts who never agreed are anonymised once their time is up."""
    while True:
        try:
            purged = await purge_unconsented(sessions, settings, clock.now())
            if purged:
                log.info("first contacts without consent anonymised", extra={"count": purged})
        except Exception:  # the database may be away for a while; the next pass tries again
            log.exception("privacy housekeeping failed")
        await asyncio.sleep(every)


# -- the command line ----------------------------------------------------------------------------------------


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``lideres privacy export|forget|purge``: the same rights for a request received by e-mail or letter."""
    parser = commands.add_parser("privacy", help="a member's data: export it, forget it")
    actions = parser.add_subparsers(dest="privacy_command", required=True)
    export_cmd = actions.add_parser("export", help="write everything stored about CHANNEL:ID as JSON")
    export_cmd.add_argument("who", metavar="CHANNEL:ID", help="e.g. telegram:12345 (as in LIDERES_ADMINS)")
    export_cmd.add_argument("--out", type=Path, help="the file to write (default: standard output)")
    export_cmd.set_defaults(func=_export_command)
    forget_cmd = actions.add_parser("forget", help="delete and anonymise everything about CHANNEL:ID")
    forget_cmd.add_argument("who", metavar="CHANNEL:ID", help="e.g. whatsapp:59170012345")
    forget_cmd.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget_cmd.set_defaults(func=_forget_command)
    purge_cmd = actions.add_parser("purge", help="anonymise first contacts who never agreed to the notice "
                                                 "(LIDERES_UNCONSENTED_RETENTION_DAYS)")
    purge_cmd.set_defaults(func=_purge_command)


def _export_command(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> bytes | None:
        async with _database(settings) as sessions, sessions() as session:
            user = await find(session, args.who)
            return None if user is None else await export(session, user, Clock().now())

    document = asyncio.run(run())
    if document is None:
        print(f"lideres: nobody is {args.who}", file=sys.stderr)
        return 1
    if args.out is None:
        sys.stdout.write(document.decode() + "\n")
    else:
        args.out.write_bytes(document)
        print(f"{args.out}: {len(document)} bytes")
    return 0


def _forget_command(settings: Settings, args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            print("lideres: forgetting cannot be undone; add --yes to confirm", file=sys.stderr)
            return 2
        answer = input(f"Forget {args.who}? This cannot be undone. Type the id again to confirm: ")
        if answer.strip() != args.who:
            print("nothing done")
            return 1
    done = asyncio.run(forget_by_id(settings, args.who, reason="request outside the chat"))
    if done is None:
        print(f"lideres: nobody is {args.who}", file=sys.stderr)
        return 1
    print(report(done))
    return 0 if not done.remaining else 3


async def forget_by_id(settings: Settings, who: str, *, reason: str) -> Forgotten | None:
    """``lideres privacy forget``: the same as /forgetme, in one transaction; None when nobody is ``who``."""
    async with _database(settings) as sessions, sessions() as session, session.begin():
        user = await find(session, who)
        if user is None:
            return None
        return await forget(session, user, settings, Clock().now(), reason=reason)


def report(done: Forgotten) -> str:
    lines = [f"forgotten: user {done.user_id} is now an anonymous record"]
    if done.sessions_cancelled:
        lines.append(f"  mentoring sessions cancelled, the other side told: {done.sessions_cancelled}")
    for title, counts in (("deleted", done.deleted), ("kept anonymised", done.retained),
                          ("unlinked", done.unlinked), ("redacted", done.redacted)):
        if counts:
            lines.append(f"  {title}: " + ", ".join(f"{table} {count}" for table, count in sorted(counts.items())))
    if done.remaining:
        lines.append("  still holding something of theirs (check by hand): "
                     + ", ".join(f"{place} {count}" for place, count in sorted(done.remaining.items())))
    else:
        lines.append("  nothing of theirs remains in any table")
    return "\n".join(lines)


def _purge_command(settings: Settings, _args: argparse.Namespace) -> int:
    async def run() -> int:
        async with _database(settings) as sessions:
            return await purge_unconsented(sessions, settings, Clock().now())

    print(f"{asyncio.run(run())} first contact(s) without consent anonymised")
    return 0


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
