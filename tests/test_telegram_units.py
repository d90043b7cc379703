"""The Telegram channel's rules that need no network: text splitting, reply plans, signed button data, the
rate limiter on a virtual clock."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.telegram.callbacks import LIMIT, CallbackCodec
from bot.channels.telegram.limiter import RateLimiter
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
    codec = CallbackCodec("123:abc")
    for payload in ["consent:yes", "menu:idea", "lang:es", "ñ" * 20, "idea:field:" + "x" * 200, ""]:
        data = codec.encode(payload)
        assert len(data.encode()) <= LIMIT
        assert codec.decode(data) == payload


def test_forged_or_foreign_callback_data_is_refused():
    codec = CallbackCodec("123:abc")
    good = codec.encode("consent:yes")
    assert codec.decode(good[:-1] + "x") is None  # payload changed
    assert codec.decode("A" * 8 + "=consent:yes") is None  # made-up signature
    assert codec.decode(CallbackCodec("999:other").encode("consent:yes")) is None  # another bot's token
    assert codec.decode(None) is None and codec.decode("") is None and codec.decode("short") is None
    restarted = CallbackCodec("123:abc")
    assert restarted.decode(good) == "consent:yes"  # inline payloads survive a restart
    long = codec.encode("idea:" + "x" * 100)
    assert restarted.decode(long) is None  # a stored long payload does not: it reads as expired


# -- rate limiter -----------------------------------------------------------------------------------------


async def test_one_message_per_second_per_chat():
    timer = VirtualTimer()
    limiter = RateLimiter(timer)
    times = []
    for _ in range(4):
        await limiter.acquire(1)
        times.append(timer.monotonic())
    assert times == [0.0, 1.0, 2.0, 3.0]


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


@pytest.mark.parametrize("overall, interval", [(0, 0)])
async def test_limits_can_be_switched_off_for_benchmarks(overall, interval):
    timer = VirtualTimer()
    limiter = RateLimiter(timer, overall=overall, per_chat_interval=interval)
    for _ in range(100):
        await limiter.acquire(1)
    assert timer.monotonic() == 0.0
