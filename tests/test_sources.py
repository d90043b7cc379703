"""/sources: coordinators see which event or partner (the /start deep link) brought whom."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Submission, User


async def test_coordinators_see_people_consent_and_ideas_per_source(bot, clock):
    await bot.onboard(user="ana")
    await bot.send("/start", user="ana")  # a second /start without a link changes nothing
    for user in ("luis", "eva"):
        await bot.send("/start feria_scz_2026", user=user)
    await bot.press("consent:yes", user="luis")
    await bot.send("/start cainco", user="pia")
    async with bot.app.sessions() as session, session.begin():
        luis = await session.scalar(select(User).where(User.external_id == "luis"))
        for reference in ("LID-2026-0001", "LID-2026-0002"):  # two ideas, one person
            session.add(Submission(user_id=luis.id, status="submitted", reference=reference, submitted_at=clock.now()))
    await bot.send("/sources", user="coord")
    lines = bot.text_of("coord").splitlines()
    assert lines[0].startswith("De dónde llegó la gente")
    assert lines[1:] == ["• feria_scz_2026: 2 · 1 · 1", "• sin enlace: 2 · 1 · 0", "• cainco: 1 · 0 · 0"]


async def test_sources_is_refused_to_entrepreneurs(bot):
    await bot.send("/start feria", user="ana")
    await bot.send("/sources", user="ana")
    assert "No conozco el comando /sources" in bot.last_text  # refused, revealing nothing
