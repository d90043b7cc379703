"""Asking questions in the chat: answers, "did you mean", and passing a question to the coordinators."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import Delivery, Unanswered, User

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"


@pytest.fixture
def settings_overrides(tmp_path) -> dict[str, object]:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for entry in FIXTURES.glob("*.md"):
        (knowledge / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return {"knowledge_dir": knowledge}


async def deliveries_to(bot, external_id: str) -> list[str]:
    await bot.app.outbox.send_due()
    return [reply.text for reply in bot.output.to(external_id)]


async def test_a_question_gets_its_answer_in_the_users_language(bot):
    await bot.onboard()
    await bot.send("¿dónde es la feria de la miel?")
    assert "Palencia" in bot.last_text and "octubre" in bot.last_text
    await bot.onboard(user="tom", lang="en")
    await bot.send("cuando es la feria de la miel", user="tom")  # Spanish words, English user
    assert "every October in Palencia" in bot.text_of("tom")


async def test_half_understood_question_offers_topics_and_a_button_answers(bot):
    await bot.onboard()
    await bot.send("cuánto cuesta exponer en la feria de la miel")
    assert "¿Te refieres" in bot.last_text
    assert "Feria de la miel" in bot.labels()
    assert "Ninguno: pasar mi pregunta a la coordinación" in bot.labels()
    await bot.press("Feria de la miel")
    assert "Palencia" in bot.last_text


async def test_a_best_guess_is_answered_and_asks_whether_it_was_meant(bot):
    """Near enough to answer, not sure enough to stop there: the likeliest entry's answer, "is this what
    you asked?", the next likeliest entries as buttons and a way to pass the question on, in one message."""
    await bot.onboard(user="coord", lang="en")
    await bot.onboard()
    await bot.send("cuanto dinero hay para la feria")
    assert "50.000 euros" in bot.last_text and "¿Es esto lo que preguntabas?" in bot.last_text
    assert bot.labels() == ["Feria de la miel", "Número de socios", "Ninguno: pasar mi pregunta a la coordinación"]
    await bot.press("Feria de la miel")
    assert "Palencia" in bot.last_text
    await bot.send("cuanto dinero hay para la feria")
    await bot.press("Ninguno: pasar mi pregunta a la coordinación")
    assert "n.º 1" in bot.last_text
    assert await deliveries_to(bot, "coord") == [
        "New question no. 1 from Ana:\n\"cuanto dinero hay para la feria\"\nReply with /answer 1 your answer"
    ]


async def test_a_best_guess_in_english(bot):
    await bot.onboard(user="tom", lang="en")
    await bot.send("how much money is there for the fair", user="tom")
    assert "50,000 euros" in bot.text_of("tom") and "Is this what you asked?" in bot.text_of("tom")
    assert "None: pass my question to the coordinators" in bot.labels("tom")


async def test_unknown_question_is_never_invented_and_reaches_a_coordinator(bot):
    await bot.onboard(user="coord", lang="en")
    await bot.onboard()
    await bot.send("¿cuál es la capital de Mongolia?")
    assert "prefiero no inventarla" in bot.last_text
    await bot.press("Sí, pásala")
    assert "n.º 1" in bot.last_text
    assert await deliveries_to(bot, "coord") == [
        "New question no. 1 from Ana:\n\"¿cuál es la capital de Mongolia?\"\nReply with /answer 1 your answer"
    ]
    await bot.send("/unanswered", user="coord")
    assert "#1 · Ana (es): ¿cuál es la capital de Mongolia?" in bot.text_of("coord")
    await bot.send("/answer 1 Ulán Bator, pero eso no es de la red 🙂", user="coord")
    assert "The answer to question no. 1 was sent to 1 person" in bot.text_of("coord")
    assert (await deliveries_to(bot, "ana"))[-1].startswith("La coordinación respondió a tu pregunta")
    await bot.send("/answer 1 otra vez", user="coord")
    assert "no open question number 1" in bot.text_of("coord")  # answered once, not twice
    async with bot.app.sessions() as session:
        question = await session.scalar(select(Unanswered))
    assert question.status == "answered" and question.reply.startswith("Ulán Bator")


async def test_declining_and_asking_again_after_an_offer(bot):
    await bot.onboard()
    await bot.send("¿cuál es la capital de Mongolia?")
    await bot.press("No, gracias")
    assert "otra cosa" in bot.last_text
    await bot.send("¿cuál es la capital de Mongolia?")
    await bot.send("¿dónde es la feria de la miel?")  # a new question instead of answering the offer
    assert "Palencia" in bot.last_text
    await bot.send(payload="faq:forward")  # the old offer's button is stale now
    assert "caducó" in bot.last_text
    async with bot.app.sessions() as session:
        assert (await session.scalars(select(Unanswered))).all() == []


async def test_coordinator_commands_are_refused_to_entrepreneurs(bot):
    await bot.onboard()
    for command in ("/unanswered", "/answer 1 hola", "/kb_reload"):
        await bot.send(command)
        assert f"No conozco el comando {command.split()[0]}" in bot.last_text  # refused, revealing nothing


async def test_bad_questions_get_a_calm_answer(bot):
    await bot.onboard()
    await bot.send("🐝🐝🐝")
    assert "No encontré una pregunta" in bot.last_text
    await bot.send("feria " * 1000)
    assert bot.last_text
    await bot.send("<script>alert(1)</script> ' OR 1=1; --")
    assert "<script>" not in bot.last_text
    await bot.send(payload="faq:entry:../../etc/passwd")
    assert "caducó" in bot.last_text


async def test_kb_reload_picks_up_a_new_entry_without_restart(bot, settings_overrides):
    await bot.onboard(user="coord")
    await bot.send("¿qué horario tiene la tienda de la cooperativa?", user="coord")
    assert "prefiero no inventarla" in bot.text_of("coord")
    (settings_overrides["knowledge_dir"] / "shop-hours.md").write_text(
        """---
id: shop-hours
title: {es: Horario de la tienda, en: Shop opening hours}
tags: [tienda, shop, horario, hours]
questions:
  es: ["¿Qué horario tiene la tienda?", "¿Cuándo abre la tienda?", "horario de la tienda"]
  en: ["When is the shop open?", "Shop opening hours", "What time does the shop open?"]
source: test
---
## es

La tienda abre de lunes a viernes de 9 a 14.

## en

The shop opens Monday to Friday from 9 to 2 pm.
""",
        encoding="utf-8",
    )
    (settings_overrides["knowledge_dir"] / "broken.md").write_text("---\nid: [oops\n---\n", encoding="utf-8")
    await bot.send("/kb_reload", user="coord")
    assert "9 entradas, 1 archivos con problemas" in bot.text_of("coord")
    assert "broken.md:" in bot.text_of("coord")
    await bot.send("¿qué horario tiene la tienda de la cooperativa?", user="coord")
    assert "lunes a viernes" in bot.text_of("coord")
    async with bot.app.sessions() as session:
        coordinator = await session.scalar(select(User).where(User.external_id == "coord"))
        assert coordinator.role == "admin"
        assert (await session.scalars(select(Delivery))).all() == []


async def test_passing_a_question_on_asks_for_consent_first_and_then_continues(bot):
    await bot.send("¿cuál es la capital de Mongolia?")  # no /start, no consent yet
    await bot.press("Sí, pásala")
    assert "¿Estás de acuerdo?" in bot.last_text
    async with bot.app.sessions() as session:
        assert (await session.scalars(select(Unanswered))).all() == []
    await bot.press("Acepto")
    await bot.press("Continuar donde estaba")
    assert "pasé tu pregunta (n.º 1)" in bot.last_text
