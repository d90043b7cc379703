"""What /network and /forgetme cost as the network grows.

    .venv/bin/python bench/network_privacy.py [--profiles 1000 5000 20000] [--deliveries 100000]
        [--database-url URL]

1. Matching: ``network.rank`` for one member against N listed profiles (random tags of the real vocabulary,
   free texts made of the tags' words, typos included), median and worst of 20 members, in-process. This
   is the CPU a /network press costs beyond reading the profiles.
2. /network through the engine: the same, with the profiles read from the database (SQLite by default).
3. Forgetting: ``privacy.forget`` of one member on a database holding ``--deliveries`` outbox rows of
   other members (a broadcast's worth), some quoting the member: the pre-filter keeps the scan in SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from bot.config import PROJECT_ROOT, load_settings  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import Delivery, Profile, User  # noqa: E402
from bot.db.session import create_engine, session_factory  # noqa: E402
from bot.services import network, privacy  # noqa: E402

VOCABULARY = network.load_vocabulary(PROJECT_ROOT / "handlers" / "network_tags.yaml")
WORDS = sorted({word for tag in VOCABULARY.tags for word in tag.label["es"].lower().split() if len(word) > 3})


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5 or rng.random() > 0.2:
        return word
    at = rng.randrange(1, len(word) - 1)
    return word[:at] + word[at + 1:]


def fake_profile(user_id: int, rng: random.Random) -> Profile:
    tags = [tag.value for tag in VOCABULARY.tags]
    text = " ".join(typo(rng.choice(WORDS), rng) for _ in range(rng.randint(3, 12)))
    need = " ".join(typo(rng.choice(WORDS), rng) for _ in range(rng.randint(2, 8)))
    return Profile(user_id=user_id, kind="person", name=f"Miembro {user_id}", region=rng.choice(["leon", "jalisco"]),
                   offers=rng.sample(tags, rng.randint(0, 4)), needs=rng.sample(tags, rng.randint(0, 3)),
                   offers_text=text, needs_text=need, contact={"email": f"m{user_id}@example.org"}, hidden=False)


def bench_rank(counts: list[int]) -> None:
    rng = random.Random(7)
    for count in counts:
        others = [fake_profile(n, rng) for n in range(1, count + 1)]
        times, found = [], []
        for member in range(20):
            me = fake_profile(count + 1 + member, rng)
            started = time.perf_counter()
            found.append(len(network.rank(me, others, VOCABULARY)))
            times.append((time.perf_counter() - started) * 1000)
        print(f"rank, {count:>6} profiles: median {statistics.median(times):7.1f} ms, worst {max(times):7.1f} ms, "
              f"matches median {statistics.median(found):.0f}")


async def bench_database(url: str, count: int, deliveries: int) -> None:
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    rng = random.Random(11)
    settings = load_settings(database_url=url)
    async with sessions() as session, session.begin():
        await session.execute(insert(User), [
            {"id": n, "channel": "bench", "external_id": f"user{n}", "display_name": f"Persona {n}", "language": "es",
             "role": "entrepreneur", "consent_at": network_now(), "created_at": network_now()}
            for n in range(1, count + 2)])
        session.add_all(fake_profile(n, rng) for n in range(1, count + 1))
        quote = "Persona 1 pide: hola@persona1.example"
        await session.execute(insert(Delivery), [
            {"user_id": 2 + n % count, "kind": "broadcast", "replies": [{"text": quote if n % 1000 == 0 else
                                                                          "Noticias de la red " * 10}],
             "status": "sent", "due_at": network_now(), "created_at": network_now()} for n in range(deliveries)])
    async with sessions() as session:
        me = await session.get(Profile, 1)
        assert me is not None
        times = []
        for _ in range(5):
            started = time.perf_counter()
            await network.matches_for(session, me, VOCABULARY)
            times.append((time.perf_counter() - started) * 1000)
    print(f"matches_for (read + rank), {count} profiles: median {statistics.median(times):.0f} ms")
    async with sessions() as session, session.begin():
        user = await session.get(User, 1)
        assert user is not None
        started = time.perf_counter()
        done = await privacy.forget(session, user, settings, network_now())
        elapsed = time.perf_counter() - started
    print(f"forget with {deliveries} deliveries of others: {elapsed:.2f} s, redacted {done.redacted}, "
          f"remaining {done.remaining or 'none'}")
    await engine.dispose()


def network_now():  # noqa: ANN201 - a datetime; kept short for the generated rows
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    bench_rank(args.profiles)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(bench_database(url, args.profiles[min(1, len(args.profiles) - 1)], args.deliveries))


if __name__ == "__main__":
    main()
