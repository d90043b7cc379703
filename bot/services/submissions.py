"""Idea submissions: the form file's model, checking answers, drafts, reference codes and status changes.

The form is data (``handlers/idea_form.yaml``, or whatever ``settings.form_file`` names), so that another
network changes its questions, rules, choices and texts without touching Python. It is checked whole when it
is loaded and every mistake is named, because a typo found by an entrepreneur half-way through the form is
found too late. This module knows the *kinds* of question (text, email, phone, contact, choice, multichoice,
file); the conversation that asks them is ``handlers/idea.py``.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES, ConfigError, Settings
from bot.db.models import AuditLog, Counter, Submission, User
from bot.db.session import upsert_insert
from bot.i18n import translate
from bot.messages import Attachment, Button, Reply
from bot.services.yaml_files import load_model, problem_text

Status = Literal["draft", "submitted", "in_review", "finalist", "accepted", "declined"]
STATUSES: tuple[Status, ...] = ("draft", "submitted", "in_review", "finalist", "accepted", "declined")
REVIEW_STATUSES = STATUSES[1:]  # what a coordinator may set; "draft" belongs to the entrepreneur
OPEN_STATUSES: tuple[Status, ...] = ("draft", "submitted", "in_review", "finalist")  # still in play: they count
FieldType = Literal["text", "email", "phone", "contact", "choice", "multichoice", "file"]
log = logging.getLogger("bot.submissions")
REJECTED_KEY = "_rejected"  # answers[...] note of the last input that failed its check (field names never start "_")


class FormError(ConfigError):
    """The form file is wrong; the message names the file and every problem found, one per line."""


# -- the form file ------------------------------------------------------------------------------------


def _all_languages(texts: dict[str, str]) -> dict[str, str]:
    missing = [lang for lang in LANGUAGES if not (texts.get(lang) or "").strip()]
    if missing:
        raise ValueError(f"missing the text in {', '.join(missing)}")
    unknown = sorted(set(texts) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"unknown language {', '.join(unknown)} (the bot speaks {', '.join(LANGUAGES)})")
    return texts


Texts = Annotated[dict[str, str], AfterValidator(_all_languages)]
"""One text in every language the bot speaks."""


def pick(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts[LANGUAGES[0]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class Choice(_Strict):
    value: str = Field(pattern=r"^[a-z0-9_]{1,20}$")  # goes into button payloads (64 bytes on Telegram)
    label: Texts
    keywords: dict[str, list[str]] = {}  # per language; "word" whole word, "stem*" any word starting so

    def label_in(self, lang: str) -> str:
        return pick(self.label, lang)


RULES_BY_TYPE: dict[str, set[str]] = {
    "text": {"min_length", "max_length"},
    "email": set(),
    "phone": set(),
    "contact": set(),
    "choice": {"choices"},
    "multichoice": {"choices", "min_choices", "max_choices"},
    "file": {"mime_types", "max_size_mb"},
}


class FormField(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,29}$")
    type: FieldType
    label: Texts
    prompt: Texts
    help: Texts | None = None
    optional: bool = False
    when: dict[str, str] | None = None  # asked only when an earlier choice field has this value
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1, le=3500)
    choices: list[Choice] = []
    min_choices: int | None = Field(default=None, ge=0)
    max_choices: int | None = Field(default=None, ge=1)
    mime_types: list[str] = []
    max_size_mb: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _rules_fit_the_type(self) -> FormField:
        misplaced = [rule for rule in set().union(*RULES_BY_TYPE.values()) - RULES_BY_TYPE[self.type]
                     if getattr(self, rule) not in (None, [])]
        if misplaced:
            raise ValueError(f"{', '.join(sorted(misplaced))} does not apply to a {self.type} field")
        if self.type == "text" and self.max_length is None:
            raise ValueError("a text field needs max_length")
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise ValueError(f"min_length {self.min_length} is more than max_length {self.max_length}")
        if self.type in ("choice", "multichoice"):
            self._check_choices()
        if self.type == "file" and not self.mime_types:
            raise ValueError("a file field needs mime_types (e.g. [application/pdf, image/jpeg])")
        return self

    def _check_choices(self) -> None:
        if not self.choices:
            raise ValueError(f"a {self.type} field needs choices")
        values = [choice.value for choice in self.choices]
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise ValueError(f"choice values repeated: {', '.join(repeated)}")
        low, high = self.choice_range
        if not 0 <= low <= high <= len(self.choices):
            raise ValueError(f"min_choices {low} / max_choices {high} do not fit {len(self.choices)} choices")

    @property
    def choice_range(self) -> tuple[int, int]:
        if self.type == "choice":
            return 1, 1
        return (self.min_choices if self.min_choices is not None else 1,
                self.max_choices if self.max_choices is not None else len(self.choices))

    def choice(self, value: str) -> Choice | None:
        return next((choice for choice in self.choices if choice.value == value), None)

    def label_in(self, lang: str) -> str:
        return pick(self.label, lang)


class Competition(_Strict):
    name: Texts
    reference_prefix: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,9}$")
    open: bool = True
    opens_at: date | None = None
    closes_at: date | None = None
    next_opening: date | None = None
    max_open_submissions: int = Field(default=3, ge=1, le=100)
    intro: Texts
    closed: Texts
    submitted: Texts
    status_messages: dict[Status, Texts] = {}

    def is_open(self, today: date) -> bool:
        return (self.open and (self.opens_at is None or today >= self.opens_at)
                and (self.closes_at is None or today < self.closes_at))

    def next_opening_after(self, today: date) -> date | None:
        """When a closed call opens (again), if the form file says."""
        if self.open and self.opens_at is not None and today < self.opens_at:
            return self.opens_at
        if self.next_opening is not None and self.next_opening > today:
            return self.next_opening
        return None


class Criterion(_Strict):
    """One thing reviewers score from 1 to 5 (``/review``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,19}$")  # goes into button payloads
    label: Texts

    def label_in(self, lang: str) -> str:
        return pick(self.label, lang)


