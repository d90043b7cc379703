"""Fitting text into a platform's limits, shared by channels: long texts split on paragraphs, then lines, then
a hard cut; a label shortened at a word boundary with an ellipsis.

Lengths are UTF-16 code units (an emoji is two): Telegram counts that way, and for platforms that count
characters (WhatsApp) it is never less, so a piece that fits here fits there too.
"""

from __future__ import annotations

from collections.abc import Sequence

ELLIPSIS = "…"


def units(text: str) -> int:
    """Length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` units: whole paragraphs where possible, then whole lines, then cut."""
    if units(text) <= limit:
        return [text]
    pieces: list[str] = []
    for paragraph in _pack(text.split("\n\n"), "\n\n", limit):
        if units(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for line in _pack(paragraph.split("\n"), "\n", limit):
            pieces.extend([line] if units(line) <= limit else _hard_cut(line, limit))
    return [piece for piece in pieces if piece.strip()] or _hard_cut(text, limit)[:1]


def _pack(parts: Sequence[str], joiner: str, limit: int) -> list[str]:
    """Join consecutive ``parts`` greedily while they fit; an oversized part stays alone."""
    packed: list[str] = []
    current: str | None = None
    for part in parts:
        candidate = part if current is None else current + joiner + part
        if units(candidate) <= limit:
            current = candidate
            continue
        if current is not None:
            packed.append(current)
        current = part
    if current is not None:
        packed.append(current)
    return packed


def _hard_cut(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = units(char)
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        pieces.append("".join(current))
    return pieces


def shorten(label: str, limit: int) -> str:
    """``label`` in at most ``limit`` units: whole words and an ellipsis when it must be cut, so "✏️ Beneficiarios
    del proyecto" becomes "✏️ Beneficiarios…" rather than "✏️ Beneficiarios del p"."""
    label = " ".join(label.split())
    if units(label) <= limit:
        return label
    room = limit - units(ELLIPSIS)
    words = label.split(" ")
    kept = ""
    for word in words:
        candidate = f"{kept} {word}" if kept else word
        if units(candidate) > room:
            break
        kept = candidate
    if units(kept) < room // 2:  # one long word: cut inside it rather than keep almost nothing
        kept = "".join(_hard_cut(label, room)[:1]).rstrip()
    return kept.rstrip(" ,.;:-·") + ELLIPSIS
