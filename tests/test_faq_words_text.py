"""Word handling of the FAQ matcher (`bot.services.knowledge.text`, `lexicon`): own examples, not evaluation
questions."""

from __future__ import annotations

from bot.services.knowledge.text import analyse, keys_any


def _surfaces(question: str) -> list[str]:
    return [t.surface for t in analyse(question)]


def test_being_in_on_something_is_taking_part_not_a_goal() -> None:
    # "estar metido en": Snowball stems "metidas" like "metas" (goals).
    assert "~participant" in keys_any("metidas")
    assert "~goal" not in keys_any("metidas")
    assert "~goal" in keys_any("metas")


def test_since_when_asks_a_date_even_after_the_subject() -> None:
    # A lone "cuándo" after the subject joins a clause ("la red ... cuando empezó"); "desde cuándo" asks.
    assert "?when" in _surfaces("la red desde cuando existe")
    assert "?when" in _surfaces("el programa hasta cuando dura")
    assert "?when" in _surfaces("the network since when has it existed")
    assert "?when" not in _surfaces("la red que se creo cuando empezo el proyecto")


def test_a_spanish_adjective_cut_short_meets_its_full_form() -> None:
    # "el tercer encuentro" / "¿fue el tercero?", "un buen resultado" / "fue bueno".
    assert keys_any("tercer")[0] == keys_any("tercero")[0]
    assert keys_any("buen")[0] == keys_any("buena")[0]
    assert keys_any("gran")[0] == keys_any("grandes")[0]


def test_de_donde_beside_ser_asks_where_something_is_from() -> None:
    assert "?where" in _surfaces("la fundacion de donde es")
    assert "?where" in _surfaces("de donde son las entidades socias")
    assert "?where" in _surfaces("el tec es d donde")
    # An origin or a source stays "?from".
    assert "?from" in _surfaces("de donde salen los fondos")
    assert "?from" in _surfaces("de donde vino la propuesta")
