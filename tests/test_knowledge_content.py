"""The shipped knowledge base: loads cleanly, covers both languages, and quotes no evaluation question."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.services.knowledge.entries import load_knowledge
from bot.services.knowledge.text import fold

# The shared sets, and ours under tests/eval/ (calibration and held-back sets written from the seeds): an
# entry quoting one of their questions would score itself and say nothing about real users.
EVAL_SETS = sorted((PROJECT_ROOT.parent / "shared" / "eval").glob("*.jsonl")) + sorted(
    (PROJECT_ROOT / "tests" / "eval").glob("*.jsonl")
)


def held_back(path: Path) -> bool:
    """A held-back set (named heldback*, as in tests/eval/report.py): its questions are never printed."""
    return path.name.startswith("heldback")


def comparable(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", fold(text)).strip()


def test_the_knowledge_base_loads_without_problems():
    loaded = load_knowledge(PROJECT_ROOT / "knowledge")
    assert loaded.problems == ()
    assert len(loaded.entries) >= 40
    for entry in loaded.entries:
        assert entry.answers["es"].strip() and entry.answers["en"].strip(), entry.id
        assert entry.source, entry.id


@pytest.mark.skipif(not EVAL_SETS, reason="the evaluation sets are not beside this checkout")
def test_no_entry_quotes_an_evaluation_question():
    questions: dict[str, Path] = {}  # question -> its set, the held-back set when it is one of them
    for path in EVAL_SETS:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            key = comparable(json.loads(line)["question"]) if line.strip() else ""
            if key and (key not in questions or held_back(path)):
                questions[key] = path
    quoted = []
    for entry in load_knowledge(PROJECT_ROOT / "knowledge").entries:
        for text in [*entry.title.values(), *(v for variants in entry.questions.values() for v in variants)]:
            found = questions.get(comparable(text))
            if found is not None:  # a held-back question is never printed, even in a failure
                shown = "a question" if held_back(found) else repr(text)
                quoted.append(f"{entry.id} quotes {shown} of {found.name}")
    assert quoted == []


@pytest.fixture(scope="module")
def shipped_index():
    from bot.services.knowledge.index import KnowledgeIndex

    return KnowledgeIndex.build(load_knowledge(PROJECT_ROOT / "knowledge").entries)


@pytest.mark.parametrize(("question", "lang", "expected"), [
    # "in total" / "en total" is filler, not the word a total budget is asked with
    ("¿Cuántos seminarios hubo en total?", "es", "dos"),
    ("How many study trips took place in total?", "en", "three"),
    # "dio lugar a" / "gave rise to" asks what something led to, not where
    ("¿A qué dio lugar el trabajo conjunto?", "es", "plataforma"),
    ("What did the partners' joint work give rise to?", "en", "platform"),
    # "kept going" is lasting (~maintain), not keeping data; "made possible" is "enabled"
    ("Has the alliance kept going since the initiative?", "en", "maintained"),
    ("Which factors made the results of LÍDERES possible?", "en", "political and technical"),
    # what the seminars were for, asked of the entry that counts them
    ("What purpose did the two LÍDERES seminars serve?", "en", "objectives"),
    # "spearheaded", "encabezó": who led it, like "led" and "dirigió"
    ("Who spearheaded the Santa Cruz idea competition?", "en", "cainco"),
    ("¿Quién encabezó el concurso de ideas de Santa Cruz?", "es", "cainco"),
    # "turn into", "lead to", "se convirtió en": what the work became (~become), as "dio lugar a" / "gave rise to"
    ("What did the partners' cooperation turn into?", "en", "platform"),
    ("¿En qué se convirtió la colaboración entre los socios?", "es", "plataforma"),
    # the models the earlier alliances let the partners exchange; everyone who took part, not one group
    ("¿Qué modelos circularon entre los socios gracias a sus alianzas anteriores?", "es", "santa cruz innova"),
    ("¿Cuántas personas participaron en total en las actividades de la iniciativa?", "es", "303"),
    # whether the initiative went beyond its plan answers with the example; the record's main institution
    ("Did the initiative's results go further than it had planned?", "en", "environmental"),
    ("Which institution is named in the record of Cooperactivas?", "en", "castilla y leon"),
    # "short for", "abreviatura": what an acronym stands for
    ("What is INAES short for?", "en", "national institute"),
    ("¿De qué es abreviatura CEPES?", "es", "confederacion"),
    # how the association is paid for (its resources) is not which year / by whom the project was funded
    ("How is the Cooperactivas association paid for?", "en", "annual fees"),
    ("¿Cómo se mantiene económicamente la asociación Cooperactivas?", "es", "cuotas anuales"),
    ("Which association paid for the Cooperactivas project?", "en", "same name"),
    # the seed's only word on contacting the author of the Cooperactivas record
    ("Is there a way to write to the author of the Cooperactivas record?", "en", "log in"),
    # Cooperactivas' aim in the seed's words ("network of mutual aid"); its member count asked of the association
    # in León; how it sustains itself (its resources); where the model has been put into practice
    ("What is the aim of the Cooperactivas association in León?", "en", "mutual aid"),
    ("What does Cooperactivas aim to build?", "en", "mutual aid"),
    ("How many members does the association in León have registered?", "en", "16"),
    ("¿Cómo se sostiene la asociación Cooperactivas?", "es", "cuotas anuales"),
    ("Where is the model of the initiative put into practice today?", "en", "bolivia"),
    # the meeting place Cooperactivas wants to create is its point of contact and forum (seed 003:2)
    ("¿Qué clase de espacio de encuentro quiere crear Cooperactivas?", "es", "punto de encuentro"),
    ("What sort of meeting place does Cooperactivas want to create?", "en", "point of contact"),
    # an SDG target found by a group or a term its text names (seed 001:37-59), in either language
    ("¿Hay alguna meta de los ODS que nombre a los niños y a las mujeres?", "es", "11.2"),
    ("Does one of the targets talk about small and medium-sized enterprises?", "en", "8.3"),
    # facts the entries held but few wordings reached: Ashoka's part ("qué pinta"), CAINCO's city, LÍDERES in a
    # few words, the first destination asked with "primer", outsiders at the activities, the visits' delegations,
    # entrepreneurs' chance to network, the Jalisco trainers' fields, what ULECOOP is, the relationship the
    # partners already had, Cooperactivas' local situation and the uncertain scenario it describes
    ("¿Y Ashoka qué pinta aquí?", "es", "agentes de cambio"),
    ("Which city is CAINCO from?", "en", "santa cruz"),
    ("Explícame LÍDERES en pocas palabras", "es", "laboratorio innovador"),
    ("el primer viaje de estudio a donde fue", "es", "jalisco"),
    ("¿Podían participar personas ajenas a los socios en las actividades?", "es", "abiertas"),
    ("Could someone from outside the partner entities go to the trainings?", "en", "open"),
    ("Who was part of the delegations that travelled?", "en", "representatives"),
    ("Did entrepreneurs get the chance to network during the visits?", "en", "network"),
    ("What specialities did the trainers in Jalisco have?", "en", "circular economy"),
    ("ULECOOP, qué clase de entidad es?", "es", "cooperativas"),
    ("¿Qué tipo de relación tenían los socios de antemano?", "es", "norte-sur"),
    ("¿Cuál era la situación en León cuando nació Cooperactivas?", "es", "demografica"),
    ("Is the outlook uncertain for Cooperactivas?", "en", "uncertainty"),
    # and: what active participation favours, the agenda of the sectoral approach, newcomers to the partnership,
    # the cornerstone, the kind of organisation CEPES is, the partners' plans ("piensan"), whether the network
    # is consolidated (a long road ahead), and names given in English
    ("What does active participation favour?", "en", "collective solidarity"),
    ("Which agenda is the initiative's sectoral approach part of?", "en", "2030"),
    ("Is the partnership going to welcome newcomers?", "en", "new entities"),
    ("What was the cornerstone of the initiative called?", "en", "three study visits"),
    ("What kind of organisation is CEPES?", "en", "confederation"),
    ("¿Qué piensan hacer los socios en el futuro?", "es", "nuevas entidades"),
    ("¿La red LÍDERES está ya consolidada o está empezando?", "es", "largo camino"),
    ("How is LÍDERES spelled out in English?", "en", "innovative laboratory"),
    ("What is CAINCO called in English?", "en", "chamber of industry"),
    # facts an entry now states outright: the Tec–Cantabria agreement's laboratory, the month of each GSEF
    # training, the sectors the partnership brings together, that its models can be scaled
    ("What is the Tec–Cantabria agreement meant to foster?", "en", "social innovation laboratory"),
    ("¿Qué busca impulsar el convenio del Tec con el Gobierno de Cantabria?", "es", "laboratorio de innovacion"),
    ("¿En qué mes se hizo la formación de GSEF en Kampala?", "es", "en agosto"),
    ("¿Qué sectores quería acercar la alianza?", "es", "privado empresarial"),
    ("¿Se puede escalar lo que diseñaron?", "es", "escalarse"),
    # amounts and counts asked without the budget's or the beneficiaries' usual words
    ("How much money did the European Union put into the initiative?", "en", "74,739"),
    ("¿Cuánta plata puso la Unión Europea?", "es", "74,739"),
    ("What did the initiative cost all together?", "en", "102,032"),
    ("¿Cuántas personas tomaron parte directamente?", "es", "303"),
    # Cooperactivas' size and free services, and the Spain trip's aim, asked in plain words
    ("What do members of Cooperactivas receive free of charge?", "en", "free of charge"),
    ("How large is the Cooperactivas association?", "en", "16"),
    ("What were the partners hoping to learn when they travelled to Spain?", "en", "public polic"),
    # chat-style "what is LÍDERES" with filler ("guys", "no entiendo"); people counted "firsthand"; money "chipped
    # in" by the EU; the opening seminar's purpose; the "centrepiece" of the way of working; Cooperactivas' size
    # as "the cooperative platform"
    ("so what are lideres guys?", "en", "laboratory"),
    ("q es lideres, no entiendo nada", "es", "laboratorio"),
    ("About how many people were involved firsthand?", "en", "303"),
    ("How much did the EU chip in for LÍDERES?", "en", "74,739"),
    ("¿Para qué sirvió el seminario inicial?", "es", "objetivos"),
    ("what was the centrepiece of their methodology", "en", "study visits"),
    ("¿Cuál fue la pieza central de su forma de trabajar?", "es", "visitas de estudio"),
    ("What size is the cooperative platform's membership?", "en", "16"),
    # asking for an advisor is asking for mentoring; the partners' knowledge "integrated into the strategies"
    ("Is there anyone who could advise me about my project?", "en", "mentoring"),
    ("¿Qué se hizo con el conocimiento que generó LÍDERES?", "es", "integrado en las estrategias"),
    # who "constituted" the alliance is who established it; the partners "other than CAINCO"; what the visits
    # gave entrepreneurs "apart from learning"
    ("¿Qué entidad constituyó la alianza LÍDERES?", "es", "tecnologico de monterrey"),
    ("What did the partners other than CAINCO get out of it?", "en", "increased the impact"),
    ("What did the visits give entrepreneurs apart from learning?", "en", "network"),
])
def test_paraphrases_of_held_facts_are_answered(shipped_index, question, lang, expected):
    result = shipped_index.search(question, lang)
    assert result.matched, (question, result.outcome, [e.id for e in result.suggestions])
    assert result.entry is not None and expected in fold(result.entry.answers[lang]), result.entry.id


@pytest.mark.parametrize(("question", "lang", "entry_id"), [
    # the total "added up" is the total's own entry, not the whole budget's; the partners' "own pocket" stays
    # the co-financing although the EU's contribution is now also asked with "pocket"
    ("How much did the whole thing cost once everything is added up?", "en", "budget-total"),
    ("How much did the partners contribute out of their own pocket?", "en", "budget-co-financing"),
])
def test_plain_word_amount_questions_reach_their_own_entry(shipped_index, question, lang, entry_id):
    result = shipped_index.search(question, lang)
    assert result.matched and result.entry is not None, (question, result.outcome)
    assert result.entry.id == entry_id, result.entry.id


@pytest.mark.parametrize(("question", "lang"), [
    # what an acronym stands for is not the name of a workshop it organised, nor another acronym's meaning
    ("What do the letters GSEF stand for?", "en"),
    ("¿Qué significan las siglas GSEF?", "es"),
])
def test_an_acronym_the_seeds_never_spell_out_is_not_answered(shipped_index, question, lang):
    result = shipped_index.search(question, lang)
    assert not result.matched, (question, result.entry.id if result.entry else None)


@pytest.mark.parametrize(("entry_id", "phrases"), [
    # The scorer and the reader both need the fact itself in the answer, in each language and in the seed's
    # own words: a month in brackets, a place only in the other language or a paraphrase of a seed term
    # leaves one language's answer without it.
    ("gsef-2019-training-cities", {"es": "en mayo", "en": "(may)"}),
    ("fundacion-carolina", {"es": "de espana", "en": "in spain"}),
    ("partnership-unifying-partner", {"es": "unificador", "en": "unifying"}),
    ("lideres-networking-training-reach", {"es": "cantabria", "en": "cantabria"}),
    ("tec-cantabria-agreement", {"es": "laboratorio de innovacion social", "en": "social innovation laboratory"}),
    ("jalisco-training-topics", {"es": "gestion de residuos", "en": "waste management"}),
    ("santa-cruz-visit-purpose", {"es": "concurso de ideas", "en": "idea competition"}),
    ("gsef-mexico-workshop-attendance", {"es": "municipal", "en": "municipal"}),
    ("cooperactivas-forum-purpose", {"es": "emprendedores", "en": "entrepreneurs"}),
    ("territorial-development-models", {"es": "activos locales", "en": "local assets"}),
    ("lideres-existing-partnerships", {"es": "santa cruz innova", "en": "santa cruz innova"}),
])
def test_answers_state_their_fact_in_both_languages(entry_id, phrases):
    entries = {entry.id: entry for entry in load_knowledge(PROJECT_ROOT / "knowledge").entries}
    for lang, phrase in phrases.items():
        assert phrase in fold(entries[entry_id].answers[lang]), (entry_id, lang, phrase)
