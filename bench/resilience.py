"""Crash and restart under load: the real bot (``lideres run``, its own process) is killed with SIGKILL at random
moments while people use it through the fake Bot API, a broadcast goes out and mentoring reminders fall due, and
is started again each time. Afterwards: what was answered, lost or sent twice.

    .venv/bin/python bench/resilience.py [--users 240] [--members 600] [--reminders 60] [--kills 6] [--late-kills 2]
                                         [--seed 14] [--database-url URL] [--skip-baseline] [--show N]
                                         [--working-tree] [--keep FOLDER] [--bot-log-level INFO]

The load (each person's script is drawn from ``--seed``): first contacts (``/start``, the privacy notice's
button), FAQ questions, ``/menu`` and greetings, the idea form from ``/idea`` to the submit button (texts and
button presses), drafts left half-way; meanwhile a broadcast to ``--members`` silent members (and everyone else
who agreed to the notice) and ``--reminders`` reminders of booked mentoring sessions falling due one after the
other. Each person waits for the answer before the next step (guard: 60 s), as a person would.

Two runs on fresh databases with the same scripts: a **baseline** with no kill, then the **killed** run, where
the bot gets SIGKILL ``--kills`` times while people use it, then ``--late-kills`` times while the broadcast is
still going out, each a random 0.2-4 s (seeded) after the restarted bot first sent something (so a kill lands
while it works, not in its start-up), and is started again at once. The killed run is compared with the
baseline chat by chat (texts with their digits blanked: reference codes and times differ from run to run): a
text the baseline has and the killed run lacks is a lost answer, one more is an answer sent twice. Then the
database: every submission there with its answers, every draft with what was typed, the broadcast once per
recipient (or "unconfirmed": the row the dead process marked as leaving, never sent again on its own by
design), each reminder once.

The fake Bot API runs in this process (its records are read directly) with Telegram's flood control on; the bot
keeps its own limits (30 messages a second) and runs from a copy of HEAD (``git archive``), so edits made in the
working tree meanwhile do not change it from one restart to the next (``--working-tree`` runs the tree as it is).
The database is a SQLite file in a temporary folder unless ``--database-url`` names a PostgreSQL database (its
tables are emptied first). The bot keeps one web port for all its starts, as a deployment does: the port names
its worker in the update journal, and a worker started under a new name leaves its previous run's updates to the
lease (30 s), so a person's later messages overtook them (answers late, or applied to the wrong question).

``--keep FOLDER`` keeps the databases, the bot's log (with a line at each SIGKILL) and ``timeline.json``: each
chat's messages both ways with their times (seconds from the run's start), the kills and the differences, to
trace an answer lost or sent twice; ``--bot-log-level INFO`` logs each update handled and each one replayed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.broadcast import free_port, wait_until  # noqa: E402
from bot.config import PROJECT_ROOT, load_settings  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import Base, Broadcast, Delivery, Reminder, Submission, User  # noqa: E402
from bot.db.session import create_engine, session_factory  # noqa: E402
from bot.i18n import translate  # noqa: E402
from bot.services import mentoring  # noqa: E402
from tests.fake_telegram import Call, FakeTelegram, Limits  # noqa: E402
from tests.test_idea_helpers import BENEFICIARIES, CONTACT, PROBLEM, SOLUTION, TEAM  # noqa: E402

TOKEN = "123456:resilience-token"
BROADCAST = "📣 Mañana cerramos la convocatoria: revisa tu idea con /idea."
COORDINATOR = 1
MEMBER0 = 100_000  # silent members: the broadcast's audience
LOAD0 = 200_000  # the people of the load
ENTREPRENEUR0 = 300_000  # one booked session each, one reminder each
MENTOR = 399_999
GUARD = 60.0  # seconds a person waits for an answer before counting it unanswered

FAQ = ["¿Qué es LÍDERES?", "¿Cómo me inscribo en el concurso?", "¿Quién puede participar?",
       "¿Qué son los ODS?", "¿Hay mentorías?", "¿Cuándo cierra la convocatoria?"]
FAQ_EN = ["What is LÍDERES?", "How do I enter the competition?", "Who can take part?", "Is there mentoring?"]


# -- the scripts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    press: bool  # a button (by a part of its label) or a text
    value: str


@dataclass
class Script:
    user: int
    kind: str  # first, faq, menu, idea, draft
    lang: str
    steps: list[Step]
    start: float  # seconds after the run starts
    think: list[float]  # pause after each answer
    answers: dict[str, str] = field(default_factory=dict)  # what the form should hold afterwards


def idea_steps(title: str, upto: int | None) -> tuple[list[Step], dict[str, str]]:
    texts = [("title", title), ("problem", PROBLEM), ("solution", SOLUTION), ("beneficiaries", BENEFICIARIES)]
    if upto is not None:  # a draft: the first ``upto`` texts, then nothing
        texts = texts[:upto]
        return [Step(False, "/idea")] + [Step(False, value) for _, value in texts], dict(texts)
    steps = [Step(False, "/idea")] + [Step(False, value) for _, value in texts]
    steps += [Step(True, "Santa Cruz"), Step(True, "Listo"), Step(True, "Prototipo"), Step(False, TEAM),
              Step(False, CONTACT), Step(True, "Saltar"), Step(True, "Enviar la idea")]
    return steps, dict(texts, team=TEAM)


def make_scripts(rng: random.Random, users: int, spread: float) -> list[Script]:
    kinds = ["first"] * 3 + ["faq"] * 3 + ["menu"] * 2 + ["idea"] * 2 + ["draft"] * 2
    scripts = []
    for index in range(users):
        user, kind = LOAD0 + index, rng.choice(kinds)
        lang = "en" if kind in ("first", "faq", "menu") and rng.random() < 0.2 else "es"
        answers: dict[str, str] = {}
        if kind == "first":
            steps = [Step(False, "/start"), Step(True, translate("start.consent_yes", lang)),
                     Step(False, "hola" if lang == "es" else "hello")]
        elif kind == "faq":
            questions = FAQ if lang == "es" else FAQ_EN
            steps = [Step(False, question) for question in rng.sample(questions, 3)]
        elif kind == "menu":
            steps = [Step(False, "/menu"), Step(False, "hola" if lang == "es" else "hi"), Step(False, "/menu")]
        else:
            steps, answers = idea_steps(f"Huertos comunitarios del barrio {index}",
                                        None if kind == "idea" else rng.randint(1, 4))
        scripts.append(Script(user, kind, lang, steps, rng.uniform(0, spread),
                              [rng.uniform(0.2, 1.5) for _ in steps], answers))
    return scripts


# -- the database before the run ---------------------------------------------------------------------------


async def prepare(url: str, scripts: list[Script], members: int, reminders: int, spread: float) -> None:
    """Members who agreed to the notice, a broadcast to start at once, booked sessions each with one reminder
    falling due over the run (``spread`` seconds from now)."""
    await upgrade(url)
    engine = create_engine(url)
    now = datetime.now(UTC)

    def person(external: int, lang: str = "es", role: str = "entrepreneur") -> dict[str, Any]:
        return {"channel": "telegram", "external_id": str(external), "role": role, "language": lang,
                "language_chosen": False, "broadcast_opt_out": False, "consent_at": now, "created_at": now,
                "display_name": "Ana"}

    async with engine.begin() as connection:
        if url.startswith("postgresql"):
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"truncate {tables} restart identity cascade"))
        people = [person(COORDINATOR, role="admin"), person(MENTOR)]
        people += [person(MEMBER0 + n) for n in range(members)]
        people += [person(ENTREPRENEUR0 + n) for n in range(reminders)]
        people += [person(s.user, s.lang) for s in scripts if s.kind != "first"]  # first contacts are new
        for start in range(0, len(people), 2000):
            await connection.execute(insert(User), people[start:start + 2000])
    sessions = session_factory(engine)
    settings = load_settings(database_url=url)
    async with sessions() as session, session.begin():
        found = {u.external_id: u for u in await session.scalars(
            select(User).where(User.external_id.in_([str(MENTOR), str(COORDINATOR)]
                                                    + [str(ENTREPRENEUR0 + n) for n in range(reminders)])))}
        mentor, _ = await mentoring.save_mentor(session, found[str(MENTOR)], name="Laura", topics=["Finanzas"],
                                                languages=["es"], timezone="Europe/Madrid", now=now)
        first = (now + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        for n in range(reminders):
            added = await mentoring.add_slots(session, mentor, first + timedelta(minutes=30 * n), 30, now=now)
            booked = await mentoring.book(session, added.created[0].id, found[str(ENTREPRENEUR0 + n)], "Finanzas",
                                          settings=settings, now=now)
            assert not isinstance(booked, mentoring.Problem), booked
        await session.flush()
        await session.execute(insert(Broadcast).values(
            author_id=found[str(COORDINATOR)].id, texts={"es": BROADCAST}, audience={}, status="scheduled",
            recipients=0, scheduled_at=now, created_at=now))
    async with sessions() as session, session.begin():
        # one reminder per session, to the entrepreneur, due one after the other over the run
        entrepreneurs = {u.id: int(u.external_id) for u in await session.scalars(
            select(User).where(User.external_id.in_([str(ENTREPRENEUR0 + n) for n in range(reminders)])))}
        kept = list(await session.scalars(select(Reminder).where(
            Reminder.kind == "before:60m", Reminder.user_id.in_(list(entrepreneurs))).order_by(Reminder.id)))
        await session.execute(delete(Reminder).where(Reminder.id.not_in([r.id for r in kept])))
        for index, reminder in enumerate(kept):
            reminder.due_at = now + timedelta(seconds=5 + index * spread / max(1, len(kept)))
        await session.execute(delete(Delivery))  # the bookings' own notices: not part of this run
    await engine.dispose()


# -- the run -----------------------------------------------------------------------------------------------


class Tracker:
    """What reached each chat, from the fake's record of successful sends and edits."""

    def __init__(self) -> None:
        self.texts: dict[int, list[str]] = defaultdict(list)
        self.timeline: dict[int, list[tuple[float, str, str]]] = defaultdict(list)  # --keep: what each chat saw
        self.answers: Counter[int] = Counter()  # messages other than the broadcast, per chat
        self.wakers: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.last = time.monotonic()
        self.last_chat = 0

    def on_sent(self, call: Call) -> None:
        chat = call.chat_id or 0
        self.texts[chat].append(call.text)
        self.timeline[chat].append((round(call.at, 3), call.method, call.text[:70]))
        self.last, self.last_chat = time.monotonic(), chat
        if call.text != BROADCAST:
            self.answers[chat] += 1
            self.wakers.pop(chat, asyncio.Event()).set()

    async def wait_answers(self, chat: int, count: int, guard: float) -> bool:
        deadline = time.monotonic() + guard
        while self.answers[chat] < count:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.wakers[chat].wait(), left)
            except TimeoutError:
                return False
        return True


