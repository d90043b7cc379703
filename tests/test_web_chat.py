"""The web chat over real HTTP and WebSocket on loopback, the way a browser talks to it (cookie jar, Origin),
on SQLite and PostgreSQL: the page, the visitor cookie, conversations, the outbox reaching an open or a closed
page, uploads, and what bad input gets. The page itself runs in Chromium in tests/test_web_browser.py."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.channels.buttons import ButtonCodec
from bot.channels.web.identity import web_secret
from bot.db.models import User, WebMailbox
from bot.messages import Attachment, Reply
from tests.fake_telegram import VirtualTimer
from tests.web_support import Visitor, running_web_chat


@pytest.fixture
async def chat(app: Any, timer: VirtualTimer) -> AsyncIterator[Any]:
    async with running_web_chat(app, timer) as running:
        yield running


@pytest.fixture
async def ana(chat: Any) -> AsyncIterator[Visitor]:
    visitor = Visitor(chat.base_url)
    await visitor.open_page()
    yield visitor
    await visitor.close()


async def test_the_page_speaks_the_browsers_language_and_sets_a_signed_httponly_cookie(chat):
    async with aiohttp.ClientSession() as http:
        async with http.get(chat.base_url + "/", headers={"Accept-Language": "en-GB,en;q=0.9"}) as response:
            page = await response.text()
            cookie = response.headers["Set-Cookie"]
            csp = response.headers["Content-Security-Policy"]
        async with http.get(chat.base_url + "/", headers={"Accept-Language": "fr-FR,es;q=0.8"}) as response:
            spanish = await response.text()
        async with http.get(chat.base_url + "/chat/static/chat.js") as response:
            assert response.status == 200 and "WebSocket" in await response.text()
    assert '<html lang="en">' in page and "Type a message" in page and "LÍDERES network" in page
    assert '<html lang="es">' in spanish and "Escribe un mensaje" in spanish
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and cookie.startswith("lideres_visitor=v-")
    assert "script-src 'self'" in csp


async def test_a_fresh_page_is_greeted_and_a_question_answered(chat, ana, app):
    await ana.connect(fresh=True)
    welcome, consent = await ana.wait_messages(2)
    ready = ana.frames[0]
    assert ready["type"] == "ready" and ready["lang"] == "es" and ready["strings"]["page.send"] == "Enviar"
    assert "LÍDERES" in welcome["text"] and [b["label"] for b in welcome["buttons"][0]] == ["Español", "English"]
    assert consent["buttons"][0][0]["label"] == "✅ Acepto"
    await ana.press("Acepto")
    menu = (await ana.wait_messages(3))[2]
    assert "💡 Enviar una idea" in [b["label"] for row in menu["buttons"] for b in row]
    await ana.say("¿Qué es la red LÍDERES?")
    answer = (await ana.wait_messages(4))[3]
    assert "economía social" in answer["text"]
    async with app.sessions() as session:
        user = await session.scalar(select(User).where(User.channel == "web"))
    assert user.external_id.startswith("v-") and user.consent_at is not None


async def test_the_cookie_brings_the_same_visitor_back(chat, ana, app):
    await ana.connect(fresh=True)
    await ana.wait_messages(2)
    await ana.press("English")
    await ana.wait_for(lambda: any("English" in t or "language" in t.lower() for t in ana.texts[2:]))
    await ana.ws.close()
    await ana.connect(fresh=False)  # the page reloaded: its transcript is in the browser, no new greeting
    await ana.wait_for(lambda: sum(f["type"] == "ready" for f in ana.frames) == 2)
    assert ana.frames[-1]["lang"] == "en" and ana.frames[-1]["strings"]["page.send"] == "Send"
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_no_cookie_a_forged_one_or_another_origin_is_refused(chat, ana):
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(chat.base_url + "/chat/ws")
        assert refused.value.status == 403
        forged = {"lideres_visitor": "v-someoneelse.AAAAAAAAAAAAAAAAAAAAAAAA"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(chat.base_url + "/chat/ws", headers={"Cookie": "; ".join(
                f"{k}={v}" for k, v in forged.items())})
        assert refused.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await ana.connect(origin="https://evil.example")
    assert refused.value.status == 403


async def test_bad_frames_are_refused_with_a_notice_and_a_log_line(chat, ana, app, caplog, seen):
    caplog.set_level(logging.INFO, logger="bot.web")
    await ana.connect(fresh=False)
    await ana.send("{not json")
    await ana.send(json.dumps(["a", "list"]))
    await ana.send({"type": "teleport"})
    await ana.send({"type": "text", "text": "x" * 5000})
    await ana.send({"type": "button", "data": "forged-by-hand"})
    await ana.wait_for(lambda: len(ana.notices) == 5)
    assert ana.notices[0] == "No pude leer ese mensaje. Escribe tu pregunta o usa los botones."
    assert "máximo es 4096 caracteres" in ana.notices[3] and "caducó" in ana.notices[4]
    assert seen == []
    await ana.send("y" * (70 * 1024))  # over the frame limit: the server closes the socket
    await ana.wait_for(lambda: ana.ws.closed)
    assert ana.ws.close_code == 1009
    events = [r.getMessage() for r in caplog.records]
    assert any("not a JSON object" in e for e in events) and any("unknown frame type" in e for e in events)
    assert any("over the limit refused" in e for e in events)
    assert any("over the size limit" in e or "bad frame" in e for e in events)


async def test_messages_per_visitor_are_rate_limited(chat, ana, app, timer):
    await ana.connect(fresh=False)
    for n in range(12):
        await ana.say(f"/help {n}")
    await ana.wait_for(lambda: len(ana.notices) == 2)
    await ana.wait_for(lambda: sum("Puedo ayudarte" in t for t in ana.texts) == 10)  # a burst of ten
    assert all("Vas muy rápido" in notice for notice in ana.notices)
    timer.now += 60  # a minute later there is room again
    await ana.say("/help")
    await ana.wait_for(lambda: sum("Puedo ayudarte" in t for t in ana.texts) == 11)
    await app.engine.join()
    assert sum("Puedo ayudarte" in t for t in ana.texts) == 11 and len(ana.notices) == 2


async def test_outbox_messages_reach_an_open_page_at_once_and_a_closed_one_at_the_next_visit(chat, ana, app, clock):
    await ana.connect(fresh=True)
    await ana.wait_messages(2)
    async with app.sessions() as session:
        visitor = await session.scalar(select(User.external_id).where(User.channel == "web"))
    refs = await app.outputs["web"].send(visitor, [Reply(text="Un coordinador respondió tu pregunta.")])
    assert refs == ["web:shown"]
    await ana.wait_for(lambda: ana.texts[-1] == "Un coordinador respondió tu pregunta.")
    await ana.ws.close()
    await ana.wait_for(lambda: ana.reader.done())
    export = Attachment("document", filename="ideas.csv", mime_type="text/csv", data=b"id,title\n1,Miel\n")
    refs = await app.outputs["web"].send(visitor, [Reply(text="Recordatorio: mentoría mañana", document=export)])
    assert refs[0].startswith("web:mailbox:")
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebMailbox)) == 1
    before = len(ana.messages)
    await ana.connect(fresh=False)
    (waiting,) = (await ana.wait_messages(before + 1))[before:]
    assert waiting["text"] == "Recordatorio: mentoría mañana" and waiting["document"]["name"] == "ideas.csv"
    async with ana.http.get(chat.base_url + waiting["document"]["url"]) as response:
        assert response.status == 200 and await response.read() == b"id,title\n1,Miel\n"
        assert response.headers["Content-Disposition"].startswith("attachment")
    async with aiohttp.ClientSession() as stranger:  # another visitor cannot download it
        await stranger.get(chat.base_url + "/")
        async with stranger.get(chat.base_url + waiting["document"]["url"]) as response:
            assert response.status == 404
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebMailbox)) == 0  # shown once


async def test_an_upload_is_a_message_with_an_attachment(chat, ana, app):
    await ana.connect(fresh=False)
    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.4 plan", filename="../../plan de negocio.pdf", content_type="application/pdf")
    async with ana.http.post(chat.base_url + "/chat/upload", data=form, headers={"Origin": chat.base_url}) as response:
        assert response.status == 200 and (await response.json())["name"] == "plan de negocio.pdf"
    await ana.wait_for(lambda: any("archivo" in t for t in ana.texts))  # not expected now: a polite answer
    big = aiohttp.FormData()
    big.add_field("file", b"0" * (21 * 1024 * 1024), filename="video.mp4", content_type="video/mp4")
    async with ana.http.post(chat.base_url + "/chat/upload", data=big, headers={"Origin": chat.base_url}) as response:
        assert response.status == 413 and "20 MB" in (await response.json())["error"]
    async with ana.http.post(chat.base_url + "/chat/upload", data=aiohttp.FormData({"file": "x"}),
                             headers={"Origin": "https://evil.example"}) as response:
        assert response.status == 403


SHORT_DATA = 20  # bytes of a button's data here: "menu:mysubmissions" no longer fits, so it travels as a key


async def test_a_long_button_payload_is_pressed_after_a_restart_and_a_forged_key_expires(app, clock, timer):
    async with running_web_chat(app, timer, button_limit=SHORT_DATA) as chat:
        ana = Visitor(chat.base_url)
        await ana.open_page()
        await ana.connect(fresh=True)
        await ana.wait_messages(2)
        await ana.press("Acepto")
        menu = (await ana.wait_messages(3))[2]
    data = next(b["data"] for row in menu["buttons"] for b in row if "Mis ideas" in b["label"])
    assert data[8] == "~" and "mysubmissions" not in data  # the key of a stored payload, not the payload

    restarted = await App.create(app.settings, clock=clock, migrate=False)  # another process: memory is gone
    try:
        async with running_web_chat(restarted, timer, button_limit=SHORT_DATA) as chat:
            ana.base_url = chat.base_url
            await ana.connect(fresh=False)  # the page reconnects to the new process
            await ana.wait_for(lambda: sum(f["type"] == "ready" for f in ana.frames) == 2)
            await ana.press("Mis ideas")
            await ana.wait_for(lambda: len(ana.messages) == 4 or ana.notices)
            assert ana.notices == [] and "Todavía no has presentado ninguna idea" in ana.messages[3]["text"]

            forged = data[:-1] + ("A" if data[-1] != "A" else "B")
            unsaved = ButtonCodec(web_secret(restarted.settings), purpose="web", limit=SHORT_DATA)  # no database
            never_saved = unsaved.encode("menu:never-saved")  # signed as ours, but its payload was never stored
            assert never_saved[8] == "~"
            for pressed in (forged, never_saved):
                await ana.send({"type": "button", "data": pressed})
            await ana.wait_for(lambda: len(ana.notices) == 2)
            assert set(ana.notices) == {"Este botón ya caducó. Usa /menu para ver las opciones actuales."}
            assert len(ana.messages) == 4
    finally:
        await ana.close()
        await restarted.close()
