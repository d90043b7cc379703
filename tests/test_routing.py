"""Route guards, menu items from features, longest-prefix buttons, greetings, and reloads that do not stall
users: the engine knows no feature, and features know nothing of each other."""

from __future__ import annotations

import ast
import asyncio
import gc
import threading
import weakref

import pytest
from sqlalchemy import func, select

from bot.config import PROJECT_ROOT, Settings
from bot.db.models import Unanswered
from bot.engine import Context, Engine, freeze_heap
from bot.i18n import translate
from bot.messages import Incoming
from bot.router import Router
from handlers import FEATURES, all_routers

HANDLERS = PROJECT_ROOT / "handlers"


# -- the seams themselves ------------------------------------------------------------------------------


def test_no_feature_module_imports_another_feature():
    features = {name.split(".")[0] for name in FEATURES}
    for path in HANDLERS.rglob("*.py"):
        own = path.relative_to(HANDLERS).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("handlers."):
                other = node.module.split(".")[1]
                assert other == own or other not in features, f"{path.name} imports handlers.{other}"


def test_the_engine_holds_no_features_payloads_or_names():
    source = (PROJECT_ROOT / "bot" / "engine.py").read_text(encoding="utf-8")
    for feature in ("idea", "mentoring", "mysubmissions", "faq", "consent", "sources"):
        assert f'"{feature}' not in source and f"'{feature}" not in source, feature


async def test_a_new_feature_adds_its_menu_item_and_guard_without_touching_anything_else(app):
    router = Router("fair")

    @router.guard("has_region")
    async def has_region(ctx: Context) -> bool:
        if ctx.user.region:
            return True
        ctx.reply("first tell me your region")
        return False

    @router.menu_item("fair", label="menu.help", order=5)
    @router.command("fair", guards=("has_region",))
    async def fair(ctx: Context) -> None:
        ctx.reply("the honey fair")

    @router.menu_item("fair_admin", label="menu.title", order=99)
    @router.command("fair_admin", coordinator=True)
    async def fair_admin(ctx: Context) -> None:
        ctx.reply("fair figures")

    engine = Engine(app.settings, app.sessions, [*all_routers(), router], clock=app.clock)
    engine.load_content()

    async def send(user: str, **what: str) -> list[str]:
        replies = await engine.handle(Incoming(channel="test", user_id=user, language="es", **what))
        return [r.text for r in replies] + [b.payload for r in replies for b in r.button_list]

    menu = await send("ana", text="/menu")
    assert menu[1] == "menu:fair" and "menu:idea" in menu and "menu:fair_admin" not in menu  # order 5 first
    assert await send("ana", payload="menu:fair") == ["first tell me your region"]  # the route's guard ran
    assert await send("ana", payload="menu:fair_admin") == [translate("core.button_expired", "es")]  # not shown
    assert "menu:fair_admin" in await send("coord", text="/menu")  # a coordinator sees it
    assert await send("coord", payload="menu:fair_admin") == ["fair figures"]


def test_a_route_asking_for_a_guard_nobody_provides_fails_at_start_up(app):
    router = Router("broken")

    @router.command("broken", guards=("paid_member",))
    async def broken(ctx: Context) -> None: ...

    with pytest.raises(ValueError, match="paid_member"):
        Engine(app.settings, app.sessions, [router], clock=app.clock)


async def test_the_longest_registered_button_prefix_wins(app):
    router = Router("prefixes")

    @router.button("x")
    async def general(ctx: Context) -> None:
        ctx.reply("general")

    @router.button("x:special")
    async def special(ctx: Context) -> None:
        ctx.reply("special")

    engine = Engine(app.settings, app.sessions, [router], clock=app.clock)

    async def press(payload: str) -> str:
        return (await engine.handle(Incoming(channel="test", user_id="ana", payload=payload)))[0].text

    assert [await press(p) for p in ("x", "x:other", "x:special", "x:special:7", "x:specialty")] == [
        "general", "general", "special", "special", "general"]


# -- consent as a property of the route ----------------------------------------------------------------


async def test_a_consent_route_asks_first_and_continue_does_what_was_asked(bot):
    await bot.send("/mentoring")
    assert "¿Estás de acuerdo?" in bot.last_text and "Cuéntame" not in bot.last_text
    await bot.press("Acepto")
    await bot.press("Continuar")
    assert "Cuéntame en un mensaje qué mentoría" in bot.last_text  # /mentoring ran, now with consent


