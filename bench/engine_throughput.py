"""Messages per second through the engine (real handlers, real database), per-user order kept.

    .venv/bin/python bench/engine_throughput.py [--users 200] [--messages 10] [--database-url URL]

Prints throughput and the latency from submit to reply (p50, p95) for the /menu command, which loads
the user and their conversation, renders the main menu and saves the state: the engine's fixed cost.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.app import App
from bot.config import load_settings
from bot.messages import Incoming, Reply


async def run(users: int, messages: int, database_url: str) -> None:
    app = await App.create(load_settings(database_url=database_url, log_level="WARNING"))
    latencies: list[float] = []
    started_at: dict[tuple[str, str | None], float] = {}
    done = asyncio.Event()
    total = users * messages

    async def respond(incoming: Incoming, replies: list[Reply]) -> None:
        latencies.append(time.perf_counter() - started_at[(incoming.user_id, incoming.message_id)])
        if len(latencies) == total:
            done.set()

    for user in range(users):  # first contact creates the users; not part of the measurement
        await app.engine.handle(Incoming("bench", f"u{user}", text="/menu"))
    start = time.perf_counter()
    for index in range(messages):
        for user in range(users):
            incoming = Incoming("bench", f"u{user}", text="/menu", message_id=str(index))
            started_at[(incoming.user_id, incoming.message_id)] = time.perf_counter()
            await app.engine.submit(incoming, respond)
    await done.wait()
    elapsed = time.perf_counter() - start
    await app.engine.drain()
    await app.close()
    latencies.sort()
    print(
        f"engine {database_url.split(':')[0]}: {total} messages, {users} users: {total / elapsed:.0f} msg/s, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, p95 {latencies[int(0.95 * len(latencies))] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(args.users, args.messages, url))


if __name__ == "__main__":
    main()
