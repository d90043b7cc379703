"""A member's rights over their data, checked in the database itself on both databases: nothing personal
before consent, /mydata holds every table, and after /forgetme (or ``lideres privacy forget``) no personal
value of the member is left in any column of any table."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from bot.config import PROJECT_ROOT
from bot.db.models import FailedMessage, ProcessedUpdate, Submission, User
from bot.messages import Incoming, dump_incoming
from bot.services import privacy
from tests.harness import ChatHarness
from tests.test_idea_helpers import start_idea
from tests.test_network import make_profile

NAME = "Xiomara"  # the harness names user "xiomara" so; nothing else in the bot says it
EMAIL, PHONE = "xiomara.q@cooperactivas.example", "+34 987 654 321"
TITLE = "Colmenas solidarias en El Bierzo"
PROBLEM = "Los apicultores jubilados del valle abandonan sus colmenas y se pierden las abejas."
SOLUTION = "Una cooperativa que adopta colmenas y forma a jóvenes del Bierzo como apicultores."
BENEFICIARIES = "Doce jóvenes y treinta apicultores mayores"
TEAM = "Xiomara Quintanilla (bióloga) y Rubén Ortega (carpintero)"
MENTORING = "Necesito mentoría sobre comercialización de miel ecológica los martes por la tarde"
OFFERS_TEXT = "Enseño apicultura ecológica en mi colmenar de Molinaseca"
NEEDS_TEXT = "Un obrador compartido para envasar miel con registro sanitario"
CRASHED_TEXT = "Este mensaje rompió el bot: colmenar de Xiomara en Molinaseca"
PERSONAL = [NAME, "xiomara", EMAIL, PHONE, TITLE, PROBLEM, SOLUTION, BENEFICIARIES, TEAM, MENTORING, OFFERS_TEXT,
            NEEDS_TEXT, CRASHED_TEXT, "Quintanilla", "Molinaseca"]


async def every_cell(bot: ChatHarness) -> list[tuple[str, str, str]]:
    """(table, column, value as text) of every cell of every table the database has, whichever feature made
    it: the scan does not trust the models' list of tables, it asks the database."""
    async with bot.app.db.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        cells = []
        for table in tables:
            if table == "alembic_version":
                continue
            result = await connection.execute(text(f'select * from "{table}"'))
            for row in result.mappings():
                for column, value in row.items():
                    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                    cells.append((table, str(column), shown))
        return cells


async def personal_cells(bot: ChatHarness, values: list[str], *, exact_case: bool = False
                         ) -> list[tuple[str, str, str]]:
    """Cells holding one of ``values`` (any case unless ``exact_case``), as typed or as JSON escapes it."""
    fold = (lambda text: text) if exact_case else str.casefold
    return [(table, column, value) for table, column, shown in await every_cell(bot) for value in values
            if fold(value) in fold(shown) or fold(json.dumps(value)[1:-1]) in fold(shown)]


