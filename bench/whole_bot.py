"""The whole bot as users meet it, against the framework's own ceiling, in one run (issue 14).

    .venv/bin/python bench/whole_bot.py [--updates 20000] [--rate 200 --seconds 30] [--users 1000]
                                        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
                                        [--only echo sqlite postgresql floor-sqlite floor-postgresql]
                                        [--workers N] [--profile FOLDER] [--logs FOLDER] [--quick]

Three bots, one after the other, each in its own process (so its peak memory is its own) polling a fake Bot API
(``tests/fake_telegram.py``, served by this process, which injects the updates and times the answers): a bare
python-telegram-bot echo bot (the ceiling), then ``lideres run`` on SQLite (a fresh file) and on PostgreSQL (a
fresh database beside the one in ``--database-url``), with ``LIDERES_TELEGRAM_MAX_RATE=0`` and its usual log level.

Every bot gets the same traffic of ``--users`` people (the same seed): members asking FAQ questions (the eval
set's), typing /menu, /help, greetings and thanks, pressing menu and language buttons; people filling in the idea
form (texts, then region, goals and stage buttons, skip, submit); and first contacts (/start or "hola" from an
id never seen, then "I agree"), whose slot then passes to another new id. Button data is signed with the bot's
own codec (real payloads); a press refers to a bot message the fake knows, so the answer can edit it. The
echo bot answers a text with its text and a press with answerCallbackQuery and an edit, as ours does.

(a) Saturation: ``--updates`` queued at once; answered per second = updates / (last reply − injection). The
    run ends when the bot has taken every update and sent nothing for a few seconds (the end is the last reply).
(b) Steady: ``--rate`` updates a second for ``--seconds``; latency from the update entering the fake (where the
    bot's long poll picks it up) to the first message of its answer. A person writes again only after everyone
    else has (every ``users / rate`` seconds), so an answer always pairs with its update.

``--only floor-sqlite floor-postgresql`` adds the floor: ``lideres run`` with no handlers at all (every message
gets the engine's own one-line answer: "not understood", "unknown command", "button expired"), so what it costs
is what every update pays before any feature runs: the channel, the journal that makes a crash lose nothing, the
transaction that loads (or creates) the sender. The product can be no faster than its floor.

``--workers N`` runs each PostgreSQL bot as N ``lideres run`` processes in webhook mode behind one URL (README,
"Several worker processes"): the fake POSTs each update to the next worker in turn, at most 40 at once (Telegram's
default ``max_connections``); the peak memory is the workers' sum.

``--profile FOLDER`` runs lideres-bot under pyinstrument and writes its text profile there, one per database;
``--logs FOLDER`` keeps each bot's log. The saturation line also gives the messages a second in each third of
the replies: a bot that slows down as its backlog grows shows it there.

``--bot-command`` / ``--compare COMMAND`` run another lideres-bot (before/after in one run). The bots start in this
checkout's folder, where ``python -m bot`` imports this checkout; another one (a ``git clone`` elsewhere) runs with
``env PYTHONSAFEPATH=1 PYTHONPATH=/path/to/clone .venv/bin/python -m bot run`` (this virtualenv, that code).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fake Bot API

from bot.channels.buttons import ButtonCodec  # noqa: E402
from bot.config import PROJECT_ROOT  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import User  # noqa: E402
from bot.db.session import create_engine  # noqa: E402
from tests.fake_telegram import Call, FakeTelegram  # noqa: E402
from tests.test_idea_helpers import BENEFICIARIES, CONTACT, PROBLEM, SOLUTION, TEAM, TITLE  # noqa: E402

HERE = Path(__file__).resolve()
TOKEN = "123456:whole-bot-bench"
CODEC = ButtonCodec(TOKEN)
FIRST_USER = 5_000_000
NEWCOMER_IDS = 9_000_000
PRODUCT = ("sqlite", "postgresql")  # lideres-bot on each database; "floor-" + one of them: the bot without handlers
QUIET = 3.0  # seconds without a reply, every update taken: the saturation run is over

GREETINGS = ["hola", "Hola!", "buenos días", "buenas tardes", "hello", "hi", "gracias", "muchas gracias", "thanks",
             "ok gracias", "adiós", "chao"]

Action = tuple[str, str]  # ("text", "hola") or ("press", "menu:help")


def faq_questions() -> dict[str, list[str]]:
    questions: dict[str, list[str]] = defaultdict(list)
    for line in (PROJECT_ROOT / "tests" / "eval" / "fresh.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        questions[item["lang"]].append(item["question"])
    return questions


def member_action(rng: random.Random, lang: str, questions: dict[str, list[str]]) -> Action:
    roll = rng.random()
    if roll < 0.40:
        return "text", rng.choice(questions[lang])
    if roll < 0.55:
        return "text", "/menu"
    if roll < 0.70:
        return "text", rng.choice(GREETINGS)
    if roll < 0.80:
        return "press", rng.choice(["menu:help", f"lang:{lang}", "run:menu"])
    if roll < 0.90:
        return "text", rng.choice(["/help", "/mysubmissions", "/privacy"])
    return "text", rng.choice(questions[lang]).lower()  # the same question typed carelessly


def idea_form() -> list[Action]:
    return [("text", "/idea"), ("text", TITLE), ("text", PROBLEM), ("text", SOLUTION), ("text", BENEFICIARIES),
            ("press", "idea:pick:region:santa_cruz"), ("press", "idea:done:sdgs"), ("press", "idea:pick:stage:idea"),
            ("text", TEAM), ("text", CONTACT), ("press", "idea:skip:attachment"), ("press", "idea:submit:")]


@dataclass
class Slot:
    """One of the ``users`` people writing; a newcomer's slot passes to a new id once they have agreed."""

    user_id: int
    lang: str
    persona: str  # member, idea, newcomer
    name: str
    actions: Iterator[Action] = field(default_factory=lambda: iter(()))


