"""The conversation engine: routes an ``Incoming`` to a handler with the user's saved state, and saves the
new state in the same transaction as the handler's writes.

Handlers register on feature ``Router``s (the way aiogram routers do) and the app includes them:

    router = Router("idea")

    @router.command("idea")
    async def start(ctx: Context) -> None: ...

    @router.button("idea")          # payloads "idea" and "idea:..."
    @router.flow("idea")            # any message while the user's active flow is "idea"
    @router.fallback()              # free text outside any flow (the FAQ)

Order of routing: commands, then button payloads, then the active flow, then the fallback.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import Conversation, Delivery, FailedMessage, User
from bot.i18n import normalize_language, translate
from bot.messages import Button, Incoming, Reply, rows
from bot.services import users

log = logging.getLogger("bot.engine")

Handler = Callable[["Context"], Awaitable[None]]
# Reads a feature's files (knowledge base, form) into the services; returns a short summary for the log
# and for reloads. Runs at start-up and on every reload.
ContentLoader = Callable[[Settings, dict[str, Any]], dict[str, Any] | None]


@dataclass
class Route:
    handler: Handler
    coordinator_only: bool = False


@dataclass
class Command:
    name: str
    route: Route
    description_key: str | None  # catalog key of the line in the platform's command menu


class Router:
    """One feature's handlers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: dict[str, Command] = {}
        self.buttons: dict[str, Route] = {}
        self.flows: dict[str, Route] = {}
        self.fallbacks: list[Route] = []
        self.content_loaders: list[ContentLoader] = []

    def content_loader(self, loader: ContentLoader) -> ContentLoader:
        self.content_loaders.append(loader)
        return loader

    def command(
        self, *names: str, coordinator: bool = False, menu: str | None = None
    ) -> Callable[[Handler], Handler]:
        """``menu`` is the catalog key describing the command in the platform's command list."""

        def register(handler: Handler) -> Handler:
            for name in names:
                self.commands[name] = Command(name, Route(handler, coordinator), menu if name == names[0] else None)
            return handler

        return register

    def button(self, prefix: str, *, coordinator: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.buttons[prefix] = Route(handler, coordinator)
            return handler

        return register

    def flow(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.flows[name] = Route(handler)
            return handler

        return register

    def fallback(self) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.fallbacks.append(Route(handler))
            return handler

        return register


@dataclass
class FlowState:
    """The user's place in a conversation; saved with the handler's writes."""

    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Context:
    """What a handler gets: the message, the user, the open transaction, the state, and ways to answer."""

    def __init__(
        self,
        engine: Engine,
        incoming: Incoming,
        session: AsyncSession,
        user: User,
        state: FlowState,
    ) -> None:
        self.engine = engine
        self.incoming = incoming
        self.session = session
        self.user = user
        self.state = state
        self.replies: list[Reply] = []
        self.queued_deliveries = False  # the outbox is woken once this handler's transaction commits

    @property
    def lang(self) -> str:
        return self.user.language

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    @property
    def services(self) -> dict[str, Any]:
        return self.engine.services

    @property
    def clock(self) -> Clock:
        return self.engine.clock

    @property
    def text(self) -> str:
        return (self.incoming.text or "").strip()

    def t(self, key: str, /, **values: object) -> str:
        return translate(key, self.user.language, **values)

    def reply(
        self,
        text: str,
        buttons: Sequence[Sequence[Button]] | Iterable[Button] = (),
        *,
        edit: bool = False,
        **attachments: Any,
    ) -> None:
        """Answer with ``text``; ``buttons`` is a flat list (one per row) or a list of rows."""
        laid_out = tuple(tuple(row) if isinstance(row, (list, tuple)) else (row,) for row in buttons)
        self.replies.append(Reply(text=text, buttons=laid_out, edit=edit, **attachments))

    def start_flow(self, flow: str, step: str | None = None, data: dict[str, Any] | None = None) -> None:
        self.state.flow, self.state.step, self.state.data = flow, step, dict(data or {})

    def end_flow(self) -> None:
        self.state.flow, self.state.step, self.state.data = None, None, {}

    async def notify(self, user: User, replies: Sequence[Reply], kind: str = "notification") -> None:
        """Queue a message to another user in the outbox, committed with this handler's writes."""
        self.session.add(
            Delivery(
                user_id=user.id,
                kind=kind,
                replies=[serialize_reply(reply) for reply in replies],
                due_at=self.clock.now(),
                created_at=self.clock.now(),
            )
        )
        self.queued_deliveries = True


def serialize_reply(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "buttons": [[{"label": b.label, "payload": b.payload} for b in row] for row in reply.buttons],
    }


def deserialize_reply(data: dict[str, Any]) -> Reply:
    buttons = tuple(tuple(Button(b["label"], b["payload"]) for b in row) for row in data.get("buttons", []))
    return Reply(text=data.get("text", ""), buttons=buttons)


class Engine:
    """Routes messages; channel-neutral. ``handle`` is one message; ``submit`` queues it so that one user's
    messages are handled in order and different users' concurrently, by a bounded pool of workers."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        routers: Iterable[Router],
        *,
        clock: Clock | None = None,
        services: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock or Clock()
        self.services: dict[str, Any] = services if services is not None else {}
        self.routers = list(routers)
        self.commands: dict[str, Command] = {}
        self.buttons: dict[str, Route] = {}
        self.flows: dict[str, Route] = {}
        self.fallbacks: list[Route] = []
        self.content_loaders: list[ContentLoader] = []
        for router in self.routers:
            self.include(router)
        self.on_outbox: Callable[[], None] | None = None  # wakes the outbox sender after a commit
        self._queue = _UserQueue(self, settings.workers)

    def include(self, router: Router) -> None:
        for name, command in router.commands.items():
            if name in self.commands:
                raise ValueError(f"command /{name} registered twice")
            self.commands[name] = command
        for prefix, route in router.buttons.items():
            if prefix in self.buttons:
                raise ValueError(f"button prefix {prefix!r} registered twice")
            self.buttons[prefix] = route
        self.flows.update(router.flows)
        self.fallbacks.extend(router.fallbacks)
        self.content_loaders.extend(router.content_loaders)

    def load_content(self) -> dict[str, Any]:
        """(Re)load what the features read from files; the summary lists counts and problems."""
        summary: dict[str, Any] = {}
        for loader in self.content_loaders:
            summary.update(loader(self.settings, self.services) or {})
        log.info("content loaded", extra={"content": summary})
        return summary

    def menu_commands(self) -> list[tuple[str, str]]:
        """(command, description catalog key) for the platform's command menu."""
        return [(c.name, c.description_key) for c in self.commands.values() if c.description_key]

    # -- one message ---------------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one message and return the replies. Never raises: a failing handler gives the user a
        short apology with a reference that is also in the log, next to the traceback."""
        started = time.perf_counter()
        event = {"channel": incoming.channel, "message_id": incoming.message_id}
        try:
            replies, user_id, queued_deliveries = await self._handle_in_transaction(incoming)
        except Exception:
            reference = uuid.uuid4().hex[:8].upper()
            log.exception("handler failed", extra={**event, "reference": reference})
            lang = await self._keep_failed(incoming, reference)
            lang = lang or normalize_language(incoming.language, self.settings.default_language)
            return [Reply(text=translate("core.error", lang, reference=reference))]
        log.info(
            "message handled",
            extra={
                **event,
                "user": user_id,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                **({"text": incoming.text} if log.isEnabledFor(logging.DEBUG) else {}),
            },
        )
        if queued_deliveries and self.on_outbox is not None:
            self.on_outbox()
        return replies

    async def _handle_in_transaction(self, incoming: Incoming) -> tuple[list[Reply], int, bool]:
        async with self.sessions() as session, session.begin():
            user = await users.get_or_create(session, incoming, self.settings, self.clock.now())
            conversation = await session.get(Conversation, user.id)
            saved = (
                FlowState(conversation.flow, conversation.step, dict(conversation.data or {}))
                if conversation is not None
                else FlowState()
            )
            state = FlowState(saved.flow, saved.step, copy.deepcopy(saved.data))
            ctx = Context(self, incoming, session, user, state)
            await self._route(ctx)
            if state != saved:  # unchanged state is not rewritten: reads stay reads (SQLite's single writer)
                if conversation is None:
                    conversation = Conversation(user_id=user.id)
                    session.add(conversation)
                conversation.flow, conversation.step = state.flow, state.step
                conversation.data = dict(state.data)
                conversation.updated_at = self.clock.now()
            return ctx.replies, user.id, ctx.queued_deliveries

    async def _keep_failed(self, incoming: Incoming, reference: str) -> str | None:
        """Save what the user sent under the apology's reference; returns their saved language."""
        try:
            async with self.sessions() as session, session.begin():
                attachment = incoming.attachment
                session.add(
                    FailedMessage(
                        reference=reference,
                        channel=incoming.channel,
                        external_id=incoming.user_id,
                        text=incoming.text,
                        payload=(incoming.payload or "")[:200] or None,
                        attachment_ref=attachment.file_ref[:300] if attachment else None,
                        created_at=self.clock.now(),
                    )
                )
                return await session.scalar(
                    select(User.language).where(
                        User.channel == incoming.channel, User.external_id == incoming.user_id
                    )
                )
        except Exception:  # the database itself may be what failed; the log still has the reference
            log.exception("could not keep the failed message", extra={"reference": reference})
            return None

    async def _route(self, ctx: Context) -> None:
        incoming = ctx.incoming
        if incoming.command is not None:
            command = self.commands.get(incoming.command)
            if command is None:
                ctx.reply(ctx.t("core.unknown_command", command=incoming.command[:40]), main_menu(ctx))
                return
            await self.run_route(command.route, ctx)
            return
        if incoming.payload is not None:
            route = self.buttons.get(incoming.payload.split(":", 1)[0])
            if route is None:
                ctx.reply(ctx.t("core.button_expired"))
                return
            await self.run_route(route, ctx)
            return
        if not ctx.text and incoming.attachment is None:
            ctx.reply(ctx.t("core.empty_message"))
            return
        if ctx.state.flow is not None:
            route = self.flows.get(ctx.state.flow)
            if route is not None:
                await self.run_route(route, ctx)
                return
            ctx.end_flow()  # a flow that no longer exists (removed feature): start afresh
        if incoming.attachment is not None:
            ctx.reply(ctx.t("core.unexpected_file"), main_menu(ctx))
            return
        for route in self.fallbacks:
            await self.run_route(route, ctx)
            if ctx.replies:
                return
        ctx.reply(ctx.t("core.not_understood"), main_menu(ctx))

    async def run_route(self, route: Route, ctx: Context) -> None:
        if route.coordinator_only and not ctx.user.is_coordinator:
            log.warning("coordinator command refused", extra={"user": ctx.user.id})
            ctx.reply(ctx.t("core.not_allowed"))
            return
        await route.handler(ctx)

    # -- many messages -------------------------------------------------------------------------------

    def submit(
        self, incoming: Incoming, respond: Callable[[Incoming, list[Reply]], Awaitable[None]]
    ) -> bool:
        """Queue ``incoming``; ``respond`` is called with its replies, in order for each user.
        Returns False when the engine is draining and takes no new messages."""
        return self._queue.put(incoming, respond)

    async def drain(self) -> None:
        """Stop taking messages and wait for those in flight (SIGTERM)."""
        await self._queue.drain()


def main_menu(ctx: Context) -> list[Button]:
    """The main menu's buttons; every feature's entry point."""
    buttons = [
        Button(ctx.t("menu.idea"), "menu:idea"),
        Button(ctx.t("menu.ask"), "menu:ask"),
        Button(ctx.t("menu.mentoring"), "menu:mentoring"),
        Button(ctx.t("menu.mysubmissions"), "menu:mysubmissions"),
        Button(ctx.t("menu.help"), "menu:help"),
    ]
    return list(rows(*buttons, per_row=2))


Respond = Callable[[Incoming, list[Reply]], Awaitable[None]]


class _UserQueue:
    """Per-user FIFO with a bounded pool of workers: a user's messages never overtake each other, a slow
    user never holds up the others, and there is no task per update."""

    def __init__(self, engine: Engine, workers: int) -> None:
        self.engine = engine
        self.size = workers
        self.pending: dict[tuple[str, str], deque[tuple[Incoming, Respond]]] = {}
        self.ready: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.workers: list[asyncio.Task[None]] = []
        self.draining = False
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def put(self, incoming: Incoming, respond: Respond) -> bool:
        if self.draining:
            return False
        if not self.workers:
            self.workers = [asyncio.create_task(self._work(), name=f"engine-worker-{i}") for i in range(self.size)]
        key = (incoming.channel, incoming.user_id)
        queue = self.pending.get(key)
        self.in_flight += 1
        self.idle.clear()
        if queue is None:
            self.pending[key] = deque([(incoming, respond)])
            self.ready.put_nowait(key)
        else:
            queue.append((incoming, respond))  # a worker owns this user; it will get there
        return True

    async def _work(self) -> None:
        while True:
            key = await self.ready.get()
            queue = self.pending[key]
            while queue:
                incoming, respond = queue[0]
                replies = await self.engine.handle(incoming)
                try:
                    await respond(incoming, replies)
                except Exception:
                    log.exception("sending replies failed", extra={"channel": incoming.channel})
                queue.popleft()
                self.in_flight -= 1
            del self.pending[key]
            if self.in_flight == 0:
                self.idle.set()

    async def drain(self) -> None:
        self.draining = True
        await self.idle.wait()
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        self.workers = []
