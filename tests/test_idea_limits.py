"""The competition's limits, set in the form file: a closed call and the number of open ideas per person."""

from __future__ import annotations

import pytest

from tests.test_idea_helpers import TITLE, fill_to_summary, start_idea, submissions_of, submit_idea, write_form


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, tmp_path) -> dict[str, object]:
    """The LÍDERES form with the competition settings of the test's ``settings_overrides`` parameter."""
    return {"form_file": str(write_form(tmp_path, **getattr(request, "param", {})))}


def competition(**settings: object) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("settings_overrides", [settings], indirect=True)


@competition(open=False, next_opening="2027-03-01")
async def test_a_closed_call_says_when_the_next_one_opens(bot):
    await start_idea(bot)
    assert "La convocatoria del concurso de ideas está cerrada" in bot.last_text
    assert "La próxima convocatoria se abre el 1 de marzo de 2027." in bot.last_text
    await bot.send("Mi idea genial")  # no flow was started: this is not taken as a title
    assert await submissions_of(bot) == []
    await start_idea(bot, user="luis", lang="en")
    assert "The idea competition's call is closed at the moment. The next call opens on March 1, 2027." in (
        bot.text_of("luis"))


@competition(open=False)
async def test_a_closed_call_without_a_date(bot):
    await start_idea(bot)
    assert "cerrada" in bot.last_text and "Aún no hay fecha para la próxima" in bot.last_text


@competition(opens_at="2026-12-01", closes_at="2027-01-31")
async def test_the_call_opens_and_closes_on_its_dates(bot):
    await start_idea(bot)
    assert "se abre el 1 de diciembre de 2026" in bot.last_text
    bot.clock.advance(days=6)
    await bot.send("/idea")
    assert "¿Cómo se llama tu idea?" in bot.last_text
    await fill_to_summary(bot)
    bot.clock.advance(days=61)  # 2027-01-31: the user left the summary open until the call closed
    await bot.press("Enviar")
    assert "cerrada" in bot.last_text and "LID-" not in bot.last_text
    [draft] = await submissions_of(bot)
    assert draft.status == "draft" and draft.reference is None


@competition(max_open_submissions=1)
async def test_one_open_idea_per_person_until_it_is_decided(bot):
    await bot.onboard(user="coord")
    await submit_idea(bot)
    await bot.send("/idea")
    assert "Has llegado al máximo de ideas abiertas por persona (1" in bot.last_text
    assert "¿Cómo se llama tu idea?" not in bot.last_text
    await bot.send(payload="idea:new")  # an old "start a new idea" button does not get round it
    assert "Has llegado al máximo" in bot.last_text
    await bot.send("/status LID-2026-0001 declined", user="coord")
    await bot.send("/idea")
    assert "¿Cómo se llama tu idea?" in bot.last_text  # a declined idea is no longer open


@competition(max_open_submissions=2)
async def test_drafts_count_so_at_the_limit_only_continuing_is_offered(bot):
    await submit_idea(bot)
    await bot.send("/idea")
    await bot.send("Segunda idea")
    await bot.send("/cancel")
    await bot.send("/idea")
    assert bot.labels() == ["✏️ Seguir con «Segunda idea»"]
    assert "Has llegado al máximo de ideas abiertas por persona (2" in bot.last_text
    await bot.press("Seguir con")
    assert "¿Qué problema" in bot.last_text
    [first, second] = await submissions_of(bot)
    assert (first.title, first.status, second.title, second.status) == (TITLE, "submitted", "Segunda idea", "draft")


@competition(max_open_submissions=1)
async def test_the_limit_is_per_person(bot):
    await submit_idea(bot, user="ana")
    await start_idea(bot, user="luis")
    assert "¿Cómo se llama tu idea?" in bot.text_of("luis")
    await bot.send("/idea", user="ana")
    assert "Has llegado al máximo" in bot.text_of("ana")
