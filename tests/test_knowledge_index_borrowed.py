"""A question in one language that borrows a term of the other language's texts: read as the texts write it."""

from __future__ import annotations

from pathlib import Path

from bot.services.knowledge.entries import load_knowledge
from bot.services.knowledge.index import KnowledgeIndex
from bot.services.knowledge.text import quoted_words

Entry = tuple[list[str], list[str], list[str], str, str]  # tags, es questions, en questions, es answer, en answer


def _index(directory: Path, files: dict[str, Entry]) -> KnowledgeIndex:
    """Entries whose two answers differ (`tests.knowledge_support.write_entries` writes one answer twice)."""
    for entry_id, (tags, es, en, answer_es, answer_en) in files.items():
        (directory / f"{entry_id}.md").write_text(
            f"---\nid: {entry_id}\ntitle: {{es: \"{es[0]}\", en: \"{en[0]}\"}}\ntags: {tags}\n"
            f"questions:\n  es: {es}\n  en: {en}\n---\n## es\n\n{answer_es}\n\n## en\n\n{answer_en}\n",
            encoding="utf-8")
    loaded = load_knowledge(directory)
    assert loaded.problems == ()
    return KnowledgeIndex.build(loaded.entries)


FESTIVAL: dict[str, Entry] = {
    "sponsor": (["patrocinio", "sponsorship"],
                ["¿Quién fue la entidad patrocinadora del festival?", "patrocinadora del festival",
                 "quien patrocino el festival"],
                ["Who sponsored the harvest festival?", "festival sponsor", "who paid for the festival"],
                "La Fundación Lumbre fue la entidad patrocinadora del festival de la cosecha.",
                "The Lumbre Foundation sponsored the harvest festival."),
    # Only its tags say the Spanish word, and a tag has no language: it gives the word an English key too.
    "lumbre": (["lumbre", "patrocinadora", "fundación"],
               ["¿Qué es la Fundación Lumbre?", "fundacion lumbre", "a qué se dedica la fundación lumbre"],
               ["What is the Lumbre Foundation?", "lumbre foundation", "what does the lumbre foundation do"],
               "La Fundación Lumbre apoya la cultura rural en Teruel desde 1998.",
               "The Lumbre Foundation has supported rural culture in Teruel since 1998."),
    "dates": (["fechas", "dates"],
              ["¿Cuándo es el festival?", "fechas del festival", "en qué mes es el festival"],
              ["When is the harvest festival?", "festival dates", "which month is the festival"],
              "El festival de la cosecha se celebra cada octubre en Teruel.",
              "The harvest festival takes place every October in Teruel."),
}


def test_a_word_only_the_other_languages_texts_write_is_read_in_that_language(tmp_path):
    """"Who was the 'patrocinadora' of the festival?": no English text writes "patrocinadora", the
    Spanish ones do. Read as English (the key a tag gives it) it would be the foundation's entry's word only;
    read as the Spanish texts write it, it is the sponsor entry's, which answers."""
    index = _index(tmp_path, FESTIVAL)
    question = "Who was the 'patrocinadora' of the festival?"
    word = next(t for t in index._terms(question) if t.surface == "patrocinadora")
    assert word.keys == (("patrocin", 1.0),)
    result = index.search(question, "en")
    assert result.outcome == "answer" and result.entry.id == "sponsor"
    # An English word the English texts write is still read in English.
    assert next(t for t in index._terms("Who sponsored the festival?") if t.surface == "sponsored").keys \
        == (("sponsor", 1.0),)


NETWORK: dict[str, Entry] = {
    "network-fair": (["red de economía rural", "rural economy network", "feria", "fair"],
                     ["¿Qué organizó la Red de Economía Rural?", "feria de la red de economia rural",
                      "qué hizo la red de economía rural"],
                     ["What did the Rural Economy Network organise?", "rural economy network fair",
                      "what did the rural economy network do"],
                     "La Red de Economía Rural organizó una feria de productores en Huesca en 2021.",
                     "The Rural Economy Network organised a producers' fair in Huesca in 2021."),
    # English prose that keeps the network's Spanish name: "economia" is an English key too.
    "partners": (["socios", "partners"],
                 ["¿Quiénes son los socios del proyecto?", "socios del proyecto", "quién participa en el proyecto"],
                 ["Who are the project partners?", "project partners", "who takes part in the project"],
                 "Los socios son la Red de Economía Rural y el Ayuntamiento de Huesca.",
                 "The partners are the Red de Economía Rural and Huesca City Council."),
    "budget": (["presupuesto", "budget"],
               ["¿Cuál fue el presupuesto del proyecto?", "presupuesto del proyecto", "cuánto dinero tuvo el proyecto"],
               ["What was the project budget?", "project budget", "how much money did the project have"],
               "El proyecto contó con 80.000 euros.",
               "The project had 80,000 euros."),
}


def test_a_quoted_term_is_read_in_each_language_whose_texts_write_it(tmp_path):
    """"What did the 'Red de Economía Rural' do?": English prose writes the Spanish name in one entry
    and translates it in the one that answers, whose Spanish prose has the word under the concept
    "economy". The quoted term copies the texts, so its words are read in both languages."""
    index = _index(tmp_path, NETWORK)
    question = "What did the 'Red de Economía Rural' do?"
    word = next(t for t in index._terms(question) if t.surface == "economia")
    assert {k for k, _ in word.keys} == {"economia", "~economy"}
    result = index.search(question, "en")
    assert result.outcome == "answer" and result.entry.id == "network-fair"
    # Unquoted, the word keeps its one reading in the question's language.
    unquoted = next(t for t in index._terms("What did the Red de Economía Rural do?") if t.surface == "economia")
    assert unquoted.keys == (("economia", 1.0),)


def test_quoted_words_are_the_spans_in_quotes_not_apostrophes():
    """An apostrophe inside a word ("what's") or after a plural ("the partners' fees") opens no quote."""
    assert quoted_words("What's the 'Red Rural' of the partners' fair?") == {"red", "rural"}
    assert quoted_words('¿Qué hizo la «Rural Network» y el “Huesca Hub”?') == {"rural", "network", "huesca", "hub"}
    assert quoted_words("I'd like the members' list") == frozenset()
