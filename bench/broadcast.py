"""A broadcast to many members through a fake Bot API that enforces Telegram's flood control (30 messages a
second overall, about one a second per chat, 429 beyond), with the real bot (`lideres run`) in its own process.

    .venv/bin/python bench/broadcast.py [--users 10000] [--database-url URL] [--questions 5]
                                        [--skip-steady] [--skip-kill] [--kills N]

Two runs, each on a fresh database with ``--users`` members who accepted the privacy notice:

1. **steady**: the broadcast from start to end. Reported: the rate at the fake (messages of the broadcast per
   second, first to last), the 429 answers (target: none), and the answer time of members' questions sent
   while it runs (``¿Qué es LÍDERES?``, from injection at the fake to the answer reaching it; target < 1 s).
2. **killed**: the bot is killed with SIGKILL when half the members have it, and started again. Reported: how
   many members got it exactly once, twice, or not at all (target: everyone exactly once), the rows the
   outbox reports as unconfirmed (sent when the process died, so never sent again), and how long the restart
   took to resume (the dead process's claims are released when their lease, 30 s, runs out).

The fake runs in its own process (tests/fake_telegram.py --limits), as Telegram would; the database is a
SQLite file in a temporary folder unless ``--database-url`` names a PostgreSQL database (its tables are
emptied first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select, text

from bot.config import PROJECT_ROOT
from bot.db.migrate import upgrade
from bot.db.models import Base, Broadcast, Delivery, User
from bot.db.session import create_engine

TOKEN = "123456:bench-token"
TEXT = "📣 La convocatoria del concurso de ideas abre mañana: prepara la tuya con /idea."
COORDINATOR = 1
FIRST_MEMBER = 100_000
ASKER = 900_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def prepare(url: str, users: int) -> None:
    await upgrade(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        if url.startswith("postgresql"):
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"truncate {tables} restart identity cascade"))
        people = [{"channel": "telegram", "external_id": str(COORDINATOR), "role": "admin", "language": "es",
                   "language_chosen": False, "broadcast_opt_out": False, "consent_at": now, "created_at": now}]
        people += [{"channel": "telegram", "external_id": str(FIRST_MEMBER + n), "role": "entrepreneur",
                    "language": "es", "language_chosen": False, "broadcast_opt_out": False, "consent_at": now,
                    "created_at": now} for n in range(users)]
        for start in range(0, len(people), 2000):
            await connection.execute(insert(User), people[start:start + 2000])
        author = await connection.scalar(select(User.id).where(User.external_id == str(COORDINATOR)))
        await connection.execute(insert(Broadcast).values(
            author_id=author, texts={"es": TEXT}, audience={}, status="scheduled", recipients=0,
            scheduled_at=now, created_at=now))
    await engine.dispose()


async def outbox_state(url: str) -> dict[str, int]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(Delivery.status, func.count()).group_by(Delivery.status))).all()
    await engine.dispose()
    return {status: count for status, count in rows}


class Fake:
    def __init__(self) -> None:
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/bot"
        self.process: asyncio.subprocess.Process | None = None
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        first_update_id = int(time.time() * 1000) % 2**40
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.fake_telegram", "--port", str(self.port), "--token", TOKEN, "--quiet",
            "--limits", "--first-update-id", str(first_update_id), cwd=PROJECT_ROOT,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL)
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600))
        for _ in range(100):  # the other process starting: the only waiting by time here
            try:
                async with self.http.post(f"{self.api_url}{TOKEN}/getMe") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
        raise RuntimeError("the fake Bot API did not start")

    async def summary(self) -> dict[str, Any]:
        assert self.http is not None
        async with self.http.post(f"http://127.0.0.1:{self.port}/_control/summary", json={"text": TEXT}) as response:
            result: dict[str, Any] = await response.json()
            return result

    async def ask(self, user: int) -> float:
        """A member's question, from injection to its answer at the fake, in seconds."""
        assert self.http is not None
        body = {"users": 1, "messages": 1, "text": "¿Qué es LÍDERES?", "first_user": user}
        async with self.http.post(f"http://127.0.0.1:{self.port}/_control/load", json=body) as response:
            return float((await response.json())["p50_ms"]) / 1000

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self.process is not None:
            self.process.terminate()
            await self.process.wait()