class Bot:
    """``lideres run`` as a child process, started again after each kill."""

    def __init__(self, url: str, fake: FakeTelegram, log: Path, code: Path, log_level: str = "WARNING") -> None:
        self.url, self.fake, self.log, self.code, self.log_level = url, fake, log, code, log_level
        self.process: asyncio.subprocess.Process | None = None
        self.kills: list[dict[str, Any]] = []
        # One port for every start, as a deployment restarts with its own configuration: the port names the worker
        # (``worker_name``), and a restarted worker takes back its previous run's updates at once, where a new
        # name would wait for their leases to expire (30 s).
        self.port = free_port()

    async def start(self) -> None:
        env = dict(os.environ, LIDERES_DATABASE_URL=self.url, LIDERES_TELEGRAM_TOKEN=TOKEN,
                   LIDERES_TELEGRAM_API_URL=self.fake.api_url, LIDERES_WEB_PORT=str(self.port),
                   LIDERES_LOG_LEVEL=self.log_level, LIDERES_ADMINS=f"telegram:{COORDINATOR}",
                   PYTHONPATH=str(self.code))  # ``python -m bot`` of that copy (its bot, handlers, knowledge)
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=self.code, env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=output)

    async def kill_and_restart(self) -> None:
        assert self.process is not None
        killed_at = time.monotonic()
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills.append({"at": killed_at, "sent": len(self.fake.sent())})
        with self.log.open("a") as output:
            output.write(f"--- SIGKILL at {killed_at:.3f} ---\n")
        await self.start()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await self.process.wait()


