"""The tables. Conversation state, drafts and the outbox live here (DESIGN.md, principle 2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


ROLES = ("entrepreneur", "mentor", "coordinator", "admin")
COORDINATOR_ROLES = ("coordinator", "admin")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_users_channel_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="es")
    language_chosen: Mapped[bool] = mapped_column(default=False)
    timezone: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20), default="entrepreneur")
    source: Mapped[str | None] = mapped_column(String(64))  # deep-link payload that brought the user
    consent_at: Mapped[datetime | None]
    broadcast_opt_out: Mapped[bool] = mapped_column(default=False)
    blocked_at: Mapped[datetime | None]  # the user blocked the bot on their platform
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]

    @property
    def is_coordinator(self) -> bool:
        return self.role in COORDINATOR_ROLES


class Conversation(Base):
    """Where the user is: the active flow, its step and its data. One row per user."""

    __tablename__ = "conversations"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    flow: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_user_status", "user_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)  # field name -> value, per the form file
    title: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]


class Counter(Base):
    """Named sequences (e.g. submission references per year), incremented in the caller's transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Unanswered(Base):
    __tablename__ = "unanswered"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, answered, dismissed
    reply: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class Delivery(Base):
    """The outbox: one row per message to one user, committed before it is sent (DESIGN.md, principle 3).

    Content is either stored ``replies`` or a ``renderer`` (a name in ``bot.services.outbox.RENDERERS``) with
    ``render_values``, rendered when the row is claimed, in the recipient's language and time zone at that
    moment. Status: pending → claimed (held until ``claimed_until``) → sending (a request may have left) →
    sent / failed / blocked / skipped (``error`` says why) / unconfirmed (the process died while sending); a
    platform's receipts move a sent row on to delivered and read (``bot.services.receipts``). A paused broadcast's
    pending rows are ``held`` until it resumes."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_claim", "status", "priority", "due_at"),
        Index("uq_deliveries_broadcast_user", "broadcast_id", "user_id", unique=True),  # enqueued once
        Index("ix_deliveries_user", "user_id"),  # a member's rows: receipts, and deleting a member
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # reply, notification, broadcast, reminder
    priority: Mapped[int] = mapped_column(default=0)  # lower leaves first: personal messages before broadcasts
    broadcast_id: Mapped[int | None] = mapped_column(Integer)
    replies: Mapped[list[Any]] = mapped_column(default=list)  # serialised Reply objects
    renderer: Mapped[str | None] = mapped_column(String(40))
    render_values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    template: Mapped[dict[str, Any] | None]  # for channels that need one outside a conversation window
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    refs: Mapped[list[Any] | None]  # the channel's references of what it sent (message ids)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Broadcast(Base):
    """A message to many members: its text per language, the audience's filters, and where it stands.
    The recipients are ``deliveries`` rows, enqueued when it starts (``scheduled_at``)."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language → text
    attachment: Mapped[dict[str, Any] | None]  # a serialised Attachment (a picture or a document)
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)  # dimension → accepted values
    template: Mapped[dict[str, Any] | None]  # WhatsApp template {name, params} outside the 24-hour window
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled running paused cancelled done
    recipients: Mapped[int] = mapped_column(default=0)
    scheduled_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    progress_ref: Mapped[str | None] = mapped_column(String(100))  # the author's progress message, edited
    progress_at: Mapped[datetime | None]


