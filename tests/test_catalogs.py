"""Both languages, everywhere: every catalog key exists in es and en with the same placeholders."""

from __future__ import annotations

import string

from bot.i18n import catalog, normalize_language, translate


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_in_both_languages_with_the_same_placeholders():
    es, en = catalog("es"), catalog("en")
    assert set(es) == set(en), {"only es": set(es) - set(en), "only en": set(en) - set(es)}
    for key in es:
        assert placeholders(es[key]) == placeholders(en[key]), key
        assert es[key].strip() and en[key].strip(), key


def test_translation_fills_values_and_falls_back():
    assert "ABC123" in translate("core.error", "en", reference="ABC123")
    assert normalize_language("en-US") == "en" and normalize_language("pt-BR") == "es"
    assert normalize_language(None, default="en") == "en"