class IdeaForm(_Strict):
    competition: Competition
    review_criteria: list[Criterion] = Field(default_factory=list)
    fields: list[FormField] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_and_conditions(self) -> IdeaForm:
        names = [criterion.name for criterion in self.review_criteria]
        if len(set(names)) != len(names):
            raise ValueError("review_criteria: a criterion name is used twice")
        seen: dict[str, FormField] = {}
        for item in self.fields:
            if item.name in seen:
                raise ValueError(f"field name {item.name!r} is used twice")
            for name, value in (item.when or {}).items():
                earlier = seen.get(name)
                if earlier is None or earlier.type != "choice":
                    raise ValueError(f"field {item.name!r}: when refers to {name!r}, not an earlier choice field")
                if earlier.choice(value) is None:
                    raise ValueError(f"field {item.name!r}: when {name}: {value!r} is not one of its choices")
            seen[item.name] = item
        return self

    def field(self, name: str | None) -> FormField | None:
        return next((item for item in self.fields if item.name == name), None)

    def visible(self, answers: dict[str, Any]) -> list[FormField]:
        """The fields asked, given the answers so far (``when`` conditions)."""
        return [item for item in self.fields
                if all(answers.get(name) == value for name, value in (item.when or {}).items())]

    def after(self, name: str, answers: dict[str, Any]) -> FormField | None:
        shown = self.visible(answers)
        names = [item.name for item in shown]
        position = names.index(name) + 1 if name in names else len(names)
        return shown[position] if position < len(shown) else None

    def before(self, name: str, answers: dict[str, Any]) -> FormField | None:
        shown = self.visible(answers)
        names = [item.name for item in shown]
        position = names.index(name) - 1 if name in names else -1
        return shown[position] if position >= 0 else None

    def missing(self, answers: dict[str, Any]) -> list[FormField]:
        """Visible fields whose stored answer would not be accepted now (never answered, or a multi-choice
        left out of its range): submitting waits for them."""
        return [item for item in self.visible(answers) if not answer_is_complete(item, answers)]


@dataclass(frozen=True)
class LoadedForm:
    """The form the bot asks from (content, ``ctx.content(LoadedForm)``), and why a reload kept it instead of
    the file's new version."""

    form: IdeaForm
    problems: str | None = None

    def summary(self) -> dict[str, object]:
        if self.problems is not None:
            return {"idea_form": {"problems": self.problems, "kept": "the previously loaded form"}}
        return {"idea_form": {"fields": len(self.form.fields), "open": self.form.competition.open}}


