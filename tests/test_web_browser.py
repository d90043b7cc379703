"""The web chat page in a real headless Chromium (Debian's ``chromium``, driven by Playwright): a newcomer is
greeted, agrees with a click, gets a question answered, and submits a whole idea with a file, on a phone-sized
screen. The last screen is kept as ``var/artifacts/web_chat.png``.

``.ci/run`` installs Chromium; without it this test fails on CI, and elsewhere it is skipped saying why. If the
browser truly cannot be installed, ``LIDERES_BROWSER_UNAVAILABLE`` says why and the test is skipped with that.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.models import Submission
from tests.web_support import running_web_chat

CHROMIUM = os.environ.get("LIDERES_CHROMIUM", "/usr/bin/chromium")
ARTIFACT = PROJECT_ROOT / "var" / "artifacts" / "web_chat.png"


def _browser_or_skip() -> Any:
    unavailable = os.environ.get("LIDERES_BROWSER_UNAVAILABLE")
    if unavailable:
        pytest.skip(f"no browser on this machine: {unavailable}")
    missing = []
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        missing.append(f"Chromium ({CHROMIUM}; apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing.append("Playwright (pip install -e '.[dev]')")
        async_playwright = None
    if missing:
        reason = "the browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason + " (.ci/run installs them; set LIDERES_BROWSER_UNAVAILABLE to say why it cannot)")
        pytest.skip(reason)
    return async_playwright


def _chromium() -> str:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium") or CHROMIUM


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"web_rate": 600}  # this visitor types faster than a person: the limit is tested in test_web_chat.py


@pytest.fixture
async def page(app: Any) -> AsyncIterator[Any]:
    async_playwright = _browser_or_skip()
    async with running_web_chat(app) as chat, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="es-BO",
                                            device_scale_factor=1, is_mobile=True, has_touch=True)
        tab = await context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        await tab.goto(chat.base_url + "/")
        tab.errors = errors
        yield tab
        await browser.close()


async def say(page: Any, text: str, expect: str) -> None:
    """Type ``text``, press Enter, and wait for the bot's bubble containing ``expect``."""
    before = await page.locator(".bubble.bot").count()
    await page.get_by_label("Escribe un mensaje").fill(text)
    await page.keyboard.press("Enter")
    await page.locator(".bubble.bot").nth(before).wait_for()
    await page.locator(".bubble.bot", has_text=expect).last.wait_for()


async def click(page: Any, label: str, expect: str) -> None:
    await page.get_by_role("button", name=label, exact=False).last.click()
    await page.locator(".bubble.bot", has_text=expect).last.wait_for()


async def test_a_newcomer_asks_clicks_and_submits_an_idea_in_chromium(page, app, tmp_path):
    await page.locator(".bubble.bot", has_text="Soy el asistente de la red LÍDERES").wait_for()
    assert await page.locator("html").get_attribute("lang") == "es"
    await page.locator("#status", has_text="En línea").wait_for()
    await click(page, "✅ Acepto", "Elige una opción")
    await say(page, "¿Qué es la red LÍDERES?", "economía social")

    await click(page, "💡 Enviar una idea", "título")
    await say(page, "Huertos del Plan 3000", "problema")
    await say(page, "Las familias del Plan 3000 no tienen dónde cultivar y compran verdura cara y lejana.", "solución")
    await say(page, "Huertos comunitarios en terrenos baldíos, con riego por goteo y venta en ferias.", "benefician")
    await say(page, "60 familias del barrio", "región")
    await click(page, "Santa Cruz (Bolivia)", "Objetivos de Desarrollo Sostenible")
    bubbles = await page.locator(".bubble.bot").count()
    marked = page.locator(".bubble.bot").last.locator("button", has_text="✅")
    suggested = await marked.count()  # goals the bot suggests from the text, already marked
    assert 1 <= suggested <= 3
    await marked.first.click()  # unmark one: the same bubble is redrawn, with one mark less
    await page.get_by_role("button", name=f"✔️ Listo ({suggested - 1} marcados)").wait_for()
    assert await page.locator(".bubble.bot").count() == bubbles
    await click(page, "Listo", "etapa")
    await click(page, "Idea", "equipo")
    await say(page, "Ana Quispe y Luis Rojas", "contactamos")
    await say(page, "ana@ejemplo.org", "PDF")
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(b"%PDF-1.4\n% plan de huertos\n")
    await page.locator("#file").set_input_files(str(plan))
    await page.locator(".bubble.bot", has_text="Resumen de tu idea").last.wait_for()
    await click(page, "✅ Enviar la idea", "¡Tu idea ha sido enviada!")

    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    bottom = "log => { log.style.scrollBehavior = 'auto'; log.scrollTop = log.scrollHeight; }"
    await page.locator("#log").evaluate(bottom)  # the last answer in view, for the kept screen
    await page.screenshot(path=str(ARTIFACT))
    await page.screenshot(path=str(tmp_path / "web_chat.png"))
    async with app.sessions() as session:
        submission = await session.scalar(select(Submission))
    assert submission.status == "submitted" and submission.answers["title"] == "Huertos del Plan 3000"
    assert len(submission.answers["sdgs"]) == suggested - 1 or suggested == 1
    assert submission.answers["attachment"]["name"] == "plan.pdf"
    assert page.errors == []  # no script errors, nothing the CSP blocked

    await page.reload()  # the transcript is kept in the browser, and no second greeting comes
    await page.locator("#status", has_text="En línea").wait_for()
    assert await page.locator(".bubble.bot", has_text="¡Tu idea ha sido enviada!").count() == 1
    assert await page.locator(".bubble.bot", has_text="Soy el asistente de la red LÍDERES").count() == 1
