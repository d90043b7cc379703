"""The WhatsApp channel end to end: the real application on its own web server, over real HTTP on loopback,
against tests/fake_whatsapp.py playing Meta (signed webhooks in, the Cloud API out), on SQLite and PostgreSQL.
Tests wait on the fake's events; the limiter runs on a virtual clock and the 24-hour window on the app's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event, func, select

from bot.app import App
from bot.channels.buttons import ButtonCodec
from bot.db.models import Delivery, ProcessedUpdate, Submission, User
from bot.logs import JsonFormatter
from bot.messages import Button, Incoming, Reply, dump_reply
from bot.services.outbox import PRIORITY_BULK
from tests.fake_telegram import VirtualTimer
from tests.fake_whatsapp import APP_SECRET, VERIFY_TOKEN, FakeWhatsApp
from tests.whatsapp_support import running_whatsapp, whatsapp_settings

ANA, LUIS, COORD = "59170012345", "5213312345678", "34600111222"


@pytest.fixture
async def fake(clock: Any) -> AsyncIterator[FakeWhatsApp]:
    server = await FakeWhatsApp(clock=clock.now).start()
    yield server
    await server.close()


@pytest.fixture
def settings_overrides(fake: FakeWhatsApp) -> dict[str, object]:
    return whatsapp_settings(fake)


@pytest.fixture
async def whatsapp(app: Any, fake: FakeWhatsApp, timer: VirtualTimer, seen: list[Incoming]) -> AsyncIterator[Any]:
    async with running_whatsapp(app, fake, timer) as channel:
        yield channel


async def settle(fake: FakeWhatsApp, channel: Any) -> None:
    """Everything the bot was given is handled and its answers sent."""
    await channel.intake.wait_idle()
    await channel.prepare.join()
    await channel.app.engine.join()
    await channel.sender.join()


async def count(app: Any, model: Any) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# -- the webhook's door ------------------------------------------------------------------------------------


async def test_verification_echoes_the_challenge_only_for_our_token(fake, whatsapp):
    url = f"{whatsapp.base_url}/webhooks/whatsapp"
    async with aiohttp.ClientSession() as http:
        query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
        async with http.get(url, params=query) as response:
            assert (response.status, await response.text()) == (200, "1158201444")
        async with http.get(url, params={**query, "hub.verify_token": "guess"}) as response:
            assert response.status == 403
        async with http.get(url, params={**query, "hub.mode": "unsubscribe"}) as response:
            assert response.status == 403


async def test_unsigned_or_altered_bodies_get_401_and_nothing_is_processed(fake, whatsapp, seen, app):
    body = fake.message(ANA, "text", {"body": "hola"})
    assert await fake.post(body, signature="") == 401
    assert await fake.post(body, signature="sha256=" + "0" * 64) == 401
    signed = fake.sign(b'{"object": "whatsapp_business_account"}')
    assert await fake.post(body, signature=signed) == 401  # a captured signature replayed on another body
    assert await fake.post(body, signature=fake.sign(b"x").replace("sha256", "sha1")) == 401
    await settle(fake, whatsapp)
    assert seen == [] and fake.sent == []
    assert await count(app, User) == 0 and await count(app, ProcessedUpdate) == 0


async def test_start_consent_and_the_main_menu(fake, whatsapp, seen, app):
    assert await fake.text(ANA, "/start", name="Ana") == 200
    read, = await _reads(fake, 1)
    welcome, consent = await fake.wait_sent(2, to=ANA)
    assert read == seen[0].message_id  # blue ticks on the user's message
    assert "LÍDERES" in welcome.text and welcome.labels == ["Español", "English"]
    assert welcome.message["interactive"]["type"] == "button"
    assert "¿Estás de acuerdo?" in consent.text and consent.labels[0] == "✅ Acepto"
    assert seen[0] == Incoming(channel="whatsapp", user_id=ANA, text="/start", message_id=seen[0].message_id,
                               display_name="Ana")
    await fake.press(ANA, "Acepto")
    menu = (await fake.wait_sent(3, to=ANA))[2]
    assert menu.message["interactive"]["type"] == "list"  # five items: a list, every title whole
    assert {"💡 Enviar una idea", "❓ Hacer una pregunta", "ℹ️ Ayuda"} <= set(menu.labels)
    assert menu.message["interactive"]["action"]["button"] == "Ver opciones"
    assert seen[1].payload == "consent:yes" and not fake.refused


async def _reads(fake: FakeWhatsApp, n: int) -> list[str]:
    await fake.wait_for(lambda: len(fake.reads) >= n)
    return fake.reads


async def test_a_redelivered_message_is_handled_once(fake, whatsapp, seen, app):
    body = fake.message(ANA, "text", {"body": "/menu"}, message_id="wamid.HBgLNTkxNzAwMTIzNDUVAgASGBQzQTdG")
    assert await fake.post(body) == 200
    assert await fake.post(body) == 200  # Meta delivering it again (our 200 was late)
    await settle(fake, whatsapp)
    assert await fake.post(body) == 200  # and again, after it was handled
    await fake.text(ANA, "/help")
    await settle(fake, whatsapp)
    assert [i.text for i in seen] == ["/menu", "/help"]
    assert await count(app, ProcessedUpdate) == 2
    async with app.sessions() as session:
        ids = set(await session.scalars(select(ProcessedUpdate.update_id)))
    assert "wamid.HBgLNTkxNzAwMTIzNDUVAgASGBQzQTdG" in ids  # kept as the string it is


async def test_bad_input_is_refused_or_ignored_with_a_log_line(fake, whatsapp, seen, app, caplog):
    caplog.set_level(logging.INFO, logger="bot.whatsapp")
    assert await fake.post(b"{not json") == 400
    assert await fake.post(b"x" * (1024 * 1024 + 1)) == 413
    assert await fake.post({"object": "page", "entry": []}) == 200
    assert await fake.post(fake.message(ANA, "text", {"body": "hola"}) | {"object": "whatsapp_business_account",
                                                                          "entry": "not a list"}) == 200
    other = fake.message(LUIS, "text", {"body": "para otro número"})
    other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert await fake.post(other) == 200
    assert await fake.post(fake.message(ANA, "location", {"latitude": -17.78, "longitude": -63.18})) == 200
    assert await fake.post(fake.message(ANA, "reaction", {"message_id": "wamid.X", "emoji": "👍"})) == 200
    assert await fake.post(fake.message(ANA, "hologram", {"id": "1"})) == 200
    broken = fake.message(ANA, "text", {"body": "sin remitente"})
    del broken["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    assert await fake.post(broken) == 200
    await settle(fake, whatsapp)
    assert seen == []  # none of it reached the engine
    texts = fake.texts(ANA)
    assert len(texts) == 2 and all("solo entiendo texto, botones, documentos y fotos" in t for t in texts)
    assert fake.texts(LUIS) == []
    events = [r.getMessage() for r in caplog.records]
    assert any("not JSON" in e for e in events) and any("over 1 MB" in e for e in events)
    assert any("malformed message" in e for e in events) and any("another phone number" in e for e in events)
    assert any("type the bot does not handle" in e for e in events)


async def test_logs_carry_no_phone_numbers_texts_or_token(fake, whatsapp, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.whatsapp")
    caplog.set_level(logging.INFO)
    fake.fail(131000, status=500, times=1)
    fake.fail(131026, to=LUIS, times=None, title="Message undeliverable")
    await fake.text(ANA, "mi idea secreta de miel orgánica")
    await fake.text(LUIS, "otra confidencia")
    await fake.post(b"{broken")
    await settle(fake, whatsapp)
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records if r.name.startswith("bot")]
    assert any("unreachable" in line for line in lines)
    for line in lines:
        assert ANA not in line and LUIS not in line
        assert "secreta" not in line and "confidencia" not in line and "EAAG" not in line


# -- a whole idea, as an entrepreneur on a phone does it ---------------------------------------------------


async def _make_user(app: Any, wa_id: str, *, role: str = "entrepreneur", last_seen: Any = None,
                     consent: Any = None) -> int:
    async with app.sessions() as session, session.begin():
        user = User(channel="whatsapp", external_id=wa_id, language="es", role=role, last_seen_at=last_seen,
                    consent_at=consent)
        session.add(user)
        await session.flush()
        return user.id


async def _next(fake: FakeWhatsApp, who: str, before: int) -> list[Any]:
    """What the bot sent ``who`` after the first ``before`` messages, once its answer is complete."""
    await fake.wait_for(lambda: len(fake.to(who)) > before)
    return fake.to(who)[before:]


async def test_a_whole_idea_submitted_over_whatsapp(fake, whatsapp, app, clock, seen):
    await _make_user(app, COORD, role="coordinator", last_seen=clock.now(), consent=clock.now())
    fake.last_inbound[COORD] = clock.now()  # the coordinator wrote to the bot today
    await fake.text(ANA, "hola", name="Ana")
    await fake.wait_sent(1, to=ANA)
    await fake.text(ANA, "/start")
    await settle(fake, whatsapp)
    await fake.press(ANA, "Acepto")
    await settle(fake, whatsapp)
    await fake.press(ANA, "Enviar una idea")  # a row of the main menu's list
    await settle(fake, whatsapp)
    assert "1/" in fake.texts(ANA)[-1] and "título" in fake.texts(ANA)[-1]

    answers = ["Miel del Chaco", "Las familias apicultoras del Chaco venden su miel sin marca y a precios muy bajos.",
               "Una cooperativa con marca propia, envasado común y venta en línea a tiendas de Santa Cruz.",
               "40 familias productoras de miel del municipio"]
    for answer in answers:
        await fake.text(ANA, answer)
        await settle(fake, whatsapp)
    region = fake.to(ANA)[-1]
    assert region.message["interactive"]["type"] == "list"  # five regions and "back": a list
    assert "Santa Cruz (Bolivia)" in region.labels and "⬅️ Atrás" in region.labels
    await fake.press(ANA, "Santa Cruz")
    await settle(fake, whatsapp)

    sdgs = fake.to(ANA)[-1]
    assert sdgs.type == "text" and "Responde con el número" in sdgs.text  # 17 goals: numbered lines
    await fake.choose(ANA, "12 Consumo responsable")
    await settle(fake, whatsapp)
    assert "✅ 12 Consumo responsable" in fake.texts(ANA)[-1]  # marked, and the options shown again
    await fake.choose(ANA, "Listo")
    await settle(fake, whatsapp)

    await fake.press(ANA, "Prototipo")
    await settle(fake, whatsapp)
    await fake.text(ANA, "Ana Quispe (coordinación) y Luis Rojas (ventas)")
    await settle(fake, whatsapp)
    await fake.text(ANA, "ana@ejemplo.org +591 70012345")
    await settle(fake, whatsapp)
    await fake.document(ANA, "plan.pdf", size=240_000, caption=None)
    await settle(fake, whatsapp)

    summary = fake.to(ANA)[-1]
    assert "Resumen de tu idea" in summary.text and "Miel del Chaco" in summary.text
    assert summary.type == "text" and "Enviar la idea" in summary.text  # 12 options: numbered too
    await fake.choose(ANA, "Enviar la idea")
    await settle(fake, whatsapp)
    assert "¡Tu idea ha sido enviada!" in "\n".join(fake.texts(ANA)[-2:])

    async with app.sessions() as session:
        submission = await session.scalar(select(Submission))
    assert submission.status == "submitted" and submission.reference.startswith("LID-")
    assert "12" in submission.answers["sdgs"] and submission.answers["region"] == "santa_cruz"
    assert submission.answers["attachment"]["name"] == "plan.pdf"
    assert submission.answers["attachment"]["size"] == 240_000  # asked of the Graph API: the webhook does not say
    assert not fake.refused  # nothing the Cloud API would have refused
    await app.outbox.send_due()  # the coordinator is told, through the outbox, on WhatsApp
    assert any(submission.reference in text for text in fake.texts(COORD))


async def test_a_number_outside_the_options_is_just_text(fake, whatsapp, app, clock, seen):
    await _make_user(app, ANA, last_seen=clock.now(), consent=clock.now())
    await fake.text(ANA, "/idea")
    await settle(fake, whatsapp)
    await fake.text(ANA, "42")  # no numbered options are on screen: "42" is the answer to the title question
    await settle(fake, whatsapp)
    assert seen[-1].text == "42" and seen[-1].payload is None


# -- the outbox, the 24-hour window and receipts -----------------------------------------------------------


async def _queue(app: Any, user_id: int, text: str, *, bulk: bool = False, template: dict[str, Any] | None = None,
                 clock: Any) -> int:
    async with app.sessions() as session, session.begin():
        row = Delivery(user_id=user_id, kind="broadcast" if bulk else "notification",
                       priority=PRIORITY_BULK if bulk else 0, replies=[dump_reply(Reply(text=text))],
                       template=template, due_at=clock.now(), created_at=clock.now())
        session.add(row)
        await session.flush()
        return row.id


async def _delivery(app: Any, delivery_id: int) -> Delivery:
    async with app.sessions() as session:
        return await session.get(Delivery, delivery_id)


async def test_a_broadcast_outside_the_window_uses_its_template_or_is_skipped(fake, whatsapp, app, clock):
    inside = await _make_user(app, ANA, last_seen=clock.now() - timedelta(hours=23))
    outside = await _make_user(app, LUIS, last_seen=clock.now() - timedelta(hours=25))
    never = await _make_user(app, COORD)
    fake.last_inbound[ANA] = clock.now() - timedelta(hours=23)
    text = "Convocatoria abierta:\nenvía tu idea antes del 30 de noviembre."
    template = {"name": "lideres_novedades", "params": [text]}
    ids = [await _queue(app, user, text, bulk=True, template=template, clock=clock) for user in (inside, outside)]
    skipped = await _queue(app, never, text, bulk=True, clock=clock)
    assert await app.outbox.send_due() == 3
    to_ana, to_luis = fake.to(ANA), fake.to(LUIS)
    assert [s.type for s in to_ana] == ["text"] and to_ana[0].text == text  # inside: the message itself
    assert [s.type for s in to_luis] == ["template"]  # outside: the approved template, the text as its parameter
    assert to_luis[0].message["template"]["name"] == "lideres_novedades"
    assert to_luis[0].message["template"]["language"] == {"code": "es"}
    assert to_luis[0].text == "Convocatoria abierta: envía tu idea antes del 30 de noviembre."  # one line
    assert [(await _delivery(app, i)).status for i in ids] == ["sent", "sent"]
    row = await _delivery(app, skipped)
    assert (row.status, row.error) == ("skipped", "outside WhatsApp's 24-hour window, and no template for it")
    assert fake.to(COORD) == [] and not fake.refused


async def test_the_notice_template_carries_a_personal_message_outside_the_window(fake, app, clock, timer):
    app.settings = app.settings.model_copy(update={"whatsapp_notice_template": "lideres_aviso"})
    async with running_whatsapp(app, fake, timer):
        user = await _make_user(app, LUIS, last_seen=clock.now() - timedelta(days=3))
        delivery = await _queue(app, user, "Tu idea LID-2026-0001 es finalista.", clock=clock)
        await app.outbox.send_due()
    (sent,) = fake.to(LUIS)
    assert (sent.type, sent.message["template"]["name"], sent.text) == (
        "template", "lideres_aviso", "Tu idea LID-2026-0001 es finalista.")
    assert (await _delivery(app, delivery)).status == "sent"


async def test_status_callbacks_move_outbox_rows_forward_only(fake, whatsapp, app, clock):
    ana = await _make_user(app, ANA, last_seen=clock.now())
    luis = await _make_user(app, LUIS, last_seen=clock.now())
    fake.last_inbound[ANA] = fake.last_inbound[LUIS] = clock.now()
    first = await _queue(app, ana, "Recordatorio: mentoría mañana", clock=clock)
    second = await _queue(app, luis, "Recordatorio: mentoría mañana", clock=clock)
    await app.outbox.send_due()
    (to_ana,), (to_luis,) = fake.to(ANA), fake.to(LUIS)
    assert (await _delivery(app, first)).refs == [to_ana.id]
    await fake.status(to_ana.id, "delivered", to=ANA)
    await fake.status(to_ana.id, "read", to=ANA)
    await fake.status(to_ana.id, "delivered", to=ANA)  # late and out of order: ignored
    await fake.status("wamid.NOT-OURS", "read", to=ANA)  # a live reply's receipt: nothing to update
    await fake.status(to_luis.id, "failed", to=LUIS, code=131047, title="Re-engagement message")
    await whatsapp.receipts.join()
    row = await _delivery(app, first)
    assert row.status == "read"
    row = await _delivery(app, second)
    assert (row.status, row.error) == ("skipped", "131047 Re-engagement message")


async def test_statuses_sent_by_the_platform_by_itself(fake, whatsapp, app, clock):
    fake.auto_status = True  # "sent", then "delivered", for every message, as Meta does
    ana = await _make_user(app, ANA, last_seen=clock.now())
    fake.last_inbound[ANA] = clock.now()
    delivery = await _queue(app, ana, "Tu pregunta tiene respuesta", clock=clock)
    await app.outbox.send_due()
    await fake.wait_for(lambda: fake.webhook_statuses.count(200) >= 2)
    await whatsapp.receipts.join()
    await asyncio.gather(*whatsapp._early)  # those that came before the outbox wrote the message id
    assert (await _delivery(app, delivery)).status == "delivered"


async def test_a_receipt_that_overtakes_the_send_answer_still_moves_its_row(fake, whatsapp, app, clock):
    fake.auto_status = fake.status_first = True  # the callbacks come before the outbox knows the message id
    ana = await _make_user(app, ANA, last_seen=clock.now())
    fake.last_inbound[ANA] = clock.now()
    delivery = await _queue(app, ana, "Recordatorio: mentoría mañana", clock=clock)
    await app.outbox.send_due()
    await whatsapp.receipts.join()
    await asyncio.gather(*whatsapp._early)  # applied again once the row holds the message id
    assert (await _delivery(app, delivery)).status == "delivered"


# -- the platform pushing back -----------------------------------------------------------------------------


async def test_limits_errors_and_retries_map_like_telegrams(fake, whatsapp, app, clock, timer):
    users = {wa: await _make_user(app, wa, last_seen=clock.now()) for wa in (ANA, LUIS, COORD)}
    for wa in users:
        fake.last_inbound[wa] = clock.now()
    fake.fail(130429, times=2, to=ANA, title="Rate limit hit")  # the number's throughput: everyone waits
    fake.fail(131056, times=1, to=ANA, title="pair rate limit hit")  # this user only
    fake.fail(131026, times=None, to=LUIS, title="Message undeliverable")
    fake.fail(131000, status=500, times=None, to=COORD, title="Something went wrong")
    rows = {wa: await _queue(app, user, "Aviso de la red", clock=clock) for wa, user in users.items()}
    await app.outbox.send_due()
    assert fake.texts(ANA) == ["Aviso de la red"]  # after two pauses and a pair-limit wait
    assert (await _delivery(app, rows[ANA])).status == "sent"
    luis = await _delivery(app, rows[LUIS])
    assert luis.status == "blocked"
    async with app.sessions() as session:
        assert (await session.get(User, users[LUIS])).blocked_at is not None
    coord = await _delivery(app, rows[COORD])
    assert (coord.status, coord.attempts) == ("pending", 1) and "131000" in coord.error  # tried again later
    assert len([r for r in fake.refused if r[0] == COORD]) == 5  # the first try and four retries
    assert timer.slept  # every wait ran on the virtual clock


async def test_throughput_and_pair_limits_pace_a_broadcast(fake, app, clock):
    from bot.channels.pacing import RateLimiter

    timer = VirtualTimer()
    sends: list[tuple[float, str]] = []

    class Recording(RateLimiter):
        def _record(self, chat: Any, now: float) -> None:
            super()._record(chat, now)
            sends.append((now, str(chat)))

    app.settings = app.settings.model_copy(update={"whatsapp_max_rate": 5})
    limiter = Recording(timer, overall=5, per_chat=1 / 6, burst=45)
    recipients = [f"5917000{n:04d}" for n in range(12)]
    async with running_whatsapp(app, fake, timer, limiter=limiter):
        for wa in recipients:
            user = await _make_user(app, wa, last_seen=clock.now())
            fake.last_inbound[wa] = clock.now()
            await _queue(app, user, "Convocatoria abierta", bulk=True, clock=clock)
        await app.outbox.send_due()
    assert len(fake.sent) == 12 and not fake.refused
    times = sorted(at for at, _ in sends)
    assert all(times[i + 5] - times[i] >= 1.0 - 1e-9 for i in range(len(times) - 5))  # 5 a second overall


async def test_a_coordinators_broadcast_outside_the_window_is_counted_in_the_report(fake, whatsapp, app, clock):
    from bot.db.models import Broadcast
    from bot.services import broadcasts

    fake.auto_status = True
    now = clock.now()
    await _make_user(app, ANA, last_seen=now - timedelta(hours=2), consent=now)  # inside the window
    await _make_user(app, LUIS, last_seen=now - timedelta(days=2), consent=now)  # outside it
    fake.last_inbound[ANA] = now - timedelta(hours=2)
    async with app.sessions() as session, session.begin():
        session.add(Broadcast(texts={"es": "Mañana abre la convocatoria"}, audience={}, scheduled_at=now,
                              created_at=now))
    await broadcasts.start_due(app.outbox)
    await app.outbox.send_due()
    assert fake.texts(ANA) == ["Mañana abre la convocatoria"] and fake.to(LUIS) == []
    await fake.wait_for(lambda: fake.webhook_statuses.count(200) >= 2)  # "sent" and "delivered" for Ana's
    await whatsapp.receipts.join()
    await asyncio.gather(*whatsapp._early)  # those that came before the outbox wrote the message id
    async with app.sessions() as session:
        (figures,) = (await broadcasts.figures(session, [1])).values()
        rows = {row.user_id: row for row in await session.scalars(select(Delivery))}
    assert (figures.sent, figures.skipped, figures.open) == (1, 1, 0)  # delivered counts as sent
    assert sorted(row.status for row in rows.values()) == ["delivered", "skipped"]
    line = broadcasts.figures_line(figures, "es")  # what the coordinator's report shows
    assert "✅ 1 enviados" in line and "⏭️ 1 omitidos" in line


# -- long button payloads live in the database ------------------------------------------------------------

SHORT_IDS = 20  # bytes of a button id here: "menu:mysubmissions" no longer fits, so its id is a stored key


def _selects_of_button_payloads(app: Any) -> list[str]:
    """Every SELECT on ``button_payloads`` that ``app``'s database is asked from now on."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "button_payloads" in statement:
            statements.append(statement)

    event.listen(app.db.sync_engine, "before_cursor_execute", seen)
    return statements