def load_form_content(settings: Settings, previous: object | None) -> LoadedForm:
    """Read the form file on start and on every content reload. A broken file stops the start-up with a
    ``FormError`` naming each problem; a broken file at a reload keeps the form already loaded (people may
    be half-way through it) and reports the problems in the reload's summary."""
    try:
        return LoadedForm(load_form(settings.form_file))
    except FormError as exc:
        if not isinstance(previous, LoadedForm):
            raise
        log.error("idea form not reloaded, the previous one stays", extra={"problems": str(exc)})
        return LoadedForm(previous.form, str(exc))


def load_form(path: Path) -> IdeaForm:
    """The form at ``path``, or a ``FormError`` that lists every problem with where it is."""
    return load_model(path, IdeaForm, FormError, what="form file", shape="'competition' and 'fields'",
                      describe=_describe)


def _describe(error: Any, raw: dict[str, Any]) -> str:
    """``fields[4] (region).choices[1].label: missing the text in en``: where, with the field's name."""
    parts: list[str] = []
    node: Any = raw
    for step in error["loc"]:
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str) and len(parts) == 1:
                parts[-1] += f" ({node['name']})"
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return f"{'.'.join(parts) or 'form'}: {problem_text(error)}"


# -- checking answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    value: Any


@dataclass(frozen=True)
class Problem:
    """Why an answer was not taken: a catalog key and the values its text needs."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")
PHONE_CHARACTERS = re.compile(r"^\+?[\d\s().-]+$")
PHONE_DIGITS = (7, 15)  # E.164 allows at most 15; local numbers have at least 7
CONTACT_FILLER = re.compile(  # words people put around their contact details
    r"[,;:/|]|\b(?:y|e|o|and|or|email|e-mail|correo|tel[eé]fono|phone|tel|cel|celular|m[oó]vil)\b", re.IGNORECASE
)


def check_answer(item: FormField, text: str, attachment: Attachment | None) -> Accepted | Problem:
    """The value to store for what the user sent at ``item``, or the problem to tell them."""
    if item.type == "file":
        return check_file(item, attachment)
    if attachment is not None:
        return Problem("idea.error.choice_expected" if item.type in ("choice", "multichoice")
                       else "idea.error.text_expected")
    checkers: dict[str, Callable[[FormField, str], Accepted | Problem]] = {
        "text": check_text, "email": check_email, "phone": check_phone, "contact": check_contact,
        "choice": check_choice, "multichoice": check_multichoice,
    }
    return checkers[item.type](item, text.strip())


def check_text(item: FormField, text: str) -> Accepted | Problem:
    length = len(text)
    if item.min_length is not None and length < item.min_length:
        return Problem("idea.error.too_short", {"length": length, "min": item.min_length})
    if item.max_length is not None and length > item.max_length:
        return Problem("idea.error.too_long", {"length": length, "max": item.max_length})
    return Accepted(text)


def check_email(_item: FormField, text: str) -> Accepted | Problem:
    return Accepted(text) if EMAIL.match(text) else Problem("idea.error.not_email", {"value": clip(text)})


def check_phone(_item: FormField, text: str) -> Accepted | Problem:
    phone = normalize_phone(text)
    return Accepted(phone) if phone else Problem("idea.error.not_phone", {"value": clip(text)})


def normalize_phone(text: str) -> str | None:
    """``+591 700-12345`` stays readable (single spaces); None when it is not a phone number."""
    if not PHONE_CHARACTERS.match(text):
        return None
    digits = sum(ch.isdigit() for ch in text)
    if not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        return None
    return " ".join(text.split())


def check_contact(_item: FormField, text: str) -> Accepted | Problem:
    """An email and/or a phone in one answer (``ana@x.org, +591 70012345``); words around them are fine,
    but anything that looks like an address or a number must be a valid one."""
    words = text.split()
    emails = [word.strip(".,;()<>") for word in words if "@" in word]
    for email in emails:
        if not EMAIL.match(email):
            return Problem("idea.error.not_email", {"value": clip(email)})
    rest = CONTACT_FILLER.sub(" ", " ".join(word for word in words if "@" not in word))
    phone: str | None = None
    if any(ch.isdigit() for ch in rest):
        candidate = " ".join(re.sub(r"^[^\d+(]+|[^\d)]+$", "", rest.strip()).split())
        phone = normalize_phone(candidate)
        if phone is None:
            return Problem("idea.error.not_phone", {"value": clip(candidate or rest.strip())})
    if not emails and phone is None:
        return Problem("idea.error.no_contact", {"value": clip(text)})
    return Accepted({"email": emails[0] if emails else None, "phone": phone})


def check_choice(item: FormField, text: str) -> Accepted | Problem:
    choice = match_choice(item, text)
    if choice is None:
        return Problem("idea.error.not_a_choice", {"value": clip(text)})
    return Accepted(choice.value)


def check_multichoice(item: FormField, text: str) -> Accepted | Problem:
    """Typed instead of pressed: ``8, 10 y 17`` or labels separated by commas."""
    values: list[str] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;\n]|\s+(?:y|e|and)\s+", text))):
        choice = match_choice(item, part)
        if choice is None:
            return Problem("idea.error.not_a_choice", {"value": clip(part)})
        if choice.value not in values:
            values.append(choice.value)
    return check_selection(item, values)


def check_selection(item: FormField, values: list[str]) -> Accepted | Problem:
    low, high = item.choice_range
    if len(values) < low:
        return Problem("idea.error.too_few", {"min": low})
    if len(values) > high:
        return Problem("idea.error.too_many", {"max": high})
    return Accepted(values)


def match_choice(item: FormField, text: str) -> Choice | None:
    """A choice by its value, its label in any language, or the label without its emoji or number."""
    wanted = normalize(text)
    if not wanted:
        return None
    for choice in item.choices:
        labels = {normalize(label) for label in choice.label.values()}
        if wanted == choice.value or wanted in labels or wanted in {_drop_number(label) for label in labels}:
            return choice
    return None


def _drop_number(label: str) -> str:
    return re.sub(r"^\d+\s+", "", label)


def check_file(item: FormField, attachment: Attachment | None) -> Accepted | Problem:
    types = readable_types(item.mime_types)
    if attachment is None:
        return Problem("idea.error.file_expected", {"types": types})
    mime = attachment.mime_type or ("image/jpeg" if attachment.kind == "photo" else None)
    if mime not in item.mime_types:
        return Problem("idea.error.file_type", {"type": file_kind(attachment, mime), "types": types})
    if item.max_size_mb is not None and attachment.size is not None and attachment.size > item.max_size_mb * 1e6:
        sizes = {"size": f"{attachment.size / 1e6:.1f}", "max": f"{item.max_size_mb:g}"}
        return Problem("idea.error.file_too_big", sizes)
    return Accepted({"file_ref": attachment.file_ref, "name": attachment.filename or attachment.kind,
                     "mime": mime, "size": attachment.size, "kind": attachment.kind})


def file_kind(attachment: Attachment, mime: str | None) -> str:
    """What a person calls the file they sent: its extension (DOCX), else its type, else its kind (voice)."""
    suffix = Path(attachment.filename or "").suffix.lstrip(".")
    if suffix:
        return suffix.upper()
    return mime.rsplit("/", 1)[-1].upper() if mime else attachment.kind


def readable_types(mime_types: Sequence[str]) -> str:
    """``application/pdf, image/jpeg`` → ``PDF, JPEG``: what a person calls them."""
    return ", ".join(dict.fromkeys(mime.rsplit("/", 1)[-1].upper() for mime in mime_types))


def answer_is_complete(item: FormField, answers: dict[str, Any]) -> bool:
    if item.name not in answers:
        return item.optional
    value = answers[item.name]
    if value is None:
        return item.optional
    if item.type == "multichoice":
        return isinstance(check_selection(item, list(value)), Accepted)
    return True


def clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normalize(text: str) -> str:
    """Lower case, no accents, punctuation and emoji as spaces: how keywords and typed choices compare."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9ñ]+", " ", plain).split())


