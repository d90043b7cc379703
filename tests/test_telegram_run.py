"""``lideres run`` with a token and an API URL, as a separate process against the fake Bot API: /start gets its
buttons, consent brings the main menu, SIGTERM stops it cleanly, and its logs hold neither the token nor
what the user typed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator

import pytest

from bot.config import PROJECT_ROOT
from tests.fake_telegram import FakeTelegram

TOKEN = "987654:run-TOKEN-secretpart"
ANA = 1001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:  # this module's own token, to find it in the logs
    server = await FakeTelegram(TOKEN).start()
    yield server
    await server.close()


async def test_lideres_run_answers_start_with_the_main_menu(fake, database_url):
    env = {key: value for key, value in os.environ.items() if not key.startswith("LIDERES_")}
    env |= {"LIDERES_TELEGRAM_TOKEN": TOKEN, "LIDERES_TELEGRAM_API_URL": fake.api_url,
            "LIDERES_DATABASE_URL": database_url, "LIDERES_WEB_PORT": "0"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        fake.message(ANA, "/start miel_2026 con texto privado")  # waits in the fake until the bot polls
        welcome, consent = await fake.wait_sent(2, chat_id=ANA, guard=60)
        assert welcome.labels == ["Español", "English"] and "✅ Acepto" in consent.labels
        assert consent.at - welcome.at < 0.3  # one reply's messages leave together, on the real clock
        fake.message(ANA, "hola")
        greeting = (await fake.wait_sent(3, chat_id=ANA))[2]
        assert greeting.text.startswith("¡Hola Ana!") and "💡 Enviar una idea" in greeting.labels  # and the menu
        fake.press_button(ANA, "Acepto")
        menu = (await fake.wait_sent(4, chat_id=ANA))[3]
        assert "💡 Enviar una idea" in menu.labels
        assert {"es", "en", None} <= set(fake.commands)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    log = stderr.decode()
    assert process.returncode == 0, log[-2000:]
    assert '"bot started"' in log and '"stopped"' in log
    assert TOKEN not in log and "secretpart" not in log and "texto privado" not in log
