"""Users: found or created from the first message, with their language and bootstrap role.

Nothing personal is stored before the user agrees to the privacy notice: the first contact's row holds the
platform id (needed to answer at all), the language and the deep-link source; the name the platform gives is
kept only once they agreed (``remember_name``). A first contact who never agrees is anonymised after
``settings.unconsented_retention_days`` (``bot/services/privacy.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.models import COORDINATOR_ROLES, Conversation, User
from bot.db.session import upsert_insert
from bot.i18n import normalize_language
from bot.messages import Incoming

SEEN_GRANULARITY = timedelta(minutes=10)  # last_seen_at is for statistics; rewriting it per message costs a write


def key_is(channel: str, external_id: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The one way to find a user: by the channel and the platform's id, unique together. For ``where``."""
    return User.channel == channel, User.external_id == external_id


async def find(session: AsyncSession, channel: str, external_id: str) -> User | None:
    return await session.scalar(select(User).where(*key_is(channel, external_id)))


# The sender with their conversation, in one round trip: built once (a statement costs more to build than
# SQLite takes to run it), locked on PostgreSQL (FOR UPDATE OF users: the conversation side may be missing).
_SENDER = (
    select(User, Conversation)
    .outerjoin(Conversation, Conversation.user_id == User.id)
    .where(User.channel == bindparam("channel"), User.external_id == bindparam("external_id"))
    .with_for_update(of=User)
)


async def get_or_create(session: AsyncSession, incoming: Incoming, settings: Settings, now: datetime) -> User:
    """The sender's row, created on first contact and locked for the transaction on PostgreSQL, so two
    workers never handle one user's messages at once. An insert that loses a race with another worker is
    a no-op (ON CONFLICT DO NOTHING), so two first messages never create two users."""
    user, _conversation = await sender(session, incoming, settings, now)
    return user


async def sender(
    session: AsyncSession, incoming: Incoming, settings: Settings, now: datetime
) -> tuple[User, Conversation | None]:
    """``get_or_create`` and the user's saved conversation (None when they have none yet), read together."""
    key = {"channel": incoming.channel, "external_id": incoming.user_id}
    row = (await session.execute(_SENDER, key)).first()
    conversation: Conversation | None = None
    if row is not None:
        user, conversation = row
    else:
        insert = upsert_insert(session)
        await session.execute(
            insert(User)
            .values(
                channel=incoming.channel,
                external_id=incoming.user_id,
                language=normalize_language(incoming.language, settings.default_language),
                role="entrepreneur",
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        )
        user = (await session.scalars(select(User).where(*key_is(incoming.channel, incoming.user_id))
                                      .with_for_update())).one()
    if (user.channel, user.external_id) in settings.admin_ids and user.role not in COORDINATOR_ROLES:
        user.role = "admin"
    if user.consent_at is not None:
        remember_name(user, incoming)
    if user.blocked_at is not None:
        user.blocked_at = None  # they wrote to us, so they unblocked the bot
    if user.last_seen_at is None and not user.language_chosen:  # a row made before they wrote (a coordinator
        user.language = normalize_language(incoming.language, settings.default_language)  # added them): theirs
    if user.last_seen_at is None or now - user.last_seen_at >= SEEN_GRANULARITY:
        user.last_seen_at = now
    return user, conversation


# The conversation's new state, written with Core statements built once: the ORM's unit of work (change tracking,
# then an UPDATE it builds per flush) cost about as much as the FAQ lookup on a message that changes the flow.
_CONVERSATIONS = cast(Table, Conversation.__table__)
_STATE: dict[str, Any] = {"flow": bindparam("new_flow"), "step": bindparam("new_step"),
                          "data": bindparam("new_data"), "updated_at": bindparam("new_updated_at")}
_UPDATE_CONVERSATION = update(_CONVERSATIONS).where(_CONVERSATIONS.c.user_id == bindparam("owner")).values(_STATE)
_INSERT_CONVERSATION = insert(_CONVERSATIONS).values(user_id=bindparam("owner"), **_STATE)


async def save_conversation(session: AsyncSession, user_id: int, *, exists: bool, flow: str | None,
                            step: str | None, data: dict[str, Any], now: datetime) -> None:
    """Write the sender's conversation state (``exists``: the row was read with the sender). The sender's row
    is locked for the transaction on PostgreSQL (``sender``), so the insert cannot race another worker's."""
    connection = await session.connection()
    await connection.execute(_UPDATE_CONVERSATION if exists else _INSERT_CONVERSATION,
                             {"owner": user_id, "new_flow": flow, "new_step": step, "new_data": data,
                              "new_updated_at": now})


def name_to_greet(user: User, incoming: Incoming) -> str:
    """The name to greet with: the stored one, else the one this message carries (not stored before consent)."""
    return user.display_name or (incoming.display_name or "")[:200]


def remember_name(user: User, incoming: Incoming) -> None:
    """Keep the platform's name of a user who agreed to the privacy notice (and follow its changes)."""
    name = (incoming.display_name or "")[:200] or None
    if name is not None and user.display_name != name:
        user.display_name = name


async def coordinators(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).where(User.role.in_(COORDINATOR_ROLES))))


async def mark_blocked(session: AsyncSession, channel: str, external_id: str, now: datetime) -> None:
    """The platform says the user cannot be reached (blocked the bot): bulk messages skip them until they write
    again (``get_or_create`` clears the mark)."""
    await session.execute(
        update(User).where(*key_is(channel, external_id), User.blocked_at.is_(None)).values(blocked_at=now)
    )
