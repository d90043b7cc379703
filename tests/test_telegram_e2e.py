"""The Telegram channel end to end: the real application and python-telegram-bot, over real HTTP on loopback,
against tests/fake_telegram.py, on SQLite and PostgreSQL. Tests wait on the fake server's events; the rate
limiter runs on a virtual clock, so limits and retry_after are checked without sleeping."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.channels.journal import Journal
from bot.channels.pacing import RateLimiter
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.channel import TelegramStartError
from bot.channels.telegram.convert import Inbound, to_record
from bot.db.models import Delivery, ProcessedUpdate, User
from bot.engine import Context
from bot.logs import JsonFormatter
from bot.messages import Attachment, Button, Incoming, Reply
from bot.router import Router
from tests.fake_telegram import TOKEN, FakeTelegram, VirtualTimer, running_channel

ANA, LUIS = 1001, 1002

tools = Router("t_telegram")  # answers that the real features do not give yet


@tools.command("t_long")
async def _long(ctx: Context) -> None:
    ctx.reply("\n\n".join(f"Sección {i}. " + "texto " * 300 for i in range(8)), [Button("OK", "t_edit:1")])


@tools.button("t_edit")
async def _edit(ctx: Context) -> None:
    ctx.reply("Editado", [Button("Dato largo", "t_big:" + "x" * 120)], edit=True)


@tools.command("t_file")
async def _file(ctx: Context) -> None:
    export = Attachment("document", filename="ideas.csv", mime_type="text/csv", data=b"id,title\n1,Miel\n")
    ctx.reply("Tu exportación", document=export)
    ctx.reply("Y una foto", [Button("OK", "t_edit:2")], picture=Attachment("photo", "AgACAgIAAxkBAAIB"))


@tools.button("t_big")
async def _big(ctx: Context) -> None:
    ctx.reply(f"Recibí {len(ctx.incoming.payload or '')} caracteres")


@pytest.fixture
async def fake(timer: VirtualTimer) -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(clock=timer.monotonic).start()
    yield server
    await server.close()


@pytest.fixture
def settings_overrides(fake: FakeTelegram) -> dict[str, object]:
    return {"telegram_token": TOKEN, "telegram_api_url": fake.api_url}


class RecordingLimiter(RateLimiter):
    """The real limiter, keeping what it decided on its (virtual) clock: sends let go and 429 pauses."""

    def __init__(self, timer: VirtualTimer) -> None:
        super().__init__(timer)
        self.events: list[tuple[str, float, Any]] = []

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        self.events.append(("pause", self.timer.monotonic(), seconds))

    def _record(self, chat_id: int | str, now: float) -> None:
        super()._record(chat_id, now)
        self.events.append(("send", now, chat_id))


@pytest.fixture
async def telegram(app: Any, timer: VirtualTimer, seen: list[Incoming]) -> AsyncIterator[Any]:
    app.engine.include(tools)
    async with running_channel(app, limiter=RecordingLimiter(timer)) as channel:
        yield channel


async def settle(fake: FakeTelegram, user: int) -> None:
    """Everything sent before now to ``user`` is handled: a user's messages are handled in order, so when
    the answer to a later /help arrives, all earlier ones are done."""
    before = len(fake.sent(chat_id=user))
    fake.message(user, "/help")
    await fake.wait_for(lambda: any(c.text.startswith(("Puedo ayudarte", "I can help"))
                                    for c in fake.sent(chat_id=user)[before:]))


# -- conversations -----------------------------------------------------------------------------------------


async def test_start_buttons_and_consent_show_the_main_menu(fake, telegram, seen, timer):
    fake.message(ANA, "/start")
    welcome, consent = await fake.wait_sent(2, chat_id=ANA)
    assert "LÍDERES" in welcome.text and welcome.labels == ["Español", "English"]
    assert "¿Estás de acuerdo?" in consent.text and consent.labels[0] == "✅ Acepto"
    (_, first, _), (_, second, _) = telegram.limiter.events[:2]
    assert second - first < 0.3  # the messages of one reply leave together (a per-chat burst)
    assert seen[0] == Incoming(channel="telegram", user_id=str(ANA), text="/start", message_id=seen[0].message_id,
                               display_name="Ana", language="es")

    fake.press_button(ANA, "Acepto")
    calls = await fake.wait_sent(3, chat_id=ANA)
    assert calls[2].labels == ["💡 Enviar una idea", "❓ Hacer una pregunta", "🤝 Mentorías", "🌐 Red de apoyo mutuo",
                               "📄 Mis ideas", "ℹ️ Ayuda"]
    assert seen[1].payload == "consent:yes"
    await fake.wait_for(lambda: len(fake.answered_callbacks) == 1)  # the spinner always stops
    async with telegram.app.sessions() as session:
        assert await session.scalar(select(User.consent_at).where(User.external_id == str(ANA))) is not None


async def test_english_user_and_deep_link(fake, telegram):
    fake.message(LUIS, "/start feria_scz_2026", first_name="Luis", language_code="en")
    calls = await fake.wait_sent(2, chat_id=LUIS)
    assert "Hi Luis!" in calls[0].text and "Do you agree?" in calls[1].text
    async with telegram.app.sessions() as session:
        user = await session.scalar(select(User).where(User.external_id == str(LUIS)))
    assert (user.source, user.language, user.channel) == ("feria_scz_2026", "en", "telegram")


async def test_edit_on_button_press_and_payloads_longer_than_64_bytes(fake, telegram, seen):
    fake.message(ANA, "/t_long")
    await fake.wait_sent(1, chat_id=ANA)
    await fake.wait_for(lambda: fake.sent(chat_id=ANA)[-1].labels == ["OK"])
    pressed = fake.sent(chat_id=ANA)[-1]
    fake.press_button(ANA, "OK")
    edit = (await fake.wait_sent(1, method="editMessageText"))[0]
    assert edit.params["message_id"] == pressed.result["message_id"] and edit.text == "Editado"
    fake.press_button(ANA, "Dato largo")  # its payload is 126 characters: sent as a stored key
    await fake.wait_for(lambda: "Recibí 126 caracteres" in fake.texts(ANA))
    assert seen[-1].payload == "t_big:" + "x" * 120


async def test_documents_and_pictures_are_sent(fake, telegram):
    fake.message(ANA, "/t_file")
    document, photo = await fake.wait_sent(2, chat_id=ANA)
    assert (document.method, document.text, document.files["document"]["filename"]) == (
        "sendDocument", "Tu exportación", "ideas.csv")
    assert document.files["document"]["size"] == len(b"id,title\n1,Miel\n")
    assert (photo.method, photo.text, photo.params["photo"], photo.labels) == (
        "sendPhoto", "Y una foto", "AgACAgIAAxkBAAIB", ["OK"])


async def test_texts_over_4096_characters_are_split(fake, telegram):
    fake.message(ANA, "/t_long")
    await fake.wait_for(lambda: any(c.labels == ["OK"] for c in fake.sent(chat_id=ANA)))
    pieces = fake.sent(chat_id=ANA)
    assert len(pieces) >= 3 and all(len(c.text) <= 4096 for c in pieces)
    assert [bool(c.labels) for c in pieces] == [False] * (len(pieces) - 1) + [True]
    assert "\n\n".join(c.text for c in pieces).count("Sección") == 8
    assert not fake.failed()  # the fake refuses texts over 4096: nothing was refused


async def test_command_menu_is_published_in_both_languages(fake, telegram):
    menus = {lang: {c["command"]: c["description"] for c in commands} for lang, commands in fake.commands.items()}
    assert set(menus) == {"es", "en", None}
    assert menus["es"]["start"] == "Empezar y ver el menú"
    assert menus["en"]["start"] == "Start and see the menu"
    assert menus[None] == menus["es"]  # the default is the bot's default language
    assert {"start", "help", "menu", "cancel", "lang", "privacy"} <= set(menus["en"])


# -- files and bad input ------------------------------------------------------------------------------------


async def test_document_and_photo_reach_the_engine_by_reference(fake, telegram, seen):
    fake.document(ANA, "plan.pdf", size=120_000, caption="mi plan")
    fake.photo(ANA)
    await fake.wait_sent(2, chat_id=ANA)
    document, photo = seen[0].attachment, seen[1].attachment
    assert (document.kind, document.filename, document.mime_type, document.size) == (
        "document", "plan.pdf", "application/pdf", 120_000)
    assert document.file_ref.startswith("DOC") and seen[0].text == "mi plan"
    assert photo.kind == "photo" and photo.file_ref.endswith("-1280")  # the biggest size
    assert all("archivo" in text for text in fake.texts(ANA))  # no flow expects a file: a polite answer


async def test_bad_input_is_ignored_or_answered_politely(fake, telegram, seen):
    fake.channel_post("noticias del canal")
    fake.edited_message(ANA, "texto corregido")
    fake.unknown()
    fake.sticker(ANA)
    fake.location(ANA)
    fake.document(ANA, "video.mp4", size=25 * 1024 * 1024, mime_type="video/mp4")
    await settle(fake, ANA)
    texts = fake.texts(ANA)
    assert any("Recibí tu archivo" in t for t in texts)  # the sticker: the engine's "not expecting a file"
    assert any("solo entiendo texto, botones y archivos" in t for t in texts)  # the location
    assert any("25 MB" in t and "20 MB" in t for t in texts), texts  # the big file, not handed on
    assert [i.attachment.kind if i.attachment else i.text for i in seen] == ["sticker", "/help"]
    assert not fake.sent(chat_id=-100123)


async def test_forged_button_gets_expired_and_nothing_else(fake, telegram, seen):
    fake.press(ANA, "forged-by-a-modified-client")
    real = telegram.codec.encode("consent:yes")
    fake.press(ANA, real[:-3] + "yeS")  # a real payload, altered
    await fake.wait_sent(2, chat_id=ANA)
    assert all("Este botón ya caducó" in text for text in fake.texts(ANA))
    await fake.wait_for(lambda: len(fake.answered_callbacks) == 2)
    assert seen == []  # the engine never saw them
    async with telegram.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_duplicate_update_is_handled_once(fake, telegram, seen):
    fake.message(ANA, "/menu", update_id=5000)
    fake.message(ANA, "/menu", update_id=5000)  # Telegram delivering it again
    await settle(fake, ANA)
    assert [i.text for i in seen] == ["/menu", "/help"]
    async with telegram.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 2


# -- the platform pushing back -----------------------------------------------------------------------------


async def test_blocked_user_is_marked_and_outbox_delivery_is_blocked(fake, telegram, app, clock):
    fake.fail("sendMessage", 403, chat_id=LUIS, times=None)
    fake.message(LUIS, "/start", first_name="Luis")
    await fake.wait_for(lambda: len(fake.failed("sendMessage")) == 1)
    await telegram.sender.join()
    assert len(fake.failed("sendMessage")) == 1  # the second reply was not even tried
    async with app.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.external_id == str(LUIS)))
        assert user.blocked_at is not None
        user.blocked_at = None  # forget it, so the outbox finds out by itself
        session.add(Delivery(user_id=user.id, kind="broadcast", replies=[{"text": "Convocatoria abierta"}],
                             due_at=clock.now(), created_at=clock.now()))
    assert await app.outbox.send_due() == 1
    async with app.sessions() as session:
        delivery = await session.scalar(select(Delivery))
        user = await session.scalar(select(User).where(User.external_id == str(LUIS)))
    assert delivery.status == "blocked" and user.blocked_at is not None


async def test_blocking_the_bot_is_noticed_from_the_member_update(fake, telegram, app):
    fake.message(ANA, "/menu")
    await fake.wait_sent(1, chat_id=ANA)
    fake.blocked_by(ANA)
    await settle(fake, LUIS)  # updates are taken one at a time: the block is recorded by now
    async with app.sessions() as session:
        assert await session.scalar(select(User.blocked_at).where(User.external_id == str(ANA))) is not None


async def test_429_storm_everything_delivered_once_after_retry_after(fake, telegram, timer):
    users = list(range(2001, 2011))
    fake.fail("sendMessage", 429, retry_after=5, times=8)
    for user in users:
        fake.message(user, "/start", first_name=f"U{user}")
    delivered = await fake.wait_sent(2 * len(users), method="sendMessage")
    await telegram.sender.join()
    assert len(delivered) == 20 and len(fake.failed("sendMessage")) == 8
    assert len({(c.chat_id, c.text) for c in delivered}) == 20  # none twice
    events = telegram.limiter.events  # ("send", time, chat) as the limiter let each call go; ("pause", ...)
    pauses = [(i, at, seconds) for i, (kind, at, seconds) in enumerate(events) if kind == "pause"]
    assert len(pauses) == 8 and all(seconds == 5 for _, _, seconds in pauses)
    for index, paused_at, seconds in pauses:  # nobody sent during a retry_after
        assert all(at >= paused_at + seconds for kind, at, _ in events[index + 1:] if kind == "send")
    sends = [(at, chat) for kind, at, chat in events if kind == "send"]
    for user in users:  # per chat: a burst of 3, then one a second
        times = [at for at, chat in sends if chat == user]
        assert all(times[i + 3] - times[i] >= 3.0 for i in range(len(times) - 3))
    times = sorted(at for at, _ in sends)
    assert all(times[i + 30] - times[i] >= 1.0 for i in range(len(times) - 30))  # 30 a second overall
    assert timer.monotonic() >= 5.0


async def test_network_errors_and_5xx_are_retried_then_recorded_as_failed(fake, telegram, app, clock):
    fake.fail("sendMessage", 502, times=2)
    fake.message(ANA, "/menu")
    (reply,) = await fake.wait_sent(1, chat_id=ANA)
    assert "Menú principal" in reply.text and len(fake.failed()) == 2

    fake.fail("sendMessage", 500, chat_id=LUIS, times=None)
    async with app.sessions() as session, session.begin():
        user = User(channel="telegram", external_id=str(LUIS), language="es", role="entrepreneur")
        session.add(user)
        await session.flush()
        session.add(Delivery(user_id=user.id, kind="reminder", replies=[{"text": "Tu mentoría es mañana"}],
                             due_at=clock.now(), created_at=clock.now()))
    await app.outbox.send_due()
    async with app.sessions() as session:
        delivery = await session.scalar(select(Delivery))
    assert delivery.status == "pending" and delivery.attempts == 1  # the outbox will try again later
    assert "Internal Server Error" in delivery.error and TOKEN not in delivery.error
    assert len(fake.failed(None)) == 2 + 5  # first try and four retries


async def test_a_live_reply_that_keeps_failing_is_kept_in_the_outbox_and_sent_later(fake, telegram, app, clock):
    fake.fail("sendMessage", 502, chat_id=ANA, times=5)  # the first try and all four retries
    fake.message(ANA, "/menu")
    await settle(fake, ANA)  # the /help after it is answered: the /menu job is over
    assert [c.text for c in fake.sent(chat_id=ANA)][0].startswith("Puedo ayudarte")
    async with app.sessions() as session:
        kept = await session.scalar(select(Delivery))
    assert (kept.kind, kept.status) == ("reply", "pending") and TOKEN not in kept.error
    assert await app.outbox.send_due() == 0  # not before its retry time
    clock.advance(minutes=1)
    assert await app.outbox.send_due() == 1
    assert "Menú principal" in fake.sent(chat_id=ANA)[-1].text
    async with app.sessions() as session:
        assert (await session.scalar(select(Delivery))).status == "sent"


async def test_a_stalled_request_times_out_and_is_tried_again(fake, app, timer):
    fake.stall("sendMessage", times=1)
    async with running_channel(app, timer, read_timeout=0.3) as channel:
        fake.message(ANA, "/menu")
        (reply,) = await fake.wait_sent(1, chat_id=ANA)
        await channel.sender.join()
    assert "Menú principal" in reply.text
    assert [c.status for c in fake.calls if c.method == "sendMessage"] == [0, 200]  # stalled, then sent
    assert timer.slept  # the backoff before the retry ran on the limiter's clock


async def test_stopping_still_sends_the_replies_already_queued(fake, app, timer):
    async with running_channel(app, timer) as channel:
        fake.message(ANA, "/start")
        await fake.wait_sent(1, chat_id=ANA)
        await channel.stop()  # SIGTERM: the consent question is still waiting for its one-second turn
        fake.message(ANA, "/help")  # arrives after the stop: not taken
    assert len(fake.sent(chat_id=ANA)) == 2  # both answers to /start, nothing for /help
    assert not any(c.method == "getUpdates" and c.status != 200 for c in fake.calls)


async def test_logs_carry_ids_never_texts_or_the_token(fake, telegram, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.telegram")
    caplog.set_level(logging.INFO)
    fake.fail("sendMessage", 502, times=1)
    fake.fail("sendMessage", 403, chat_id=LUIS, times=None)
    fake.message(ANA, "mi idea secreta de miel orgánica")
    fake.message(LUIS, "otra confidencia")
    fake.press(ANA, "forged")
    await settle(fake, ANA)
    await fake.wait_for(lambda: len(fake.failed("sendMessage")) == 2)
    await telegram.sender.join()
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records if r.name.startswith("bot") or r.levelno >= logging.WARNING]
    assert any("not delivered" in line and str(LUIS) in line for line in lines)
    for line in lines:
        assert TOKEN not in line and TOKEN.split(":")[1] not in line
        assert "secreta" not in line and "confidencia" not in line


async def test_a_rejected_token_fails_start_without_showing_it(fake, app, database_url):
    settings = app.settings.model_copy(update={"telegram_token": SecretStr("999:wrong-secret-token")})
    app.settings = settings
    channel = TelegramChannel(app, web.Application())
    with pytest.raises(TelegramStartError) as failure:
        await channel.start()
    text = "".join(traceback.format_exception(failure.value))
    assert "rejected" in text and "wrong-secret-token" not in text
    await channel.close()


# -- updates a crashed process took but never handled ------------------------------------------------------


def _crashed(user: int, *, text: str | None = None, payload: str | None = None,
             callback_id: str | None = None) -> dict[str, Any]:
    """What Journal recorded for an update a process took and then died before handling."""
    incoming = Incoming(channel="telegram", user_id=str(user), text=text, payload=payload, message_id="7",
                        display_name="Ana", language="es")
    record = to_record(Inbound(chat_id=user, user_id=str(user), language="es", incoming=incoming,
                               callback_id=callback_id))
    assert record is not None
    return record


async def _handled_at(app: Any) -> dict[int, Any]:
    async with app.sessions() as session:
        rows = await session.execute(select(ProcessedUpdate.update_id, ProcessedUpdate.handled_at))
        return {int(update_id): handled_at for update_id, handled_at in rows}  # ids are stored as text


async def test_updates_taken_but_never_handled_are_handled_on_start(fake, app, clock, seen, caplog):
    app.engine.include(tools)
    log = Journal(app.sessions, app.clock, "telegram")
    assert await log.record([(900_001, _crashed(ANA, text="/start"))]) == {"900001"}  # a day and more ago
    clock.advance(hours=25)
    await log.record([(900_002, _crashed(ANA, text="/t_file")),  # handled before the crash
                      (900_003, _crashed(ANA, text="/help")),
                      (900_004, _crashed(ANA, payload="t_edit:1", callback_id="cbq-old"))])
    log.mark_handled(900_002)
    await log.close()

    with caplog.at_level(logging.WARNING, logger="bot.journal"):
        async with running_channel(app) as channel:
            await fake.wait_for(lambda: "Editado" in fake.texts(ANA))
            await channel.sender.join()  # the mark follows the send
            await channel.updates.flush()
            handled = await _handled_at(app)
    assert [(i.text, i.payload) for i in seen] == [("/help", None), (None, "t_edit:1")]  # in update order
    help_answer, edited = fake.sent(chat_id=ANA)
    assert help_answer.text.startswith("Puedo ayudarte") and help_answer.method == "sendMessage"
    assert edited.method == "sendMessage" and edited.labels == ["Dato largo"]  # a new message, not an edit
    assert fake.failed("answerCallbackQuery")  # the query is long expired: tried, and the reply still went out
    assert all(handled[i] is not None for i in (900_001, 900_002, 900_003, 900_004))
    stale = [r for r in caplog.records if "too old" in r.getMessage()]
    assert [r.update_ids for r in stale] == [["900001"]]  # type: ignore[attr-defined]


async def test_an_update_handled_but_not_answered_before_a_crash_is_answered_on_start_not_handled_again(
        fake, app, seen):
    log = Journal(app.sessions, app.clock, "telegram")
    await log.record([(900_010, _crashed(ANA, text="mi idea se llama Huerto"))])
    async with app.sessions() as session, session.begin():  # the handler's transaction committed, then the kill
        await log.within(900_010)(session, [Reply(text="2/5 ¿Qué problema resuelve?")])
    await log.close()

    async with running_channel(app) as channel:
        await fake.wait_sent(1, chat_id=ANA)
        await channel.sender.join()
        await channel.updates.flush()
        handled = await _handled_at(app)
    assert fake.texts(ANA) == ["2/5 ¿Qué problema resuelve?"]  # the stored answer, once
    assert seen == []  # not handled again: the idea form's answer is not applied to the next question
    assert handled[900_010] is not None


async def test_updates_are_marked_handled_once_answered(fake, telegram, app):
    message = fake.message(ANA, "/help")
    notice = fake.location(ANA)
    await fake.wait_sent(2, chat_id=ANA)
    await telegram.sender.join()  # the mark follows the send
    await telegram.updates.flush()
    async with app.sessions() as session:
        rows = {int(row.update_id): row for row in await session.scalars(select(ProcessedUpdate))}
    assert rows[message].handled_at is not None and rows[message].incoming["incoming"]["text"] == "/help"
    assert rows[notice].handled_at is not None and rows[notice].incoming is None  # a notice: nothing to redo
    assert await telegram.replay() == 0
