"""Out-of-scope refusals: a question asking a fact no entry holds is vetoed (`Signals.lacks_fact`), even when it
shares many words with an entry. Own examples, about a made-up beekeeping network."""

from __future__ import annotations

import json
from pathlib import Path

from bot.services.knowledge.entries import load_knowledge
from bot.services.knowledge.index import KnowledgeIndex

# Entries on other subjects, so that no name of a test's entries is in most of the knowledge base.
_OTHERS: dict[str, tuple[list[str], list[str], str]] = {
    "queen": (["¿Qué es una reina?", "abeja reina", "¿Cuánto vive la reina?"],
              ["What is a queen bee?", "queen bee", "How long does the queen live?"],
              "La reina es la única hembra fértil de la colmena."),
    "wax": (["¿Para qué sirve la cera?", "cera de abeja", "usos de la cera"],
            ["What is beeswax for?", "beeswax", "uses of wax"],
            "La cera sirve para hacer velas y cremas."),
    "swarm": (["¿Qué es un enjambre?", "enjambres", "¿Por qué enjambran las abejas?"],
              ["What is a swarm?", "swarms", "Why do bees swarm?"],
              "Un enjambre es una colonia que se divide para fundar otra."),
    "pollen": (["¿Qué es el polen?", "polen de abeja", "¿Se come el polen?"],
               ["What is pollen?", "bee pollen", "Can you eat pollen?"],
               "El polen es el alimento proteico de las abejas."),
}


def _index(directory: Path, files: dict[str, tuple[list[str], list[str], str]]) -> KnowledgeIndex:
    for entry_id, (es, en, answer) in {**_OTHERS, **files}.items():
        title = f"{{es: {json.dumps(es[0])}, en: {json.dumps(en[0])}}}"
        (directory / f"{entry_id}.md").write_text(
            f"---\nid: {entry_id}\ntitle: {title}\nquestions:\n  es: {es}\n  en: {en}\n---\n"
            f"## es\n\n{answer}\n\n## en\n\n{answer}\n", encoding="utf-8")
    loaded = load_knowledge(directory)
    assert loaded.problems == ()
    return KnowledgeIndex.build(loaded.entries)


def _vetoed(index: KnowledgeIndex, question: str, lang: str = "en") -> bool:
    return index.search(question, lang).signals.lacks_fact


def test_findings_are_not_stated_by_what_was_sought(tmp_path):
    """"Conclusions" shares a concept of the lexicon with "buscar" / "look for": an entry saying what a
    course sought states no conclusion of it. A question asking what it set out to find still reaches it."""
    index = _index(tmp_path, {
        "course-aim": (["¿Qué buscaba el curso de Colmena?", "objetivo del curso", "¿Para qué era el curso?"],
                       ["What did the Colmena course look for?", "course aim", "What was the course for?"],
                       "El curso de Colmena buscaba enseñar a criar reinas en colmenas urbanas."),
        "fair": (["¿Dónde es la feria de Colmena?", "feria de la miel", "¿Qué es la feria?"],
                 ["Where is the Colmena fair?", "honey fair", "What is the fair?"],
                 "La feria de la miel de Colmena se celebra en Palencia."),
    })
    assert _vetoed(index, "What conclusions did the Colmena course come to?")
    assert _vetoed(index, "¿A qué conclusiones llegó el curso de Colmena?", "es")
    assert not _vetoed(index, "What did the Colmena course set out to find?")

