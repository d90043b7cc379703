"""The coordinators' commands through the real engine and database, as a coordinator on a phone would use them:
roles, broadcasts (writing, audience, preview, bad input, progress, pause and cancel), /stop and /start,
submissions and reviews, exports read back with csv and openpyxl, and the statistics chart."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from PIL import Image
from pydantic import SecretStr
from sqlalchemy import func, select, update

from bot.db.models import AuditLog, Broadcast, Delivery, Review, User
from bot.messages import Attachment
from bot.services import broadcasts
from tests.test_idea_helpers import pdf, submit_idea

COMMANDS = ("/broadcast", "/broadcasts", "/submissions", "/submission LID-2026-0001", "/review LID-2026-0001",
            "/export", "/export users csv", "/stats", "/grant test:ana admin", "/revoke test:coord",
            "/status LID-2026-0001 finalist", "/unanswered", "/answer 1 hola", "/sources", "/kb_reload")


async def members(bot, *names: str, lang: str = "es") -> None:
    for name in names:
        await bot.onboard(user=name, lang=lang)


async def audit(bot) -> list[tuple[str, str | None]]:
    async with bot.app.sessions() as session:
        return [tuple(row) for row in (await session.execute(
            select(AuditLog.action, AuditLog.target).order_by(AuditLog.id))).all()]


async def test_every_coordinator_command_is_refused_to_an_entrepreneur_and_audited(bot):
    await submit_idea(bot, user="ana")
    for command in COMMANDS:
        await bot.send(command, user="ana")
        name = command.split()[0]
        assert bot.text_of("ana").startswith(f"No conozco el comando {name}"), command
    refused = [target for action, target in await audit(bot) if action == "coordinator.refused"]
    assert refused == [command.split()[0] for command in COMMANDS]
    await bot.press("menu:help", user="ana")  # nor are they listed to her
    assert "/broadcast" not in bot.text_of("ana")
    await bot.send(payload="bc:cancel:1", user="ana")  # a coordinator's button, forged
    assert "caducó" in bot.text_of("ana")


async def test_admins_grant_and_revoke_roles_and_coordinators_cannot(bot):
    await members(bot, "coord", "ana", "maria")
    await bot.send("/grant test:maria coordinator", user="coord")
    assert "Hecho: test:maria ahora es coordinador/a" in bot.text_of("coord")
    await bot.send("/broadcasts", user="maria")
    assert "Todavía no hay difusiones" in bot.text_of("maria")
    await bot.send("/grant test:ana admin", user="maria")  # a coordinator is not an admin
    assert bot.text_of("maria").startswith("No conozco el comando /grant")
    await bot.send("/grant ana mentor", user="coord")  # the admin's own channel by default
    assert "ahora es mentor/a" in bot.text_of("coord")
    await bot.send("/grant test:nobody coordinator", user="coord")
    assert "No conozco a test:nobody" in bot.text_of("coord")
    await bot.send("/grant test:maria boss", user="coord")
    assert "Escríbelo así" in bot.text_of("coord")
    await bot.send("/revoke test:maria", user="coord")
    await bot.send("/broadcasts", user="maria")  # checked at this call: the role is gone
    assert bot.text_of("maria").startswith("No conozco el comando /broadcasts")
    actions = [action for action, _ in await audit(bot)]
    assert actions.count("role.grant") == 2 and actions.count("role.revoke") == 1
    assert "admin.refused" in actions


async def start_broadcast(bot, text: str = "Mañana abre la convocatoria") -> None:
    await bot.send("/broadcast", user="coord")
    await bot.send(text, user="coord")


async def test_a_broadcast_from_writing_to_the_final_report(bot):
    await members(bot, "coord", "ana", "luis")
    await members(bot, "john", lang="en")
    await start_broadcast(bot)
    await bot.press("bc:translate", user="coord")
    await bot.send(attachment=Attachment("photo", "PHOTO1"), user="coord")  # text expected here
    assert "necesito el texto" in bot.text_of("coord")
    await bot.send("The call opens tomorrow", user="coord")
    assert "Alcanza a 4 miembros" in bot.text_of("coord")
    await bot.press("bc:dim:language", user="coord")
    await bot.press("inglés", user="coord")
    await bot.press("bc:audience", user="coord")
    assert "Idioma: inglés" in bot.text_of("coord") and "Alcanza a 1 miembros" in bot.text_of("coord")
    await bot.press("bc:clear", user="coord")
    await bot.press("bc:preview", user="coord")
    replies = bot.replies["coord"]
    assert [r.text for r in replies[:2]] == ["Mañana abre la convocatoria", "The call opens tomorrow"]
    assert "📬 4 destinatarios" in replies[2].text
    async with bot.app.sessions() as session:
        assert await session.scalar(select(func.count(Broadcast.id))) == 0  # nothing before confirming
    await bot.press("bc:send", user="coord")
    assert "Difusión #1 en marcha" in bot.text_of("coord")
    await broadcasts.start_due(bot.app.outbox)  # the recipients are enqueued...
    await bot.send("/stop", user="luis")  # ...and luis leaves: checked again when his row is claimed
    await bot.app.outbox.send_due()
    assert [r.text for r in bot.output.to("ana")] == ["Mañana abre la convocatoria"]
    assert [r.text for r in bot.output.to("john")] == ["The call opens tomorrow"]
    assert bot.output.to("luis") == []
    to_coord = bot.output.to("coord")
    assert "Mañana abre la convocatoria" in [r.text for r in to_coord]  # the coordinator is a member too
    progress = next(i for i, (who, r) in enumerate(bot.output.sent, 1) if r.text.startswith("📣 Difusión #1"))
    shown = bot.output.current("coord", str(progress)).text
    assert "terminada" in shown and "✅ 3 enviados" in shown and "⏭️ 1 omitidos" in shown and "▓" * 10 in shown
    assert to_coord[-1].text.startswith("✅ La difusión #1 ha terminado.")
    await bot.send("/broadcasts", user="coord")
    assert "#1 · terminada" in bot.text_of("coord") and "✅ 3 enviados" in bot.text_of("coord")
    assert ("broadcast.create", "broadcast:1") in await audit(bot)


async def test_bad_broadcast_input_gets_a_clear_answer_and_nothing_is_sent(bot):
    await members(bot, "coord", "ana")
    await start_broadcast(bot, "x" * 4097)
    assert "tiene 4097 caracteres y el límite es 4096" in bot.text_of("coord")
    await bot.send(attachment=Attachment("sticker", "STK1"), user="coord")
    assert "texto, una foto o un documento" in bot.text_of("coord")
    await bot.send("Hola", user="coord")
    await bot.press("bc:audience", user="coord")
    await bot.send("todos", user="coord")  # typed where buttons are expected
    assert "Usa los botones" in bot.text_of("coord")
    await bot.press("bc:dim:role", user="coord")
    await bot.press("Mentores", user="coord")
    await bot.send(payload="bc:val:99", user="coord")  # stale or forged
    assert "caducó" in bot.text_of("coord")
    await bot.send(payload="bc:preview", user="coord")
    assert "Ningún miembro cumple estos criterios" in bot.text_of("coord")
    assert "Enviar ahora" not in " ".join(bot.labels("coord"))
    await bot.send(payload="bc:send", user="coord")  # no send from an empty audience either
    await bot.app.outbox.send_due()
    assert bot.output.sent == []
    async with bot.app.sessions() as session:
        assert await session.scalar(select(func.count(Broadcast.id))) == 0


async def test_a_picture_broadcast_scheduled_for_later(bot):
    await members(bot, "coord", "ana")
    await bot.send("/broadcast", user="coord")
    await bot.send(attachment=Attachment("photo", "PHOTO1", "cartel.jpg", "image/jpeg"), user="coord")
    await bot.press("bc:audience", user="coord")
    await bot.press("bc:preview", user="coord")
    await bot.press("bc:schedule", user="coord")
    await bot.send("mañana", user="coord")
    assert "No entiendo esa fecha" in bot.text_of("coord")
    await bot.send("2020-01-01 10:00", user="coord")
    assert "tiene que ser futura" in bot.text_of("coord")
    await bot.send("2026-11-26 09:00", user="coord")  # the clock says 2026-11-25 12:00 UTC
    assert "Programado para el" in bot.text_of("coord") and "(UTC)" in bot.text_of("coord")
    await bot.press("bc:send", user="coord")
    assert "programada para el" in bot.text_of("coord")
    await bot.app.outbox.send_due()
    assert bot.output.to("ana") == []
    bot.clock.advance(hours=21, minutes=1)
    await bot.app.outbox.send_due()
    [received] = bot.output.to("ana")
    assert received.picture is not None and received.picture.file_ref == "PHOTO1"


async def test_pause_resume_and_cancel_a_running_broadcast(bot):
    await members(bot, "coord", "ana", "luis", "eva")
    await start_broadcast(bot)
    await bot.press("bc:audience", user="coord")
    await bot.press("bc:preview", user="coord")
    await bot.press("bc:send", user="coord")
    await broadcasts.start_due(bot.app.outbox)
    await bot.send("/broadcasts", user="coord")
    await bot.press("bc:pause:1", user="coord")
    assert "en pausa" in bot.text_of("coord")
    await bot.app.outbox.send_due()
    assert bot.output.to("ana") == []  # nothing leaves while paused
    await bot.send("/broadcasts", user="coord")
    await bot.press("bc:resume:1", user="coord")
    await bot.send("/broadcasts", user="coord")
    await bot.press("bc:cancel:1", user="coord")
    assert "¿Cancelar la difusión #1?" in bot.text_of("coord")
    await bot.press("bc:cancel_yes:1", user="coord")
    await bot.app.outbox.send_due()
    assert bot.output.to("ana") == [] and bot.output.to("eva") == []
    assert bot.output.to("coord")[-1].text.startswith("✖️ La difusión #1 se canceló.")
    await bot.send(payload="bc:cancel:1", user="coord")  # once more, from the old list
    assert "cancelada: eso ya no se puede hacer" in bot.text_of("coord")


async def test_stop_and_start_again(bot):
    await members(bot, "coord", "ana")
    await bot.send("/stop", user="ana")
    assert "ya no recibirás los avisos" in bot.text_of("ana")
    async with bot.app.sessions() as session:
        assert await session.scalar(select(User.broadcast_opt_out).where(User.external_id == "ana"))
    await bot.send("/start", user="ana")
    assert "Volverás a recibir los avisos" in bot.text_of("ana")
    async with bot.app.sessions() as session:
        assert not await session.scalar(select(User.broadcast_opt_out).where(User.external_id == "ana"))


async def review(bot, user: str, code: str, scores: list[int], comment: str | None) -> None:
    await bot.send(f"/review {code}", user=user)
    for score in scores:
        await bot.press(f"rv:score:{score}", user=user)
    if comment is None:
        await bot.press("rv:nocomment", user=user)
    else:
        await bot.send(comment, user=user)


async def test_submissions_listed_shown_and_reviewed_by_several_reviewers(bot):
    await members(bot, "coord", "maria")
    async with bot.app.sessions() as session, session.begin():
        await session.execute(update(User).where(User.external_id == "maria").values(role="coordinator"))
    for index in range(12):
        await submit_idea(bot, user=f"e{index}", title=f"Idea número {index:02d}")
    await bot.send("/submissions santa_cruz", user="coord")
    assert "12 · página 1 de 2" in bot.text_of("coord") and "LID-2026-0012" in bot.text_of("coord")
    await bot.press("▶️", user="coord")
    assert "página 2 de 2" in bot.text_of("coord") and "LID-2026-0001" in bot.text_of("coord")
    await bot.send("/submissions status=finalist", user="coord")
    assert "No hay ideas enviadas con estos filtros" in bot.text_of("coord")
    await bot.send("/submissions galaxia", user="coord")
    assert "No entiendo «galaxia»" in bot.text_of("coord")

    await review(bot, "coord", "LID-2026-0003", [5, 4, 4, 3, 4], "Muy sólida")
    await bot.send("/review lid-2026-0003", user="maria")
    await bot.send("7", user="maria")
    assert "del 1 al 5" in bot.text_of("maria")
    for score in (3, 2, 2, 1, 2):
        await bot.send(str(score), user="maria")
    await bot.press("rv:nocomment", user="maria")
    text = bot.text_of("maria")
    assert "Media 3.0 (dispersión ±1.0, 2 evaluadores)" in text and "• Impacto social o ambiental: 4.0" in text
    await review(bot, "coord", "LID-2026-0003", [5, 5, 5, 5, 5], None)  # a second review replaces the first
    async with bot.app.sessions() as session:
        assert await session.scalar(select(func.count(Review.id))) == 2
    await bot.send("/review LID-2099-0001", user="coord")
    assert "No hay ninguna idea enviada con el código «LID-2099-0001»" in bot.text_of("coord")


async def test_one_submission_with_its_files_sent_again(bot):
    await members(bot, "coord")
    from tests.test_idea_helpers import fill_to_summary, start_idea

    await start_idea(bot, user="ana")
    await fill_to_summary(bot, user="ana", attachment=pdf())
    await bot.press("idea:submit:", user="ana")
    await bot.send("/submission LID-2026-0001", user="coord")
    summary, document = bot.replies["coord"]
    assert "LID-2026-0001" in summary.text and "test:ana" in summary.text and "Huertos comunitarios" in summary.text
    assert document.document is not None and document.document.file_ref == "tg-file-123"
    await bot.send("/submission", user="coord")
    assert "Escribe el código" in bot.text_of("coord")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_exports_open_back_with_csv_and_openpyxl(bot, fmt):
    await members(bot, "coord")
    await submit_idea(bot, user="ana", title="=HYPERLINK(\"http://x\") cooperativa")
    await review(bot, "coord", "LID-2026-0001", [4, 4, 4, 4, 4], "Bien")
    tables = {}
    for what in ("submissions", "reviews", "users"):
        await bot.send(f"/export {what} {fmt}", user="coord")
        [reply] = bot.replies["coord"]
        assert reply.document is not None and reply.document.filename.endswith(f".{fmt}")
        data = reply.document.data
        if fmt == "csv":
            tables[what] = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        else:
            sheet = load_workbook(io.BytesIO(data)).active
            tables[what] = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    header, row = tables["submissions"]
    assert header[:2] == ["reference", "status"] and row[:2] == ["LID-2026-0001", "submitted"]
    assert row[header.index("title")].startswith("'=HYPERLINK")  # never run as a formula
    assert row[header.index("review_average")] in ("4.0", "4")
    assert tables["reviews"][1][0] == "LID-2026-0001" and tables["reviews"][1][-2] == "Bien"
    assert {"test:ana", "test:coord"} <= {line[1] for line in tables["users"][1:]}
    await bot.send("/export secrets csv", user="coord")
    assert "Escríbelo así: /export" in bot.text_of("coord")


async def test_stats_counts_and_a_valid_png(bot):
    await members(bot, "coord")
    await submit_idea(bot, user="ana")
    await submit_idea(bot, user="luis", lang="en")
    await bot.send("/stats", user="coord")
    text, picture = bot.replies["coord"]
    assert "Ideas por estado" in text.text and "📨" in text.text or "Enviada" in text.text
    assert "Santa Cruz (Bolivia): 2" in text.text and "Ideas enviadas por semana" in text.text
    png = picture.picture.data
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.size[0] > 600


async def test_a_notification_leaves_before_a_running_broadcast(bot):
    await members(bot, "coord", *(f"m{i}" for i in range(30)))
    await start_broadcast(bot)
    await bot.press("bc:audience", user="coord")
    await bot.press("bc:preview", user="coord")
    await bot.press("bc:send", user="coord")
    await broadcasts.start_due(bot.app.outbox)
    await submit_idea(bot, user="ana")
    await bot.send("/status LID-2026-0001 finalist", user="coord")  # ana is told, while 31 rows wait
    bot.app.outbox.concurrency = 4
    await bot.app.outbox.send_due()
    texts = [reply.text for _, reply in bot.output.sent]
    finalist = next(i for i, text in enumerate(texts) if "Finalista" in text)
    assert finalist < texts.index("Mañana abre la convocatoria")  # before any of the broadcast's 31 rows
    async with bot.app.sessions() as session:
        left = await session.scalar(select(func.count(Delivery.id)).where(Delivery.status == "pending"))
    assert left == 0


@pytest.fixture
def settings_overrides(tmp_path):
    """A knowledge folder of this test's own (drafts and new entries are written into it)."""
    import shutil

    from bot.config import PROJECT_ROOT

    folder = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", folder)
    return {"knowledge_dir": str(folder)}


