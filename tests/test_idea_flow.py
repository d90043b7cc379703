"""Submitting an idea, as an entrepreneur sees it: the questions, the errors, editing, coming back later."""

from __future__ import annotations

import asyncio

from bot.messages import Attachment
from tests.test_idea_helpers import (
    BENEFICIARIES,
    CONTACT,
    PROBLEM,
    SOLUTION,
    TEAM,
    TITLE,
    answer_texts,
    fill_to_summary,
    pdf,
    reference_in,
    start_idea,
    submissions_of,
)


async def test_whole_flow_from_the_menu_to_a_reference_code(bot):
    await start_idea(bot)
    assert "concurso de emprendimiento e innovación social" in bot.last_text
    assert "1/10 · ¿Cómo se llama tu idea?" in bot.last_text
    await answer_texts(bot)
    assert "¿En qué región se desarrolla?" in bot.last_text
    assert bot.labels()[:5] == ["Santa Cruz (Bolivia)", "Jalisco (México)", "Cantabria (España)",
                                "León (España)", "Otra región"]
    await bot.press("Santa Cruz")
    # the SDGs suggested by the text (women, jobs, waste, urban gardens) come first, already marked
    assert "te sugiero" in bot.last_text
    marked = [label for label in bot.labels() if label.startswith("✅")]
    assert 1 <= len(marked) <= 3
    assert bot.labels()[: len(marked)] == marked
    assert f"✔️ Listo ({len(marked)} marcados)" in bot.labels()
    await bot.press("Listo")
    assert "¿En qué etapa está?" in bot.last_text
    await bot.press("Prototipo")
    await bot.send(TEAM)
    await bot.send(CONTACT)
    assert "PDF" in bot.last_text and "⏭️ Saltar" in bot.labels()
    await bot.send(attachment=pdf())
    summary = bot.last_text
    for expected in (TITLE, PROBLEM, SOLUTION, BENEFICIARIES, "Región: Santa Cruz (Bolivia)", "Etapa: 🛠️ Prototipo",
                     TEAM, "Contacto: ana@example.org · +591 70012345", "Adjunto: plan.pdf (120 KB)"):
        assert expected in summary
    await bot.press("Enviar")
    assert "LID-2026-0001" in bot.last_text
    assert TITLE in bot.last_text  # the confirmation repeats the summary
    assert "/mysubmissions" in bot.last_text
    await bot.send("/mysubmissions")
    assert f"LID-2026-0001 — «{TITLE}» — 📨 Enviada (25 nov 2026)" in bot.last_text
    [submission] = await submissions_of(bot)
    assert submission.status == "submitted" and submission.reference == "LID-2026-0001"
    assert submission.title == TITLE and submission.region == "santa_cruz"
    assert submission.answers["contact"] == {"email": "ana@example.org", "phone": "+591 70012345"}
    assert submission.answers["attachment"] == {"file_ref": "tg-file-123", "name": "plan.pdf",
                                                "mime": "application/pdf", "size": 120_000, "kind": "document"}


async def test_an_english_speaker_gets_the_form_in_english(bot):
    await start_idea(bot, lang="en")
    assert "1/10 · What is your idea called?" in bot.last_text
    await answer_texts(bot)
    assert "Santa Cruz (Bolivia)" in bot.labels() and "Another region" in bot.labels()
    await bot.send("Jalisco")  # typing a choice's label works too
    assert "Sustainable Development Goals" in bot.last_text
    await bot.send("8, 10 and 17")  # typing the goals works too
    await bot.press("Operating")
    await bot.send(TEAM)
    await bot.send("hello")
    assert "I need an email address or a phone number" in bot.last_text
    await bot.send(CONTACT)
    await bot.press("Skip")
    assert "📋 Summary of your idea:" in bot.last_text
    assert "Region: Jalisco (Mexico)" in bot.last_text and "Stage: 🚀 Operating" in bot.last_text
    assert "SDGs: 8 Decent work, 10 Reduced inequalities, 17 Partnerships" in bot.last_text
    await bot.press("Submit")
    assert "Your idea has been submitted! Its reference code is LID-2026-0001" in bot.last_text
    await bot.send("/mysubmissions")
    assert "📨 Submitted (Nov 25, 2026)" in bot.last_text