class Traffic:
    """Deterministic per seed: every bot gets the same updates in the same order."""

    def __init__(self, users: int, seed: int = 14) -> None:
        self.rng = random.Random(seed)
        self.questions = faq_questions()
        self.new_ids = iter(range(NEWCOMER_IDS, NEWCOMER_IDS + 10_000_000))
        self.slots: list[Slot] = []
        for n in range(users):
            lang = "es" if self.rng.random() < 0.8 else "en"
            roll = self.rng.random()
            persona = "member" if roll < 0.6 else "idea" if roll < 0.85 else "newcomer"
            slot = Slot(FIRST_USER + n, lang, persona, self.rng.choice(["Ana", "Luis", "María", "José", "Eva"]))
            if persona == "newcomer":
                slot.user_id = next(self.new_ids)
            slot.actions = self._script(slot)
            self.slots.append(slot)

    def existing(self) -> list[Slot]:
        """Members who agreed before the run (created in the database beforehand)."""
        return [slot for slot in self.slots if slot.persona != "newcomer"]

    def _script(self, slot: Slot) -> Iterator[Action]:
        rng = self.rng
        while True:
            if slot.persona == "newcomer":
                yield "text", rng.choice(["/start", "/start", "hola"])
                yield "press", "consent:yes"
                for _ in range(rng.randint(1, 4)):
                    yield member_action(rng, slot.lang, self.questions)
                slot.user_id = next(self.new_ids)  # the next first contact
                continue
            if slot.persona == "idea":
                yield from idea_form()
            for _ in range(rng.randint(10, 30)):
                yield member_action(rng, slot.lang, self.questions)

    def burst(self, count: int) -> list[tuple[int, str, str, Action]]:
        """``count`` updates, round after round in a shuffled order of people (each person's in their order)."""
        out: list[tuple[int, str, str, Action]] = []
        while len(out) < count:
            order = self.slots[:]
            self.rng.shuffle(order)
            for slot in order:
                action = next(slot.actions)  # first: a newcomer's slot may have passed to a new id
                out.append((slot.user_id, slot.lang, slot.name, action))
        return out[:count]

    def steady(self, count: int) -> list[tuple[int, str, str, Action]]:
        """Rounds in one fixed order, so one person's updates are ``users / rate`` seconds apart."""
        order = self.slots[:]
        self.rng.shuffle(order)
        out: list[tuple[int, str, str, Action]] = []
        for index in range(count):
            slot = order[index % len(order)]
            action = next(slot.actions)  # first: a newcomer's slot may have passed to a new id
            out.append((slot.user_id, slot.lang, slot.name, action))
        return out


