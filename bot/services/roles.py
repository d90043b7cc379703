"""Roles (entrepreneur, mentor, coordinator, admin): granted and revoked by admins in the chat (/grant, /revoke)
or on the command line (``lideres admin grant CHANNEL:ID ROLE``), always written to the audit log.

``LIDERES_ADMINS`` bootstraps admins: a user listed there is made admin at each message, so revoking them
here would not last; the answer says so instead of pretending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.models import ROLES, AuditLog, User
from bot.db.session import upsert_insert
from bot.services import users

DEFAULT_ROLE = "entrepreneur"


@dataclass(frozen=True)
class Change:
    user: User
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def parse_member(text: str, default_channel: str) -> tuple[str, str] | None:
    """``telegram:12345`` or a bare ``12345`` (the caller's own channel); None when it is neither."""
    channel, sep, external_id = text.strip().partition(":")
    if not sep:
        channel, external_id = default_channel, channel
    if not channel or not external_id or len(channel) > 20 or len(external_id) > 64 or " " in external_id:
        return None
    return channel, external_id


def bootstrapped(settings: Settings, user: User) -> bool:
    return (user.channel, user.external_id) in settings.admin_ids


async def set_role(
    session: AsyncSession,
    channel: str,
    external_id: str,
    role: str,
    *,
    actor_id: int | None,
    now: datetime,
    create: bool = False,
    via: str = "chat",
) -> Change | None:
    """Give ``role`` to the member ``channel:external_id``, audited with the caller's transaction. ``create``
    makes the row of someone who never wrote to the bot (the command line bootstraps them); otherwise an
    unknown member is None."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = await users.find(session, channel, external_id)
    if user is None and create:
        insert = upsert_insert(session)
        await session.execute(insert(User).values(channel=channel, external_id=external_id, role=DEFAULT_ROLE,
                                                  created_at=now).on_conflict_do_nothing())
        user = await users.find(session, channel, external_id)
    if user is None:
        return None
    change = Change(user, user.role, role)
    if change.changed:
        user.role = role
        session.add(AuditLog(actor_id=actor_id, action="role.grant" if role != DEFAULT_ROLE else "role.revoke",
                             target=f"user:{user.id}", details={"from": change.before, "to": role, "via": via},
                             created_at=now))
    return change