async def test_every_validation_error_says_what_is_wrong_and_asks_again(bot):
    await start_idea(bot)
    await bot.send("Hola")
    assert "tiene 4 caracteres y el mínimo es 5" in bot.last_text
    assert "¿Cómo se llama tu idea?" in bot.last_text  # the same question again
    await bot.send("x" * 121)
    assert "tiene 121 caracteres y el máximo es 120" in bot.last_text
    await bot.send(attachment=pdf())
    assert "aquí necesito un texto (Título)" in bot.last_text
    await answer_texts(bot)
    await bot.send("Marte")
    assert "«Marte» no es una de las opciones" in bot.last_text
    assert "Santa Cruz (Bolivia), Jalisco (México)" in bot.last_text
    await bot.send(attachment=pdf())
    assert "hay que elegir con los botones" in bot.last_text
    await bot.press("Cantabria")
    for label in [label for label in bot.labels() if label.startswith("✅")]:
        await bot.press(label)  # unmark the suggestions
    await bot.press("Listo")
    assert "Marca al menos 1" in bot.last_text
    for number in ("1 Fin", "2 Hambre", "3 Salud", "4 Educación"):
        await bot.press(number)
    assert "Puedes marcar como máximo 3" in bot.last_text
    assert "✔️ Listo (3 marcados)" in bot.labels()
    await bot.press("Listo")
    await bot.press("Idea")
    await bot.send(TEAM)
    for typed, reason in [("ana@", "«ana@» no es un correo electrónico válido"),
                          ("ana@example.org 12", "«12» no es un número de teléfono válido: debe tener de 7 a 15"),
                          ("mañana te lo digo", "Necesito un correo electrónico o un número de teléfono")]:
        await bot.send(typed)
        assert reason in bot.last_text, typed
        assert "¿Cómo te contactamos?" in bot.last_text
    await bot.send("+591 700-12345")
    await bot.send("aquí va mi plan")
    assert "Aquí necesito un archivo (PDF, JPEG, PNG)" in bot.last_text
    await bot.send(attachment=Attachment("document", "f2", "plan.docx", "application/msword", 5000))
    assert "No puedo aceptar ese tipo de archivo (DOCX)" in bot.last_text
    await bot.send(attachment=pdf(size=25_000_000))
    assert "El archivo pesa 25.0 MB y el máximo es 10 MB" in bot.last_text
    [draft] = await submissions_of(bot)
    assert draft.answers["_rejected"] == {"field": "attachment", "input": "[document: plan.pdf]",
                                          "reason": "idea.error.file_too_big", "at": "2026-11-25T12:00:00+00:00"}
    assert draft.answers["contact"] == {"email": None, "phone": "+591 700-12345"}
    assert draft.answers["sdgs"] == ["1", "2", "3"]


async def test_what_the_user_typed_is_kept_when_it_is_rejected(bot):
    await start_idea(bot)
    long_problem = "Un problema contado con todo detalle. " * 50
    await bot.send(TITLE)
    await bot.send(long_problem)
    assert f"tiene {len(long_problem.strip())} caracteres y el máximo es 1500" in bot.last_text
    [draft] = await submissions_of(bot)
    assert draft.answers["_rejected"]["input"] == long_problem.strip()
    assert draft.answers["_rejected"]["field"] == "problem"
    await bot.send(PROBLEM)
    [draft] = await submissions_of(bot)
    assert "_rejected" not in draft.answers and draft.answers["problem"] == PROBLEM


async def test_edit_any_field_from_the_summary(bot):
    await start_idea(bot)
    await fill_to_summary(bot)
    assert "✅ Enviar la idea" in bot.labels()
    await bot.press("✏️ Título")
    assert f"Respuesta actual: {TITLE}" in bot.last_text
    assert "⬅️ Volver al resumen" in bot.labels()
    await bot.send("Huertos y compost en Montero")
    assert "📋 Resumen de tu idea" in bot.last_text
    assert "Título: Huertos y compost en Montero" in bot.last_text
    await bot.press("✏️ Región")
    await bot.press("Otra región")
    assert "¿Qué región o ciudad?" in bot.last_text  # the edit made another question necessary
    await bot.send("Montero")
    assert "Región: Otra región\nOtra región: Montero" in bot.last_text
    await bot.press("✏️ Etapa")
    await bot.press("Dejarla así")
    assert "Etapa: 🛠️ Prototipo" in bot.last_text
    await bot.press("✏️ ODS")
    unmarked = [label for label in bot.labels() if label.startswith("✅")][0]
    await bot.press(unmarked)
    await bot.press("17 Alianzas")
    await bot.press("Listo")
    assert "17 Alianzas" in bot.last_text and unmarked[2:] not in bot.last_text and "📋 Resumen" in bot.last_text
    await bot.press("✏️ Contacto")
    await bot.press("Volver al resumen")
    assert "Contacto: ana@example.org · +591 70012345" in bot.last_text
    await bot.send("¿ya está?")
    assert "Usa los botones" in bot.last_text and "✅ Enviar la idea" in bot.labels()
    await bot.press("Enviar")
    [submission] = await submissions_of(bot)
    assert submission.title == "Huertos y compost en Montero" and submission.region == "other"
    assert submission.answers["region_other"] == "Montero" and "17" in submission.answers["sdgs"]