async def ask_unknown(bot, user: str, question: str, lang: str = "es") -> None:
    await bot.onboard(user=user, lang=lang)
    await bot.send(question, user=user)
    await bot.press("faq:forward", user=user)


async def test_one_answer_reaches_everyone_who_asked_and_can_become_an_entry(bot, tmp_path):
    await members(bot, "coord")
    await ask_unknown(bot, "ana", "¿Cuál es la capital de Mongolia?")
    await ask_unknown(bot, "luis", "cual es la capital de mongolia")
    await ask_unknown(bot, "eva", "¿Quién ganó el mundial de 1986?")
    await bot.send("/unanswered", user="coord")
    assert "(la preguntaron 2 personas)" in bot.text_of("coord")
    await bot.send("/answer 1 Ulán Bator.", user="coord")
    assert "enviada a 2 persona(s)" in bot.text_of("coord")
    await bot.app.outbox.send_due()
    assert "Ulán Bator" in bot.output.to("ana")[-1].text and "Ulán Bator" in bot.output.to("luis")[-1].text
    assert bot.output.to("eva") == []
    await bot.send("/unanswered", user="coord")
    assert "Mongolia" not in bot.text_of("coord") and "mundial" in bot.text_of("coord")

    await bot.send(payload="kbd:draft:1", user="coord")
    draft = tmp_path / "knowledge" / ".drafts" / "answered-question-1.md"
    assert f"Borrador escrito en {draft}" in bot.text_of("coord") and "TODO" in bot.text_of("coord")
    assert "¿Cuál es la capital de Mongolia?" in draft.read_text()
    await bot.press("kbd:ok:1", user="coord")  # not complete yet: it stays a draft
    assert draft.exists() and "Le falta" in bot.text_of("coord")
    draft.write_text(
        "---\nid: answered-question-1\ntitle:\n  es: ¿Cuál es la capital de Mongolia?\n"
        "  en: What is the capital of Mongolia?\ntags: [mongolia, capital]\nquestions:\n"
        "  es: [¿Cuál es la capital de Mongolia?, capital de mongolia, ciudad capital mongola]\n"
        "  en: [What is the capital of Mongolia?, capital of mongolia, mongolian capital city]\n"
        "source: coordinators' answer to question 1\n---\n## es\n\nUlán Bator.\n\n## en\n\nUlaanbaatar.\n")
    await bot.press("kbd:ok:1", user="coord")
    assert "ya está en la base de conocimiento" in bot.text_of("coord")
    assert (tmp_path / "knowledge" / "answered-question-1.md").exists() and not draft.exists()
    await bot.send("What is the capital of Mongolia?", user="ana", lang="en")
    assert bot.text_of("ana") == "Ulán Bator."  # answered from the new entry, in her language


async def test_a_whatsapp_template_for_members_outside_the_24_hour_window(bot):
    bot.app.settings.whatsapp_token = SecretStr("token")  # the button shows when WhatsApp is on
    await members(bot, "coord", "ana")
    await start_broadcast(bot)
    await bot.press("bc:audience", user="coord")
    await bot.press("bc:preview", user="coord")
    await bot.press("bc:template", user="coord")
    await bot.send("Novedades Red!", user="coord")
    assert "No lo entiendo" in bot.text_of("coord")
    await bot.send("novedades_red | Taller de finanzas | jueves 10:00", user="coord")
    assert "plantilla novedades_red (Taller de finanzas | jueves 10:00)" in bot.text_of("coord")
    await bot.press("bc:send", user="coord")
    async with bot.app.sessions() as session:
        broadcast = await session.get(Broadcast, 1)
    assert broadcast.template == {"name": "novedades_red", "params": ["Taller de finanzas", "jueves 10:00"]}
