"""PTB's Bot over ``AiohttpRequest`` against the fake Bot API: the same requests arrive, and every answer becomes
what PTB's own httpx request makes of it (results, then RetryAfter, Forbidden, BadRequest, TimedOut)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram.http import AiohttpRequest
from tests.fake_telegram import TOKEN, FakeTelegram


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, base_url=fake.api_url, request=AiohttpRequest(read_timeout=1.0),
              get_updates_request=AiohttpRequest())
    async with bot:
        yield bot


async def test_messages_documents_and_updates_go_through(fake: FakeTelegram, bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Menú", callback_data="menu:main")]])
    sent = await bot.send_message(1001, "¡Hola! 👋", reply_markup=markup)
    await bot.send_document(1001, b"%PDF-1.4 plan", filename="plan.pdf", caption="Tu plan")
    fake.message(1001, "gracias")
    updates = await bot.get_updates(timeout=1)

    assert sent.message_id > 0 and sent.text == "¡Hola! 👋"
    assert fake.texts(1001) == ["¡Hola! 👋", "Tu plan"]
    assert fake.sent(chat_id=1001)[0].labels == ["Menú"]
    assert fake.sent("sendDocument")[0].files["document"]["filename"] == "plan.pdf"
    assert [update.message.text for update in updates if update.message] == ["gracias"]


async def test_errors_are_ptbs(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(1001, "uno")
    fake.fail("sendMessage", 403)
    with pytest.raises(Forbidden):
        await bot.send_message(1001, "dos")
    fake.fail("sendMessage", 400, description="Bad Request: message text is empty")
    with pytest.raises(BadRequest, match="text is empty"):
        await bot.send_message(1001, "tres")
    fake.stall("sendMessage")
    with pytest.raises(TimedOut):
        await bot.send_message(1001, "cuatro")

    await bot.send_message(1001, "cinco")  # the session is still usable after each
    assert fake.texts(1001) == ["cinco"]


async def test_unreachable_api_is_a_network_error() -> None:
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post("http://127.0.0.1:9/bot123:x/getMe")  # the discard port: refused
    finally:
        await request.shutdown()