class BenchFake(FakeTelegram):
    """The fake Bot API with a meter: replies counted per chat, and the first one after an update timed."""

    def __init__(self) -> None:
        super().__init__(TOKEN, first_update_id=int(time.time() * 1000) % 2**40)
        self.polled = asyncio.Event()
        self.pending: dict[int, deque[float]] = defaultdict(deque)
        self.latencies: list[float] = []
        self.per_chat: Counter[int] = Counter()
        self.injected_per_chat: Counter[int] = Counter()
        self.replies = 0
        self.reply_times: list[float] = []
        self.last_reply = 0.0
        self.on_sent = self._count

    def _count(self, call: Call) -> None:
        now = time.perf_counter()
        chat = call.chat_id or 0
        self.replies += 1
        self.reply_times.append(now)
        self.per_chat[chat] += 1
        self.last_reply = now
        waiting = self.pending.get(chat)
        if waiting:
            self.latencies.append(now - waiting.popleft())

    async def _m_getUpdates(self, p: dict[str, Any], f: dict[str, Any]) -> Any:
        self.polled.set()
        return await super()._m_getUpdates(p, f)

    def send(self, user_id: int, lang: str, name: str, action: Action, *, timed: bool) -> None:
        kind, value = action
        self.injected_per_chat[user_id] += 1
        if timed:
            self.pending[user_id].append(time.perf_counter())
        if kind == "text":
            self.message(user_id, value, first_name=name, language_code=lang)
            return
        message_id = next(self._message_ids)  # the bot message the button is on, as if sent earlier
        self.messages[(user_id, message_id)] = {
            "message_id": message_id, "date": int(time.time()), "chat": {"id": user_id, "type": "private"},
            "from": self._bot_user(), "text": "…",
        }
        self.press(user_id, CODEC.encode(value), message_id, first_name=name, language_code=lang)

    def reset(self) -> None:
        self.pending.clear()
        self.latencies = []
        self.per_chat.clear()
        self.injected_per_chat.clear()
        self.replies = 0
        self.reply_times = []

    def thirds(self) -> list[float]:
        """Messages a second in each third of the replies: a bot that slows down as its backlog grows (or
        shrinks) shows it here."""
        times = self.reply_times
        cut = [times[len(times) * n // 3] for n in range(3)] + [times[-1]] if len(times) >= 6 else []
        size = len(times) / 3
        return [size / (cut[n + 1] - cut[n]) if cut[n + 1] > cut[n] else float("nan") for n in range(len(cut) - 1)]

    def unanswered(self) -> int:
        """Chats that got fewer messages than they sent updates (every update has at least one answer)."""
        return sum(1 for chat, sent in self.injected_per_chat.items() if self.per_chat[chat] < sent)

    async def settled(self, guard: float = 3600) -> None:
        """Every update taken by the bot and no reply for ``QUIET`` seconds (or ``guard`` passed)."""
        began = time.perf_counter()
        while time.perf_counter() - began < guard:
            await asyncio.sleep(0.5)
            idle = time.perf_counter() - max(self.last_reply, began)
            taken = len(self.delivered) == len(self.updates) if self.webhook_urls else not self.updates
            if taken and idle >= QUIET:
                return


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def prepare(url: str, traffic: Traffic) -> None:
    """Migrated, with the people who agreed before the run."""
    await upgrade(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    rows = [{"channel": "telegram", "external_id": str(slot.user_id), "role": "entrepreneur", "language": slot.lang,
             "language_chosen": False, "broadcast_opt_out": False, "consent_at": now, "display_name": slot.name,
             "created_at": now, "last_seen_at": now} for slot in traffic.existing()]
    async with engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            await connection.execute(insert(User), rows[start:start + 2000])
    await engine.dispose()


async def scratch_postgres(server_url: str, name: str, *, drop_only: bool = False) -> str:
    admin = make_url(server_url)
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'drop database if exists "{name}" with (force)'))
        if not drop_only:
            await connection.execute(text(f'create database "{name}"'))
    await engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


async def start_bot(kind: str, fake: BenchFake, url: str | None, log_path: Path, profile: Path | None,
                    bot_command: list[str] | None = None, workers: int = 1) -> list[asyncio.subprocess.Process]:
    """The bot's process (polling), or ``workers`` of them behind the webhook (PostgreSQL only), started."""
    if kind == "echo":
        command = [sys.executable, str(HERE), "--echo-bot", fake.api_url]
        env = dict(os.environ)
    else:
        if kind.startswith("floor"):  # never profiled nor another checkout: `measure` passes neither for it
            command = [sys.executable, str(HERE), "--floor-bot"]
        elif profile is not None:
            command = [sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o",
                       str(profile / f"{kind}.pyisession"), "-m", "bot", "run"]
        else:
            command = bot_command or [sys.executable, "-m", "bot", "run"]
        env = dict(os.environ, LIDERES_DATABASE_URL=url or "", LIDERES_TELEGRAM_TOKEN=TOKEN,
                   LIDERES_TELEGRAM_API_URL=fake.api_url, LIDERES_TELEGRAM_MAX_RATE="0")
    if workers > 1:  # as deployed behind a reverse proxy: the proxy is the fake's turn-taking over the URLs
        env |= {"LIDERES_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook", "LIDERES_WEB_CHAT": "false"}
    fake.polled.clear()
    processes, ports = [], []
    for number in range(workers):
        ports.append(free_port())
        log = log_path.with_suffix(f".{number}.log" if workers > 1 else ".log").open("wb")
        processes.append(await asyncio.create_subprocess_exec(
            *command, cwd=PROJECT_ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            env=env | {"LIDERES_WEB_PORT": str(ports[-1]), "LIDERES_WORKER_ID": f"bench-{number}"}))

    async def ready() -> None:
        if workers == 1:
            await fake.polled.wait()
            return
        await fake.wait_for(lambda: len(fake.sent("setWebhook")) >= workers, guard=120)

    started = asyncio.create_task(ready())
    exited = [asyncio.create_task(process.wait()) for process in processes]
    await asyncio.wait([started, *exited], timeout=120, return_when=asyncio.FIRST_COMPLETED)
    for task in exited:
        task.cancel()
    if not started.done():
        started.cancel()
        tail = (await asyncio.to_thread(log_path.with_suffix(".0.log" if workers > 1 else ".log").read_text,
                                        errors="replace"))[-3000:]
        raise RuntimeError(f"{kind} did not start:\n{tail}")
    if workers > 1:
        fake.deliver_to([f"http://127.0.0.1:{port}/telegram/webhook" for port in ports])
    return processes


async def measure(kind: str, args: argparse.Namespace, folder: Path, command: str | None = None,
                  label: str = "") -> dict[str, Any]:
    traffic = Traffic(args.users)
    url: str | None = None
    if kind.endswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(dir=folder)}/whole_bot.db"
    elif kind.endswith("postgresql"):
        url = await scratch_postgres(args.database_url, "whole_bot_bench")
    if url is not None:
        await prepare(url, traffic)
    fake = BenchFake()
    await fake.start()
    log_path = (args.logs or folder) / f"{kind}{'-compared' if label else ''}.log"
    workers = args.workers if kind.endswith("postgresql") else 1
    processes = await start_bot(kind, fake, url, log_path, args.profile if kind in PRODUCT else None,
                                command.split() if command and kind in PRODUCT else None, workers)
    shown = kind + (f" ×{workers}" if workers > 1 else "")
    result: dict[str, Any] = {"kind": shown + label}
    try:
        if args.updates:
            burst = traffic.burst(args.updates)
            began = time.perf_counter()
            for user_id, lang, name, action in burst:
                fake.send(user_id, lang, name, action, timed=False)
            await fake.settled()
            elapsed = fake.last_reply - began
            result |= {"updates": len(burst), "seconds": elapsed, "per_second": len(burst) / elapsed,
                       "burst_unanswered": fake.unanswered(), "burst_replies": fake.replies}
            thirds = " / ".join(f"{rate:.0f}" for rate in fake.thirds())
            print(f"  {shown}: {len(burst)} queued at once, answered in {elapsed:.1f} s = "
                  f"{result['per_second']:.0f} updates/s ({fake.replies} messages; messages/s by thirds: {thirds})",
                  flush=True)
        if args.rate and args.seconds:
            fake.reset()
            steady = traffic.steady(int(args.rate * args.seconds))
            began = time.perf_counter()
            for index, (user_id, lang, name, action) in enumerate(steady):
                delay = began + index / args.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                fake.send(user_id, lang, name, action, timed=True)
            sent_for = time.perf_counter() - began
            await fake.settled()
            latencies = sorted(fake.latencies)
            result |= {"steady_updates": len(steady), "steady_rate": len(steady) / sent_for,
                       "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else float("nan"),
                       "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else float("nan"),
                       "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
                       "steady_unanswered": fake.unanswered()}
            print(f"  {shown}: steady {result['steady_rate']:.0f}/s for {sent_for:.0f} s: "
                  f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.0f} ms",
                  flush=True)
        result["peak_mb"] = sum(peak_mb(process.pid) for process in processes)
    finally:
        await asyncio.gather(*(stop(process) for process in processes))
        await fake.close()
        if args.profile is not None and kind in PRODUCT:
            session = args.profile / f"{kind}.pyisession"
            render = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pyinstrument", "--load", str(session), "-r", "text", "-o",
                str(session.with_suffix(".txt")), "--show", "*/bot/*", "--show", "*/handlers/*")
            await render.wait()
        if kind.endswith("postgresql"):
            await scratch_postgres(args.database_url, "whole_bot_bench", drop_only=True)
    return result


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 120)
        except TimeoutError:
            process.kill()
            await process.wait()