async def play(script: Script, fake: FakeTelegram, tracker: Tracker, began: float,
               result: dict[str, Any]) -> None:
    await asyncio.sleep(max(0.0, began + script.start - time.monotonic()))
    for step, pause in zip(script.steps, script.think, strict=True):
        before = tracker.answers[script.user]
        if step.press and not await press_when_shown(fake, tracker, script, step.value):
            result["no_button"].append((script.user, step.value))  # never shown: the script goes on
            continue
        if not step.press:
            fake.message(script.user, step.value, language_code=script.lang)
        tracker.timeline[script.user].append((round(time.monotonic(), 3), "person", step.value[:70]))
        result["updates"] += 1
        if not await tracker.wait_answers(script.user, before + 1, GUARD):
            result["unanswered"].append((script.user, step.value))
        await asyncio.sleep(pause)


async def press_when_shown(fake: FakeTelegram, tracker: Tracker, script: Script, label: str) -> bool:
    """Press the newest button labelled ``label`` once the chat shows one (an answer may come as several
    messages, the button in the last), as a person would."""
    deadline = time.monotonic() + GUARD
    while True:
        try:
            fake.press_button(script.user, label, language_code=script.lang)
            return True
        except AssertionError:
            seen = tracker.answers[script.user]
            if not await tracker.wait_answers(script.user, seen + 1, deadline - time.monotonic()):
                return False