async def member_everywhere(bot: ChatHarness) -> None:
    """Xiomara uses every feature that stores something, and the bot copies her details into messages to the
    coordinator and to the member she meets: an idea, a mentoring request (answered), a network profile and
    an accepted introduction, a message whose handler crashed and a Telegram-style journal row."""
    await bot.onboard(user="coord")  # an admin from the settings
    await start_idea(bot, user="xiomara")
    for answer in (TITLE, PROBLEM, SOLUTION, BENEFICIARIES):
        await bot.send(answer, user="xiomara")
    await bot.press("idea:pick:region:leon", user="xiomara")
    await bot.press("idea:done:sdgs", user="xiomara")
    await bot.press("idea:pick:stage:idea", user="xiomara")
    await bot.send(TEAM, user="xiomara")
    await bot.send(f"{EMAIL} {PHONE}", user="xiomara")
    await bot.press("idea:skip:attachment", user="xiomara")
    await bot.press("idea:submit:", user="xiomara")
    assert "LID-2026-0001" in bot.text_of("xiomara")
    await bot.send("/idea", user="xiomara")  # a second idea, left as a draft
    await bot.send("Miel de brezo para comedores escolares", user="xiomara")
    await bot.send("/status LID-2026-0001 in_review", user="coord")
    await bot.send("/mentoring", user="xiomara")
    await bot.send(MENTORING, user="xiomara")
    await bot.send("/answer 1 El martes 3 a las 17:00 con Marta", user="coord")
    await make_profile(bot, "xiomara", kind="person", offers=("training",), offers_text=OFFERS_TEXT,
                       needs=("premises",), needs_text=NEEDS_TEXT, contact=f"{EMAIL} {PHONE}")
    await make_profile(bot, "bea", offers=("premises",), needs=("training",), contact="bea@example.org")
    await bot.send("/network", user="bea")
    await bot.press("Presentarme a Xiomara", user="bea")
    await bot.send("/network", user="xiomara")
    await bot.press("Aceptar", user="xiomara")  # Bea gets Xiomara's contact, in the outbox
    await bot.send("/profile", user="xiomara")
    await bot.press("net:edit:name", user="xiomara")
    await bot.send(f"{NAME} Quintanilla {PHONE}", user="xiomara")  # refused, kept in the conversation
    assert "Veo un número de teléfono" in bot.text_of("xiomara")
    async with bot.app.sessions() as session, session.begin():
        session.add(FailedMessage(reference="ABC123", channel="test", external_id="xiomara", text=CRASHED_TEXT,
                                  created_at=bot.clock.now()))
        incoming = Incoming("test", "xiomara", text=CRASHED_TEXT, message_id="77", display_name=NAME)
        session.add(ProcessedUpdate(channel="test", update_id="77", created_at=bot.clock.now(),
                                    incoming=dump_incoming(incoming), handled_at=bot.clock.now()))
    await bot.app.outbox.send_due()


async def test_nothing_personal_is_stored_before_consent(bot):
    await bot.send("/start feria_leon_2026", user="xiomara")
    assert f"¡Hola {NAME}!" in bot.text_of("xiomara")  # greeted by the name the platform gives...
    await bot.send("hola", user="xiomara")
    assert NAME in bot.text_of("xiomara")
    await bot.send("/lang en", user="xiomara")
    assert await personal_cells(bot, [NAME], exact_case=True) == []  # ...which is not stored
    async with bot.app.sessions() as session:
        user = await session.scalar(select(User).where(User.external_id == "xiomara"))
    assert user is not None and user.display_name is None and user.consent_at is None
    assert (user.language, user.source) == ("en", "feria_leon_2026")
    await bot.press("I agree", user="xiomara")
    assert await personal_cells(bot, [NAME], exact_case=True) == [("users", "display_name", NAME)]


async def test_first_contacts_who_never_agree_are_anonymised_after_the_retention_period(bot, clock):
    await bot.send("/start feria_leon_2026", user="xiomara")
    await bot.onboard(user="bea")
    clock.advance(days=29)
    assert await privacy.purge_unconsented(bot.app.sessions, bot.app.settings, clock.now()) == 0
    clock.advance(days=2)
    assert await privacy.purge_unconsented(bot.app.sessions, bot.app.settings, clock.now()) == 1
    assert await personal_cells(bot, ["xiomara"]) == []
    async with bot.app.sessions() as session:
        rows = (await session.execute(select(User.channel, User.source, User.consent_at).order_by(User.id))).all()
    assert rows[0][:2] == (privacy.FORGOTTEN_CHANNEL, "feria_leon_2026")  # still counted for its source
    assert rows[1][0] == "test" and rows[1][2] is not None  # who agreed stays
    await bot.send("/start", user="xiomara")  # coming back later is a new first contact
    assert "¿Estás de acuerdo?" in bot.text_of("xiomara")