class Review(Base):
    """One reviewer's scores (criterion → 1..5, the criteria of the form file) and comment on a submission."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("submission_id", "reviewer_id", name="uq_reviews_submission_reviewer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedUpdate(Base):
    """Platform update ids already taken, so a redelivered update is handled once. ``incoming`` keeps what the
    engine needs to handle the update again, and ``handled_at`` is set once it was: a row taken but never
    handled (the process died in between) is handled on the next start."""

    __tablename__ = "processed_updates"
    __table_args__ = (
        Index("ix_processed_updates_lease", "channel", "lease_until"),  # expired leases, to take over
        Index("ix_processed_updates_owner", "lease_owner"),  # a worker's leases, to renew
    )

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(128), primary_key=True)  # Telegram's number, WhatsApp's wamid
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    incoming: Mapped[dict[str, Any] | None]
    handled_at: Mapped[datetime | None]
    # While taken and not handled: which worker process has it, until when (renewed while it lives). Both are
    # cleared when it is handled; a row whose lease expired is taken over by exactly one other worker.
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    # The replies, written in the handler's own transaction; ``handled_at`` is set once they are sent. A row
    # with replies and no ``handled_at`` was handled but not answered (the process died in between): its
    # replies are sent on the next start, the update is not handled a second time.
    replies: Mapped[list[Any] | None]


class FailedMessage(Base):
    """A message whose handler crashed, kept so what the user typed is not lost (the apology's reference)."""

    __tablename__ = "failed_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(String(200))
    attachment_ref: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Profile(Base):
    """A member's entry in the mutual-aid network (handlers/network.py): who they are, what they offer and
    need (tags of the network's vocabulary and their own words), and how to reach them. ``contact`` is shown
    only to a member whose introduction they accepted; ``hidden`` keeps them out of everyone's matches."""

    __tablename__ = "profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str | None] = mapped_column(String(20))  # person, enterprise, association, public_body
    name: Mapped[str | None] = mapped_column(String(80))  # the name other members see
    region: Mapped[str | None] = mapped_column(String(64))
    offers: Mapped[list[Any]] = mapped_column(default=list)  # tag values
    offers_text: Mapped[str | None] = mapped_column(Text)
    needs: Mapped[list[Any]] = mapped_column(default=list)
    needs_text: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[dict[str, Any] | None]  # {"email": ..., "phone": ...}
    hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Introduction(Base):
    """A member asked to be introduced to another; contacts are exchanged only once the other accepts."""

    __tablename__ = "introductions"
    __table_args__ = (
        Index("ix_introductions_requester_created", "requester_id", "created_at"),  # the rate limit
        Index("ix_introductions_target_status", "target_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, accepted, declined
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class NumberedChoices(Base):
    """Options a channel showed as numbered lines (WhatsApp, past 10 buttons): the payload each number stands
    for, so the user's "3" is the third option. One row per user, replaced by the next answer with buttons."""

    __tablename__ = "numbered_choices"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    payloads: Mapped[list[Any]] = mapped_column(default=list)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebMailbox(Base):
    """Messages for a web chat visitor whose page was closed when they were sent (answers from coordinators,
    reminders, broadcasts): shown, then deleted, when the page opens again."""

    __tablename__ = "web_mailbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    replies: Mapped[list[Any]] = mapped_column(default=list)  # serialised Reply objects
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebFile(Base):
    """A file of the web chat: uploaded by a visitor (their idea's attachment) or generated for them (an export).
    Kept in the database so every worker can serve it; only its owner can download it."""

    __tablename__ = "web_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mentor(Base):
    """A person who gives mentoring sessions (handlers/mentoring), linked to their chat user: that user manages
    their free times with /slots and is told of bookings. ``timezone`` is the zone their times are typed in;
    ``topics`` and ``languages`` decide which entrepreneurs are offered their times."""

    __tablename__ = "mentors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    topics: Mapped[list[Any]] = mapped_column(default=list)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MentorSlot(Base):
    """A time a mentor offers. It is taken while a booked session points at it (``mentoring_sessions.slot_id``,
    unique), so freeing it is the session letting go; ``status`` is open or removed (by the mentor)."""

    __tablename__ = "mentor_slots"
    __table_args__ = (
        Index("ix_mentor_slots_mentor_starts", "mentor_id", "starts_at"),
        Index("ix_mentor_slots_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentors.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MentoringSession(Base):
    """A booked mentoring session. ``slot_id`` is unique: a slot holds at most one session, which is what makes a
    double booking impossible on both databases; a cancelled session lets go of its slot (NULL). ``sequence``
    counts the changes of its time, for the calendar files (.ics) that update the one already imported."""

    __tablename__ = "mentoring_sessions"
    __table_args__ = (
        Index("ix_mentoring_sessions_entrepreneur", "entrepreneur_id", "starts_at"),
        Index("ix_mentoring_sessions_mentor", "mentor_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("mentor_slots.id", ondelete="SET NULL"), unique=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentors.id", ondelete="CASCADE"))
    entrepreneur_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(80))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="booked")  # booked, cancelled
    sequence: Mapped[int] = mapped_column(default=0)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_by: Mapped[str | None] = mapped_column(String(20))  # entrepreneur, mentor, coordinator
    rating: Mapped[int | None]  # the entrepreneur's feedback, 1..5
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]


class Reminder(Base):
    """A message due at a time (DESIGN.md, principle 4): the schedule is these rows, the scheduler only wakes the
    bot. It stores what to say, a catalog ``key`` and ``values`` (a date as ``{"at": ISO}``), and ``buttons``,
    rendered when sent in the recipient's language and time zone of that moment. Status: pending → queued (an
    outbox row, ``delivery_id``, carries it from there) / missed (due while the bot was down, past the grace
    period) / cancelled (its session was cancelled or moved)."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_status_due", "status", "due_at"),
        Index("ix_reminders_session", "session_id"),
        Index("ix_reminders_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # before:<offset> or feedback
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    key: Mapped[str] = mapped_column(String(60))
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    buttons: Mapped[list[Any]] = mapped_column(default=list)  # rows of {"label": catalog key, "payload": ...}
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]


class ButtonPayload(Base):
    """A button payload too long for the platform's button data (Telegram's 64 bytes), under the key the button
    carries: any worker process can read it back when the button is pressed, also after a restart."""

    __tablename__ = "button_payloads"

    purpose: Mapped[str] = mapped_column(String(20), primary_key=True)  # the codec's channel
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)  # last encoded: rows unused for long are pruned


class SendBudget(Base):
    """The send budget shared by every worker process of a channel (``bot/channels/pacing.py``): for the whole
    channel (``chat`` empty) and for each chat, the earliest moment the next send may leave, in seconds of the
    database's clock. A send books its moment in one transaction that locks the channel's row first."""

    __tablename__ = "send_budget"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)


class ContentVersion(Base):
    """Bumped by a knowledge-base reload: every worker process polls it and reloads its own content when it
    changed, so a reload asked of one process reaches them all."""

    __tablename__ = "content_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
