"""The number of Telegram requests under way follows the round trip (bot/channels/telegram/output.py InFlight)."""

from __future__ import annotations

import asyncio

from bot.channels.telegram.output import InFlight


def test_the_limit_follows_the_round_trip_within_its_bounds():
    in_flight = InFlight(low=2, high=8, rate=50)
    assert in_flight.limit == 5  # starts as if 100 ms away
    in_flight.round_trip = 0.002  # a local Bot API server
    assert in_flight.limit == 2
    in_flight.round_trip = 0.3  # a slow link
    assert in_flight.limit == 8


async def test_a_request_past_the_limit_waits_for_one_to_finish():
    in_flight = InFlight(low=2, high=2)
    release = asyncio.Event()
    entered: list[int] = []

    async def request(number: int) -> None:
        async with in_flight:
            entered.append(number)
            await release.wait()

    tasks = [asyncio.create_task(request(n)) for n in range(3)]
    for _ in range(10):  # every task gets its turn; no time passes
        await asyncio.sleep(0)
    assert entered == [0, 1] and in_flight.active == 2  # the third waits
    release.set()
    await asyncio.gather(*tasks)
    assert entered == [0, 1, 2] and in_flight.active == 0
    assert in_flight.round_trip < 0.1  # these answered at once: the average came down