async def test_mydata_sends_every_table_holding_the_member(bot):
    await member_everywhere(bot)
    await bot.send("/mydata", user="xiomara")
    [reply] = bot.replies["xiomara"]
    assert reply.document is not None and reply.document.filename == "mis-datos-2026-11-25.json"
    assert reply.document.mime_type == "application/json" and reply.document.data is not None
    data = json.loads(reply.document.data)
    assert data["you"]["display_name"] == NAME and data["you"]["external_id"] == "xiomara"
    own = data["your_data"]
    assert set(own) >= {"conversations", "submissions", "unanswered", "deliveries", "profiles", "introductions"}
    assert {s["title"] for s in own["submissions"]} == {TITLE, "Miel de brezo para comedores escolares"}
    assert own["profiles"][0]["contact"] == {"email": EMAIL, "phone": PHONE}
    assert MENTORING in own["unanswered"][0]["question"]
    assert set(data["your_messages_as_received"]) == {"failed_messages", "processed_updates"}
    quoting = data["messages_to_others_quoting_you"]
    assert {"deliveries"} <= set(quoting)  # the coordinator's notices and Bea's copy of her contact
    assert any(EMAIL in json.dumps(row, ensure_ascii=False) for row in quoting["deliveries"])
    everything = json.dumps(data, ensure_ascii=False)
    for value in PERSONAL:
        assert value in everything, value


@pytest.mark.parametrize("how", ["chat", "command line"])
async def test_after_forgetme_no_personal_value_remains_in_any_table(bot, how):
    await member_everywhere(bot)
    before = await personal_cells(bot, PERSONAL)
    assert {table for table, _, _ in before} >= {"users", "submissions", "deliveries", "profiles", "unanswered",
                                                 "failed_messages", "processed_updates", "conversations"}
    if how == "chat":
        await bot.send("/forgetme", user="xiomara")
        assert "No se puede deshacer" in bot.text_of("xiomara")
        await bot.press("Sí, borrar", user="xiomara")
        assert "tus datos se han borrado" in bot.text_of("xiomara")
        assert "Tus ideas enviadas quedan en las estadísticas" in bot.text_of("xiomara")
    else:
        done = await privacy.forget_by_id(bot.app.settings, "test:xiomara", reason="e-mail")
        assert done is not None and done.remaining == {}
        assert "nothing of theirs remains" in privacy.report(done)

    assert await personal_cells(bot, PERSONAL) == []
    async with bot.app.sessions() as session:
        [kept] = await session.scalars(select(Submission))  # the draft is gone; the submitted idea stays...
        users = {u.external_id: u for u in await session.scalars(select(User))}
    assert (kept.status, kept.reference, kept.region, kept.title) == ("in_review", "LID-2026-0001", "leon", None)
    assert set(kept.answers) == {"region", "sdgs", "stage"}  # ...with its aggregate answers only
    assert kept.submitted_at is not None and kept.submitted_at.hour == 0  # dates to the day
    assert "xiomara" not in users and len(users) == 3  # coord, bea, and the anonymous record
    assert sum(u.channel == privacy.FORGOTTEN_CHANNEL for u in users.values()) == 1
    assert users["bea"].display_name == "Bea"  # the others keep theirs
    await bot.send("/profile", user="bea")
    assert "bea@example.org" in bot.text_of("bea")
    await bot.send("/network", user="bea")
    assert NAME not in bot.text_of("bea")

    await bot.send("/start", user="xiomara")  # writing again starts afresh, asking for consent
    assert "¿Estás de acuerdo?" in bot.text_of("xiomara")


async def test_forgetting_asks_first_and_a_forged_confirmation_deletes_nothing(bot):
    await make_profile(bot, "xiomara", offers=("training",), contact=EMAIL)
    await make_profile(bot, "bea", offers=("training",))
    await bot.send("/forgetme", user="xiomara")
    await bot.send("sí", user="xiomara")  # typed: only the buttons decide
    assert "usa uno de los dos botones" in bot.text_of("xiomara")
    token = bot.find_button("Sí, borrar", user="xiomara").payload
    await bot.send(payload="privacy:forget:00000000", user="xiomara")
    await bot.send(payload=token, user="bea")  # someone else's button
    await bot.send(payload="privacy:forget:", user="xiomara")
    assert "caducó" in bot.text_of("xiomara")
    await bot.send(payload="privacy:keep", user="xiomara")
    assert "no he borrado nada" in bot.text_of("xiomara")
    await bot.send(payload=token, user="xiomara")  # the old button, after saying no
    assert "caducó" in bot.text_of("xiomara")
    assert len(await personal_cells(bot, [EMAIL])) == 1  # still in her profile
    await bot.send("/privacy", user="xiomara")
    assert "Diste tu consentimiento" in bot.text_of("xiomara")


