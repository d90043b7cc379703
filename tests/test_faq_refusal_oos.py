"""Out-of-scope refusals: a question asking a fact no entry holds is vetoed (`Signals.lacks_fact`), even when it
shares many words with an entry. Own examples, about a made-up beekeeping network."""

from __future__ import annotations

from pathlib import Path

from bot.services.knowledge.index import KnowledgeIndex
from tests.knowledge_support import Entries, write_entries

# Entries on other subjects, so that no name of a test's entries is in most of the knowledge base.
_OTHERS: Entries = {
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


def _index(directory: Path, files: Entries) -> KnowledgeIndex:
    return write_entries(directory, {**_OTHERS, **files})


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


def test_a_number_written_only_inside_another_is_not_stated(tmp_path):
    """"Target 5" is not target 3.5 (its second part); "target 3" is the group 3.5 belongs to."""
    index = _index(tmp_path, {
        "target": (["¿Qué dice la meta 3.5?", "meta 3.5", "¿De qué trata la meta 3.5?"],
                   ["What does target 3.5 say?", "target 3.5", "What is target 3.5 about?"],
                   "La meta 3.5 pide proteger a los polinizadores de los pesticidas."),
        "fair": (["¿Dónde es la feria de Colmena?", "feria de la miel", "¿Qué es la feria?"],
                 ["Where is the Colmena fair?", "honey fair", "What is the fair?"],
                 "La feria de la miel de Colmena se celebra en Palencia."),
    })
    assert _vetoed(index, "What does target 5 say about pollinators?")
    assert not _vetoed(index, "What does target 3.5 say about pollinators?")
    assert not _vetoed(index, "What does goal 3 say about pollinators?")
    assert index.search("What does target 3.5 say?", "en").entry is not None


def test_how_do_i_of_something_the_entry_never_speaks_of_is_refused(tmp_path):
    """An entry telling how to sign up for the fair gives no procedure for paying a tax."""
    index = _index(tmp_path, {
        "signup": (["¿Cómo me inscribo en la feria?", "inscripción en la feria", "quiero apuntarme a la feria"],
                   ["How do I sign up for the fair?", "fair registration", "I want to join the fair"],
                   "Para inscribirte en la feria de Palencia escribe a la secretaría de Colmena."),
        "fee": (["¿Cuánto es la cuota?", "cuota anual", "¿Hay que pagar?"],
                ["How much is the fee?", "annual fee", "Do I have to pay?"],
                "La cuota anual de Colmena es de 30 euros y se paga en enero."),
    })
    assert _vetoed(index, "how do I pay my taxes at the fair in Palencia")
    assert not _vetoed(index, "how do I sign up for the fair in Palencia")


def test_a_count_of_a_name_mentioned_in_passing_needs_a_sentence_naming_it(tmp_path):
    """The entry on the visit names the Abejar agency in passing and counts the visit's workshops in another
    sentence: it states no count of anything Abejar did. A count of the visit's own workshops is stated."""
    index = _index(tmp_path, {
        "visit": (["¿Qué se hizo en la visita a Palencia?", "visita a Palencia", "¿Cómo fue la visita?"],
                  ["What happened on the Palencia visit?", "Palencia visit", "How was the visit?"],
                  "La visita a Palencia sirvió para conocer la agencia Abejar. Hubo 2 talleres sobre miel."),
        "fair": (["¿Dónde es la feria de Colmena?", "feria de la miel", "¿Qué es la feria?"],
                 ["Where is the Colmena fair?", "honey fair", "What is the fair?"],
                 "La feria de la miel de Colmena se celebra en Burgos."),
    })
    assert _vetoed(index, "How many workshops has Abejar held?")
    assert not _vetoed(index, "How many workshops were held on the Palencia visit?")


def test_the_numbers_a_question_writes_are_no_count(tmp_path):
    """"How many cooperatives joined Miel 2.0": the "2.0" of the programme's name is no count of them."""
    index = _index(tmp_path, {
        "programme": (["¿Qué es el programa Miel 2.0?", "programa Miel 2.0", "¿En qué marco está Miel 2.0?"],
                      ["What is the Miel 2.0 programme?", "Miel 2.0 programme", "What is Miel 2.0 part of?"],
                      "El programa Miel 2.0 apoya a las cooperativas apícolas de Palencia."),
        "joined": (["¿Quién se unió a Colmena?", "nuevos socios", "¿Qué cooperativas entraron?"],
                   ["Who joined Colmena?", "new members", "Which cooperatives joined?"],
                   "A Colmena se unieron 12 cooperativas en 2020."),
    })
    assert _vetoed(index, "How many cooperatives joined the Miel 2.0 programme?")
    assert not _vetoed(index, "How many cooperatives joined Colmena in 2020?")


def test_an_amount_written_with_the_euro_sign_answers_how_many_euros(tmp_path):
    """"74,739.29 €" is an amount in euros: once another entry makes "euros" a word the knowledge base knows,
    "how many euros" counts euros, and the sentence with the sign states them."""
    index = _index(tmp_path, {
        "grant": (["¿Cuánto fue la beca de Colmena?", "importe de la beca", "¿Cuánto dinero dio la beca?"],
                  ["How much was the Colmena grant?", "grant amount", "How much money did the grant give?"],
                  "La beca de Colmena fue de 1.200 €."),
        "honey-price": (["¿Cuál es el precio de la miel en euros?", "precio de la miel", "¿Cuánto cuesta la miel?"],
                        ["What is the price of honey in euros?", "honey price", "How much is honey?"],
                        "La miel de Colmena se vende en la feria de Palencia."),
    })
    assert not _vetoed(index, "How many euros did the Colmena grant give?")
    assert not _vetoed(index, "¿Cuántos euros dio la beca de Colmena?", "es")
