"""The conversations. Each module is one feature with its own ``router``; ``all_routers`` is what the app
includes, in this order (commands are unique, so order matters only for fallbacks)."""

from __future__ import annotations

import importlib

from bot.router import Router

# faq last: it answers any free text
FEATURES = ("start", "privacy", "idea", "mentoring", "network", "stop", "admin.sources", "admin.roles",
            "admin.broadcast", "admin.review", "admin.export", "admin.stats", "admin.answers", "smalltalk", "faq")


def all_routers() -> list[Router]:
    return [importlib.import_module(f"handlers.{name}").router for name in FEATURES]
