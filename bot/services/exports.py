"""Exports for coordinators: tables built from the database, written as CSV or XLSX (openpyxl), sent in the chat
(/export) or written to a file (``lideres export WHAT --format csv|xlsx --out FILE``).

Each table is an exporter registered by name (``@exporter("submissions")``); a feature adds its own the same
way, and both /export and the command line offer it with no other change. Cells that a spreadsheet would run
as a formula (``=``, ``+``, ``-``, ``@`` first) are written as text.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Mentor, MentoringSession, Review, Submission, User
from bot.i18n import translate
from bot.services.submissions import IdeaForm, display_value
from bot.services.timezones import zone

FORMATS = ("csv", "xlsx")
MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    name: str
    headers: list[str]
    rows: list[list[Any]]


Exporter = Callable[[AsyncSession, IdeaForm, str], Awaitable[Table]]
EXPORTS: dict[str, Exporter] = {}


def exporter(name: str) -> Callable[[Exporter], Exporter]:
    """Register a table under ``name`` (a word: it goes into button payloads and file names)."""

    def register(function: Exporter) -> Exporter:
        EXPORTS[name] = function
        return function

    return register


async def build(session: AsyncSession, what: str, form: IdeaForm, lang: str) -> Table:
    if what not in EXPORTS:
        raise KeyError(what)
    return await EXPORTS[what](session, form, lang)


def render(table: Table, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(table)
    if fmt == "xlsx":
        return to_xlsx(table)
    raise ValueError(f"unknown format {fmt!r}")


def filename(table: Table, fmt: str, now: datetime) -> str:
    return f"{table.name}-{now:%Y-%m-%d}.{fmt}"


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)  # spreadsheets have no time zones: UTC, said in headers
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the accents right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(["" if value is None else _cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.name[:31]
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_cell(value) for value in row])
    sheet.freeze_panes = "A2"
    for index, header in enumerate(table.headers, start=1):  # wide enough for the first rows, at most 60
        longest = max([len(str(header))] + [len(str(row[index - 1] or "")) for row in table.rows[:200]])
        sheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, longest + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def member(user: User | None) -> str:
    return f"{user.channel}:{user.external_id}" if user is not None else ""


@exporter("submissions")
async def export_submissions(session: AsyncSession, form: IdeaForm, lang: str) -> Table:
    """Every submitted idea (drafts are the entrepreneurs' own), every answer of the form, the review average."""
    found = (await session.execute(
        select(Submission, User).join(User, User.id == Submission.user_id)
        .where(Submission.status != "draft").order_by(Submission.submitted_at, Submission.id)
    )).all()
    means: dict[int, list[float]] = {}
    for review in await session.scalars(select(Review)):
        scores = [float(v) for v in (review.scores or {}).values() if isinstance(v, int | float)]
        if scores:
            means.setdefault(review.submission_id, []).append(statistics.fmean(scores))
    fields = [item for item in form.fields if item.type != "file"]
    files = [item for item in form.fields if item.type == "file"]
    headers = (["reference", "status", "submitted_at_utc", "author", "member", "language"]
               + [item.name for item in fields] + [item.name for item in files] + ["reviews", "review_average"])
    rows: list[list[Any]] = []
    for submission, user in found:
        answers = submission.answers or {}
        scores = means.get(submission.id, [])
        rows.append([submission.reference, submission.status, submission.submitted_at, user.display_name,
                     member(user), user.language]
                    + [display_value(item, answers.get(item.name), lang, limit=100_000) for item in fields]
                    + [(answers.get(item.name) or {}).get("name") if isinstance(answers.get(item.name), dict) else None
                       for item in files]
                    + [len(scores), round(statistics.fmean(scores), 2) if scores else None])
    return Table("submissions", headers, rows)


@exporter("reviews")
async def export_reviews(session: AsyncSession, form: IdeaForm, lang: str) -> Table:
    found = (await session.execute(
        select(Review, Submission.reference, User)
        .join(Submission, Submission.id == Review.submission_id)
        .outerjoin(User, User.id == Review.reviewer_id)
        .order_by(Submission.reference, Review.created_at)
    )).all()
    criteria = [criterion.name for criterion in form.review_criteria]
    headers = ["reference", "reviewer", "reviewer_member", *criteria, "average", "comment", "updated_at_utc"]
    rows: list[list[Any]] = []
    for review, reference, reviewer in found:
        scores = [review.scores.get(name) for name in criteria]
        given = [float(score) for score in scores if isinstance(score, int | float)]
        rows.append([reference, reviewer.display_name if reviewer else None, member(reviewer), *scores,
                     round(statistics.fmean(given), 2) if given else None, review.comment, review.updated_at])
    return Table("reviews", headers, rows)


@exporter("users")
async def export_users(session: AsyncSession, form: IdeaForm, lang: str) -> Table:
    headers = ["id", "member", "name", "language", "role", "region", "source", "consent_at_utc",
               "broadcasts_stopped", "blocked_bot_at_utc", "created_at_utc", "last_seen_at_utc"]
    rows: list[list[Any]] = [
        [user.id, member(user), user.display_name, user.language, user.role, user.region, user.source,
         user.consent_at, user.broadcast_opt_out, user.blocked_at, user.created_at, user.last_seen_at]
        for user in await session.scalars(select(User).order_by(User.id))
    ]
    return Table("users", headers, rows)


MENTORING_COLUMNS = ("session", "mentor", "mentor_member", "entrepreneur", "entrepreneur_member", "topic",
                     "starts_at_utc", "ends_at_utc", "starts_at_mentor", "mentor_timezone", "status",
                     "cancelled_by", "assigned_by", "rating", "comment", "rated_at_utc")


@exporter("mentoring")
async def export_mentoring(session: AsyncSession, form: IdeaForm, lang: str) -> Table:
    """Every mentoring session: who with whom, the topic, the time in UTC and in the mentor's own zone (the one
    the time was offered in), booked or cancelled (and by which side), and the entrepreneur's feedback. Headers
    and statuses in ``lang``; the people as the other tables show them (name and channel:id)."""
    assigner = User.__table__.alias("assigner")
    found = (await session.execute(
        select(MentoringSession, Mentor, User, assigner.c.display_name)
        .join(Mentor, Mentor.id == MentoringSession.mentor_id)
        .join(User, User.id == MentoringSession.entrepreneur_id)
        .outerjoin(assigner, assigner.c.id == MentoringSession.assigned_by)
        .order_by(MentoringSession.starts_at, MentoringSession.id)
    )).all()
    mentor_users = {user.id: user for user in await session.scalars(
        select(User).where(User.id.in_({mentor.user_id for _, mentor, _, _ in found})))}

    def said(kind: str, value: str | None) -> str | None:
        return translate(f"export.mentoring.{kind}.{value}", lang) if value else None

    rows: list[list[Any]] = [
        [item.id, mentor.name, member(mentor_users.get(mentor.user_id)), entrepreneur.display_name,
         member(entrepreneur), item.topic, item.starts_at, item.ends_at,
         item.starts_at.astimezone(zone(mentor.timezone)), mentor.timezone, said("status", item.status),
         said("by", item.cancelled_by), assigned_by, item.rating, item.comment, item.rated_at]
        for item, mentor, entrepreneur, assigned_by in found
    ]
    headers = [translate(f"export.mentoring.{column}", lang) for column in MENTORING_COLUMNS]
    return Table("mentoring", headers, rows)
