"""The Telegram channel's rules that need no network: text splitting, reply plans, signed button data, the
rate limiter on a virtual clock."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.channels.buttons import LIMIT, ButtonCodec
from bot.channels.journal import Intake
from bot.channels.pacing import RateLimiter
from bot.channels.telegram.convert import DOWNLOAD_LIMIT, to_inbound
from bot.channels.telegram.render import CAPTION_LIMIT, TEXT_LIMIT, plan, split_text, units
from bot.messages import Attachment, Button, Reply
from tests.fake_telegram import VirtualTimer

# -- splitting -------------------------------------------------------------------------------------------


def test_short_text_is_one_piece():
    assert split_text("hola") == ["hola"]
    assert split_text("x" * TEXT_LIMIT) == ["x" * TEXT_LIMIT]


def test_long_text_splits_on_paragraphs_and_loses_nothing():
    paragraphs = [f"Párrafo {i}: " + "palabra " * 150 for i in range(20)]
    text = "\n\n".join(paragraphs)
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(units(piece) <= TEXT_LIMIT for piece in pieces)
    assert "\n\n".join(pieces) == text  # cut only between paragraphs
    assert all(piece.startswith("Párrafo") for piece in pieces)


def test_a_huge_paragraph_splits_on_lines_then_hard_cut():
    lines = "\n".join(f"línea {i} " + "y" * 300 for i in range(40))
    pieces = split_text(lines)
    assert all(units(p) <= TEXT_LIMIT for p in pieces)
    assert "\n".join(pieces) == lines
    blob = "z" * 10_000
    pieces = split_text(blob)
    assert [len(p) for p in pieces] == [4096, 4096, 1808]


def test_limits_are_counted_in_utf16_units_and_emoji_are_not_cut():
    text = "🦄" * 3000  # 6000 UTF-16 units
    pieces = split_text(text)
    assert all(units(p) <= TEXT_LIMIT for p in pieces)
    assert "".join(pieces) == text
    assert len(pieces) == 2


# -- plans ------------------------------------------------------------------------------------------------


YES = Button("Sí", "consent:yes")


def test_buttons_go_on_the_last_piece_and_edit_only_once():
    long = "\n\n".join(["a" * 3000] * 3)
    steps = plan([Reply(long, ((YES,),), edit=True), Reply("más", edit=True)], can_edit=True)
    assert [s.method for s in steps] == ["edit_message_text", "send_message", "send_message", "send_message"]
    assert [bool(s.buttons) for s in steps] == [False, False, True, False]


def test_edit_needs_a_pressed_message():
    assert [s.method for s in plan([Reply("x", edit=True)])] == ["send_message"]


def test_files_take_the_text_as_caption_when_it_fits():
    doc = Attachment("document", data=b"%PDF", filename="export.csv")
    steps = plan([Reply("Tu exportación", ((YES,),), document=doc)])
    assert [(s.method, s.text, bool(s.buttons)) for s in steps] == [("send_document", "Tu exportación", True)]
    steps = plan([Reply("c" * (CAPTION_LIMIT + 1), document=doc, picture=Attachment("photo", "PHOTO1"))])
    assert [(s.method, s.text) for s in steps] == [
        ("send_message", "c" * (CAPTION_LIMIT + 1)), ("send_document", ""), ("send_photo", "")]


def test_empty_text_is_skipped_unless_it_carries_buttons():
    assert plan([Reply("  ")]) == []
    assert [s.text for s in plan([Reply("", ((YES,),))])] == ["…"]


# -- button data ------------------------------------------------------------------------------------------


def test_callback_data_round_trips_and_fits_in_64_bytes():
    codec = ButtonCodec("123:abc")
    for payload in ["consent:yes", "menu:idea", "lang:es", "ñ" * 20, "idea:field:" + "x" * 200, ""]:
        data = codec.encode(payload)
        assert len(data.encode()) <= LIMIT
        assert codec.decode(data) == payload


def test_forged_or_foreign_callback_data_is_refused():
    codec = ButtonCodec("123:abc")
    good = codec.encode("consent:yes")
    assert codec.decode(good[:-1] + "x") is None  # payload changed
    assert codec.decode("A" * 8 + "=consent:yes") is None  # made-up signature
    assert codec.decode(ButtonCodec("999:other").encode("consent:yes")) is None  # another bot's token
    assert codec.decode(None) is None and codec.decode("") is None and codec.decode("short") is None
    restarted = ButtonCodec("123:abc")
    assert restarted.decode(good) == "consent:yes"  # inline payloads survive a restart
    long = codec.encode("idea:" + "x" * 100)
    assert restarted.decode(long) is None  # a stored long payload does not: it reads as expired


# -- rate limiter -----------------------------------------------------------------------------------------


async def test_a_reply_leaves_at_once_and_sustained_sending_is_one_a_second_per_chat():
    timer = VirtualTimer()
    limiter = RateLimiter(timer, burst=3)
    times = []
    for _ in range(6):
        await limiter.acquire(1)
        times.append(timer.monotonic())
    assert times == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]  # a burst of three, then one a second
    await limiter.acquire(2)
    assert timer.monotonic() == 3.0  # another chat has its own bucket
    timer.now += 10  # an idle chat earns its burst back, never more
    start = timer.monotonic()
    for _ in range(4):
        await limiter.acquire(1)
    assert timer.monotonic() - start == 1.0


async def test_a_fractional_overall_rate_spaces_every_send():
    timer = VirtualTimer()
    limiter = RateLimiter(timer, overall=0.5, per_chat=0)
    for chat in range(3):
        await limiter.acquire(chat)
    assert timer.monotonic() == 4.0  # 0.5 a second: one every 2 s


async def test_thirty_per_second_overall():
    timer = VirtualTimer()
    limiter = RateLimiter(timer, overall=30)
    starts: list[float] = []

    async def one(chat: int) -> None:
        await limiter.acquire(chat)
        starts.append(timer.monotonic())

    await asyncio.gather(*(one(chat) for chat in range(95)))
    starts.sort()
    for i in range(len(starts) - 30):
        assert starts[i + 30] - starts[i] >= 1.0, i
    assert starts[29] == 0.0  # the first 30 need no wait


async def test_a_429_pauses_everyone_for_retry_after():
    timer = VirtualTimer()
    limiter = RateLimiter(timer)
    await limiter.acquire(1)
    limiter.pause(7)
    await limiter.acquire(2)
    assert timer.monotonic() >= 7.0


async def test_limits_can_be_switched_off_for_benchmarks():
    timer = VirtualTimer()
    limiter = RateLimiter(timer, overall=0, per_chat=0)
    for _ in range(100):
        await limiter.acquire(1)
    assert timer.monotonic() == 0.0


# -- updates in -------------------------------------------------------------------------------------------


def _update(**content: object) -> Update:
    return Update.de_json({"update_id": 1, **content}, None)


def _message(chat_type: str = "private", is_bot: bool = False, **content: object) -> dict[str, object]:
    chat = {"id": 7 if chat_type == "private" else -100, "type": chat_type}
    sender = {"id": 7, "is_bot": is_bot, "first_name": "Eva", "language_code": "en-GB"}
    return {"message_id": 3, "date": 0, "chat": chat, "from": sender, **content}


def test_only_people_in_private_chats_reach_the_engine():
    codec = ButtonCodec("123:abc")
    inbound = to_inbound(_update(message=_message(text="/start feria")), codec)
    assert inbound.incoming.text == "/start feria" and inbound.incoming.command_args == "feria"
    assert (inbound.user_id, inbound.chat_id, inbound.incoming.language) == ("7", 7, "en-GB")
    assert to_inbound(_update(message=_message("group", text="/start")), codec) is None
    assert to_inbound(_update(message=_message(is_bot=True, text="hola")), codec) is None
    assert to_inbound(_update(edited_message=_message(text="hola", edit_date=1)), codec) is None
    assert to_inbound(_update(), codec) is None


def test_files_are_kept_by_reference_and_big_ones_answered():
    codec = ButtonCodec("123:abc")
    voice = {"file_id": "VOI1", "file_unique_id": "v", "duration": 3, "mime_type": "audio/ogg", "file_size": 9000}
    inbound = to_inbound(_update(message=_message(voice=voice)), codec)
    assert inbound.incoming.attachment == Attachment("voice", "VOI1", None, "audio/ogg", 9000)
    big = {"file_id": "DOC9", "file_unique_id": "d", "file_name": "x.zip", "file_size": DOWNLOAD_LIMIT + 1}
    inbound = to_inbound(_update(message=_message(document=big)), codec)
    assert inbound.incoming is None and inbound.notice == "telegram.file_too_big"
    exact = {**big, "file_size": DOWNLOAD_LIMIT}
    assert to_inbound(_update(message=_message(document=exact)), codec).incoming is not None


def test_button_presses_carry_the_pressed_message():
    codec = ButtonCodec("123:abc")
    query = {"id": "q1", "from": {"id": 7, "is_bot": False, "first_name": "Eva"}, "chat_instance": "c",
             "data": codec.encode("lang:en"), "message": _message(text="¿Idioma?")}
    inbound = to_inbound(_update(callback_query=query), codec)
    assert (inbound.incoming.payload, inbound.incoming.message_id, inbound.callback_id) == ("lang:en", "3", "q1")
    forged = to_inbound(_update(callback_query={**query, "data": "lang:en"}), codec)
    assert forged.incoming is None and forged.notice == "core.button_expired" and forged.callback_id == "q1"


class _Log:
    """A Journal without a database: remembers ids, or fails like a database that went away."""

    channel = "test"

    def __init__(self, failing: bool = False) -> None:
        self.seen: set[int] = set()
        self.failing = failing
        self.batches: list[list[int]] = []

    async def record(self, entries: list[tuple[int, object]]) -> set[str]:
        update_ids = [update_id for update_id, _ in entries]
        self.batches.append(update_ids)
        if self.failing:
            raise OSError("database unavailable")
        fresh = set(update_ids) - self.seen
        self.seen |= fresh
        return {str(update_id) for update_id in fresh}  # as Journal: ids come back as text


async def test_intake_batches_keeps_order_and_skips_duplicates():
    handled: list[tuple[int, str]] = []

    async def handle(update_id: int, item: str) -> None:
        handled.append((update_id, item))

    log = _Log()
    intake = Intake(log, handle)
    for update_id, item in [(1, "a"), (2, "b"), (1, "a again"), (3, "c")]:
        await intake.put(update_id, item)
    await intake.wait_idle()
    await intake.put(2, "b, redelivered later")
    await intake.put(4, "d")
    await intake.close()
    assert handled == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
    assert log.batches == [[1, 2, 1, 3], [2, 4]]  # one round trip per batch, not per update


async def test_intake_hands_updates_on_when_the_log_fails():
    handled: list[int] = []

    async def handle(update_id: int, _item: str) -> None:
        handled.append(update_id)

    intake = Intake(_Log(failing=True), handle)
    await intake.put(1, "a")
    await intake.put(2, "b")
    await intake.close()
    assert handled == [1, 2]  # better twice than never
