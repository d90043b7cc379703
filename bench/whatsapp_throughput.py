"""Messages per second through the WhatsApp channel, and how fast Meta's webhook calls are answered.

    .venv/bin/python bench/whatsapp_throughput.py [--users 200] [--messages 5] [--concurrency 50]
                                                  [--database-url URL] [--with-limits]

The fake Graph API (tests/fake_whatsapp.py) plays Meta: it POSTs ``users × messages`` signed webhook bodies
(one "/menu" each, ``concurrency`` at a time) to the bot's own web server and times until each has its answer
(a list message with the main menu). Per message the bot checks the signature, records the wamid (batched
dedupe), marks it read, loads the user and conversation, renders and signs the menu, saves the state and sends.
Reported: messages answered per second, and the webhook's answer time (p50, p99): Meta wants its 200 at once.
The limiter is off to measure the pipeline; ``--with-limits`` keeps 80/s overall, which then bounds everything.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import App  # noqa: E402
from bot.channels.pacing import RateLimiter  # noqa: E402
from bot.channels.whatsapp import WhatsAppChannel  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.server import build_server  # noqa: E402
from tests.fake_whatsapp import FakeWhatsApp  # noqa: E402
from tests.whatsapp_support import whatsapp_settings  # noqa: E402


async def run(users: int, messages: int, concurrency: int, database_url: str, with_limits: bool) -> dict[str, float]:
    fake = await FakeWhatsApp().start()
    app = await App.create(load_settings(database_url=database_url, **whatsapp_settings(fake), log_level="WARNING"))
    web_app = build_server(app)
    limiter = RateLimiter(overall=80, per_chat=1 / 6, burst=45) if with_limits else RateLimiter(overall=0,
                                                                                                 per_chat=0)
    channel = WhatsAppChannel(app, web_app, limiter=limiter)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.webhook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/whatsapp"
    await channel.start()
    wa_ids = [f"5917{n:07d}" for n in range(users)]
    run_id = f"{time.time_ns():x}"  # ids a reused database has not seen
    bodies = [fake.message(wa_id, "text", {"body": "/menu"}, message_id=f"wamid.{run_id}.{n}.{wa_id}")
              for n in range(messages) for wa_id in wa_ids]
    target = len(bodies)
    acks: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def post(body: dict[str, object]) -> None:
        async with gate:
            began = time.perf_counter()
            status = await fake.post(body)
            acks.append(time.perf_counter() - began)
            assert status == 200

    began = time.perf_counter()
    await asyncio.gather(*(post(body) for body in bodies))
    await fake.wait_for(lambda: len(fake.sent) >= target, guard=600)
    elapsed = time.perf_counter() - began
    await channel.stop()
    await app.engine.drain()
    await runner.cleanup()
    await app.close()
    await fake.close()
    acks.sort()
    return {"messages": target, "seconds": elapsed, "per_second": target / elapsed,
            "ack_p50_ms": statistics.median(acks) * 1000, "ack_p99_ms": acks[int(0.99 * (len(acks) - 1))] * 1000,
            "refused": len(fake.refused)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--with-limits", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        result = asyncio.run(run(args.users, args.messages, args.concurrency, url, args.with_limits))
    print(" ".join(f"{key}={value:.1f}" if isinstance(value, float) else f"{key}={value}"
                   for key, value in result.items()))


if __name__ == "__main__":
    main()
