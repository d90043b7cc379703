"""WhatsApp's rules without a network: how replies are laid out within the Cloud API's limits, how labels are
shortened without losing their meaning, how webhook bodies are read and signatures checked."""

from __future__ import annotations

import hashlib
import hmac

from bot.channels.buttons import ButtonCodec
from bot.channels.text import shorten, units
from bot.channels.whatsapp.channel import signature_matches
from bot.channels.whatsapp.convert import button_ids, parse_body, pseudonym
from bot.channels.whatsapp.render import plan
from bot.i18n import translate
from bot.messages import Attachment, Button, Reply, rows

CODEC = ButtonCodec("secret", purpose="whatsapp", limit=200)


def t(key: str) -> str:
    return translate(key, "es")


def buttons(*labels: str) -> tuple[tuple[Button, ...], ...]:
    return rows(*(Button(label, f"p:{i}") for i, label in enumerate(labels)))


def test_up_to_three_short_labels_are_reply_buttons():
    reply = Reply("¿Estás de acuerdo?", buttons("✅ Acepto", "Más sobre privacidad"))
    (message,) = plan([reply], CODEC.encode, t).messages
    assert message["interactive"]["type"] == "button"
    titles = [b["reply"]["title"] for b in message["interactive"]["action"]["buttons"]]
    assert titles == ["✅ Acepto", "Más sobre privacidad"]
    ids = [b["reply"]["id"] for b in message["interactive"]["action"]["buttons"]]
    assert [CODEC.decode(i) for i in ids] == ["p:0", "p:1"]  # signed, and read back


def test_a_label_too_long_loses_its_emoji_first_then_goes_to_a_list_whole():
    (short,) = plan([Reply("Tema", buttons("✏️ Beneficiarios", "⬅️ Atrás"))], CODEC.encode, t).messages
    assert [b["reply"]["title"] for b in short["interactive"]["action"]["buttons"]] == ["✏️ Beneficiarios",
                                                                                         "⬅️ Atrás"]
    (long,) = plan([Reply("Tema", buttons("Continuar «Huertos comunitarios del Plan 3000»", "Nueva"))],
                   CODEC.encode, t).messages
    assert long["interactive"]["type"] == "list"  # no cut words on a reply button: a list keeps it whole
    row = long["interactive"]["action"]["sections"][0]["rows"][0]
    assert units(row["title"]) <= 24 and row["title"].endswith("…") and "Continuar" in row["title"]
    assert row["description"] == "Continuar «Huertos comunitarios del Plan 3000»"


def test_four_to_ten_buttons_are_a_list_and_more_are_numbered_across_replies():
    (menu,) = plan([Reply("Menú", buttons(*[f"Opción {i}" for i in range(10)]))], CODEC.encode, t).messages
    assert menu["interactive"]["type"] == "list" and menu["interactive"]["action"]["button"] == "Ver opciones"
    planned = plan([Reply("Elige", buttons(*[f"ODS {i}" for i in range(1, 18)])),
                    Reply("O bien", buttons(*[f"Otra {i}" for i in range(11)]))], CODEC.encode, t)
    assert planned.numbered == [f"p:{i}" for i in range(17)] + [f"p:{i}" for i in range(11)]
    first, second = (m["text"]["body"] for m in planned.messages)
    assert "1. ODS 1" in first and "17. ODS 17" in first and "Responde con el número" in first
    assert "18. Otra 0" in second  # numbers run on, so "3" is never ambiguous


def test_two_buttons_doing_the_same_are_shown_once():
    again = Button("▶️ Continuar", "menu:idea")
    menu = (Button("💡 Enviar una idea", "menu:idea"), Button("Ayuda", "menu:help"))
    reply = Reply("¡Gracias!", ((again,), menu))
    (message,) = plan([reply], CODEC.encode, t).messages
    titles = [b["reply"]["title"] for b in message["interactive"]["action"]["buttons"]]
    assert titles == ["▶️ Continuar", "Ayuda"]  # WhatsApp refuses two buttons with one id


def test_long_texts_split_and_the_buttons_come_with_the_last_part():
    text = "\n\n".join(f"Párrafo {i}. " + "palabra " * 150 for i in range(6))
    messages = plan([Reply(text, buttons("Sí", "No"))], CODEC.encode, t).messages
    *texts, last = messages
    assert all(m["type"] == "text" and len(m["text"]["body"]) <= 4096 for m in texts)
    assert last["type"] == "interactive" and len(last["interactive"]["body"]["text"]) <= 1024
    body = "\n\n".join([*(m["text"]["body"] for m in texts), last["interactive"]["body"]["text"]])
    assert body.count("Párrafo") == 6