async def test_back_keep_and_skip(bot):
    await start_idea(bot)
    assert "⬅️ Atrás" not in bot.labels()  # nothing before the first question
    await bot.send(TITLE)
    await bot.send(PROBLEM)
    await bot.press("Atrás")
    assert f"Respuesta actual: {PROBLEM}" in bot.last_text
    await bot.press("Atrás")
    assert "¿Cómo se llama tu idea?" in bot.last_text and f"Respuesta actual: {TITLE}" in bot.last_text
    await bot.press("Dejarla así")
    assert "¿Qué problema" in bot.last_text
    assert "⏭️ Saltar" not in bot.labels()  # only optional questions can be skipped
    await bot.send(payload="idea:skip:problem")
    assert "Esta pregunta es obligatoria" in bot.last_text
    await bot.press("Dejarla así")
    await bot.send(SOLUTION)
    await bot.send(BENEFICIARIES)
    await bot.press("Santa Cruz")
    await bot.press("Listo")
    await bot.press("Idea")
    await bot.send(TEAM)
    await bot.send(CONTACT)
    await bot.press("Saltar")
    assert "Adjunto: —" in bot.last_text and "✅ Enviar la idea" in bot.labels()
    [draft] = await submissions_of(bot)
    assert draft.answers["attachment"] is None and draft.answers["problem"] == PROBLEM


async def test_cancel_keeps_the_draft_and_idea_offers_to_continue_it(bot):
    await start_idea(bot)
    await bot.send(TITLE)
    await bot.send(PROBLEM)
    await bot.send("/cancel")
    assert "borrador" in bot.last_text
    await bot.send("hola")  # outside the flow now: not taken as an answer
    [draft] = await submissions_of(bot)
    assert draft.status == "draft" and draft.answers == {"title": TITLE, "problem": PROBLEM}
    await bot.send("/idea")
    assert "guardadas como borrador" in bot.last_text
    assert bot.labels() == [f"✏️ Seguir con «{TITLE}»", "🆕 Empezar una idea nueva"]
    await bot.press("Seguir con")
    assert f"Seguimos con «{TITLE}»" in bot.last_text
    assert "3/10 · ¿Cuál es tu solución?" in bot.last_text  # the first question not answered yet
    await bot.send(SOLUTION)
    await bot.send("/idea")  # half-way through, /idea repeats where the user is
    assert "4/10 · ¿Quiénes se benefician" in bot.last_text
    await bot.send("/cancel")
    await bot.send("/idea")
    await bot.press("Empezar una idea nueva")
    await bot.send("Otra idea distinta")
    await bot.send("/mysubmissions")
    assert f"Sin enviar — «{TITLE}» — 📝 Borrador" in bot.last_text
    assert "Sin enviar — «Otra idea distinta» — 📝 Borrador" in bot.last_text
    await bot.press("Seguir con «Otra idea distinta»")
    assert "2/10 · ¿Qué problema" in bot.last_text


async def test_suggested_goals_are_only_an_answer_once_confirmed(bot):
    await start_idea(bot)
    await answer_texts(bot)
    await bot.press("Santa Cruz")
    suggested = [label for label in bot.labels() if label.startswith("✅")]
    await bot.press(suggested[0])
    await bot.send("/cancel")
    [draft] = await submissions_of(bot)
    assert "sdgs" not in draft.answers  # marks not confirmed with "Listo" are not an answer
    await bot.send("/idea")
    await bot.press("Seguir con")
    assert "¿A qué Objetivos de Desarrollo Sostenible" in bot.last_text  # not skipped on the way back
    assert [label for label in bot.labels() if label.startswith("✅")] == suggested
    await bot.press("Listo")
    await bot.press("Idea")
    await bot.send(TEAM)
    await bot.send(CONTACT)
    await bot.press("Saltar")
    await bot.press("✏️ ODS")
    await bot.press(suggested[0])  # unmarked, then left without "Listo": the saved answer stays
    await bot.press("Volver al resumen")
    assert suggested[0][2:] in bot.last_text
    [draft] = await submissions_of(bot)
    assert len(draft.answers["sdgs"]) == len(suggested)