async def test_a_menu_press_without_consent_continues_to_that_item(bot):
    await bot.send("/start")
    await bot.send(payload="menu:mysubmissions")  # a menu from an earlier message (e.g. a greeting)
    assert "¿Estás de acuerdo?" in bot.last_text
    await bot.press("Acepto")
    await bot.press("Continuar")
    assert "Todavía no has presentado ninguna idea" in bot.last_text


# -- greetings and thanks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, lang, expected, menu",
    [
        ("hola", "es", "¡Hola Ana!", True),
        ("Buenas tardes!!", "es", "¡Hola Ana!", True),
        ("holaaa 👋", "es", "¡Hola Ana!", True),
        ("hi", "en", "Hi Ana!", True),
        ("gracias", "es", "¡Con gusto!", False),
        ("ok gracias", "es", "¡Con gusto!", False),
        ("thanks a lot", "en", "You're welcome!", False),
        ("ok", "es", "👍", False),
        ("chao", "es", "¡Hasta pronto!", False),
        ("Sí, acepto", "es", "👍", False),  # the consent typed again, once given: not a FAQ best guess
        ("I agree", "en", "👍", False),
    ],
)
async def test_greetings_and_thanks_get_a_friendly_answer_and_never_reach_the_coordinators(
    bot, text, lang, expected, menu
):
    await bot.onboard(lang=lang)
    await bot.send(text, lang=lang)
    assert bot.last_text.startswith(expected)
    assert bool(bot.labels()) == menu
    async with bot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Unanswered)) == 0


async def test_a_question_that_starts_with_a_greeting_is_a_question(bot):
    await bot.onboard()
    await bot.send("hola, ¿cuánto costó la iniciativa en total?")
    assert "¡Hola" not in bot.last_text


async def test_thanks_after_an_offer_to_pass_a_question_on_is_thanks(bot):
    await bot.onboard()
    await bot.send("¿a qué hora abre la oficina de correos de Reykjavik?")
    assert bot.find_button("faq:forward")
    await bot.send("gracias")
    assert bot.last_text.startswith("¡Con gusto!")


# -- reloads do not stall users ------------------------------------------------------------------------


class SlowContent:
    def __init__(self, version: int) -> None:
        self.version = version

    def summary(self) -> dict[str, object]:
        return {"slow_version": self.version}


async def test_a_reload_builds_off_the_event_loop_while_users_are_answered(app):
    release = threading.Event()
    builds: list[int] = []
    router = Router("slow")

    @router.content_loader
    def load(_settings: Settings, previous: object | None) -> SlowContent:
        version = previous.version + 1 if isinstance(previous, SlowContent) else 1
        if version > 1:
            assert threading.current_thread() is not threading.main_thread()
            release.wait(30)  # a 10,000-entry rebuild takes seconds
        builds.append(version)
        return SlowContent(version)

    @router.command("version")
    async def version(ctx: Context) -> None:
        ctx.reply(str(ctx.content(SlowContent).version))

    engine = Engine(app.settings, app.sessions, [router], clock=app.clock)
    engine.load_content()
    reload = asyncio.create_task(engine.reload_content())
    while not builds and not reload.done():
        answered = await engine.handle(Incoming(channel="test", user_id="ana", text="/version"))
        assert answered[0].text == "1"  # answered from the old content while the new one is built
        release.set()
        await asyncio.sleep(0)
    assert (await reload)["slow_version"] == 2
    assert (await engine.handle(Incoming(channel="test", user_id="ana", text="/version")))[0].text == "2"


class CyclicContent(SlowContent):
    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.itself = self  # a cycle, as an index's cross-references make: only the cyclic collector frees it


async def test_content_frozen_at_start_up_is_freed_by_a_reload(app):
    router = Router("cyclic")

    @router.content_loader
    def load(_settings: Settings, previous: object | None) -> CyclicContent:
        return CyclicContent(previous.version + 1 if isinstance(previous, CyclicContent) else 1)

    engine = Engine(app.settings, app.sessions, [router], clock=app.clock)
    engine.load_content()
    first = weakref.ref(engine.content(CyclicContent))
    freeze_heap()  # as `lideres run` does once started
    try:
        assert (await engine.reload_content())["slow_version"] == 2
        gc.collect()
        assert first() is None  # not kept for the life of the process by the freeze
        assert gc.get_freeze_count() > 0  # and the new content is frozen in its place
    finally:
        gc.unfreeze()


def test_every_menu_item_has_its_label_in_both_languages():
    for router in all_routers():
        for item in router.menu_items:
            for lang in ("es", "en"):
                assert translate(item.label_key, lang) != item.label_key, (router.name, item.name, lang)
