"""The one keyed work queue: in order per key, keys at once on a bounded pool, back-pressure when full, a
failing job contained, batches for bulk work, and a clean close."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.workqueue import KeyedQueue, QueueClosed


async def test_one_keys_jobs_stay_in_order_while_a_slow_key_holds_nobody_up():
    done: list[tuple[str, int]] = []
    slow_may_go = asyncio.Event()

    async def run(key: str, jobs: Sequence[int]) -> None:
        if key == "slow" and jobs[0] == 0:
            await slow_may_go.wait()
        done.extend((key, job) for job in jobs)
        if sum(1 for k, _ in done if k == "fast") == 10:
            slow_may_go.set()

    queue: KeyedQueue[str, int] = KeyedQueue(run, workers=2)
    for i in range(10):
        await queue.put("slow", i)
        await queue.put("fast", i)
    await queue.join()
    assert [job for key, job in done if key == "slow"] == list(range(10))
    assert [job for key, job in done if key == "fast"] == list(range(10))
    assert done.index(("fast", 9)) < done.index(("slow", 0))
    await queue.close()


async def test_no_more_keys_run_at_once_than_there_are_workers():
    running = peak = 0
    release = asyncio.Event()

    async def run(_key: int, _jobs: Sequence[int]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    queue: KeyedQueue[int, int] = KeyedQueue(run, workers=3)
    for key in range(10):
        await queue.put(key, key)
    for _ in range(5):
        await asyncio.sleep(0)
    assert running == 3
    release.set()
    await queue.join()
    assert peak == 3
    await queue.close()


async def test_put_waits_while_the_queue_is_full():
    release = asyncio.Event()

    async def run(_key: int, _jobs: Sequence[int]) -> None:
        await release.wait()

    queue: KeyedQueue[int, int] = KeyedQueue(run, workers=1, limit=3)
    for key in range(3):
        await queue.put(key, key)
    blocked = asyncio.create_task(queue.put(99, 99))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not blocked.done() and len(queue) == 3  # the producer waits instead of growing the queue
    release.set()
    await asyncio.wait_for(blocked, 5)
    await queue.join()
    assert len(queue) == 0
    await queue.close()


async def test_a_failing_job_is_logged_and_the_next_one_runs(caplog):
    done: list[int] = []

    async def run(_key: str, jobs: Sequence[int]) -> None:
        if jobs[0] == 1:
            raise RuntimeError("boom")
        done.extend(jobs)

    queue: KeyedQueue[str, int] = KeyedQueue(run, workers=1, name="test-queue")
    for job in range(3):
        await queue.put("k", job)
    await queue.join()
    assert done == [0, 2]
    assert any("job failed" in r.message and r.exc_info for r in caplog.records)
    await queue.close()


async def test_a_batch_worker_takes_what_is_waiting_in_order():
    batches: list[list[int]] = []

    async def run(_key: str, jobs: Sequence[int]) -> None:
        batches.append(list(jobs))

    queue: KeyedQueue[str, int] = KeyedQueue(run, workers=1, batch=4)
    for job in range(10):
        await queue.put("updates", job)  # all queued before the worker first runs
    await queue.join()
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    await queue.close()


async def test_close_finishes_what_was_queued_and_refuses_new_jobs():
    done: list[int] = []

    async def run(_key: str, jobs: Sequence[int]) -> None:
        await asyncio.sleep(0)
        done.extend(jobs)

    queue: KeyedQueue[str, int] = KeyedQueue(run, workers=2)
    for job in range(5):
        await queue.put("k", job)
    await queue.close()
    assert done == [0, 1, 2, 3, 4]
    with pytest.raises(QueueClosed):
        await queue.put("k", 5)
    assert queue.workers == []
