"""Several worker processes on one PostgreSQL (webhook mode, N workers behind one URL): three ``lideres run``
processes migrate an empty database at once, share the fake Bot API's webhook calls, one is killed with
SIGKILL while it holds updates it took: every message is answered exactly once, within one send budget.
Also the pieces on their own: shared button payloads, the content version, the shared send budget.
SQLite stays one process by design: the process tests need LIDERES_TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.channels.buttons import ButtonCodec
from bot.channels.journal import Journal
from bot.channels.pacing import SharedBudget
from bot.db.content_version import ContentVersions
from bot.db.migrate import upgrade
from bot.db.models import ProcessedUpdate, User
from bot.db.session import create_engine, session_factory
from tests.conftest import PG_URL, empty_postgres
from tests.fake_telegram import TOKEN, FakeTelegram, Limits
from tests.test_run import free_port

SECRET = "multi-worker-webhook-secret"
PUBLIC_URL = "https://bot.example.org/telegram/webhook"
USERS = [7_000 + n for n in range(60)]  # 60 chats: a round of replies is twice what one second may carry
HELP = "Puedo ayudarte"
LEASE = 5  # seconds: LIDERES_JOURNAL_LEASE_SECONDS of the workers (renewed every third of it)


# -- pieces, on both databases --------------------------------------------------------------------------


async def test_a_long_button_payload_encoded_by_one_worker_is_read_by_another(database_url):
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    one, other = ButtonCodec("123:abc", sessions=sessions), ButtonCodec("123:abc", sessions=sessions)
    payload = "idea:field:" + "x" * 120
    data = one.encode(payload)
    assert len(data.encode()) <= 64
    await other.load(data)
    assert other.decode(data) is None  # not saved yet: only the process that encoded it knows it
    await one.save()
    await other.load(data)
    assert other.decode(data) == payload
    forged = data[:-1] + ("A" if data[-1] != "A" else "B")
    await other.load(forged)
    assert other.decode(forged) is None
    assert ButtonCodec("999:zz", sessions=sessions).decode(data) is None  # another bot's signature
    await engine.dispose()


async def test_a_reload_announced_by_one_process_reloads_the_others(database_url, clock):
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    if database_url.startswith("sqlite"):  # one process: nobody to tell, nothing written
        versions = ContentVersions(sessions, clock, lambda: asyncio.sleep(0))
        assert await versions.announce() == 0 and not await versions.check()
        await versions.run()  # returns at once
        await engine.dispose()
        return
    reloads: dict[str, int] = Counter()

    def reloader(name: str) -> Any:
        async def reload() -> None:
            reloads[name] += 1
        return reload

    first = ContentVersions(sessions, clock, reloader("first"))
    second = ContentVersions(sessions, clock, reloader("second"))
    assert not await first.check() and not await second.check()  # at start: the files were just read
    await first.announce()
    assert not await first.check()  # its own announcement: reloaded already
    assert await second.check() and not await second.check()
    assert reloads == {"second": 1}
    await engine.dispose()


async def test_a_lease_keeps_an_update_with_its_worker_until_it_expires_then_one_other_takes_it(app, clock):
    one = Journal(app.sessions, clock, "telegram", worker="one", lease=timedelta(seconds=30))
    two = Journal(app.sessions, clock, "telegram", worker="two", lease=timedelta(seconds=30))
    three = Journal(app.sessions, clock, "telegram", worker="three", lease=timedelta(seconds=30))
    assert await one.record([(1, {"n": 1}), (2, {"n": 2}), (3, None)]) == {"1", "2", "3"}
    assert await two.record([(1, {"n": 1})]) == set()  # delivered twice: the first worker's
    assert await two.unanswered() == [] and await one.unanswered() == []  # leased, and one's own are running
    clock.advance(seconds=20)
    assert await one.renew() == 2  # the notice (3) was handled when recorded: nothing to renew
    clock.advance(seconds=20)
    assert await two.unanswered() == []  # renewed: still one's
    clock.advance(seconds=31)  # one stopped renewing (it died)
    taken = await asyncio.gather(two.unanswered(), three.unanswered())
    assert sorted(len(t) for t in taken) == [0, 2]  # all to exactly one of the two
    winner = two if taken[0] else three
    assert [update_id for update_id, *_ in taken[0] or taken[1]] == ["1", "2"]
    loser = three if winner is two else two
    clock.advance(seconds=20)
    assert await loser.unanswered() == []
    await winner.renew()
    winner.mark_handled(1)
    await winner.flush()
    clock.advance(seconds=20)
    assert await loser.unanswered() == []  # renewed
    clock.advance(seconds=31)
    assert [update_id for update_id, *_ in await loser.unanswered()] == ["2"]  # the winner stopped renewing too
    for journal in (one, two, three):
        await journal.close()


async def test_a_restarted_worker_takes_its_own_back_at_once_and_a_clean_stop_releases(app, clock):
    before = Journal(app.sessions, clock, "telegram", worker="host:8081")
    other = Journal(app.sessions, clock, "telegram", worker="host:8082")
    await before.record([(10, {"n": 10})])
    restarted = Journal(app.sessions, clock, "telegram", worker="host:8081")  # the same name, a new run
    assert await other.unanswered() == []  # the lease is still on
    assert [update_id for update_id, *_ in await restarted.unanswered()] == ["10"]
    await other.record([(11, {"n": 11})])
    await other.close()  # stopped cleanly without handling 11: released
    assert [update_id for update_id, *_ in await restarted.unanswered()] == ["11"]
    await restarted.close()
    await before.close()


async def test_the_schema_upgrades_from_the_previous_heads_with_updates_in_flight(tmp_path):
    """0006 on a database at the four heads it joins: a journal row taken and never handled is free to take."""
    for url_context in _databases(tmp_path):
        with url_context as url:
            await upgrade(url, "0002_coordinators")
            for head in ("0003_mentoring", "0004_whatsapp", "0005_network_privacy"):
                await upgrade(url, head)
            engine = create_engine(url)
            async with engine.begin() as connection:  # the columns of that revision only
                await connection.execute(insert(ProcessedUpdate).values(
                    channel="telegram", update_id="5", created_at=datetime(2026, 1, 1, tzinfo=UTC), incoming={"n": 5}))
            await upgrade(url)
            async with engine.connect() as connection:
                row = (await connection.execute(select(ProcessedUpdate.lease_owner, ProcessedUpdate.lease_until)
                                                )).one()
                heads = (await connection.execute(text("select version_num from alembic_version"))).scalars().all()
            await engine.dispose()
            assert row.lease_owner is None and row.lease_until == datetime(2026, 1, 1, tzinfo=UTC)
            assert len(heads) == 1  # 0006 joined the four branches into one line


def _databases(tmp_path: Path) -> list[Any]:
    found: list[Any] = [contextlib.nullcontext(f"sqlite+aiosqlite:///{tmp_path / 'heads.db'}")]
    if PG_URL:
        found.append(empty_postgres("heads"))
    return found


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite is one process by design")
    return database_url


async def test_the_shared_budget_books_sends_of_all_processes_apart(postgres_url):
    """Three "processes" (each its own engine) book 40 sends each over 20 chats at once: the booked moments
    are at least 1/27 s apart overall and each chat gets its burst of 3, then one a second."""
    engines = [create_engine(postgres_url) for _ in range(3)]
    budgets = [SharedBudget(session_factory(engine), "telegram", overall=30) for engine in engines]
    booked: list[tuple[float, int]] = []

    async def process(budget: SharedBudget, offset: int) -> None:
        for n in range(40):
            chat = 500 + (n + offset) % 20
            booking = await budget.book(chat)
            assert booking.booked
            booked.append((booking.moment, chat))  # on the database's clock

    await asyncio.gather(*(process(budget, n * 7) for n, budget in enumerate(budgets)))
    moments = sorted(moment for moment, _chat in booked)
    gaps = [b - a for a, b in zip(moments, moments[1:], strict=False)]
    assert len(moments) == 120 and min(gaps) >= 1 / 27 - 1e-9
    assert max(sum(1 for m in moments if start <= m < start + 1) for start in moments) <= 28
    for chat in {chat for _moment, chat in booked}:
        times = sorted(moment for moment, c in booked if c == chat)
        assert all(later - earlier >= 1 - 0.05 for earlier, later in zip(times, times[3:], strict=False))
    for engine in engines:
        await engine.dispose()


async def test_a_pause_in_one_process_holds_the_others_and_bulk_sends_wait_for_free_room(postgres_url):
    engines = [create_engine(postgres_url) for _ in range(2)]
    one, other = (SharedBudget(session_factory(engine), "telegram", overall=30) for engine in engines)
    first = await one.book(1)
    paused = await one.book(2, pause=3.0)  # a 429 with retry_after=3 in this process
    assert paused.booked and paused.moment >= first.moment + 3.0 - 0.01
    after = await other.book(3)  # another process, another chat: after the pause too
    assert after.moment >= paused.moment + 1 / 27 - 1e-9 and after.wait > 2.5
    bulk = await other.book(4, bulk=True)  # booked 3 s ahead: a broadcast's send does not join the queue
    assert not bulk.booked and bulk.wait > 2.5
    for engine in engines:
        await engine.dispose()


# -- three worker processes -----------------------------------------------------------------------------


@dataclass
class Worker:
    port: int
    process: asyncio.subprocess.Process
    events: list[dict[str, Any]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/webhook"

    @property
    def name(self) -> str:
        return f"worker-{self.port}"

    def saw(self, event: str) -> bool:
        return any(entry.get("event") == event for entry in self.events)


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A database of its own, empty (not migrated): the workers migrate it, all at once."""
    with empty_postgres("workers") as url:
        yield url


