"""Asking for mentoring: the request reaches the coordinators, and their answer comes back."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Unanswered


async def test_menu_button_request_reaches_coordinators_and_the_answer_comes_back(bot):
    await bot.onboard(user="coord", lang="en")
    await bot.onboard()
    await bot.press("Mentorías")
    assert "qué mentoría necesitas" in bot.last_text
    await bot.send("finanzas")
    assert "al menos 10 caracteres" in bot.last_text  # asked again, nothing sent yet
    await bot.send("Finanzas para mi cooperativa de miel; puedo los martes por la tarde 🐝")
    assert "solicitud de mentoría (n.º 1)" in bot.last_text
    await bot.app.outbox.send_due()
    assert [r.text for r in bot.output.to("coord")] == [
        "New question no. 1 from Ana:\n\"[Mentoría] Finanzas para mi cooperativa de miel; puedo los martes por la"
        " tarde 🐝\"\nReply with /answer 1 your answer"
    ]
    await bot.send("/answer 1 Te escribe Laura el martes 3 a las 17:00", user="coord")
    await bot.app.outbox.send_due()
    assert "Laura el martes 3" in bot.output.to("ana")[-1].text


async def test_cancel_leaves_without_sending_and_consent_comes_first(bot):
    await bot.send("/mentoring")
    assert "¿Estás de acuerdo?" in bot.last_text
    await bot.press("Acepto")
    await bot.press("Continuar donde estaba")
    assert "qué mentoría necesitas" in bot.last_text
    await bot.send("/cancel")
    await bot.send("Finanzas para mi cooperativa de miel, los martes")  # after /cancel: not a request
    assert "solicitud de mentoría" not in bot.last_text
    async with bot.app.sessions() as session:
        assert (await session.scalars(select(Unanswered))).all() == []
