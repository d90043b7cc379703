"""Messages are stored losslessly: every field of ``Reply`` and ``Incoming`` survives the JSON round trip
(outbox rows, the update journal), so a retried document is still a document."""

from __future__ import annotations

import json
from dataclasses import fields

from bot.channels.telegram.convert import Inbound, from_record, to_record
from bot.messages import Attachment, Button, Incoming, Reply, dump_incoming, dump_reply, load_incoming, load_reply
from bot.services.outbox import record_undelivered

DOCUMENT = Attachment("document", "", "export.xlsx", "application/vnd.ms-excel", 4, b"\x00\xffPK")
PICTURE = Attachment("photo", "https://example.org/chart.png", "chart.png", "image/png", 1234, None)


def every_field_set(instance: object) -> None:
    """Fails when a field still has its default: the round trip must be tried with every field filled."""
    for f in fields(instance):  # type: ignore[arg-type]
        value = getattr(instance, f.name)
        assert value not in (None, (), "", False), f"{type(instance).__name__}.{f.name} is not set in the test"


def test_a_reply_with_every_field_comes_back_equal_through_json():
    defaults = {f.name for f in fields(Reply)}
    reply = Reply(
        text="Tu exportación",
        buttons=((Button("Sí", "a:1"), Button("No", "a:2")), (Button("Menú", "menu:help"),)),
        document=DOCUMENT,
        picture=PICTURE,
        edit=True,
        **({"link_preview": False} if "link_preview" in defaults else {}),
    )
    for name in defaults - {"link_preview"}:
        assert getattr(reply, name) not in (None, (), "", False), name
    stored = json.loads(json.dumps(dump_reply(reply)))  # what a JSON column gives back
    assert load_reply(stored) == reply
    assert load_reply(stored).document.data == b"\x00\xffPK"


def test_an_incoming_with_every_field_comes_back_equal_through_json():
    sent_file = Attachment("document", "BQACAgIAAxkBAAI", "plan.pdf", "application/pdf", 4, b"%PDF")
    incoming = Incoming(
        channel="telegram", user_id="1001", text="mi plan", payload="idea:skip", attachment=sent_file,
        message_id="77", display_name="Ana", language="es",
    )
    every_field_set(incoming)
    every_field_set(sent_file)
    assert load_incoming(json.loads(json.dumps(dump_incoming(incoming)))) == incoming


def test_replies_stored_before_this_format_still_load():
    old = {"text": "hola", "buttons": [[{"label": "Menú", "payload": "menu:help"}]]}
    assert load_reply(old) == Reply(text="hola", buttons=((Button("Menú", "menu:help"),),))


def test_the_telegram_journal_keeps_the_attachment_of_an_update():
    incoming = Incoming(channel="telegram", user_id="5", attachment=PICTURE, message_id="9", language="en")
    record = json.loads(json.dumps(to_record(Inbound(chat_id=5, user_id="5", language="en", incoming=incoming,
                                                     callback_id="cb"))))
    again = from_record(record)
    assert again.incoming == incoming and again.callback_id == "cb" and again.chat_id == 5


async def test_a_retried_document_is_still_a_document(bot, clock):
    await bot.onboard()
    reply = Reply(text="Tu exportación", document=DOCUMENT)
    await record_undelivered(bot.app.sessions, "test", "ana", [reply], "timeout", retryable=True, now=clock.now())
    clock.advance(minutes=2)
    assert await bot.app.outbox.send_due() == 1
    [sent] = bot.output.to("ana")
    assert sent == reply and sent.document is not None and sent.document.data == b"\x00\xffPK"