# -- suggestions --------------------------------------------------------------------------------------


def suggest(item: FormField, answers: dict[str, Any], form: IdeaForm) -> list[str]:
    """Choices whose keywords appear in the text answers given so far, most hits first, at most as many as
    may be marked: a starting point the user corrects, not a decision."""
    text = " " + normalize(" ".join(str(answers[f.name]) for f in form.fields
                                    if f.type == "text" and isinstance(answers.get(f.name), str))) + " "
    scored: list[tuple[int, int, str]] = []
    for position, choice in enumerate(item.choices):
        hits = sum(_keyword_hits(word, text) for words in choice.keywords.values() for word in words)
        if hits:
            scored.append((-hits, position, choice.value))
    return [value for _, _, value in sorted(scored)[: item.choice_range[1]]]


def _keyword_hits(keyword: str, text: str) -> int:
    """How often ``keyword`` (``word*``: any word starting so) occurs in normalised ``text``. The plain
    substring test first: most keywords are absent, and it is a tenth of the regular expression's cost."""
    plain, pattern = _keyword_pattern(keyword)
    return len(pattern.findall(text)) if plain in text else 0


@functools.cache  # the form's few hundred keywords: re's own cache would still normalise each one per call
def _keyword_pattern(keyword: str) -> tuple[str, re.Pattern[str]]:
    stem = keyword.endswith("*")
    words = normalize(keyword.rstrip("*")).split()
    body = r"\s+".join(re.escape(word) for word in words)
    return " ".join(words), re.compile(r"(?<![a-z0-9ñ])" + body + ("" if stem else r"(?![a-z0-9ñ])"))