async def start_bot(fake: Fake, url: str, log: Path) -> asyncio.subprocess.Process:
    env = dict(os.environ, LIDERES_DATABASE_URL=url, LIDERES_TELEGRAM_TOKEN=TOKEN,
               LIDERES_TELEGRAM_API_URL=fake.api_url, LIDERES_WEB_PORT=str(free_port()), LIDERES_LOG_LEVEL="WARNING",
               LIDERES_ADMINS=f"telegram:{COORDINATOR}")
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            str(PROJECT_ROOT / ".venv" / "bin" / "lideres"), "run", cwd=PROJECT_ROOT, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=output)


async def wait_until(check: Any, every: float = 0.5, guard: float = 3600) -> Any:
    """Poll ``check()`` (the other processes' progress) until it returns something true."""
    began = time.monotonic()
    while time.monotonic() - began < guard:
        result = await check()
        if result:
            return result
        await asyncio.sleep(every)
    raise TimeoutError("the broadcast did not finish")


async def run(url: str, users: int, *, kill: bool, questions: int, folder: Path) -> dict[str, Any]:
    await prepare(url, users)
    fake = Fake()
    await fake.start()
    bot = await start_bot(fake, url, folder / "bot.log")
    total = users + 1  # the coordinator is a member too
    answers: list[float] = []
    resumed_after = None
    try:
        if kill:
            await wait_until(lambda: _at_least(fake, total // 2), every=0.05)
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
            killed_at = time.monotonic()
            sent_at_kill = (await fake.summary())["sent"]
            bot = await start_bot(fake, url, folder / "bot.log")
            await wait_until(lambda: _at_least(fake, sent_at_kill + 1), every=0.1)
            resumed_after = time.monotonic() - killed_at
        else:
            await wait_until(lambda: _at_least(fake, total // 4))
            for index in range(questions):
                answers.append(await fake.ask(ASKER + index))
                await asyncio.sleep(1.0)  # questions a second apart, while the broadcast goes on

        async def finished() -> bool:
            state = await outbox_state(url)
            return sum(state.get(s, 0) for s in ("pending", "claimed", "sending")) == 0 and sum(state.values()) > 0

        await wait_until(finished)
        await asyncio.sleep(1.0)  # the last answers reach the fake
        summary = await fake.summary()
        state = await outbox_state(url)
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
        await fake.close()
    span = summary["last"] - summary["first"]
    return {"sent": summary["sent"], "members": total, "got_it": summary["chats"],
            "missing": total - summary["chats"], "duplicates": summary["duplicates"], "too_many": summary["too_many"],
            "rate": (summary["sent"] - 1) / span if span > 0 else 0.0, "answers": answers,
            "outbox": state, "resumed_after": resumed_after}


async def _at_least(fake: Fake, count: int) -> bool:
    return int((await fake.summary())["sent"]) >= count


def report(name: str, result: dict[str, Any]) -> None:
    print(f"{name}: {result['sent']} messages to {result['members']} members; {result['got_it']} got it, "
          f"{result['missing']} did not, {result['duplicates']} twice; {result['too_many']} answered 429; "
          f"{result['rate']:.1f} messages/s; outbox {result['outbox']}")
    if result["answers"]:
        answers = ", ".join(f"{seconds * 1000:.0f}" for seconds in result["answers"])
        print(f"  questions during the broadcast answered in (ms): {answers}; worst {max(result['answers']):.2f} s")
    if result["resumed_after"] is not None:
        print(f"  killed with SIGKILL half-way; the restarted bot sent again {result['resumed_after']:.1f} s later")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--skip-kill", action="store_true")
    parser.add_argument("--skip-steady", action="store_true")
    parser.add_argument("--kills", type=int, default=1, help="killed runs, each on a fresh database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_steady:
            url = args.database_url or f"sqlite+aiosqlite:///{folder / 'steady.db'}"
            report("steady", await run(url, args.users, kill=False, questions=args.questions, folder=folder))
        for index in range(0 if args.skip_kill else args.kills):
            url = args.database_url or f"sqlite+aiosqlite:///{folder / f'killed{index}.db'}"
            report("killed", await run(url, args.users, kill=True, questions=0, folder=folder))
        errors = [line for line in (folder / "bot.log").read_text().splitlines() if '"level": "error"' in line]
        print(f"bot log: {len(errors)} errors" + (f"; first: {errors[0][:300]}" if errors else ""))


if __name__ == "__main__":
    asyncio.run(main())
