"""The engine's promises: state saved with the handler's writes, per-user order, failures contained."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.db.models import AuditLog, Conversation, Delivery, FailedMessage, User
from bot.engine import Context, Engine
from bot.messages import Incoming, Reply
from bot.router import Router


def make_engine(app, *routers: Router) -> Engine:
    return Engine(app.settings, app.sessions, routers, clock=app.clock)


def message(text: str | None = None, user: str = "ana", **extra) -> Incoming:
    return Incoming(channel="test", user_id=user, text=text, language="es", **extra)


async def test_state_and_writes_commit_together_or_not_at_all(app):
    router = Router("counter")

    @router.command("count")
    async def count(ctx: Context) -> None:
        ctx.start_flow("counting", "n", {"n": ctx.state.data.get("n", 0) + 1})
        ctx.user.region = f"r{ctx.state.data['n']}"
        if ctx.incoming.command_args == "boom":
            raise RuntimeError("after writing")
        ctx.reply(str(ctx.state.data["n"]))

    @router.flow("counting")
    async def counting(ctx: Context) -> None:
        ctx.reply(f"still {ctx.state.data['n']}")

    engine = make_engine(app, router)
    assert [r.text for r in await engine.handle(message("/count"))] == ["1"]
    assert [r.text for r in await engine.handle(message("/count"))] == ["2"]
    failed = await engine.handle(message("/count boom"))
    assert "referencia" in failed[0].text  # the apology, in the user's language
    assert [r.text for r in await engine.handle(message("hola"))] == ["still 2"]
    async with app.sessions() as session:
        user = await session.scalar(select(User))
        conversation = await session.get(Conversation, user.id)
    assert user.region == "r2" and conversation.data == {"n": 2}  # the failed message wrote nothing


async def test_a_failing_handler_logs_the_reference_with_the_traceback(app, caplog):
    router = Router("bad")

    @router.command("bad")
    async def bad(ctx: Context) -> None:
        raise ValueError("secret detail")

    engine = make_engine(app, router)
    with caplog.at_level(logging.ERROR, logger="bot.engine"):
        replies = await engine.handle(message("/bad"))
    reference = replies[0].text.rsplit(" ", 1)[-1]
    record = next(r for r in caplog.records if getattr(r, "reference", None) == reference)
    assert record.exc_info and "secret detail" not in replies[0].text
    assert (await engine.handle(message("/bad")))[0].text != replies[0].text  # a new reference each time
    async with app.sessions() as session:
        kept = await session.scalar(select(FailedMessage).where(FailedMessage.reference == reference))
    assert kept.text == "/bad" and kept.external_id == "ana"  # what the user typed is not lost


async def test_logs_carry_ids_but_not_texts(app, caplog):
    router = Router("echo")

    @router.fallback()
    async def echo(ctx: Context) -> None:
        ctx.reply("ok")

    engine = make_engine(app, router)
    with caplog.at_level(logging.INFO, logger="bot.engine"):
        await engine.handle(message("mi correo es ana@example.org", message_id="77"))
    record = next(r for r in caplog.records if r.getMessage() == "message handled")
    assert record.message_id == "77" and isinstance(record.user, int)
    assert "ana@example.org" not in str(vars(record))


async def test_one_users_messages_stay_in_order_while_users_run_concurrently(app):
    router = Router("order")
    handled: list[tuple[str, str]] = []

    @router.fallback()
    async def record(ctx: Context) -> None:
        handled.append((ctx.incoming.user_id, ctx.text))
        ctx.reply(ctx.text)

    engine = make_engine(app, router)
    answered: dict[str, list[str]] = {"slow": [], "fast": []}
    slow_network = asyncio.Event()  # the slow user's first reply is stuck in the network

    async def respond(incoming: Incoming, replies: list[Reply]) -> None:
        if incoming.user_id == "slow" and incoming.text == "0":
            await slow_network.wait()
        answered[incoming.user_id].extend(r.text for r in replies)
        if len(answered["fast"]) == 20:
            slow_network.set()

    for i in range(20):
        assert await engine.submit(message(str(i), user="slow"), respond)
        assert await engine.submit(message(str(i), user="fast"), respond)
    await engine.drain()
    assert answered["slow"] == [str(i) for i in range(20)]
    assert answered["fast"] == [str(i) for i in range(20)]
    assert handled.index(("fast", "19")) < handled.index(("slow", "1"))  # the slow user held nobody up
    assert not await engine.submit(message("late"), respond)  # draining: no new messages


async def test_coordinator_only_routes_check_the_role_on_every_call(app):
    router = Router("admin")

    @router.command("secret", coordinator=True)
    async def secret(ctx: Context) -> None:
        ctx.reply("the secret")

    engine = make_engine(app, router)
    refused = "No conozco el comando /secret"  # as if it did not exist: a refusal reveals nothing
    assert refused in (await engine.handle(message("/secret", user="maria")))[0].text
    assert (await engine.handle(message("/secret", user="coord")))[0].text == "the secret"  # LIDERES_ADMINS

    async def set_role(role: str) -> None:
        async with app.sessions() as session, session.begin():
            (await session.scalars(select(User).where(User.external_id == "maria"))).one().role = role

    await set_role("coordinator")
    assert (await engine.handle(message("/secret", user="maria")))[0].text == "the secret"
    await set_role("entrepreneur")
    assert refused in (await engine.handle(message("/secret", user="maria")))[0].text
    async with app.sessions() as session:
        audit = (await session.execute(select(AuditLog.action, AuditLog.target).order_by(AuditLog.id))).all()
    assert [tuple(row) for row in audit] == [
        ("coordinator.refused", "/secret"), ("coordinator.call", "/secret"), ("coordinator.call", "/secret"),
        ("coordinator.refused", "/secret")]


async def test_notify_goes_through_the_outbox_after_commit(bot):
    router = Router("notify")

    @router.command("ping")
    async def ping(ctx: Context) -> None:
        others = await ctx.session.scalars(select(User).where(User.external_id == "bea"))
        await ctx.notify(others.one(), [Reply(text="ping from ana")])
        ctx.reply("sent")

    bot.app.engine.include(router)
    wakes: list[str] = []
    bot.app.engine.on_outbox = lambda: wakes.append("wake")
    await bot.send("/start", user="bea")
    assert wakes == []
    await bot.send("/ping")
    assert wakes == ["wake"]  # the sender is woken once the delivery is committed
    assert bot.output.sent == []  # queued, not sent inline
    assert await bot.app.outbox.send_due() == 1
    assert [r.text for r in bot.output.to("bea")] == ["ping from ana"]
    assert await bot.app.outbox.send_due() == 0  # nothing is sent twice
    async with bot.app.sessions() as session:
        statuses = (await session.scalars(select(Delivery.status))).all()
        assert statuses == ["sent"]
        assert await session.scalar(select(func.count()).select_from(User)) == 2


async def test_a_message_on_a_connection_the_database_closed_is_handled_again(app):
    """PostgreSQL restarted (here: every other backend terminated): pooled connections are not pinged before use,
    so the first statement fails; the message is handled again on a fresh connection, not apologised for."""
    if not app.settings.database_url.startswith("postgresql"):
        return  # SQLite has no server to close a connection
    router = Router("echo")

    @router.command("echo")
    async def echo(ctx: Context) -> None:
        ctx.reply(ctx.incoming.command_args)

    engine = make_engine(app, router)
    assert [r.text for r in await engine.handle(message("/echo uno"))] == ["uno"]  # a connection in the pool
    killer = create_async_engine(app.settings.database_url, poolclass=NullPool)
    async with killer.connect() as connection:
        killed = await connection.scalar(text(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity"
            " where datname = current_database() and pid <> pg_backend_pid()"))
    await killer.dispose()
    assert killed >= 1
    assert [r.text for r in await engine.handle(message("/echo dos"))] == ["dos"]
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FailedMessage)) == 0