# -- showing answers ----------------------------------------------------------------------------------


def display_value(item: FormField, value: Any, lang: str, limit: int = 350) -> str:
    """An answer as a person reads it, in ``lang``; long texts are cut so a summary fits one message."""
    if value is None or value == [] or value == "":
        return "—"
    if item.type == "choice":
        choice = item.choice(str(value))
        return choice.label_in(lang) if choice else str(value)
    if item.type == "multichoice":
        return ", ".join(c.label_in(lang) if (c := item.choice(str(v))) else str(v) for v in value)
    if item.type == "contact" and isinstance(value, dict):
        return " · ".join(part for part in (value.get("email"), value.get("phone")) if part)
    if item.type == "file" and isinstance(value, dict):
        size = value.get("size")
        return f"{value.get('name')} ({readable_size(size)})" if size else str(value.get("name"))
    return clip(str(value), limit)


def readable_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{max(1, round(size / 1e3))} KB"


def summary_text(form: IdeaForm, answers: dict[str, Any], lang: str, limit: int = 350) -> str:
    """``Título: …`` one field a line, the fields that are asked given the answers, in the form's order."""
    return "\n".join(f"{item.label_in(lang)}: {display_value(item, answers.get(item.name), lang, limit)}"
                     for item in form.visible(answers))


def status_label(status: str, lang: str) -> str:
    return translate(f"idea.status.{status}", lang)


def parse_status(text: str) -> Status | None:
    """``finalist``, ``in review``, ``en revisión``, ``Finalista``: a status by its key or its label in any
    language (without the emoji), for coordinators typing ``/status``."""
    wanted = normalize(text).replace(" ", "_")
    for status in STATUSES:
        names = {status} | {normalize(status_label(status, lang)).replace(" ", "_") for lang in LANGUAGES}
        if wanted in names:
            return status
    return None


# -- drafts -------------------------------------------------------------------------------------------


async def drafts_of(session: AsyncSession, user_id: int) -> list[Submission]:
    query = (select(Submission).where(Submission.user_id == user_id, Submission.status == "draft")
             .order_by(Submission.updated_at.desc(), Submission.id.desc()))
    return list(await session.scalars(query))


async def submissions_of(session: AsyncSession, user_id: int) -> list[Submission]:
    query = select(Submission).where(Submission.user_id == user_id).order_by(Submission.created_at, Submission.id)
    return list(await session.scalars(query))


async def open_count(session: AsyncSession, user_id: int) -> int:
    query = select(func.count()).where(Submission.user_id == user_id, Submission.status.in_(OPEN_STATUSES))
    return int(await session.scalar(query) or 0)


async def own_draft(session: AsyncSession, user_id: int, submission_id: Any) -> Submission | None:
    """The user's draft with this id; None for anyone else's, a submitted one, or a forged id."""
    if not isinstance(submission_id, int) and not str(submission_id).isdigit():
        return None
    submission = await session.get(Submission, int(submission_id))
    if submission is None or submission.user_id != user_id or submission.status != "draft":
        return None
    return submission


async def create_draft(session: AsyncSession, user_id: int, now: datetime) -> Submission:
    submission = Submission(user_id=user_id, status="draft", answers={}, created_at=now, updated_at=now)
    session.add(submission)
    await session.flush()  # the id goes into the conversation state, committed together
    return submission


