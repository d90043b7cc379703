"""Catalogs: gettext ``.po`` files under ``locales/<lang>/LC_MESSAGES/<domain>.po``, one domain per feature.

Message ids are symbolic keys (``start.welcome``); each language's file holds the text, with
``{placeholders}`` filled by ``str.format``. The files are read with Babel at start-up, so editing a
translation needs no compile step, and ``pybabel`` tools work on them as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from bot.config import LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
log = logging.getLogger(__name__)


@cache
def catalog(lang: str) -> Mapping[str, str]:
    messages: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if message.id and isinstance(message.id, str) and message.string:
                    messages[message.id] = str(message.string)
    return messages


def normalize_language(code: str | None, default: str = "es") -> str:
    """``es-MX`` → ``es``; anything we have no catalog for → ``default``."""
    base = (code or "").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else default


def translate(key: str, lang: str, /, **values: object) -> str:
    """The text of ``key`` in ``lang``, falling back to Spanish, then to the key itself (logged)."""
    text = catalog(lang).get(key) or catalog("es").get(key)
    if text is None:
        log.error("missing catalog key", extra={"key": key, "lang": lang})
        return key
    return text.format(**values) if values else text
