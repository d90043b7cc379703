"""What users typed, as coordinators see it.

A name or a question can carry bidirectional control characters (the right-to-left override U+202E and
its kin): shown to a coordinator, they reorder what follows, so "invoice_cod.exe" can read as another
name, or a sentence can hide where the user's text ends and the bot's begins. Every view that shows user
text to coordinators (open questions, new submissions, sources, notifications) passes it through
``shown``. Those views also turn link previews off (``Reply.link_preview=False``): a URL a user typed
is not fetched by the platform, nor expanded, in a coordinator's chat.
"""

from __future__ import annotations

BIDI_CONTROLS = (
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pop, overrides (LRE RLE PDF LRO RLO)
    "\u2066\u2067\u2068\u2069"  # isolates (LRI RLI FSI PDI)
    "\u200e\u200f\u061c"  # marks (LRM RLM ALM)
)
_DROP = dict.fromkeys(map(ord, BIDI_CONTROLS))


def shown(text: str | None, missing: str = "") -> str:
    """``text`` without bidirectional control characters; ``missing`` when there is none."""
    return text.translate(_DROP) if text else missing