def report(results: list[dict[str, Any]]) -> None:
    echo = next((r for r in results if r["kind"] == "echo"), None)
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("\n| bot | answered/s | ratio to echo | p50 at steady | p99 | peak RSS | unanswered |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        answered = f"{r['per_second']:.0f}" if "per_second" in r else "—"
        ratio = (f"{r['per_second'] / echo['per_second']:.2f}" if echo and r is not echo and "per_second" in r
                 and "per_second" in echo else "—")
        steady = (f"{r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms" if "p50_ms" in r else "— | —")
        missing = r.get("burst_unanswered", 0) + r.get("steady_unanswered", 0)
        print(f"| {r['kind']} | {answered} | {ratio} | {steady} | {r['peak_mb']:.0f} MB | {missing} |")


async def echo_bot(api_url: str) -> None:
    """The ceiling: python-telegram-bot's echo bot as its documentation writes it, on the same fake."""
    from telegram import Update
    from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "…")

    async def pressed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(query.data or "…")

    application = Application.builder().token(TOKEN).base_url(api_url).job_queue(None).build()
    application.add_handler(MessageHandler(filters.ALL, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=10)
        await stop.wait()
        await application.updater.stop()
        await application.stop()


def floor_bot() -> None:
    """The floor: ``lideres run`` as it is, with no handlers (an empty router list)."""
    import bot.app
    from bot.cli import main as lideres

    bot.app._routers = list  # type: ignore[assignment]  # no routers: every update gets the engine's own answer
    sys.exit(lideres(["run"]))


async def run(args: argparse.Namespace) -> None:
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for kind in args.only:
            print(f"{kind}:", flush=True)
            results.append(await measure(kind, args, folder, args.bot_command))
            if args.compare and kind in PRODUCT:
                results.append(await measure(kind, args, folder, args.compare, " (compared)"))
    report(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=20_000, help="queued at once (saturation; 0: none)")
    parser.add_argument("--rate", type=float, default=200.0, help="updates a second in the steady run")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the steady run (0: none)")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL server (a scratch database is made beside this one)")
    parser.add_argument("--only", nargs="+", choices=["echo", *PRODUCT, *(f"floor-{kind}" for kind in PRODUCT)],
                        default=["echo", "sqlite", "postgresql"])
    parser.add_argument("--workers", type=int, default=1,
                        help="PostgreSQL bots: this many worker processes behind the webhook instead of one polling")
    parser.add_argument("--profile", type=Path, help="run lideres-bot under pyinstrument, profiles to this folder")
    parser.add_argument("--logs", type=Path, help="keep each bot's log in this folder")
    parser.add_argument("--quick", action="store_true", help="2,000 updates and 5 s steady (make bench)")
    parser.add_argument("--bot-command", help="run lideres-bot with this command (e.g. under another profiler)")
    parser.add_argument("--compare", metavar="COMMAND",
                        help="also run this lideres-bot command on each database, right after (e.g. another checkout)")
    parser.add_argument("--echo-bot", metavar="API_URL", help=argparse.SUPPRESS)
    parser.add_argument("--floor-bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_bot:
        floor_bot()
    if args.echo_bot:
        asyncio.run(echo_bot(args.echo_bot))
        return
    for folder in (args.profile, args.logs):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    if args.quick:
        args.updates, args.seconds = 2000, 5.0
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