async def outbox_idle(url: str, since: float) -> bool:
    """Nothing left to send: no outbox row waiting or leaving, no reminder pending. Says what is left on stderr
    every 10 s after the first 30."""
    engine = create_engine(url)
    async with engine.connect() as connection:
        busy = dict((await connection.execute(select(Delivery.status, func.count()).where(
            Delivery.status.in_(["pending", "claimed", "sending"])).group_by(Delivery.status))).all())
        due = await connection.scalar(select(func.count()).select_from(Reminder).where(Reminder.status == "pending"))
    await engine.dispose()
    waited = time.monotonic() - since
    if waited > 30 and int(waited * 2) % 20 == 0:
        print(f"  still waiting after {waited:.0f} s: outbox {busy}, reminders pending {due}", file=sys.stderr)
    return not busy and not due


async def run(url: str, scripts: list[Script], args: argparse.Namespace, *, kills: int, late_kills: int,
              folder: Path) -> dict[str, Any]:
    await prepare(url, scripts, args.members, args.reminders, args.spread)
    tracker = Tracker()
    fake = FakeTelegram(TOKEN, first_update_id=int(time.time() * 1000) % 2**40, limits=Limits())
    fake.on_sent = tracker.on_sent
    await fake.start()
    bot = Bot(url, fake, folder / "bot.log", args.code, args.bot_log_level)
    result: dict[str, Any] = {"updates": 0, "unanswered": [], "no_button": []}
    rng = random.Random(args.seed + 1)
    began = time.monotonic()
    await bot.start()

    loading = True

    async def working() -> None:
        """Until the bot, started again, has sent something: a kill then lands while it works (handling,
        sending, replaying), not during its start-up."""
        since = time.monotonic()

        async def sent_since() -> bool:
            return tracker.last > since

        await wait_until(sent_since, every=0.05)

    async def killer(count: int, busy: Any) -> None:
        for _ in range(count):
            if not await busy():
                return
            await working()
            await asyncio.sleep(rng.uniform(0.2, 4.0))
            await bot.kill_and_restart()

    async def load_running() -> bool:
        return loading

    async def outbox_busy() -> bool:
        return not await outbox_idle(url, time.monotonic())

    try:
        killing = asyncio.create_task(killer(kills, load_running))
        await asyncio.gather(*(play(s, fake, tracker, began, result) for s in scripts))
        loading = False
        await killing
        result["kills_in_load"] = len(bot.kills)
        await killer(late_kills, outbox_busy)  # while the broadcast (and any reminder) is still going out
        played = time.monotonic()
        await wait_until(lambda: outbox_idle(url, played))  # the broadcast and the reminders

        async def quiet() -> bool:  # late answers (a replay after the last restart)
            waited = time.monotonic() - played
            if waited > 60 and int(waited * 2) % 20 == 0:
                print(f"  still sending after {waited:.0f} s: last to chat {tracker.last_chat}: "
                      f"{tracker.texts[tracker.last_chat][-1][:80]!r}", file=sys.stderr)
            return time.monotonic() - tracker.last >= 3.0

        await wait_until(quiet)
        result["seconds"] = time.monotonic() - began
        result["too_many"] = fake.too_many
    finally:
        await bot.stop()
        await fake.close()
    result["texts"] = {chat: list(texts) for chat, texts in tracker.texts.items()}
    result["timeline"] = {chat: list(events) for chat, events in tracker.timeline.items()}
    result["began"] = began
    result["kills"] = [round(k["at"] - began, 1) for k in bot.kills]
    result.update(await database_state(url, scripts))
    return result


