"""A broadcast end to end over Telegram: a coordinator writes it in the chat, the outbox sends it through the real
channel and python-telegram-bot to the fake Bot API, which answers 429 beyond Telegram's limits (30 messages a
second, about one a second per chat). Nobody is answered 429, everybody gets it once, the coordinator's progress
message is edited in place, and a member's question during the broadcast is answered before it ends.

This one runs on real time (about three seconds for 81 members at 29 a second): a virtual clock that jumps for
every sleeper would bunch requests into the fake's one-second windows in ways real time never does."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Broadcast, User
from tests.fake_telegram import TOKEN, FakeTelegram, Limits, running_channel

COORD, ANA = 1, 1001
MEMBERS = range(5000, 5080)
TEXT = "📣 Mañana abre la convocatoria de ideas"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(limits=Limits()).start()
    yield server
    await server.close()


@pytest.fixture
def settings_overrides(fake: FakeTelegram) -> dict[str, object]:
    return {"telegram_token": TOKEN, "telegram_api_url": fake.api_url}


async def members(app: Any) -> None:
    now = app.clock.now()
    async with app.sessions() as session, session.begin():
        session.add_all(User(channel="telegram", external_id=str(chat), language="es", consent_at=now, created_at=now)
                        for chat in MEMBERS)


async def test_a_broadcast_over_telegram_within_its_limits_with_progress_edited_in_place(app, fake):
    await members(app)
    async with running_channel(app) as channel:
        outbox = asyncio.create_task(app.outbox.run(idle_seconds=0.2))
        try:
            fake.message(COORD, "/start")
            await fake.wait_sent(2, chat_id=COORD)
            fake.press_button(COORD, "Acepto")
            await fake.wait_sent(3, chat_id=COORD)
            async with app.sessions() as session, session.begin():
                coordinator = (await session.scalars(select(User).where(User.external_id == str(COORD)))).one()
                coordinator.role = "coordinator"
            fake.message(COORD, "/broadcast")
            await fake.wait_for(lambda: "Escribe el mensaje" in fake.texts(COORD)[-1])
            fake.message(COORD, TEXT)
            await fake.wait_for(lambda: "versión en inglés" in fake.texts(COORD)[-1])
            fake.press_button(COORD, "El mismo texto")
            await fake.wait_for(lambda: "Alcanza a 81 miembros" in fake.texts(COORD)[-1])
            fake.press_button(COORD, "Vista previa")
            await fake.wait_for(lambda: "81 destinatarios" in fake.texts(COORD)[-1])
            fake.press_button(COORD, "Enviar ahora")

            await fake.wait_for(lambda: fake.summary(TEXT)["sent"] >= 20, guard=30)
            fake.message(ANA, "/help")  # someone new asks while the broadcast runs
            await fake.wait_for(lambda: any(text.startswith("Puedo ayudarte") for text in fake.texts(ANA)), guard=30)
            answered_at = next(c.at for c in fake.sent(chat_id=ANA) if c.text.startswith("Puedo ayudarte"))
            await fake.wait_for(lambda: any("ha terminado" in text for text in fake.texts(COORD)), guard=60)
        finally:
            outbox.cancel()
            await asyncio.gather(outbox, return_exceptions=True)
        paused = channel.limiter.paused_until

    summary = fake.summary(TEXT)
    assert summary["too_many"] == 0 and paused == 0  # nobody was answered 429
    received = Counter(c.chat_id for c in fake.sent() if c.text == TEXT)
    assert received == {**{chat: 1 for chat in MEMBERS}, COORD: 2}  # the coordinator also saw the preview
    assert answered_at < summary["last"]  # the answer did not wait for the broadcast
    edits = [c for c in fake.sent("editMessageText", chat_id=COORD)]
    progress_id = edits[-1].params["message_id"]
    assert {c.params["message_id"] for c in edits} == {progress_id}  # one message, edited in place
    final = fake.messages[(COORD, progress_id)]["text"]
    assert final.startswith("📣 Difusión #1: terminada") and "✅ 81 enviados" in final and "▓" * 10 in final
    async with app.sessions() as session:
        broadcast = await session.get(Broadcast, 1)
    assert broadcast.status == "done" and broadcast.recipients == 81
