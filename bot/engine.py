"""The conversation engine: routes an ``Incoming`` to a feature's handler with the user's saved state, and
saves the new state in the same transaction as the handler's writes. It knows no feature: routes, guards,
menu items and content come from the routers (``bot/router.py``).

Order of routing: commands, then button payloads (longest registered prefix), then the active flow, then
the fallbacks in router order. A route's guards run before its handler.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import AuditLog, Delivery, FailedMessage, User
from bot.i18n import normalize_language, translate
from bot.messages import Button, Incoming, Reply, dump_reply, rows
from bot.router import COORDINATOR, Command, Content, ContentLoader, Guard, MenuItem, Route, Router
from bot.services import users
from bot.workqueue import KeyedQueue, QueueClosed

log = logging.getLogger("bot.engine")

Respond = Callable[[Incoming, list[Reply]], Awaitable[None]]
# Called in the handler's transaction with its replies, just before the commit (a channel stores them there, so
# that a crash between the commit and the send loses nothing and handles nothing twice).
Within = Callable[[AsyncSession, list[Reply]], Awaitable[None]]
ContentType = TypeVar("ContentType")
MENU = "menu"  # payload prefix of the main menu's buttons: "menu:<item>"
RUN = "run"  # payload prefix that runs a command, with its guards: "run:<command>" (e.g. after consent)


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
    def clock(self) -> Clock:
        return self.engine.clock

    @property
    def text(self) -> str:
        return (self.incoming.text or "").strip()

    def content(self, kind: type[ContentType]) -> ContentType:
        """The content of that type a feature's loader built (the knowledge base, the idea form)."""
        return self.engine.content(kind)

    def t(self, key: str, /, **values: object) -> str:
        return translate(key, self.user.language, **values)

    def reply(
        self,
        text: str,
        buttons: Sequence[Sequence[Button]] | Iterable[Button] = (),
        *,
        edit: bool = False,
        **options: Any,
    ) -> None:
        """Answer with ``text``; ``buttons`` is a flat list (one per row) or a list of rows; ``options`` are
        the other fields of ``Reply`` (document, picture, ...)."""
        laid_out = tuple(tuple(row) if isinstance(row, (list, tuple)) else (row,) for row in buttons)
        self.replies.append(Reply(text=text, buttons=laid_out, edit=edit, **options))

    def menu(self) -> tuple[tuple[Button, ...], ...]:
        """The main menu's buttons, as the features contributed them, for this user."""
        return self.engine.main_menu(self)

    def again_payload(self) -> str | None:
        """A button payload that does again what the user just did (a command or a button press), for a
        "continue" button once a guard's condition is met; None for plain text."""
        if self.incoming.payload is not None:
            return self.incoming.payload
        if self.incoming.command is not None:
            return f"{RUN}:{self.incoming.command}"
        return None

    def start_flow(self, flow: str, step: str | None = None, data: dict[str, Any] | None = None) -> None:
        self.state.flow, self.state.step, self.state.data = flow, step, dict(data or {})

    def end_flow(self) -> None:
        self.state.flow, self.state.step, self.state.data = None, None, {}

    def audit(self, action: str, target: str | None = None, **details: Any) -> None:
        """Record a coordinator's action (or a refused attempt) in ``audit_log``, with this handler's writes.
        ``details`` are ids and figures, never message texts."""
        self.session.add(AuditLog(actor_id=self.user.id, action=action[:60], target=(target or "")[:120] or None,
                                  details=details, created_at=self.clock.now()))

    async def notify(self, user: User, replies: Sequence[Reply], kind: str = "notification") -> None:
        """Queue a message to another user in the outbox, committed with this handler's writes."""
        self.session.add(
            Delivery(
                user_id=user.id,
                kind=kind,
                replies=[dump_reply(reply) for reply in replies],
                due_at=self.clock.now(),
                created_at=self.clock.now(),
            )
        )
        self.queued_deliveries = True