def test_files_carry_the_text_as_caption_when_it_fits():
    export = Attachment("document", filename="ideas.csv", mime_type="text/csv", data=b"id\n1\n")
    planned = plan([Reply("Tu exportación", document=export, buttons=buttons("OK"))], CODEC.encode, t)
    media, choose = planned.messages
    assert (media.kind, media.caption) == ("document", "Tu exportación")
    assert choose["interactive"]["body"]["text"] == "Elige una opción:"


def test_shorten_keeps_whole_words():
    assert shorten("Huertos comunitarios del Plan 3000", 24) == "Huertos comunitarios…"
    assert shorten("Huertos comunitarios del Plan 3000", 20) == "Huertos comunitario…"  # a word would keep too little
    assert shorten("Supercalifragilisticoespialidoso", 10) == "Supercali…"
    assert shorten("Corto", 20) == "Corto"


def test_signature_is_checked_on_the_raw_body():
    body = b'{"object":"whatsapp_business_account"}'
    good = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert signature_matches(b"k", body, good)
    assert not signature_matches(b"k", body + b" ", good)
    assert not signature_matches(b"other", body, good)
    assert not signature_matches(b"k", body, good.replace("sha256", "sha1"))
    assert not signature_matches(b"k", body, "")


def test_bodies_are_read_item_by_item():
    value = {"metadata": {"phone_number_id": "1"}, "contacts": [{"wa_id": "591", "profile": {"name": "Ana"}}],
             "messages": [
                 {"from": "591", "id": "wamid.A", "type": "text", "text": {"body": "hola"}},
                 {"from": "591", "id": "wamid.B", "type": "interactive",
                  "interactive": {"type": "list_reply", "list_reply": {"id": CODEC.encode("menu:idea"), "title": "x"}}},
                 {"from": "591", "id": "wamid.C", "type": "interactive",
                  "interactive": {"type": "button_reply", "button_reply": {"id": "forged", "title": "x"}}},
                 {"from": "591", "id": "wamid.D", "type": "image", "image": {"id": "77", "mime_type": "image/jpeg",
                                                                             "caption": "foto"}},
                 {"from": "591", "id": "wamid.E", "type": "text"},  # no text: skipped, the others stay
             ],
             "statuses": [{"id": "wamid.OUT", "status": "failed", "recipient_id": "591",
                           "errors": [{"code": 131047, "title": "Re-engagement message"}]},
                          {"id": "wamid.OUT", "status": "exploded"}]}
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": value}]}]}
    parsed = parse_body(body, "1", CODEC)
    text, pressed, forged, image = parsed.messages
    assert text.incoming is not None and (text.incoming.text, text.incoming.display_name) == ("hola", "Ana")
    assert pressed.incoming is not None and pressed.incoming.payload == "menu:idea"
    assert forged.incoming is None and forged.notice == "core.button_expired"
    assert image.incoming is not None and image.incoming.attachment is not None
    assert (image.incoming.attachment.kind, image.incoming.attachment.file_ref, image.incoming.text) == (
        "photo", "77", "foto")
    (receipt,) = parsed.receipts
    assert (receipt.status, receipt.code, receipt.recipient) == ("failed", 131047, "591")
    assert parsed.skipped == 2


def test_logs_name_users_by_a_keyed_hash():
    assert pseudonym(b"k", "59170012345") == pseudonym(b"k", "59170012345") != pseudonym(b"j", "59170012345")
    assert "59170012345" not in pseudonym(b"k", "59170012345")


def test_the_button_ids_of_a_body_are_found_for_the_codec_to_load_before_it_decodes():
    def press(kind: str, content: dict[str, object]) -> dict[str, object]:
        return {"from": "591", "id": f"wamid.{kind}", "type": kind, kind: content}

    ours = {"metadata": {"phone_number_id": "1"}, "messages": [
        press("interactive", {"type": "button_reply", "button_reply": {"id": "b1", "title": "x"}}),
        press("interactive", {"type": "list_reply", "list_reply": {"id": "r1", "title": "x"}}),
        press("button", {"payload": "t1", "text": "Sí"}),  # a template's quick reply
        press("text", {"body": "b2"}), press("interactive", {"type": "nfm_reply"}), "not a message"]}
    other = {"metadata": {"phone_number_id": "2"}, "messages": [
        press("interactive", {"type": "button_reply", "button_reply": {"id": "elsewhere", "title": "x"}})]}
    body = {"object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": ours}, {"field": "messages", "value": other}]}]}
    assert button_ids(body, "1") == ["b1", "r1", "t1"]
    assert button_ids({**body, "object": "page"}, "1") == [] and button_ids(["x"], "1") == []