async def start_worker(env: dict[str, str], cwd: Path) -> Worker:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=cwd, stderr=asyncio.subprocess.PIPE,
        env={**env, "LIDERES_WEB_PORT": str(port), "LIDERES_WORKER_ID": f"worker-{port}",
             "LIDERES_SHARED_SEND_BUDGET": "true"},
    )
    worker = Worker(port, process)

    async def read() -> None:  # keep reading, or a full pipe would stop the worker's logging
        assert process.stderr is not None
        async for line in process.stderr:
            try:
                worker.events.append(json.loads(line))
            except ValueError:
                worker.events.append({"event": line.decode(errors="replace").strip()})

    worker.reader = asyncio.create_task(read())
    return worker


async def until(predicate: Any, guard: float = 30.0) -> None:
    """Until ``predicate()`` (a coroutine function) holds: the database and the workers' logs have no event
    to wait on here, so it looks again every 50 ms; ``guard`` only stops a test that would otherwise hang."""
    async def poll() -> None:
        while not await predicate():  # noqa: ASYNC110 - nothing to wait on
            await asyncio.sleep(0.05)
    await asyncio.wait_for(poll(), guard)


async def test_three_workers_share_the_webhook_and_lose_nothing_when_one_is_killed(empty_database, tmp_path):
    fake = await FakeTelegram(limits=Limits()).start()  # 429 past 30 messages in a second, or ~1/s per chat
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIDERES_")}
    env.update(
        LIDERES_DATABASE_URL=empty_database, LIDERES_TELEGRAM_TOKEN=TOKEN, LIDERES_TELEGRAM_API_URL=fake.api_url,
        LIDERES_TELEGRAM_WEBHOOK_URL=PUBLIC_URL, LIDERES_TELEGRAM_WEBHOOK_SECRET=SECRET, LIDERES_WEB_CHAT="false",
        LIDERES_JOURNAL_LEASE_SECONDS=str(LEASE), LIDERES_CONTENT_CHECK_SECONDS="0.2",
    )
    engine = create_async_engine(empty_database)
    sent_per_chat: Counter[int] = Counter()
    workers = [await start_worker(env, tmp_path) for _ in range(3)]  # started at once: they migrate at once
    try:
        async def all_started() -> bool:
            for worker in workers:
                if worker.process.returncode is not None:
                    raise AssertionError(f"{worker.name} exited: {worker.events[-5:]}")
            return all(worker.saw("bot started") for worker in workers)

        await until(all_started, guard=60)
        started = time.monotonic()
        async with engine.connect() as connection:
            versions = (await connection.execute(text("select version_num from alembic_version"))).scalars().all()
        assert len(versions) == 1  # migrated once, by whichever got the lock first
        fake.deliver_to([worker.url for worker in workers])

        # a first message: what the help text is; then one from each other user, spread over the workers
        fake.message(USERS[0], "/help")
        sent_per_chat[USERS[0]] += 1
        help_text = (await fake.wait_sent(1, chat_id=USERS[0], guard=30))[0].text
        assert help_text.startswith(HELP)

        def answered(users: list[int]) -> bool:
            return all(fake.texts(user).count(help_text) >= sent_per_chat[user] for user in users)

        async def say(users: list[int]) -> None:
            for user in users:
                fake.message(user, "/help")
                sent_per_chat[user] += 1
            await fake.wait_for(lambda: answered(users), guard=40)

        await say(USERS[1:])
        assert {url for url in fake.delivered.values()} == {worker.url for worker in workers}  # spread over all

        # a reload asked of one worker reaches the others
        reload = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "kb", "reload", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
            env={**env, "LIDERES_WEB_PORT": str(workers[1].port)})
        output, _ = await reload.communicate()
        assert reload.returncode == 0 and output.startswith(b"reloaded in the running bot")

        async def others_reloaded() -> bool:
            return all(w.saw("content reloaded: another process announced it") for w in (workers[0], workers[2]))

        await until(others_reloaded)
        assert not workers[1].saw("content reloaded: another process announced it")

        # hold ten users' rows: their messages stop, taken, in the engine of whichever worker got them
        victim = workers[0]
        held = USERS[:10]
        async with engine.connect() as lock:
            transaction = await lock.begin()
            await lock.execute(select(User.id).where(User.external_id.in_([str(u) for u in held]))
                               .with_for_update())
            before = set(fake.delivered)
            for user in held:
                fake.message(user, "/help")
                sent_per_chat[user] += 1
            await fake.wait_for(lambda: len(set(fake.delivered) - before) == len(held), guard=20)
            on_victim = {u for u in set(fake.delivered) - before if fake.delivered[u] == victim.url}
            assert on_victim, "round-robin gave the victim none of the held messages"

            async def victim_holds_them() -> bool:
                async with engine.connect() as connection:
                    leased = (await connection.execute(
                        select(func.count()).select_from(ProcessedUpdate)
                        .where(ProcessedUpdate.update_id.in_([str(u) for u in on_victim]),
                               ProcessedUpdate.lease_owner.startswith(f"{victim.name}#"),
                               ProcessedUpdate.handled_at.is_(None)))).scalar_one()
                return leased == len(on_victim)

            await until(victim_holds_them)
            victim.process.send_signal(signal.SIGKILL)  # taken, leased, not handled: only a lease saves them
            await victim.process.wait()
            await transaction.rollback()

        # the others go on (the fake skips the dead worker's URL), and one of them takes the victim's over
        await say(USERS[10:])
        await fake.wait_for(lambda: answered(held), guard=40)
        survivors = workers[1:]

        async def journal_settled() -> bool:
            async with engine.connect() as connection:
                open_rows = (await connection.execute(select(func.count()).select_from(ProcessedUpdate)
                                                      .where(ProcessedUpdate.handled_at.is_(None)))).scalar_one()
            return open_rows == 0

        await until(journal_settled)
        takers = [w for w in survivors if w.saw("journal: updates taken over")]
        assert len(takers) >= 1
        wrong = {user: (fake.texts(user).count(help_text), sent_per_chat[user]) for user in USERS
                 if fake.texts(user).count(help_text) != sent_per_chat[user]}
        assert wrong == {}  # nothing lost, nothing sent twice: user → (answers, messages)
        assert fake.too_many == 0  # three processes, one send budget: Telegram's flood control never answered
        times = sorted(call.at for call in fake.sent())
        busiest = max(sum(1 for t in times if start <= t < start + 1) for start in times)
        print(f"\nmultiprocess: {time.monotonic() - started:.1f} s after start, {len(times)} messages, "
              f"busiest second {busiest}, {sum(sent_per_chat.values())} updates, {len(on_victim)} taken over")
        assert busiest <= 30
    finally:
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                await asyncio.wait_for(worker.process.wait(), 30)
            except TimeoutError:
                worker.process.kill()
                await worker.process.wait()
            if worker.reader is not None:
                await asyncio.gather(worker.reader, return_exceptions=True)
        await engine.dispose()
        await fake.close()