async def database_state(url: str, scripts: list[Script]) -> dict[str, Any]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        externals = dict((await connection.execute(select(User.id, User.external_id))).all())
        deliveries = (await connection.execute(select(Delivery.user_id, Delivery.kind, Delivery.status))).all()
        submissions = (await connection.execute(
            select(Submission.user_id, Submission.status, Submission.title, Submission.answers))).all()
        reminders = Counter(status for (status,) in (await connection.execute(select(Reminder.status))).all())
        users = int(await connection.scalar(select(func.count()).select_from(User).where(
            User.external_id.in_([str(s.user) for s in scripts if s.kind == "first"]))) or 0)
    await engine.dispose()
    forms: dict[int, list[tuple[str, str | None, dict[str, Any]]]] = defaultdict(list)
    for user_id, status, title, answers in submissions:
        forms[int(externals[user_id])].append((status, title, dict(answers or {})))
    return {"deliveries": [(int(externals[u]), kind, status) for u, kind, status in deliveries],
            "forms": dict(forms), "reminder_rows": dict(reminders), "first_contacts": users}


# -- the figures -------------------------------------------------------------------------------------------


def blanked(texts: list[str]) -> Counter[str]:
    """Texts with their digits blanked; neither the broadcast nor its progress (an edited message whose steps
    depend on timing) is an answer."""
    return Counter(re.sub(r"\d+", "#", t) for t in texts if t != BROADCAST and "░" not in t and "▓" not in t)


def figures(scripts: list[Script], killed: dict[str, Any], baseline: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"updates": killed["updates"], "unanswered": len(killed["unanswered"]),
                           "no_button": len(killed["no_button"]), "kills": killed["kills"],
                           "kills_in_load": killed.get("kills_in_load", 0),
                           "seconds": killed["seconds"], "too_many": killed["too_many"]}
    people = [s.user for s in scripts] + [COORDINATOR]
    if baseline is not None:
        twice = lost = 0
        out["differences"] = []
        for chat in people:
            mine, theirs = blanked(killed["texts"].get(chat, [])), blanked(baseline["texts"].get(chat, []))
            twice += sum((mine - theirs).values())
            lost += sum((theirs - mine).values())
            if mine != theirs:
                out["differences"].append((chat, dict(mine - theirs), dict(theirs - mine)))
        out["answers_twice"], out["answers_lost"] = twice, lost
    confirmations = Counter(chat for chat, texts in killed["texts"].items() for t in texts
                            if "LID-" in t and ("enviada" in t or "submitted" in t))
    ideas = [s for s in scripts if s.kind == "idea"]
    out["ideas"] = len(ideas)
    out["confirmed_twice"] = sum(1 for s in ideas if confirmations[s.user] > 1)
    out["confirmed_never"] = sum(1 for s in ideas if confirmations[s.user] == 0)
    lost_submissions = wrong = 0
    for s in ideas:
        sent = [form for form in killed["forms"].get(s.user, []) if form[0] == "submitted"]
        if len(sent) != 1:
            lost_submissions += 1
        elif any(sent[0][2].get(name) != value for name, value in s.answers.items()):
            wrong += 1
    out["submissions_lost"], out["submissions_wrong"] = lost_submissions, wrong
    drafts = [s for s in scripts if s.kind == "draft"]
    draft_lost = 0
    for s in drafts:
        forms = killed["forms"].get(s.user, [])
        if len(forms) != 1 or any(forms[0][2].get(name) != value for name, value in s.answers.items()):
            draft_lost += 1
    out["drafts"], out["drafts_lost_or_wrong"] = len(drafts), draft_lost
    for kind in ("broadcast", "reminder"):
        rows = [(chat, status) for chat, k, status in killed["deliveries"] if k == kind]
        counts: Counter[str] = Counter()
        for chat, status in rows:
            shown = sum(1 for t in killed["texts"].get(chat, []) if (t == BROADCAST) == (kind == "broadcast"))
            if shown > 1:
                counts["twice"] += 1
            elif shown == 1:
                counts["once"] += 1
            elif status == "unconfirmed":
                counts["unconfirmed"] += 1
            else:
                counts["skipped"] += 1
        out[kind] = {"rows": len(rows), **counts, "statuses": dict(Counter(status for _, status in rows))}
    out["reminder_rows"] = killed["reminder_rows"]
    out["first_contacts"] = (killed["first_contacts"], sum(1 for s in scripts if s.kind == "first"))
    return out


