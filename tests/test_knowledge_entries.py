"""Loading knowledge entries: what an editor sees when a file is wrong, and that the rest still loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.knowledge.entries import load_knowledge

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"

GOOD = """\
---
id: {id}
title: {{es: Título, en: Title}}
tags: [prueba, test]
questions:
  es: ["¿Primera pregunta?", "¿Segunda pregunta?", "¿Tercera pregunta?"]
  en: ["First question?", "Second question?", "Third question?"]
---
## es

Respuesta en español.

## en

Answer in English.
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, name: str = "entry") -> list[str]:
    write(tmp_path, name, text)
    result = load_knowledge(tmp_path)
    assert result.entries == ()
    return list(result.problems)


def test_fixture_entries_load_in_both_languages_and_readme_is_skipped():
    result = load_knowledge(FIXTURES)
    assert result.problems == ()
    ids = [e.id for e in result.entries]
    assert ids == sorted(ids) and "readme" not in {i.lower() for i in ids}
    assert len(ids) == 8
    budget = next(e for e in result.entries if e.id == "budget")
    assert "50.000 euros" in budget.answer("es")
    assert "50,000 euros" in budget.answer("en")
    assert budget.title_for("en") == "Budget of the network"
    assert len(budget.questions["es"]) == 3


def test_good_entry_loads(tmp_path):
    write(tmp_path, "good", GOOD.format(id="good"))
    result = load_knowledge(tmp_path)
    assert result.problems == ()
    assert [e.id for e in result.entries] == ["good"]


def test_bad_file_is_skipped_and_the_others_load(tmp_path):
    write(tmp_path, "alpha", GOOD.format(id="alpha"))
    broken = GOOD.format(id="broken").replace("title: {es: Título, en: Title}", "title: [oops")
    write(tmp_path, "broken", broken)
    write(tmp_path, "omega", GOOD.format(id="omega"))
    result = load_knowledge(tmp_path)
    assert [e.id for e in result.entries] == ["alpha", "omega"]
    assert len(result.problems) == 1 and result.problems[0].startswith(f"{tmp_path / 'broken.md'}:")


def test_yaml_syntax_error_reports_the_file_line(tmp_path):
    text = GOOD.format(id="entry").replace("tags: [prueba, test]", "tags: [prueba, test")
    [problem] = problems_of(tmp_path, text)
    path = tmp_path / "entry.md"
    assert problem.startswith(f"{path}:")
    line = int(problem.split(":")[1])
    assert 4 <= line <= 6  # the unclosed list on line 4, or where YAML noticed it
    assert "YAML syntax error" in problem


def test_missing_field(tmp_path):
    text = GOOD.format(id="entry").replace("title: {es: Título, en: Title}\n", "")
    assert problems_of(tmp_path, text) == [f"{tmp_path / 'entry.md'}:1: missing field 'title'"]


def test_id_must_match_file_name_and_points_at_the_id_line(tmp_path):
    [problem] = problems_of(tmp_path, GOOD.format(id="other-name"), name="entry")
    assert problem == f"{tmp_path / 'entry.md'}:2: id 'other-name' does not match the file name 'entry.md'"


def test_missing_language_in_title(tmp_path):
    text = GOOD.format(id="entry").replace("title: {es: Título, en: Title}", "title: {es: Título}")
    assert problems_of(tmp_path, text) == [f"{tmp_path / 'entry.md'}:3: title: missing language 'en'"]


def test_fewer_than_three_variants_points_at_that_language(tmp_path):
    text = GOOD.format(id="entry").replace('"Second question?", "Third question?"', '"Second question?"')
    [problem] = problems_of(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'entry.md'}:7: questions.en: 2 question variant(s), at least 3")


def test_missing_answer_section(tmp_path):
    text = GOOD.format(id="entry").split("## en")[0]
    [problem] = problems_of(tmp_path, text)
    assert problem == f"{tmp_path / 'entry.md'}:8: no '## en' answer section"


def test_empty_answer_section_points_at_its_heading(tmp_path):
    text = GOOD.format(id="entry").replace("Answer in English.\n", "")
    assert problems_of(tmp_path, text) == [f"{tmp_path / 'entry.md'}:13: the '## en' answer is empty"]


def test_no_front_matter_and_unclosed_front_matter(tmp_path):
    assert problems_of(tmp_path, "## es\n\nHola\n") == [
        f"{tmp_path / 'entry.md'}:1: no front matter: the file must start with a '---' line"
    ]
    text = GOOD.format(id="entry").replace("---\n## es", "## es")
    [problem] = problems_of(tmp_path, text)
    assert problem == f"{tmp_path / 'entry.md'}:1: front matter not closed: no second '---' line"


def test_unknown_field_is_reported_at_its_line(tmp_path):
    text = GOOD.format(id="entry").replace("tags: [prueba, test]", "tag: [prueba, test]")
    assert problems_of(tmp_path, text) == [
        f"{tmp_path / 'entry.md'}:4: unknown field 'tag' (known: id, title, tags, questions, source)"
    ]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    text = (GOOD.format(id="wrong")
            .replace("title: {es: Título, en: Title}", "title: {es: Título}")
            .split("## en")[0])
    problems = problems_of(tmp_path, text)
    assert len(problems) == 3
    assert all(p.startswith(f"{tmp_path / 'entry.md'}:") for p in problems)


def test_duplicate_id_in_a_subfolder(tmp_path):
    write(tmp_path, "same", GOOD.format(id="same"))
    write(tmp_path / "more", "same", GOOD.format(id="same"))
    result = load_knowledge(tmp_path)
    assert [e.id for e in result.entries] == ["same"]
    [problem] = result.problems
    assert problem.startswith(f"{tmp_path / 'more' / 'same.md'}:2: duplicate id 'same'")


def test_numbers_in_tags_are_taken_as_text(tmp_path):
    write(tmp_path, "entry", GOOD.format(id="entry").replace("[prueba, test]", "[prueba, 2019]"))
    [entry] = load_knowledge(tmp_path).entries
    assert entry.tags == ("prueba", "2019")


def test_text_that_is_not_utf8(tmp_path):
    (tmp_path / "entry.md").write_bytes(GOOD.format(id="entry").encode("utf-8").replace(b"Answer", b"\xff"))
    result = load_knowledge(tmp_path)
    assert result.entries == ()
    assert result.problems == (f"{tmp_path / 'entry.md'}:15: not valid UTF-8 text",)


@pytest.mark.parametrize("directory", ["does-not-exist", "empty"])
def test_missing_or_empty_directory_is_a_problem_not_an_exception(tmp_path, directory):
    (tmp_path / "empty").mkdir()
    result = load_knowledge(tmp_path / directory)
    assert result.entries == ()
    assert len(result.problems) == 1 and str(tmp_path / directory) in result.problems[0]
