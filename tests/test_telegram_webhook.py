"""Webhook mode: Telegram POSTs updates to the bot's own aiohttp server, which checks the secret header before
anything else happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, text

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.channel import SECRET_HEADER, WEBHOOK_PATH, derived_secret
from bot.db.models import ProcessedUpdate, User
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.telegram_support import PUBLIC_URL, SECRET, running_webhook, take, webhook_settings

ANA = 1001


@pytest.fixture
def settings_overrides(fake: FakeTelegram) -> dict[str, object]:
    return webhook_settings(fake)


@pytest.fixture
async def webhook(app: Any) -> AsyncIterator[tuple[TelegramChannel, TestClient]]:
    async with running_webhook(app) as (channel, client):
        yield channel, client
    assert channel.closed


async def processed(app: Any) -> int:
    async with app.sessions() as session:
        return await session.scalar(select(func.count()).select_from(ProcessedUpdate))


async def test_webhook_is_registered_with_the_secret(fake, webhook):
    assert fake.webhook["url"] == PUBLIC_URL
    assert fake.webhook["secret_token"] == SECRET
    assert set(fake.webhook["allowed_updates"]) >= {"message", "callback_query"}
    assert not [c for c in fake.calls if c.method in ("getUpdates", "deleteWebhook")]  # no polling


async def test_wrong_or_missing_secret_is_refused_and_nothing_is_processed(fake, webhook, app):
    _channel, client = webhook
    fake.message(ANA, "/start")
    update = take(fake)
    for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}, {SECRET_HEADER: "ñ" * 5}):
        response = await client.post(WEBHOOK_PATH, json=update, headers=headers)
        assert response.status == 403
    response = await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: SECRET})
    assert response.status == 200
    await fake.wait_sent(2, chat_id=ANA)
    assert await processed(app) == 1  # only the good call got as far as the update log
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_good_webhook_flow_with_a_button_and_a_redelivery(fake, webhook, app):
    _channel, client = webhook
    good = {SECRET_HEADER: SECRET}
    fake.message(ANA, "/start")
    update = take(fake)
    assert (await client.post(WEBHOOK_PATH, json=update, headers=good)).status == 200
    await fake.wait_sent(2, chat_id=ANA)
    fake.press_button(ANA, "Acepto")
    press = take(fake)
    assert (await client.post(WEBHOOK_PATH, json=press, headers=good)).status == 200
    assert (await client.post(WEBHOOK_PATH, json=press, headers=good)).status == 200  # Telegram retried it
    await fake.wait_sent(3, chat_id=ANA)
    fake.message(ANA, "/help")
    assert (await client.post(WEBHOOK_PATH, json=take(fake), headers=good)).status == 200
    await fake.wait_for(lambda: any(c.text.startswith("Puedo ayudarte") for c in fake.sent(chat_id=ANA)))
    assert [c.labels[0] for c in fake.sent(chat_id=ANA) if c.labels][1:3] == ["✅ Acepto", "💡 Enviar una idea"]
    assert len([c for c in fake.sent(chat_id=ANA) if "Gracias" in c.text]) == 1  # the press counted once
    assert await processed(app) == 3


async def test_the_call_ends_once_the_update_is_answered_so_a_chats_next_update_cannot_overtake_it(fake, webhook,
                                                                                                   app, database_url):
    """Telegram sends a chat's next update only once the call before it ended. Were the call to end when the
    update is recorded, the next one could reach another worker and be handled first (an idea form's answers
    out of order). Here the user's row is locked, so the handler waits: the call must wait with it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a row lock held by the test stops the handler on PostgreSQL only")
    _channel, client = webhook
    good = {SECRET_HEADER: SECRET}
    fake.message(ANA, "/start")
    assert (await client.post(WEBHOOK_PATH, json=take(fake), headers=good)).status == 200
    async with app.sessions() as locker, app.sessions() as watcher:
        await locker.execute(select(User).where(User.external_id == str(ANA)).with_for_update())
        fake.message(ANA, "/help")
        call = asyncio.create_task(client.post(WEBHOOK_PATH, json=take(fake), headers=good))
        while not (await watcher.scalar(text("select count(*) from pg_locks where not granted"))):
            assert not call.done(), "the call ended before its update was handled"
            await asyncio.sleep(0.01)  # polling PostgreSQL until the handler waits for the row
        assert await processed(app) == 2  # recorded: Telegram would never send it again
        done, _ = await asyncio.wait([call], timeout=0.5)
        assert not done  # but the call is still open: the chat's next update is not sent yet
        await locker.rollback()
    response = await call
    assert response.status == 200
    await fake.wait_for(lambda: any(c.text.startswith("Puedo ayudarte") for c in fake.sent(chat_id=ANA)))


async def test_bad_body_and_stopping(fake, webhook):
    channel, client = webhook
    good = {SECRET_HEADER: SECRET}
    response = await client.post(WEBHOOK_PATH, data=b"{not json", headers=good)
    assert response.status == 400
    await channel.stop()
    fake.message(ANA, "/start")
    response = await client.post(WEBHOOK_PATH, json=take(fake), headers=good)
    assert response.status == 503  # Telegram keeps it and tries again (the restarted process takes it)


def test_a_secret_is_derived_when_none_is_configured():
    secret = derived_secret(TOKEN)
    assert secret == derived_secret(TOKEN) and TOKEN not in secret
    assert len(secret) == 64 and secret.isalnum()  # Telegram allows A-Z, a-z, 0-9, _ and -
