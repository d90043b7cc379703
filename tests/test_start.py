"""First contact and the always-available commands, as a user sees them."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import User
from bot.messages import Attachment


async def test_start_welcomes_asks_consent_and_shows_menu_after(bot):
    await bot.send("/start")
    assert "LÍDERES" in bot.last_text
    assert "¿Estás de acuerdo?" in bot.last_text
    assert "Español" in bot.labels() and "English" in bot.labels()
    await bot.press("Acepto")
    assert bot.labels() == ["💡 Enviar una idea", "❓ Hacer una pregunta", "🤝 Mentorías", "🌐 Red de apoyo mutuo",
                            "📄 Mis ideas", "ℹ️ Ayuda"]
    await bot.send("/start")
    assert "de nuevo" in bot.last_text  # consent is remembered


async def test_language_follows_platform_and_lang_switches_it(bot):
    await bot.send("/start", lang="en-GB")
    assert "Do you agree?" in bot.last_text
    await bot.send("/lang es")
    assert "español" in bot.last_text
    await bot.send("/help")
    assert "Puedo ayudarte" in bot.last_text
    await bot.send("/lang")
    await bot.press("English")
    assert "English" in bot.last_text
    await bot.send("/menu")
    assert "Main menu" in bot.last_text


async def test_deep_link_records_where_the_user_came_from(bot):
    await bot.send("/start feria_scz_2026", user="luis")
    await bot.send("/start otro", user="luis")  # the first source is kept
    await bot.send("/start bad$payload!", user="eva")
    async with bot.app.sessions() as session:
        sources = dict((await session.execute(select(User.external_id, User.source))).all())
    assert sources == {"luis": "feria_scz_2026", "eva": None}


async def test_cancel_outside_a_flow_and_unknown_command(bot):
    await bot.onboard()
    await bot.send("/cancel")
    assert "nada que cancelar" in bot.last_text
    await bot.send("/volar")
    assert "No conozco el comando /volar" in bot.last_text
    assert "💡 Enviar una idea" in bot.labels()


async def test_bad_input_gets_a_friendly_answer(bot):
    await bot.onboard()
    for text in ["", "   ", "🦄🦄🦄", "x" * 10_000, "'; drop table users; --", "<b>hola</b>"]:
        replies = await bot.send(text)
        assert replies and replies[0].text, text
    await bot.send("/start")
    assert "de nuevo" in bot.last_text  # nothing broke: the user is still there


async def test_forged_button_payload_is_expired(bot):
    await bot.onboard()
    await bot.send(payload="nonexistent:123")
    assert "caducó" in bot.last_text
    await bot.send(payload="lang:fr")
    assert "caducó" in bot.last_text
    await bot.send(payload="menu:rm -rf")
    assert "caducó" in bot.last_text


async def test_privacy_explains_and_shows_consent_date(bot):
    await bot.onboard()
    await bot.send("/privacy")
    assert "La coordinación de la red los usa" in bot.last_text
    assert "2026-11-25" in bot.last_text
    notice = bot.replies["ana"][0].document
    assert notice is not None and notice.data is not None and b"/forgetme" in notice.data  # the full notice


async def test_admins_from_settings_become_coordinators(bot):
    await bot.send("/start", user="coord")
    await bot.send("/start", user="pepe")
    async with bot.app.sessions() as session:
        roles = dict((await session.execute(select(User.external_id, User.role))).all())
    assert roles == {"coord": "admin", "pepe": "entrepreneur"}


async def test_a_file_or_sticker_outside_any_flow_is_answered_politely(bot):
    await bot.onboard()
    await bot.send(attachment=Attachment("sticker", "CAACAgIAAxk"))
    assert "no esperaba ninguno" in bot.last_text
    await bot.send(attachment=Attachment("document", "BQACAgI", "plan.pdf", "application/pdf", 20 * 1024 * 1024))
    assert "no esperaba ninguno" in bot.last_text
    await bot.send("/menu")
    assert "Menú principal" in bot.last_text


async def test_help_lists_the_coordinators_commands_only_to_them_each_as_far_as_their_role_goes(bot):
    await bot.onboard(user="ana")
    await bot.send("/help", user="ana")
    member = bot.last_text
    assert "/mentoring — Reservar una mentoría" in member
    assert not {"/broadcast", "/mentors", "/assign", "/export", "/grant", "coordinación"} & set(member.split())
    await bot.onboard(user="coord", lang="en")  # an admin (LIDERES_ADMINS)
    await bot.send("/help", user="coord")
    admin = bot.text_of("coord")
    assert "As a coordinator you also have:" in admin
    for line in ("/mentors — Mentoring: figures", "/assign — Book a session for someone", "/export — Export ideas",
                 "/status — Change an idea's status", "/grant — Give a role", "/kb_reload — Reload"):
        assert line in admin, line
    await bot.onboard(user="maria")
    await bot.send("/grant test:maria coordinator", user="coord")
    await bot.send("/help", user="maria")
    coordinator = bot.text_of("maria")
    assert "/assign — Reservar una mentoría para alguien" in coordinator and "/grant" not in coordinator
    engine = bot.app.engine
    assert {c.name for c in engine.commands.values() if c.route.coordinator_only and not c.describe} == set()
    assert "broadcast" not in dict(engine.menu_commands())  # the platform's command menu is everyone's
