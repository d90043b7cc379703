"""The outbox on both databases: priorities, content rendered when sent, batched results, members checked again
at claim time, and a crash in the middle that resumes with nobody skipped and nobody sent a message twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select, update

from bot.channels.base import Attempt, CollectingOutput, DeliveryFailed, RecipientBlocked, Template
from bot.db.models import Broadcast, Delivery, Submission, User
from bot.messages import Reply
from bot.services import broadcasts
from bot.services.outbox import PRIORITY_BULK, OutboxSender, new_delivery
from tests.harness import CHANNEL


async def make_users(bot, count: int, *, prefix: str = "m", **values) -> list[int]:
    now = bot.clock.now()
    async with bot.app.sessions() as session, session.begin():
        people = [User(channel=CHANNEL, external_id=f"{prefix}{i}", language="es" if i % 2 else "en",
                       role="entrepreneur", consent_at=now, created_at=now, **values) for i in range(count)]
        session.add_all(people)
        await session.flush()
        return [person.id for person in people]


async def statuses(bot) -> dict[str, int]:
    async with bot.app.sessions() as session:
        rows = await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        return {status: count for status, count in rows.all()}


async def new_broadcast(bot, audience=None, **values) -> int:
    now = bot.clock.now()
    async with bot.app.sessions() as session, session.begin():
        broadcast = Broadcast(texts={"es": "Hola a todos", "en": "Hello everyone"}, audience=audience or {},
                              status="scheduled", scheduled_at=now, created_at=now, **values)
        session.add(broadcast)
        await session.flush()
        return broadcast.id


async def test_personal_messages_leave_before_a_broadcast_and_references_are_kept(bot):
    ids = await make_users(bot, 6)
    now = bot.clock.now()
    async with bot.app.sessions() as session, session.begin():
        for user_id in ids[:5]:
            session.add(new_delivery(user_id, [Reply(text="bulk")], now=now, kind="broadcast",
                                     priority=PRIORITY_BULK))
        session.add(new_delivery(ids[5], [Reply(text="your answer")], now=now + timedelta(seconds=1)))
    bot.clock.advance(seconds=2)
    sender = OutboxSender(bot.app.sessions, bot.app.outputs, bot.clock, concurrency=2)
    assert await sender.send_due() == 6
    assert [reply.text for _, reply in bot.output.sent][0] == "your answer"
    assert await statuses(bot) == {"sent": 6}
    async with bot.app.sessions() as session:
        refs = (await session.scalars(select(Delivery.refs).order_by(Delivery.id))).all()
    assert sorted(ref[0] for ref in refs) == [str(n) for n in range(1, 7)]  # what the channel returned


async def test_content_rendered_at_send_time_in_the_language_the_member_has_then(bot):
    [user_id] = await make_users(bot, 1)
    async with bot.app.sessions() as session, session.begin():
        session.add(new_delivery(user_id, now=bot.clock.now(), renderer="catalog",
                                 values={"key": "core.error", "values": {"reference": "R1"}}))
        await session.execute(update(User).where(User.id == user_id).values(language="en"))
    await bot.app.outbox.send_due()
    [(_, reply)] = bot.output.sent
    assert reply.text.startswith("Sorry, something went wrong") and "R1" in reply.text


class Flaky(CollectingOutput):
    """Fails the way platforms do, per recipient."""

    def __init__(self) -> None:
        super().__init__(CHANNEL)
        self.blocked: set[str] = set()
        self.failing: set[str] = set()
        self.templates: list[Template | None] = []

    async def send(self, external_id: str, replies: Sequence[Reply], *, template: Template | None = None,
                   bulk: bool = False, on_attempt: Attempt | None = None) -> list[str]:
        self.templates.append(template)
        if external_id in self.blocked:
            raise RecipientBlocked(external_id)
        if external_id in self.failing:
            raise DeliveryFailed("Bad Gateway", retryable=True)
        return await super().send(external_id, replies, on_attempt=on_attempt)


async def test_failures_are_retried_later_and_blocked_members_marked(bot):
    ids = await make_users(bot, 3)
    flaky = Flaky()
    flaky.blocked, flaky.failing = {"m1"}, {"m2"}
    bot.app.outputs[CHANNEL] = flaky
    async with bot.app.sessions() as session, session.begin():
        session.add_all(new_delivery(user_id, [Reply(text="hola")], now=bot.clock.now()) for user_id in ids)
    await bot.app.outbox.send_due()
    assert await statuses(bot) == {"sent": 1, "blocked": 1, "pending": 1}
    async with bot.app.sessions() as session:
        assert (await session.get(User, ids[1])).blocked_at is not None
    flaky.failing.clear()
    assert await bot.app.outbox.send_due() == 0  # not before its backoff
    bot.clock.advance(seconds=16)
    assert await bot.app.outbox.send_due() == 1
    assert await statuses(bot) == {"sent": 2, "blocked": 1}


async def test_a_broadcast_checks_each_member_again_when_their_row_is_claimed(bot):
    ids = await make_users(bot, 4)
    broadcast_id = await new_broadcast(bot, template={"name": "news_update", "params": ["LÍDERES"]})
    sender = OutboxSender(bot.app.sessions, bot.app.outputs, bot.clock)
    await broadcasts.start_due(sender)  # enqueued: four rows, in one INSERT … SELECT
    async with bot.app.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == ids[0]).values(broadcast_opt_out=True))
        await session.execute(update(User).where(User.id == ids[1]).values(blocked_at=bot.clock.now()))
    await broadcasts.start_due(sender)  # a second start adds nobody
    flaky = Flaky()
    bot.app.outputs[CHANNEL] = flaky
    await sender.send_due()
    assert await statuses(bot) == {"sent": 2, "skipped": 2}
    assert sorted(who for who, _ in flaky.sent) == ["m2", "m3"]
    assert {reply.text for _, reply in flaky.sent} == {"Hola a todos", "Hello everyone"}  # each member's language
    assert set(flaky.templates) == {Template("news_update", lang, ("LÍDERES",)) for lang in ("es", "en")}
    async with bot.app.sessions() as session:
        reasons = set((await session.scalars(select(Delivery.error).where(Delivery.status == "skipped"))).all())
        broadcast = await session.get(Broadcast, broadcast_id)
    assert reasons == {"opted out of broadcasts (/stop)", "recipient blocked the bot"}
    assert broadcast.status == "done" and broadcast.recipients == 4


async def test_a_crash_mid_way_resumes_without_duplicates_or_gaps(bot):
    ids = await make_users(bot, 10)
    await new_broadcast(bot)
    dead = OutboxSender(bot.app.sessions, bot.app.outputs, bot.clock, concurrency=4)
    await broadcasts.start_due(dead)
    claimed = await dead._claim(4)  # the process claimed four rows...
    await dead._mark_sending(claimed[0].id)  # ...one request had left when it was killed
    await dead._flush()
    restarted = OutboxSender(bot.app.sessions, bot.app.outputs, bot.clock)
    await restarted.send_due()
    assert len(bot.output.sent) == 6  # the dead process's rows are still leased: not sent by anyone else
    bot.clock.advance(seconds=31)
    await restarted.send_due()
    received = sorted(who for who, _ in bot.output.sent)
    assert len(received) == len(set(received)) == 9  # nobody twice
    assert await statuses(bot) == {"sent": 9, "unconfirmed": 1}  # the one in doubt is reported, not re-sent
    async with bot.app.sessions() as session:
        doubtful = await session.scalar(select(Delivery.user_id).where(Delivery.status == "unconfirmed"))
    assert doubtful == claimed[0].user_id and len(ids) == 10
    async with bot.app.sessions() as session, session.begin():  # the coordinator chooses to send it again
        broadcast = (await session.scalars(select(Broadcast))).one()
        assert broadcast.status == "done" and await broadcasts.resend_unconfirmed(session, broadcast) == 1
    await restarted.send_due()
    assert len(bot.output.sent) == 10 and await statuses(bot) == {"sent": 10}


async def test_audiences_are_counted_by_every_dimension_and_their_combinations(bot):
    now = bot.clock.now()
    async with bot.app.sessions() as session, session.begin():
        def person(name: str, **values) -> User:
            values.setdefault("consent_at", now)
            return User(channel=CHANNEL, external_id=name, created_at=now, **values)

        people = {
            "ana": person("ana", language="es", source="feria", region="santa_cruz"),
            "luis": person("luis", language="en", role="mentor"),
            "eva": person("eva", language="es"),
            "off": person("off", language="es", broadcast_opt_out=True),
            "gone": person("gone", language="es", blocked_at=now),
            "anon": person("anon", language="es", consent_at=None),
        }
        session.add_all(people.values())
        await session.flush()
        session.add_all([
            Submission(user_id=people["ana"].id, status="finalist", region="santa_cruz",
                       answers={"sdgs": ["8", "10"]}),
            Submission(user_id=people["luis"].id, status="submitted", region="jalisco", answers={"sdgs": ["1"]}),
            Submission(user_id=people["eva"].id, status="draft", region="jalisco", answers={"sdgs": ["8"]}),
        ])

    async def count(**audience: list[str]) -> int:
        async with bot.app.sessions() as session:
            return await broadcasts.count_recipients(session, audience)

    assert await count() == 3  # consent given, not opted out, not blocked
    assert await count(language=["es"]) == 2
    assert await count(role=["mentor"]) == 1
    assert await count(source=["feria"]) == 1
    assert await count(region=["jalisco"]) == 2  # by a submission's region, drafts included
    assert await count(region=["santa_cruz"], language=["es"]) == 1
    assert await count(status=["finalist", "submitted"]) == 2
    assert await count(status=["none"]) == 1  # eva only has a draft
    assert await count(sdg=["8"]) == 1  # submitted ideas only: eva's draft does not count
    assert await count(sdg=["1", "10"]) == 2
    assert await count(sdg=["1"], language=["es"]) == 0
    assert await count(region=["nowhere"]) == 0


async def test_pausing_holds_the_rows_and_stop_skips_a_members_waiting_ones(bot):
    ids = await make_users(bot, 3)
    broadcast_id = await new_broadcast(bot)
    sender = OutboxSender(bot.app.sessions, bot.app.outputs, bot.clock)
    await broadcasts.start_due(sender)
    async with bot.app.sessions() as session, session.begin():
        broadcast = await session.get(Broadcast, broadcast_id)
        assert await broadcasts.set_paused(session, broadcast, True)
    assert await statuses(bot) == {"held": 3}  # nothing that takes pending rows can send them now
    async with bot.app.sessions() as session, session.begin():
        await broadcasts.opt_out(session, await session.get(User, ids[0]))
        assert await broadcasts.set_paused(session, await session.get(Broadcast, broadcast_id), False)
    await sender.send_due()
    assert await statuses(bot) == {"sent": 2, "skipped": 1}