async def test_save_for_later_from_the_summary(bot):
    await start_idea(bot)
    await fill_to_summary(bot)
    await bot.press("Seguir más tarde")
    assert "Guardado" in bot.last_text
    await bot.send("/idea")
    await bot.press("Seguir con")
    assert "📋 Resumen de tu idea" in bot.last_text and "✅ Enviar la idea" in bot.labels()


async def test_a_restart_mid_flow_loses_nothing(bot):
    await start_idea(bot)
    await answer_texts(bot)
    await bot.press("Santa Cruz")
    for label in [label for label in bot.labels() if label.startswith("✅")]:
        await bot.press(label)  # unmark the suggestions
    await bot.press("17 Alianzas")
    await bot.restart()
    await bot.press("10 Menos")  # a button sent before the restart still works
    assert "✅ 10 Menos desigualdad" in bot.labels() and "✅ 17 Alianzas" in bot.labels()
    await bot.press("Listo")
    await bot.restart()
    await bot.press("En marcha")
    await bot.send(TEAM)
    await bot.restart()
    await bot.send(CONTACT)
    await bot.press("Saltar")
    for expected in (TITLE, PROBLEM, SOLUTION, BENEFICIARIES, "Santa Cruz", "17 Alianzas", "10 Menos", TEAM):
        assert expected in bot.last_text
    await bot.restart()
    await bot.press("Enviar")
    assert "LID-2026-0001" in bot.last_text


async def test_two_users_filling_in_turns(bot):
    await start_idea(bot, user="ana")
    await start_idea(bot, user="luis", lang="en")
    turns = [("Huertos de Ana", "Luis's bakery"), (PROBLEM, "Young people in the barrio have no jobs at all."),
             (SOLUTION, "A cooperative bakery that trains and employs them."), (BENEFICIARIES, "Twenty young people")]
    for ana_says, luis_says in turns:
        await bot.send(ana_says, user="ana")
        await bot.send(luis_says, user="luis")
    assert "¿En qué región" in bot.text_of("ana") and "Where does it take place?" in bot.text_of("luis")
    await bot.press("Jalisco", user="luis")
    await bot.press("Santa Cruz", user="ana")
    [ana] = await submissions_of(bot, "ana")
    [luis] = await submissions_of(bot, "luis")
    assert ana.answers["title"] == "Huertos de Ana" and ana.region == "santa_cruz"
    assert luis.answers["title"] == "Luis's bakery" and luis.region == "jalisco"
    assert "Sustainable Development Goals" in bot.text_of("luis")


async def test_two_users_at_the_same_moment(bot):
    await asyncio.gather(bot.onboard(user="ana"), bot.onboard(user="luis"))
    await asyncio.gather(bot.send("/idea", user="ana"), bot.send("/idea", user="luis"))
    steps = [(TITLE, "La panadería de Luis"), (PROBLEM, PROBLEM), (SOLUTION, SOLUTION), (BENEFICIARIES, "20 jóvenes")]
    for ana_says, luis_says in steps:
        await asyncio.gather(bot.send(ana_says, user="ana"), bot.send(luis_says, user="luis"))
    for payload in ("idea:pick:region:santa_cruz", "idea:done:sdgs", "idea:pick:stage:idea"):
        await asyncio.gather(bot.press(payload, user="ana"), bot.press(payload, user="luis"))
    await asyncio.gather(bot.send(TEAM, user="ana"), bot.send(TEAM, user="luis"))
    await asyncio.gather(bot.send(CONTACT, user="ana"), bot.send("luis@example.org", user="luis"))
    await asyncio.gather(bot.press("Saltar", user="ana"), bot.press("Saltar", user="luis"))
    await asyncio.gather(bot.press("Enviar", user="ana"), bot.press("Enviar", user="luis"))
    assert {reference_in(bot.text_of("ana")), reference_in(bot.text_of("luis"))} == {"LID-2026-0001", "LID-2026-0002"}
    [ana] = await submissions_of(bot, "ana")
    [luis] = await submissions_of(bot, "luis")
    assert ana.title == TITLE and luis.title == "La panadería de Luis"
    assert luis.answers["contact"] == {"email": "luis@example.org", "phone": None}