def report(name: str, f: dict[str, Any], show: int = 0) -> None:
    print(f"{name}: {f['updates']} updates in {f['seconds']:.0f} s, SIGKILL at {f['kills']} s "
          f"({f['kills_in_load']} during the load); "
          f"unanswered {f['unanswered']}, buttons not found {f['no_button']}; 429 answers {f['too_many']}")
    if "answers_twice" in f:
        print(f"  answers compared with the baseline, chat by chat: {f['answers_twice']} sent twice, "
              f"{f['answers_lost']} lost")
    print(f"  ideas {f['ideas']}: confirmed twice {f['confirmed_twice']}, never {f['confirmed_never']}; "
          f"submissions lost {f['submissions_lost']}, with a wrong answer {f['submissions_wrong']}; "
          f"drafts {f['drafts']}: lost or wrong {f['drafts_lost_or_wrong']}; first contacts created "
          f"{f['first_contacts'][0]} of {f['first_contacts'][1]}")
    for kind in ("broadcast", "reminder"):
        k = f[kind]
        print(f"  {kind}: {k['rows']} rows, once {k.get('once', 0)}, twice {k.get('twice', 0)}, skipped "
              f"{k.get('skipped', 0)}, unconfirmed {k.get('unconfirmed', 0)}; outbox {k['statuses']}")
    print(f"  reminder rows {f['reminder_rows']}")
    for chat, extra, missing in f.get("differences", [])[:show]:
        print(f"  chat {chat}: more than the baseline {extra}; fewer {missing}")


def copy_of_head(folder: Path) -> tuple[Path, str]:
    """The committed tree (``git archive HEAD``) in ``folder``, and HEAD's short name."""
    folder.mkdir()
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    return folder, head


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=240)
    parser.add_argument("--members", type=int, default=600)
    parser.add_argument("--reminders", type=int, default=60)
    parser.add_argument("--kills", type=int, default=6, help="SIGKILLs while people use the bot")
    parser.add_argument("--late-kills", type=int, default=2, help="SIGKILLs after, while the broadcast goes on")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--spread", type=float, default=40.0, help="seconds over which people arrive")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--working-tree", action="store_true",
                        help="run the bot from the working tree as it is (default: a copy of HEAD)")
    parser.add_argument("--show", type=int, default=0, help="print the first N chats that differ from the baseline")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the databases, the bot's log and each chat's timeline (JSON) in this folder")
    parser.add_argument("--bot-log-level", default="WARNING", help="the bot's LIDERES_LOG_LEVEL (INFO to trace)")
    args = parser.parse_args()
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # a killed bot's request cut off mid-body
    scripts = make_scripts(random.Random(args.seed), args.users, args.spread)
    kind = (args.database_url or "sqlite").split(":")[0].split("+")[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            folder = args.keep
        args.code = PROJECT_ROOT
        if not args.working_tree:  # the committed code, the same at every restart whatever is edited meanwhile
            args.code, head = await asyncio.to_thread(copy_of_head, folder / "code")
            print(f"the bot runs from a copy of HEAD ({head})")
        baseline = None
        if not args.skip_baseline:
            url = args.database_url or f"sqlite+aiosqlite:///{folder / 'baseline.db'}"
            baseline = await run(url, scripts, args, kills=0, late_kills=0, folder=folder)
            report(f"baseline ({kind})", figures(scripts, baseline, None))
        url = args.database_url or f"sqlite+aiosqlite:///{folder / 'killed.db'}"
        killed = await run(url, scripts, args, kills=args.kills, late_kills=args.late_kills, folder=folder)
        report(f"killed ({kind}, seed {args.seed})", figures(scripts, killed, baseline),
               args.show)
        if args.keep is not None:
            (folder / "timeline.json").write_text(json.dumps({
                "kills": killed["kills"], "unanswered": killed["unanswered"],
                "differences": figures(scripts, killed, baseline).get("differences", []),
                "killed": {chat: [(round(t - killed["began"], 3), m, x) for t, m, x in events]
                           for chat, events in killed["timeline"].items()},
                "baseline": None if baseline is None else {
                    chat: [(round(t - baseline["began"], 3), m, x) for t, m, x in events]
                    for chat, events in baseline["timeline"].items()}}, ensure_ascii=False, indent=0))
        errors = [line for line in (folder / "bot.log").read_text().splitlines() if '"level": "error"' in line]
        print(f"bot log: {len(errors)} errors" + (f"; first: {errors[0][:300]}" if errors else ""))


if __name__ == "__main__":
    asyncio.run(main())