def freeze_heap() -> None:
    """Put everything alive now out of the cyclic collector's reach: after start-up that is the imports and the
    content (the knowledge index alone is most of ~200,000 objects). A full collection walked them all, about
    100 ms with the event loop stopped, and under load one came every few seconds: at a steady 200 updates/s
    those pauses were the 99th percentile (bench/README.md). What is made afterwards is collected as usual."""
    gc.collect()
    gc.freeze()


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
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock or Clock()
        self.routers = list(routers)
        self.commands: dict[str, Command] = {}
        self.buttons: dict[str, Route] = {}
        self.flows: dict[str, Route] = {}
        self.fallbacks: list[Route] = []
        self.guards: dict[str, Guard] = {COORDINATOR: _coordinator_guard}
        self.menu_items: list[MenuItem] = []
        self.content_loaders: list[ContentLoader] = []
        self._content: dict[ContentLoader, Content] = {}
        self._content_by_type: dict[type, Content] = {}
        for router in self.routers:
            self.include(router)
        self._check_guards()
        self.on_outbox: Callable[[], None] | None = None  # wakes the outbox sender after a commit
        self.on_reloaded: Callable[[], Awaitable[object]] | None = None  # tells the other worker processes
        self._queue: KeyedQueue[tuple[str, str], tuple[Incoming, Respond, Within | None]] = KeyedQueue(
            self._run_queued, workers=settings.workers, limit=settings.queue_limit, name="engine-worker"
        )

    def include(self, router: Router) -> None:
        for name, command in router.commands.items():
            if name in self.commands:
                raise ValueError(f"command /{name} registered twice")
            self.commands[name] = command
        for prefix, route in router.buttons.items():
            if prefix in self.buttons or prefix in (MENU, RUN):
                raise ValueError(f"button prefix {prefix!r} registered twice")
            self.buttons[prefix] = route
        for name, guard in router.guards.items():
            if name in self.guards:
                raise ValueError(f"guard {name!r} registered twice")
            self.guards[name] = guard
        for item in router.menu_items:
            if any(item.name == known.name for known in self.menu_items):
                raise ValueError(f"menu item {item.name!r} registered twice")
            self.menu_items.append(item)
        self.menu_items.sort(key=lambda item: item.order)
        self.flows.update(router.flows)
        self.fallbacks.extend(router.fallbacks)
        self.content_loaders.extend(router.content_loaders)

    def _check_guards(self) -> None:
        """A route asking for a guard no feature provides would otherwise fail on a user's message."""
        routes = [c.route for c in self.commands.values()] + list(self.buttons.values())
        missing = {name for route in routes for name in route.guards if name not in self.guards}
        if missing:
            raise ValueError(f"routes need guards no router provides: {sorted(missing)}")

    # -- content -------------------------------------------------------------------------------------

    def load_content(self) -> dict[str, object]:
        """(Re)load what the features read from files; the summary lists counts and problems. Blocking: at
        start-up only; a running bot reloads with ``reload_content``."""
        built = self._build_content()
        return self._install_content(built)

    async def reload_content(self, *, announce: bool = True) -> dict[str, object]:
        """Rebuild the content off the event loop (a large knowledge base takes seconds) and swap it in at
        once: users are answered from the old content meanwhile, and never from a half-built one. With
        ``announce``, ``on_reloaded`` then tells the other worker processes to reload too."""
        built = await asyncio.to_thread(self._build_content)
        summary = self._install_content(built)
        if gc.get_freeze_count():  # the old content is frozen with the rest (``freeze_heap``): let it go
            gc.unfreeze()
            freeze_heap()
        if announce and self.on_reloaded is not None:
            try:
                await self.on_reloaded()
            except Exception:  # this process has reloaded; the others keep their content until the next one
                log.exception("content reload not announced to the other processes")
        return summary

    def _build_content(self) -> dict[ContentLoader, Content]:
        return {loader: loader(self.settings, self._content.get(loader)) for loader in self.content_loaders}

    def _install_content(self, built: dict[ContentLoader, Content]) -> dict[str, object]:
        self._content = built
        self._content_by_type = {type(content): content for content in built.values()}
        summary: dict[str, object] = {}
        for content in built.values():
            summary.update(content.summary())
        log.info("content loaded", extra={"content": summary})
        return summary

    def content(self, kind: type[ContentType]) -> ContentType:
        found = self._content_by_type.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"no content of type {kind.__name__} is loaded")
        return found

    # -- menus ---------------------------------------------------------------------------------------

    def menu_commands(self) -> list[tuple[str, str]]:
        """(command, description catalog key) for the platform's command menu."""
        return [(c.name, c.description_key) for c in self.commands.values() if c.description_key]

    def main_menu(self, ctx: Context) -> tuple[tuple[Button, ...], ...]:
        buttons = [Button(ctx.t(item.label_key), f"{MENU}:{item.name}") for item in self.menu_items
                   if item.shown_to(ctx)]
        return rows(*buttons, per_row=2)

    # -- one message ---------------------------------------------------------------------------------

    async def handle(self, incoming: Incoming, within: Within | None = None) -> list[Reply]:
        """Handle one message and return the replies. Never raises: a failing handler gives the user a
        short apology with a reference that is also in the log, next to the traceback."""
        started = time.perf_counter()
        event = {"channel": incoming.channel, "message_id": incoming.message_id}
        try:
            try:
                replies, user_id, queued_deliveries = await self._handle_in_transaction(incoming, within)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # A pooled connection the database had closed (a restart; pooled connections are not pinged
                # before each use, which cost a round trip per transaction): SQLAlchemy has dropped the pool's
                # old connections and nothing was committed, so the message is handled again on a fresh one.
                log.warning("database connection lost, message handled again", extra=event)
                replies, user_id, queued_deliveries = await self._handle_in_transaction(incoming, within)
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

    async def _handle_in_transaction(self, incoming: Incoming,
                                     within: Within | None = None) -> tuple[list[Reply], int, bool]:
        async with self.sessions() as session, session.begin():
            user, conversation = await users.sender(session, incoming, self.settings, self.clock.now())
            saved = (
                FlowState(conversation.flow, conversation.step, dict(conversation.data or {}))
                if conversation is not None
                else FlowState()
            )
            state = FlowState(saved.flow, saved.step, copy.deepcopy(saved.data))
            ctx = Context(self, incoming, session, user, state)
            await self._route(ctx)
            if state != saved:  # unchanged state is not rewritten: reads stay reads (SQLite's single writer)
                await users.save_conversation(session, user.id, exists=conversation is not None, flow=state.flow,
                                              step=state.step, data=dict(state.data), now=self.clock.now())
            if within is not None:
                await within(session, ctx.replies)
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
                    select(User.language).where(*users.key_is(incoming.channel, incoming.user_id))
                )
        except Exception:  # the database itself may be what failed; the log still has the reference
            log.exception("could not keep the failed message", extra={"reference": reference})
            return None

    async def _route(self, ctx: Context) -> None:
        incoming = ctx.incoming
        if incoming.command is not None:
            command = self.commands.get(incoming.command)
            if command is None:
                ctx.reply(ctx.t("core.unknown_command", command=incoming.command[:40]), ctx.menu())
                return
            await self.run_route(command.route, ctx)
            return
        if incoming.payload is not None:
            route = self._button_route(ctx, incoming.payload)
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
            ctx.reply(ctx.t("core.unexpected_file"), ctx.menu())
            return
        await self.run_fallbacks(ctx)

    async def run_fallbacks(self, ctx: Context) -> None:
        """Free text outside a flow: each fallback in router order until one answers."""
        for route in self.fallbacks:
            await self.run_route(route, ctx)
            if ctx.replies:
                return
        ctx.reply(ctx.t("core.not_understood"), ctx.menu())

    def _button_route(self, ctx: Context, payload: str) -> Route | None:
        """The route of the longest registered prefix of ``payload`` (``faq:forward`` before ``faq``); the
        engine's own prefixes run a menu item or a command."""
        head, _, rest = payload.partition(":")
        if head == MENU:
            item = next((item for item in self.menu_items if item.name == rest), None)
            return item.route if item is not None and item.shown_to(ctx) else None
        if head == RUN:
            command = self.commands.get(rest)
            return command.route if command is not None else None
        parts = payload.split(":")
        for end in range(len(parts), 0, -1):
            route = self.buttons.get(":".join(parts[:end]))
            if route is not None:
                return route
        return None

    async def run_route(self, route: Route, ctx: Context) -> None:
        """Run ``route``'s guards in order, then its handler if they all let it through."""
        for name in route.guards:
            if not await self.guards[name](ctx):
                return
        await route.handler(ctx)

    # -- many messages -------------------------------------------------------------------------------

    async def submit(self, incoming: Incoming, respond: Respond, within: Within | None = None) -> bool:
        """Queue ``incoming``; ``respond`` is called with its replies, in order for each user (``within`` as
        well, in the handler's transaction). Waits while the queue is full (the database is slower than the
        messages come). Returns False when the engine is draining and takes no new messages."""
        try:
            await self._queue.put((incoming.channel, incoming.user_id), (incoming, respond, within))
        except QueueClosed:
            return False
        return True

    async def _run_queued(self, _key: tuple[str, str],
                          jobs: Sequence[tuple[Incoming, Respond, Within | None]]) -> None:
        for incoming, respond, within in jobs:
            replies = await self.handle(incoming, within)
            try:
                await respond(incoming, replies)
            except Exception:
                log.exception("sending replies failed", extra={"channel": incoming.channel})

    async def join(self) -> None:
        """Until every message submitted so far is handled and responded to (tests, benchmarks)."""
        await self._queue.join()

    async def drain(self) -> None:
        """Stop taking messages and wait for those in flight (SIGTERM)."""
        await self._queue.close()


async def _coordinator_guard(ctx: Context) -> bool:
    """Checked on every call, not only when a menu is shown: the role may have been revoked since. Every call
    is audited; a refused one is answered as if the command or button did not exist, revealing nothing."""
    what = f"/{ctx.incoming.command}" if ctx.incoming.command else (ctx.incoming.payload or "").split(":")[0]
    if ctx.user.is_coordinator:
        ctx.audit("coordinator.call", what)
        return True
    log.info("coordinator command refused", extra={"user": ctx.user.id, "what": what[:40]})  # audit_log has it
    ctx.audit("coordinator.refused", what, role=ctx.user.role)
    if ctx.incoming.command:
        ctx.reply(ctx.t("core.unknown_command", command=ctx.incoming.command[:40]), ctx.menu())
    else:
        ctx.reply(ctx.t("core.button_expired"))
    return False