async def test_emoji_and_very_long_answers(bot):
    await start_idea(bot)
    title = "🌱 Huertos 🌻 y compost ♻️"
    await bot.send(title)
    long_problem = ("Las familias del barrio tiran la basura orgánica a la calle. " * 30)[:1500]
    await bot.send(long_problem)
    assert "¿Cuál es tu solución?" in bot.last_text  # 1500 characters is the maximum: accepted
    await bot.send("🙂" * 1501)
    assert "tiene 1501 caracteres y el máximo es 1500" in bot.last_text
    await bot.send(SOLUTION + " 🚀")
    await bot.send(BENEFICIARIES)
    await bot.press("Santa Cruz")
    await bot.press("Listo")
    await bot.press("Idea")
    await bot.send("'; drop table submissions; --")
    await bot.send(CONTACT)
    await bot.press("Saltar")
    replies = bot.replies["ana"]
    assert all(len(reply.text) < 4096 for reply in replies)  # a long answer is cut in the summary, not lost
    assert f"Título: {title}" in bot.last_text and "…" in bot.last_text
    [draft] = await submissions_of(bot)
    assert draft.answers["title"] == title and draft.answers["problem"] == long_problem.strip()
    assert draft.answers["team"] == "'; drop table submissions; --"


async def test_a_file_where_text_was_expected_and_a_photo_as_attachment(bot):
    await start_idea(bot)
    sticker = Attachment("sticker", "stk-1")
    await bot.send(attachment=sticker)
    assert "Recibí un archivo, pero aquí necesito un texto (Título)" in bot.last_text
    await answer_texts(bot)
    await bot.press("León")
    await bot.press("Listo")
    await bot.press("Prototipo")
    await bot.send(TEAM)
    await bot.send(attachment=Attachment("voice", "voice-1", None, "audio/ogg", 3000))
    assert "aquí necesito un texto (Contacto)" in bot.last_text
    await bot.send(CONTACT)
    await bot.send(attachment=Attachment("photo", "photo-77", None, None, 80_000))  # Telegram photos have no mime
    assert "Adjunto: photo (80 KB)" in bot.last_text
    [draft] = await submissions_of(bot)
    assert draft.answers["attachment"] == {"file_ref": "photo-77", "name": "photo", "mime": "image/jpeg",
                                           "size": 80_000, "kind": "photo"}


async def test_buttons_of_an_earlier_question_are_refused(bot):
    await start_idea(bot)
    await answer_texts(bot)
    await bot.press("Santa Cruz")
    await bot.send(payload="idea:pick:region:jalisco")  # a button still on screen from the last question
    assert "caducó" in bot.last_text
    assert "¿A qué Objetivos de Desarrollo Sostenible" in bot.last_text  # and the current question again
    await bot.send(payload="idea:pick:stage:nonsense")
    await bot.send(payload="idea:edit:title")
    await bot.send(payload="idea:submit:")
    await bot.send(payload="idea:continue:99999")
    assert "ya no está disponible" in bot.last_text
    [draft] = await submissions_of(bot)
    assert draft.region == "santa_cruz" and draft.status == "draft"
    await bot.send("/cancel")
    await bot.send(payload="idea:toggle:sdgs:8")
    assert "caducó" in bot.last_text


async def test_someone_elses_draft_cannot_be_continued(bot):
    await start_idea(bot, user="ana")
    await bot.send(TITLE, user="ana")
    [draft] = await submissions_of(bot, "ana")
    await bot.onboard(user="eva")
    await bot.send(payload=f"idea:continue:{draft.id}", user="eva")
    assert "ya no está disponible" in bot.text_of("eva")
    await bot.send("Título de Eva", user="eva")  # not in any flow: nothing written to Ana's draft
    [draft] = await submissions_of(bot, "ana")
    assert draft.answers == {"title": TITLE}


async def test_idea_asks_for_consent_first(bot):
    await bot.send("/idea")
    assert "¿Estás de acuerdo?" in bot.last_text
    assert await submissions_of(bot) == []
    await bot.press("consent:yes")
    await bot.send("/idea")
    assert "¿Cómo se llama tu idea?" in bot.last_text