async def test_a_long_button_payload_is_pressed_after_a_restart_and_a_forged_key_reads_nothing(
        fake, app, clock, timer):
    await _make_user(app, LUIS, last_seen=clock.now(), consent=clock.now())
    fake.last_inbound[LUIS] = clock.now()
    async with running_whatsapp(app, fake, timer, button_id_limit=SHORT_IDS) as channel:
        await fake.text(ANA, "/start", name="Ana")
        await fake.wait_sent(2, to=ANA)
        await fake.press(ANA, "Acepto")
        menu = (await fake.wait_sent(3, to=ANA))[2]
        async with app.sessions() as session, session.begin():  # a notification, through the outbox
            luis = await session.scalar(select(User.id).where(User.external_id == LUIS))
            button = Button("📄 Mis ideas", "menu:mysubmissions")
            session.add(Delivery(user_id=luis, kind="notification", due_at=clock.now(), created_at=clock.now(),
                                 replies=[dump_reply(Reply("¿Ya viste tus ideas?", ((button,),)))]))
        assert await app.outbox.send_due() == 1
        await settle(fake, channel)
    stored = dict(menu.options)["📄 Mis ideas"]
    assert stored[8] == "~" and "mysubmissions" not in stored  # the key of a stored payload, not the payload
    assert dict(fake.to(LUIS)[0].options)["📄 Mis ideas"] == stored

    restarted = await App.create(app.settings, clock=clock, migrate=False)  # another process: memory is gone
    reads = _selects_of_button_payloads(restarted)
    try:
        async with running_whatsapp(restarted, fake, timer, button_id_limit=SHORT_IDS) as channel:
            await fake.press(ANA, "Mis ideas")
            await fake.press(LUIS, "Mis ideas")
            answer = (await fake.wait_sent(4, to=ANA))[3]
            assert "Todavía no has presentado ninguna idea" in answer.text
            assert "Todavía no has presentado ninguna idea" in (await fake.wait_sent(2, to=LUIS))[1].text
            assert len(reads) == 1  # read once (the same payload, the same key): then this process knows it

            forged = stored[:-1] + ("A" if stored[-1] != "A" else "B")
            await fake.press_id(ANA, forged)
            await settle(fake, channel)
            assert fake.texts(ANA)[4] == "Este botón ya caducó. Usa /menu para ver las opciones actuales."
            assert len(reads) == 1  # a forged id is refused on its signature: the database is not asked

            never_saved = ButtonCodec(APP_SECRET, purpose="whatsapp", limit=SHORT_IDS).encode("menu:never-saved")
            assert never_saved[8] == "~"
            await fake.press_id(ANA, never_saved)
            await settle(fake, channel)
            assert fake.texts(ANA)[5] == "Este botón ya caducó. Usa /menu para ver las opciones actuales."
            assert len(reads) == 2 and len(fake.to(ANA)) == 6 and not fake.refused
    finally:
        await restarted.close()
