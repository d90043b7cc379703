"""After submitting: coordinators are told, reference codes, and status changes told to the entrepreneur."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from bot.db.models import AuditLog, Counter, User
from bot.services import submissions
from tests.test_idea_helpers import (
    TITLE,
    deliveries_to,
    fill_to_summary,
    reference_in,
    start_idea,
    submissions_of,
    submit_idea,
)


async def set_role(bot, external_id: str, role: str) -> None:
    async with bot.app.sessions() as session, session.begin():
        await session.execute(update(User).where(User.external_id == external_id).values(role=role))


async def test_coordinators_are_told_of_a_new_idea_in_their_own_language(bot):
    await bot.onboard(user="coord", lang="en")  # an admin from the settings
    await bot.onboard(user="maria")
    await set_role(bot, "maria", "coordinator")
    await bot.onboard(user="pepe")  # an entrepreneur: told nothing
    await submit_idea(bot, user="ana")
    [to_coord] = await deliveries_to(bot, "coord")
    assert to_coord.startswith("📥 New idea LID-2026-0001, from Ana:")
    assert f"Title: {TITLE}" in to_coord and "Region: Santa Cruz (Bolivia)" in to_coord
    assert "/status LID-2026-0001 in_review" in to_coord
    [to_maria] = await deliveries_to(bot, "maria")
    assert to_maria.startswith("📥 Nueva idea LID-2026-0001, de Ana:") and "Región: Santa Cruz (Bolivia)" in to_maria
    assert await deliveries_to(bot, "pepe") == [] and await deliveries_to(bot, "ana") == []
    await bot.app.outbox.send_due()  # and the outbox delivers them
    assert bot.output.to("coord")[0].text == to_coord


async def test_status_by_someone_who_is_not_a_coordinator_is_refused(bot):
    await submit_idea(bot, user="ana")
    await bot.send("/status LID-2026-0001 accepted", user="ana")
    assert "No conozco el comando /status" in bot.text_of("ana")  # refused, revealing nothing
    await bot.onboard(user="maria")
    await set_role(bot, "maria", "coordinator")
    await set_role(bot, "maria", "mentor")  # the role is checked at every call, not remembered
    await bot.send("/status LID-2026-0001 accepted", user="maria")
    assert "No conozco el comando /status" in bot.text_of("maria")
    [submission] = await submissions_of(bot)
    assert submission.status == "submitted"
    async with bot.app.sessions() as session:  # both refusals are audited, nothing else is
        audit = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    assert [(a.action, a.target) for a in audit if a.action != "coordinator.call"] == [
        ("coordinator.refused", "/status"), ("coordinator.refused", "/status")]
    assert await deliveries_to(bot, "ana") == []


async def test_a_status_change_is_told_to_the_entrepreneur_in_their_language(bot):
    await bot.onboard(user="coord")
    await submit_idea(bot, user="ana")
    await submit_idea(bot, user="luis", lang="en", title="Luis's cooperative bakery")
    await bot.send("/status LID-2026-0001 finalist", user="coord")
    assert "Hecho: LID-2026-0001 está ahora en estado 🏅 Finalista" in bot.text_of("coord")
    await bot.send("/status lid-2026-0002 En revisión", user="coord")  # labels in either language work too
    [to_ana] = await deliveries_to(bot, "ana")
    assert f"Novedades sobre tu idea LID-2026-0001 «{TITLE}»: ahora está en estado 🏅 Finalista." in to_ana
    assert "consultorías, tutoría y mentoría" in to_ana
    [to_luis] = await deliveries_to(bot, "luis")
    assert "News about your idea LID-2026-0002 “Luis's cooperative bakery”: its status is now 🔎 In review." in to_luis
    await bot.send("/mysubmissions", user="ana")
    assert "LID-2026-0001" in bot.text_of("ana") and "🏅 Finalista" in bot.text_of("ana")
    async with bot.app.sessions() as session:
        audit = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
        coord_id = await session.scalar(select(User.id).where(User.external_id == "coord"))
    assert [(a.actor_id, a.action, a.target, a.details["from"], a.details["to"]) for a in audit
            if a.action != "coordinator.call"] == [
        (coord_id, "submission.status", "LID-2026-0001", "submitted", "finalist"),
        (coord_id, "submission.status", "LID-2026-0002", "submitted", "in_review"),
    ]


async def test_status_command_mistakes_are_explained(bot):
    await bot.onboard(user="coord")
    await submit_idea(bot, user="ana")
    for command, answer in [
        ("/status", "Uso: /status CÓDIGO ESTADO"),
        ("/status LID-2026-0001", "Uso: /status CÓDIGO ESTADO"),
        ("/status LID-2026-0099 accepted", "No encuentro ninguna idea con el código LID-2026-0099"),
        ("/status LID-2026-0001 ganadora", "«ganadora» no es un estado que se pueda poner"),
        ("/status LID-2026-0001 draft", "«draft» no es un estado"),
        ("/status LID-2026-0001 submitted", "LID-2026-0001 ya está en estado 📨 Enviada"),
    ]:
        await bot.send(command, user="coord")
        assert answer in bot.text_of("coord"), command
    assert await deliveries_to(bot, "ana") == []


async def test_reference_numbers_count_per_year(bot, clock):
    assert "LID-2026-0001" in await submit_idea(bot, user="ana")
    assert "LID-2026-0002" in await submit_idea(bot, user="luis")
    clock.advance(days=40)  # 2027-01-04
    assert "LID-2027-0001" in await submit_idea(bot, user="eva")
    assert "LID-2027-0002" in await submit_idea(bot, user="ana", onboard=False, title="Segunda idea de Ana")
    async with bot.app.sessions() as session:
        counters = dict((await session.execute(select(Counter.name, Counter.value))).all())
    assert counters == {"ref:LID:2026": 2, "ref:LID:2027": 2}
    await bot.send("/mysubmissions", user="ana")
    assert "LID-2026-0001" in bot.text_of("ana") and "LID-2027-0002" in bot.text_of("ana")


async def test_submitters_at_the_same_moment_never_share_a_code(bot):
    people = ["ana", "luis", "eva", "pepe"]
    for person in people:
        await start_idea(bot, user=person)
        await fill_to_summary(bot, user=person, title=f"La idea de {person}")
    await asyncio.gather(*(bot.press("Enviar", user=person) for person in people))
    codes = sorted(reference_in(bot.text_of(person)) for person in people)
    assert codes == ["LID-2026-0001", "LID-2026-0002", "LID-2026-0003", "LID-2026-0004"]
    assert sorted(s.reference for s in await submissions_of(bot)) == codes


async def test_change_status_refuses_what_a_coordinator_cannot_do(bot):
    await bot.onboard(user="coord")
    await start_idea(bot, user="ana")
    await bot.send(TITLE, user="ana")
    sent = []

    async def notify(user, replies):  # noqa: ANN001, ANN202 - a stand-in for ctx.notify
        sent.append((user.external_id, replies))

    async with bot.app.sessions() as session, session.begin():
        ana = await session.scalar(select(User).where(User.external_id == "ana"))
        coord = await session.scalar(select(User).where(User.external_id == "coord"))
        [draft] = await submissions.drafts_of(session, ana.id)
        with pytest.raises(ValueError, match="has not been submitted"):
            await submissions.change_status(session, draft, "accepted", coord, notify, now=bot.clock.now())
        with pytest.raises(ValueError, match="not a status a coordinator can set"):
            await submissions.change_status(session, draft, "draft", coord, notify, now=bot.clock.now())
    assert sent == []
