"""Helpers for the idea-submission tests: a user filling in the LÍDERES form through the engine, and looking
at what ended up in the database. No tests here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.models import Delivery, Submission, User
from bot.messages import Attachment
from tests.harness import ChatHarness

FORM_FILE = PROJECT_ROOT / "handlers" / "idea_form.yaml"

TITLE = "Huertos comunitarios en el Plan 3000"
PROBLEM = "Las mujeres del barrio no tienen empleo y la basura orgánica se acumula en las calles."
SOLUTION = "Un taller de compostaje y huertos urbanos gestionado como cooperativa de mujeres."
BENEFICIARIES = "40 familias del barrio"
TEAM = "Ana (agrónoma) y Luis (contador)"
CONTACT = "ana@example.org +591 70012345"


def pdf(size: int = 120_000, name: str = "plan.pdf") -> Attachment:
    return Attachment("document", "tg-file-123", name, "application/pdf", size)


async def start_idea(bot: ChatHarness, user: str | None = None, lang: str | None = None) -> None:
    """A new user: /start, consent, then the menu's idea button."""
    await bot.onboard(user=user, lang=lang)
    await bot.press("menu:idea", user=user)


async def answer_texts(bot: ChatHarness, user: str | None = None, title: str = TITLE) -> None:
    """Title, problem, solution and beneficiaries: up to the region question."""
    for text in (title, PROBLEM, SOLUTION, BENEFICIARIES):
        await bot.send(text, user=user)


async def fill_to_summary(bot: ChatHarness, user: str | None = None, title: str = TITLE,
                          attachment: Attachment | None = None) -> None:
    """Every question of the form with good answers (the suggested SDGs accepted), ending at the summary."""
    await answer_texts(bot, user, title)
    await bot.press("idea:pick:region:santa_cruz", user=user)
    await bot.press("idea:done:sdgs", user=user)
    await bot.press("idea:pick:stage:prototype", user=user)
    await bot.send(TEAM, user=user)
    await bot.send(CONTACT, user=user)
    if attachment is None:
        await bot.press("idea:skip:attachment", user=user)
    else:
        await bot.send(attachment=attachment, user=user)


async def submit_idea(bot: ChatHarness, user: str | None = None, title: str = TITLE, lang: str | None = None,
                      onboard: bool = True) -> str:
    """The whole flow for ``user``; returns the text of the confirmation."""
    if onboard:
        await start_idea(bot, user, lang)
    else:
        await bot.send("/idea", user=user)
    await fill_to_summary(bot, user, title)
    await bot.press("idea:submit:", user=user)
    return bot.text_of(user)


async def submissions_of(bot: ChatHarness, external_id: str | None = None) -> list[Submission]:
    async with bot.app.sessions() as session:
        query = select(Submission).join(User, User.id == Submission.user_id).order_by(Submission.id)
        if external_id is not None:
            query = query.where(User.external_id == external_id)
        return list(await session.scalars(query))


async def deliveries_to(bot: ChatHarness, external_id: str) -> list[str]:
    """Texts queued in the outbox for one user."""
    async with bot.app.sessions() as session:
        query = (select(Delivery.replies).join(User, User.id == Delivery.user_id)
                 .where(User.external_id == external_id).order_by(Delivery.id))
        return ["\n".join(reply["text"] for reply in replies) for replies in await session.scalars(query)]


def reference_in(text: str) -> str | None:
    """The reference code a confirmation shows (``LID-2026-0007``)."""
    match = re.search(r"\b[A-Z]+-\d{4}-\d{4}\b", text)
    return match.group(0) if match else None


def write_form(folder: Path, **competition: Any) -> Path:
    """The LÍDERES form with some competition settings changed, as another network's file would be."""
    form = yaml.safe_load(FORM_FILE.read_text(encoding="utf-8"))
    form["competition"].update(competition)
    path = folder / "form.yaml"
    path.write_text(yaml.safe_dump(form, allow_unicode=True), encoding="utf-8")
    return path
