"""What users typed, as coordinators see it (issue 15): no bidirectional control characters (a right-to-left
override in a name or a question reorders what a coordinator reads), and no link previews (a URL a user
typed is neither fetched nor expanded in a coordinator's chat). Through the engine, and over Telegram."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from bot.channels.telegram.render import plan
from bot.db.models import Unanswered, User
from bot.messages import Reply
from bot.services.display import BIDI_CONTROLS, shown
from tests.fake_telegram import TOKEN, running_channel
from tests.mentoring_support import add_mentor, add_slots
from tests.test_idea_helpers import submit_idea

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"
RLO = "\u202e"
SNEAKY = f"mira https://evil.example/{RLO}fdp.exe y {BIDI_CONTROLS} fin"


def has_bidi(text: str) -> bool:
    return any(char in text for char in BIDI_CONTROLS)


@pytest.fixture
def settings_overrides(tmp_path) -> dict[str, object]:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for entry in FIXTURES.glob("*.md"):
        (knowledge / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return {"knowledge_dir": knowledge}


def test_shown_strips_every_bidirectional_control_and_nothing_else():
    assert len(BIDI_CONTROLS) == 12
    assert shown(f"{RLO}exe.fdp") == "exe.fdp"
    assert shown("\u2067عربي\u2069 y ñandú 🙂\u200f") == "عربي y ñandú 🙂"
    assert shown(None, "?") == "?" and shown("", "?") == "?"
    assert not has_bidi(shown(SNEAKY)) and "https://evil.example/fdp.exe" in shown(SNEAKY)


def test_link_previews_off_reach_every_piece_of_a_long_message():
    long = "\n\n".join(f"https://example.org/{i} " + "texto " * 700 for i in range(3))
    steps = plan([Reply(text=long, link_preview=False), Reply(text="ok")])
    assert len(steps) > 2
    assert [step.link_preview for step in steps] == [False] * (len(steps) - 1) + [True]


async def test_a_question_passed_on_reaches_coordinators_without_bidi_or_previews(bot):
    await bot.onboard(user="coord", lang="en")
    await bot.onboard(user=f"{RLO}ana")  # the harness shows the user id as the display name
    await bot.send(f"{SNEAKY} ¿cuál es la capital de Mongolia?", user=f"{RLO}ana")
    await bot.press("Sí, pásala", user=f"{RLO}ana")
    await bot.app.outbox.send_due()
    [notice] = bot.output.to("coord")
    assert "from ana:" in notice.text and "https://evil.example/fdp.exe" in notice.text
    assert not has_bidi(notice.text) and notice.link_preview is False
    await bot.send("/unanswered", user="coord")
    [listing] = bot.replies["coord"]
    assert "#1 · ana (es): mira https://evil.example/fdp.exe" in listing.text
    assert not has_bidi(listing.text) and listing.link_preview is False
    await bot.send("/help", user="coord")
    assert all(reply.link_preview for reply in bot.replies["coord"])  # the bot's own texts keep previews


async def test_a_new_idea_reaches_coordinators_without_bidi_or_previews(bot):
    await bot.onboard(user="coord", lang="en")
    await submit_idea(bot, user=f"{RLO}ana", title=f"Huertos del barrio {RLO}fdp.exe")
    await bot.app.outbox.send_due()
    [notice] = bot.output.to("coord")
    assert "from ana:" in notice.text and "Huertos del barrio fdp.exe" in notice.text
    assert not has_bidi(notice.text) and notice.link_preview is False


async def test_submission_lists_details_and_reviews_show_no_bidi_and_no_previews(bot):
    await bot.onboard(user="coord", lang="en")
    await submit_idea(bot, user=f"{RLO}ana", title=f"Huertos del barrio {RLO}fdp.exe")
    for command in ("/submissions", "/submission LID-2026-0001", "/review LID-2026-0001", "/stats"):
        await bot.send(command, user="coord")
        shown_to_coordinator = bot.replies["coord"][0]
        assert not has_bidi(shown_to_coordinator.text), command
        assert shown_to_coordinator.link_preview is False, command
    await bot.send("/submission LID-2026-0001", user="coord")
    assert "Huertos del barrio fdp.exe" in bot.replies["coord"][0].text


async def test_mentors_and_assigning_show_no_bidi(bot):
    await bot.onboard(user="coord", lang="en")
    mentor = await add_mentor(bot, name=f"Laura {RLO}zeréP")
    await add_slots(bot, mentor, bot.clock.now() + timedelta(days=2))
    await bot.onboard(user=f"{RLO}ana")
    await bot.send("/mentors", user="coord")
    [listing] = bot.replies["coord"]
    assert "Laura zeréP" in listing.text and not has_bidi(listing.text) and listing.link_preview is False
    assert not any(has_bidi(label) for label in bot.labels("coord"))
    await bot.send(f"/assign test:{RLO}ana", user="coord")
    [pick] = bot.replies["coord"]
    assert not has_bidi(pick.text) and not any(has_bidi(label) for label in bot.labels("coord"))


async def test_sources_show_no_bidi_and_no_previews(bot):
    await bot.send("/start feria", user="ana")
    async with bot.app.sessions() as session, session.begin():  # written before /start checked its payload
        await session.execute(update(User).where(User.external_id == "ana").values(source=f"{RLO}airef"))
    await bot.send("/sources", user="coord")
    [listing] = bot.replies["coord"]
    assert "airef: 1" in listing.text and not has_bidi(listing.text) and listing.link_preview is False


# -- over Telegram ------------------------------------------------------------------------------------------

COORD, ANA = 1001, 1002


async def test_telegram_sends_coordinator_views_without_link_previews(fake, app):
    app.settings = app.settings.model_copy(update={"telegram_token": SecretStr(TOKEN),
                                                   "telegram_api_url": fake.api_url})
    async with running_channel(app):
        fake.message(ANA, "/menu", first_name=f"{RLO}Ana")
        fake.message(COORD, "/menu", first_name="Coord")
        await fake.wait_sent(1, chat_id=COORD)
        await fake.wait_sent(1, chat_id=ANA)
        async with app.sessions() as session, session.begin():
            await session.execute(update(User).where(User.external_id == str(COORD)).values(role="coordinator"))
            ana = await session.scalar(select(User).where(User.external_id == str(ANA)))
            session.add(Unanswered(user_id=ana.id, question=SNEAKY, language="es", created_at=app.clock.now()))
        fake.message(COORD, "/unanswered")
        listing = (await fake.wait_sent(2, chat_id=COORD))[1]
    assert "https://evil.example/fdp.exe" in listing.text and not has_bidi(listing.text)
    assert listing.params["link_preview_options"] == {"is_disabled": True}
    menu = fake.sent(chat_id=COORD)[0]
    assert "link_preview_options" not in menu.params  # everything else as before