def set_answer(submission: Submission, item: FormField, value: Any, now: datetime) -> None:
    """Store one answer (``None`` records a skipped optional field). A new dict is assigned so the JSON
    column is seen as changed; the title and region columns follow the answers, for lists and exports."""
    answers = dict(submission.answers or {})
    answers[item.name] = value
    if (answers.get(REJECTED_KEY) or {}).get("field") == item.name:
        answers.pop(REJECTED_KEY)
    submission.answers = answers
    submission.updated_at = now
    if item.name == "title":
        submission.title = str(value)[:200] if value else None
    if item.name == "region":
        submission.region = str(value)[:64] if value else None


def note_rejected(submission: Submission, item: FormField, given: str, problem: Problem, now: datetime) -> None:
    """Keep what the user sent even when it failed its check (DESIGN.md, principle 7): the last rejected
    input is in the draft, next to the answers, with the reason."""
    answers = dict(submission.answers or {})
    answers[REJECTED_KEY] = {"field": item.name, "input": given[:4000], "reason": problem.key, "at": now.isoformat()}
    submission.answers = answers
    submission.updated_at = now


# -- submitting ---------------------------------------------------------------------------------------


async def allocate_reference(session: AsyncSession, prefix: str, year: int) -> str:
    """``LID-2026-0007``: the next number of ``prefix`` in ``year``, in the caller's transaction.

    One upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING) both creates the year's counter and increments
    it. On PostgreSQL it locks the counter row until the transaction commits, so a second submitter waits
    and gets the next number; on SQLite the write lock serialises them. A rolled-back submit gives its
    number back. The unique ``reference`` column is the last guard.
    """
    name = f"ref:{prefix}:{year}"
    insert = upsert_insert(session)
    statement = (
        insert(Counter)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    number = int((await session.execute(statement)).scalar_one())
    return f"{prefix}-{year}-{number:04d}"


async def submit(session: AsyncSession, submission: Submission, form: IdeaForm, now: datetime) -> str:
    """Turn a complete draft into a submission with its reference code."""
    if submission.status != "draft":
        raise ValueError(f"submission {submission.id} is {submission.status}, not a draft")
    missing = form.missing(submission.answers or {})
    if missing:
        raise ValueError(f"submission {submission.id} misses {', '.join(item.name for item in missing)}")
    submission.reference = await allocate_reference(session, form.competition.reference_prefix, now.year)
    submission.status = "submitted"
    submission.submitted_at = now
    submission.updated_at = now
    return submission.reference


async def find_by_reference(session: AsyncSession, reference: str) -> Submission | None:
    return await session.scalar(select(Submission).where(Submission.reference == reference.strip().upper()))


Notify = Callable[[User, Sequence[Reply]], Awaitable[None]]


async def change_status(
    session: AsyncSession,
    submission: Submission,
    new_status: Status,
    actor: User,
    notify: Notify,
    *,
    now: datetime | None = None,
    form: IdeaForm | None = None,
) -> None:
    """A coordinator moves a submission on: the status changes, an audit row records who did it, and the
    entrepreneur is told in their own language (with the form's message for that status, if any), all in
    the caller's transaction, so a failed change tells nobody anything. ``notify`` is ``ctx.notify`` (the
    outbox); ``now`` comes from the caller's clock, so tests can move time."""
    now = now or datetime.now(UTC)
    if new_status not in REVIEW_STATUSES:
        raise ValueError(f"{new_status!r} is not a status a coordinator can set")
    if submission.status == "draft":
        raise ValueError(f"submission {submission.id} has not been submitted")
    old_status = submission.status
    if old_status == new_status:
        return
    submission.status = new_status
    submission.updated_at = now
    session.add(AuditLog(actor_id=actor.id, action="submission.status", target=submission.reference,
                         details={"submission": submission.id, "from": old_status, "to": new_status},
                         created_at=now))
    owner = await session.get(User, submission.user_id)
    if owner is not None:
        await notify(owner, [status_change_reply(submission, new_status, owner.language, form)])


def status_change_reply(submission: Submission, status: Status, lang: str, form: IdeaForm | None) -> Reply:
    text = translate("idea.status_changed", lang, reference=submission.reference or "",
                     title=submission.title or "—", status=status_label(status, lang))
    extra = form.competition.status_messages.get(status) if form else None
    if extra:
        text += "\n\n" + pick(extra, lang)
    return Reply(text=text, buttons=((Button(translate("menu.mysubmissions", lang), "menu:mysubmissions"),),))