async def test_privacy_sends_the_full_notice_in_the_users_language_before_agreeing(bot):
    await bot.send("/start", lang="en")
    await bot.press("More about privacy")
    [reply] = bot.replies["ana"]
    assert "You haven't given your consent yet" in reply.text
    assert reply.document is not None and reply.document.filename == "privacy-notice.md"
    assert reply.document.data is not None and b"# Privacy notice" in reply.document.data
    assert b"/forgetme" in reply.document.data and b"/mydata" in reply.document.data
    await bot.press("I agree")
    await bot.send("/help")
    assert "/forgetme — Delete your data" in bot.last_text and "/mydata — Get all your data" in bot.last_text


async def test_the_log_holds_ids_never_texts_or_contacts(bot, caplog):
    caplog.set_level(logging.INFO)
    await member_everywhere(bot)
    await bot.send("/mydata", user="xiomara")
    await bot.send("/forgetme", user="xiomara")
    await bot.press("Sí, borrar", user="xiomara")
    logged = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    assert "member forgotten" in logged and "introduction accepted" in logged
    for value in PERSONAL:
        assert value not in logged, value


def _cli(*args: str, database_url: str) -> Any:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LIDERES_")}
    env["LIDERES_DATABASE_URL"] = database_url
    return asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "privacy", *args, cwd=PROJECT_ROOT, env=env,
                                          stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                          stdin=asyncio.subprocess.DEVNULL)


async def test_lideres_privacy_forget_for_a_request_by_email(bot):
    await make_profile(bot, "xiomara", offers=("training",), offers_text=OFFERS_TEXT, contact=f"{EMAIL} {PHONE}")
    url = bot.app.settings.database_url
    process = await _cli("forget", "test:xiomara", database_url=url)
    _, err = await process.communicate()
    assert process.returncode == 2 and b"--yes" in err  # not without a confirmation
    process = await _cli("export", "test:xiomara", database_url=url)
    out, _ = await process.communicate()
    assert process.returncode == 0 and json.loads(out)["your_data"]["profiles"][0]["offers_text"] == OFFERS_TEXT
    process = await _cli("forget", "test:xiomara", "--yes", database_url=url)
    out, _ = await process.communicate()
    assert process.returncode == 0, out
    assert b"nothing of theirs remains in any table" in out and b"profiles 1" in out
    process = await _cli("forget", "test:xiomara", "--yes", database_url=url)
    _, err = await process.communicate()
    assert process.returncode == 1 and b"nobody is test:xiomara" in err
    assert await personal_cells(bot, [EMAIL, PHONE, OFFERS_TEXT, "xiomara"]) == []


def test_every_table_is_on_the_map():
    """A table added later is covered without a list to update: it names users by a key (its rows follow the
    key's ON DELETE), its rows go with such a table's rows (ON DELETE CASCADE), it is one of the platform
    records, or it holds no one's data (named here, with why)."""
    from bot.db.models import Base

    covered = {link.table.name for link in privacy.links()}
    covered |= {table.name for table in privacy.identity_tables()} | {t.name for t, _ in privacy.journal_columns()}
    covered |= {"users", "counters"}  # the users row itself; named sequences (no one's data)
    covered |= {"content_versions",  # a counter per kind of content
                "button_payloads",  # the bot's own callback codes and ids, never what a person typed
                "send_budget"}  # a chat id only while its sends are paced: pruned an hour after the last
    grew = True
    while grew:  # rows deleted with a covered table's rows
        cascading = {table.name for table in Base.metadata.sorted_tables for key in table.foreign_keys
                     if key.column.table.name in covered and (key.ondelete or "").upper() == "CASCADE"}
        grew = not cascading <= covered
        covered |= cascading
    assert set(Base.metadata.tables) - covered == set()
