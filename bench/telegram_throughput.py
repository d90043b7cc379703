"""Updates per second through the Telegram channel, polling a fake Bot API, next to a bare python-telegram-bot
echo bot against the same fake in the same run (DESIGN.md's ceiling).

    .venv/bin/python bench/telegram_throughput.py [--users 200] [--messages 10] [--rate 100 --seconds 5]
                                                  [--database-url URL] [--with-limits] [--skip-bare]

The fake (tests/fake_telegram.py) runs in its own process, as Telegram would, and does the measuring: it
queues ``users × messages`` updates and times until each has its answer. Ours does per update what the
bot really does: records the update id (batched dedupe), loads the user and conversation, renders the
/menu answer with five buttons, saves the state, signs the button data and sends. The rate limiter is off
to measure the pipeline; ``--with-limits`` keeps Telegram's 30/s, which then bounds everything. Steady
(``--rate``): updates arrive at a fixed rate; latency is from the update entering the fake to its answer
reaching it (p50, p99), long-poll pickup included.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.app import App
from bot.channels.pacing import RateLimiter
from bot.channels.telegram import TelegramChannel
from bot.config import PROJECT_ROOT, load_settings
from bot.server import build_server

TOKEN = "123456:bench-token"


class Fake:
    """The fake Bot API as a separate process, driven through its control endpoints."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.api_url = f"http://127.0.0.1:{self.port}/bot"
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Fake:
        first_update_id = int(time.time() * 1000) % 2**40  # ids a reused database has not seen
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.fake_telegram", "--port", str(self.port), "--token", TOKEN, "--quiet",
            "--first-update-id", str(first_update_id), cwd=PROJECT_ROOT,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # start-up of the other process: the only waiting by time here
                try:
                    async with session.post(f"{self.api_url}{TOKEN}/getMe") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        raise RuntimeError("the fake Bot API did not start")

    async def __aexit__(self, *_exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        await self.process.wait()

    async def load(self, users: int, messages: int, text: str, rate: float = 0.0) -> dict[str, Any]:
        body = {"users": users, "messages": messages, "text": text, "rate": rate}
        timeout = aiohttp.ClientTimeout(total=3600)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
            f"http://127.0.0.1:{self.port}/_control/load", json=body
        ) as response:
            return await response.json()


def burst_line(name: str, result: dict[str, Any]) -> str:
    return f"{name}: {result['updates']} updates, {result['per_second']:.0f} updates/s"


def steady_line(name: str, rate: float, result: dict[str, Any]) -> str:
    return f"{name} at a steady {rate:.0f}/s: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"


async def bare_ptb(args: argparse.Namespace) -> None:
    async with Fake() as fake:

        async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.message is not None
            await update.message.reply_text(update.message.text or "")

        application = (Application.builder().token(TOKEN).base_url(fake.api_url).concurrent_updates(False)
                       .job_queue(None).build())
        application.add_handler(MessageHandler(filters.TEXT, echo))
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=10)
        name = "bare PTB echo (concurrent_updates off)"
        print(burst_line(name, await fake.load(args.users, args.messages, "hola")), flush=True)
        if args.rate:
            result = await fake.load(args.users, max(1, int(args.rate * args.seconds) // args.users), "hola",
                                     args.rate)
            print(steady_line(name, args.rate, result), flush=True)
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def ours(args: argparse.Namespace, database_url: str) -> None:
    async with Fake() as fake:
        settings = load_settings(database_url=database_url, log_level="WARNING", telegram_token=TOKEN,
                                 telegram_api_url=fake.api_url)
        app = await App.create(settings)
        limiter = RateLimiter() if args.with_limits else RateLimiter(overall=0, per_chat=0)
        channel = TelegramChannel(app, build_server(app), limiter=limiter)
        await channel.start()
        await fake.load(args.users, 1, "/menu")  # first contact creates the users: not measured
        kind = database_url.split(":")[0].split("+")[0]
        name = f"lideres-bot /menu ({kind}, {'with limits' if args.with_limits else 'limiter off'})"
        print(burst_line(name, await fake.load(args.users, args.messages, "/menu")), flush=True)
        if args.rate:
            result = await fake.load(args.users, max(1, int(args.rate * args.seconds) // args.users), "/menu",
                                     args.rate)
            print(steady_line(name, args.rate, result), flush=True)
        await channel.stop()
        await app.engine.drain()
        await channel.close()
        await app.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--database-url")
    parser.add_argument("--rate", type=float, default=0.0, help="also measure latency at this steady rate")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--with-limits", action="store_true", help="keep the 30/s and 1/s-per-chat limits")
    parser.add_argument("--skip-bare", action="store_true")
    args = parser.parse_args()
    if not args.skip_bare:
        asyncio.run(bare_ptb(args))
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(ours(args, url))


if __name__ == "__main__":
    main()
