"""Feature routers: each module in ``handlers/`` registers its handlers, guards, main-menu items and content
loaders on its own ``Router`` (the way aiogram 3 routers do); the engine includes the routers and knows
no feature.

    router = Router("idea")

    @router.menu_item("idea", label="menu.idea", order=10)   # a main-menu button that runs this handler
    @router.command("idea", describe="cmd.idea", consent=True)
    async def start(ctx: Context) -> None: ...

    @router.button("idea")            # payloads "idea" and "idea:..." ("idea:send" may have its own route)
    @router.flow("idea")              # any message while the user's active flow is "idea"
    @router.fallback()                # free text outside any flow (small talk, then the FAQ)
    @router.guard("consent")          # a check other features' routes ask for by name (consent=True)
    @router.content_loader            # reads the feature's files at start-up and on every reload

A guard runs before the route's handler, in the handler's transaction; it returns True to let the handler
run, or answers the user itself and returns False. ``coordinator=True`` is the engine's own guard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.engine import Context

Handler = Callable[["Context"], Awaitable[None]]
Guard = Callable[["Context"], Awaitable[bool]]
Visible = Callable[["Context"], bool]

COORDINATOR = "coordinator"  # the engine's built-in guard: the caller's role, checked on every call
CONSENT = "consent"  # provided by the feature that asks for consent (handlers/start.py)
ADMIN = "admin"  # provided by the feature that manages roles (handlers/admin/roles.py): admins only


class Content(Protocol):
    """What a content loader builds (the knowledge base, the idea form). The engine keeps it by its type,
    so a handler asks for exactly the type it needs: ``ctx.content(KnowledgeBase)``."""

    def summary(self) -> dict[str, object]:
        """Counts and problems, for the log and for the reply to a reload."""
        ...


# Builds a feature's content from its files. ``previous`` is what the last load built (None at start-up), so
# a loader can keep it when the new files are broken. Runs off the event loop: it must not touch the engine.
ContentLoader = Callable[["Settings", "Content | None"], "Content"]


@dataclass(frozen=True)
class Route:
    handler: Handler
    guards: tuple[str, ...] = ()

    @property
    def coordinator_only(self) -> bool:
        return COORDINATOR in self.guards


@dataclass(frozen=True)
class Command:
    name: str
    route: Route
    describe: str | None  # catalog key of the command's line in /help

    @property
    def description_key(self) -> str | None:
        """The line in the platform's command menu, which every user sees: none for a coordinator command,
        whose line is in the coordinators' /help only."""
        return None if self.route.coordinator_only else self.describe


@dataclass(frozen=True)
class MenuItem:
    """One button of the main menu; pressing it (payload ``menu:<name>``) runs ``route``."""

    name: str
    label_key: str
    order: int
    route: Route
    visible: Visible | None = None  # beyond the route's role guard: e.g. only while a call is open

    def shown_to(self, ctx: Context) -> bool:
        if self.route.coordinator_only and not ctx.user.is_coordinator:
            return False
        return self.visible is None or self.visible(ctx)


def _guards(coordinator: bool, consent: bool, guards: Iterable[str]) -> tuple[str, ...]:
    """The role is checked first: a refused coordinator command must not ask a stranger for consent."""
    names = [COORDINATOR] if coordinator else []
    names += [CONSENT] if consent else []
    names += [name for name in guards if name not in names]
    return tuple(names)


class Router:
    """One feature's handlers, guards, menu items and content loaders."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: dict[str, Command] = {}
        self.buttons: dict[str, Route] = {}
        self.flows: dict[str, Route] = {}
        self.fallbacks: list[Route] = []
        self.guards: dict[str, Guard] = {}
        self.menu_items: list[MenuItem] = []
        self.content_loaders: list[ContentLoader] = []
        self._routes: dict[Handler, Route] = {}  # the route a handler was registered with, for menu items

    def _route(self, handler: Handler, guards: tuple[str, ...]) -> Route:
        route = Route(handler, guards)
        self._routes.setdefault(handler, route)
        return route

    def command(
        self,
        *names: str,
        describe: str | None = None,
        coordinator: bool = False,
        consent: bool = False,
        guards: Iterable[str] = (),
    ) -> Callable[[Handler], Handler]:
        """``describe`` is the catalog key of the command's line in /help and, unless it is a coordinator
        command, in the platform's command list; a coordinator command's line is shown to coordinators only."""

        def register(handler: Handler) -> Handler:
            route = self._route(handler, _guards(coordinator, consent, guards))
            for name in names:
                self.commands[name] = Command(name, route, describe if name == names[0] else None)
            return handler

        return register

    def button(
        self, prefix: str, *, coordinator: bool = False, consent: bool = False, guards: Iterable[str] = ()
    ) -> Callable[[Handler], Handler]:
        """Payloads equal to ``prefix`` or starting with ``prefix:``; the longest registered prefix wins."""

        def register(handler: Handler) -> Handler:
            self.buttons[prefix] = self._route(handler, _guards(coordinator, consent, guards))
            return handler

        return register

    def flow(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.flows[name] = self._route(handler, ())
            return handler

        return register

    def fallback(self) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.fallbacks.append(self._route(handler, ()))
            return handler

        return register

    def guard(self, name: str) -> Callable[[Guard], Guard]:
        def register(guard: Guard) -> Guard:
            self.guards[name] = guard
            return guard

        return register

    def menu_item(
        self, name: str, *, label: str, order: int, visible: Visible | None = None
    ) -> Callable[[Handler], Handler]:
        """Put the decorated handler in the main menu. Stack it above ``@command`` or ``@button`` so the
        button runs with that route's guards."""

        def register(handler: Handler) -> Handler:
            route = self._routes.get(handler) or self._route(handler, ())
            self.menu_items.append(MenuItem(name, label, order, route, visible))
            return handler

        return register

    def content_loader(self, loader: ContentLoader) -> ContentLoader:
        self.content_loaders.append(loader)
        return loader
