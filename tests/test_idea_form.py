"""The form file: the shipped one is valid, and a broken one is refused with every problem named, so a
network editing its form finds its typos at start-up, not through an entrepreneur."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.app import App
from bot.config import load_settings
from bot.services.submissions import FormError, check_answer, load_form, suggest
from handlers.idea import LoadedForm
from tests.test_idea_helpers import FORM_FILE, PROBLEM, SOLUTION, write_form


def broken(tmp_path: Path, change) -> str:  # noqa: ANN001 - a function editing the parsed YAML in place
    """The message of the FormError for the LÍDERES form after ``change``."""
    form = yaml.safe_load(FORM_FILE.read_text(encoding="utf-8"))
    change(form)
    path = tmp_path / "form.yaml"
    path.write_text(yaml.safe_dump(form, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormError) as error:
        load_form(path)
    return str(error.value)


def field(form: dict, name: str) -> dict:
    return next(item for item in form["fields"] if item["name"] == name)


def test_the_shipped_form_is_valid_and_has_the_lideres_questions():
    form = load_form(FORM_FILE)
    assert [item.name for item in form.fields] == [
        "title", "problem", "solution", "beneficiaries", "region", "region_other", "sdgs", "stage", "team",
        "contact", "attachment"]
    assert [c.label_in("es") for c in form.field("region").choices] == [
        "Santa Cruz (Bolivia)", "Jalisco (México)", "Cantabria (España)", "León (España)", "Otra región"]
    assert len(form.field("sdgs").choices) == 17 and form.field("sdgs").choice_range == (1, 3)
    assert form.competition.reference_prefix == "LID"


def test_a_missing_translation_is_named_with_its_place(tmp_path):
    message = broken(tmp_path, lambda form: field(form, "region")["choices"][1]["label"].pop("en"))
    assert "fields[4] (region).choices[1].label: missing the text in en" in message


def test_every_problem_is_listed_at_once(tmp_path):
    def change(form: dict) -> None:
        field(form, "title")["min_length"] = 500  # more than its max_length
        field(form, "stage")["choices"].append({"value": "Idea Nueva", "label": {"es": "x", "en": "x"}})
        field(form, "team")["max_lenght"] = 10  # a typo
        form["competition"]["reference_prefix"] = "lid-"

    message = broken(tmp_path, change)
    assert "4 problem(s)" in message
    assert "fields[0] (title): min_length 500 is more than max_length 120" in message
    assert "fields[7] (stage).choices[3].value" in message
    assert "fields[8] (team).max_lenght: unknown setting (a typo?)" in message
    assert "competition.reference_prefix" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: field(f, "sdgs").update(max_choices=30), "min_choices 1 / max_choices 30 do not fit 17 choices"),
        (lambda f: field(f, "sdgs").pop("choices"), "a multichoice field needs choices"),
        (lambda f: field(f, "title").update(mime_types=["application/pdf"]), "mime_types does not apply"),
        (lambda f: field(f, "attachment").pop("mime_types"), "a file field needs mime_types"),
        (lambda f: field(f, "team").pop("max_length"), "a text field needs max_length"),
        (lambda f: field(f, "team").update(type="essay"), "fields[8] (team).type"),
        (lambda f: field(f, "team").update(name="title"), "field name 'title' is used twice"),
        (lambda f: field(f, "region_other").update(when={"region": "mars"}), "'mars' is not one of its choices"),
        (lambda f: field(f, "region_other").update(when={"stage": "idea"}), "not an earlier choice field"),
        (lambda f: f["competition"].update(max_open_submissions=0), "competition.max_open_submissions"),
        (lambda f: f["competition"]["status_messages"].update(won={"es": "x", "en": "x"}), "status_messages.won"),
        (lambda f: f["competition"]["intro"].update(fr="Bonjour"), "unknown language fr"),
        (lambda f: f.update(fields=[]), "fields: List should have at least 1 item"),
    ],
)
def test_each_kind_of_mistake_is_explained(tmp_path, change, expected):
    assert expected in broken(tmp_path, change)


def test_not_yaml_or_not_there(tmp_path):
    bad = tmp_path / "form.yaml"
    bad.write_text("fields: [unclosed\n", encoding="utf-8")
    with pytest.raises(FormError, match="not valid YAML"):
        load_form(bad)
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(FormError, match="must be a mapping"):
        load_form(bad)
    with pytest.raises(FormError, match="cannot read the form file"):
        load_form(tmp_path / "missing.yaml")


async def test_the_bot_does_not_start_with_a_broken_form_and_a_reload_keeps_the_good_one(tmp_path):
    path = write_form(tmp_path)
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    settings = load_settings(database_url=database, form_file=str(tmp_path / "nope.yaml"))
    with pytest.raises(FormError, match="nope.yaml: cannot read"):
        await App.create(settings)
    app = await App.create(load_settings(database_url=database, form_file=str(path)))
    try:
        assert app.engine.content(LoadedForm).form.competition.open
        path.write_text(path.read_text(encoding="utf-8").replace("type: contact", "type: telepathy"), encoding="utf-8")
        summary = app.engine.load_content()
        assert "telepathy" not in str(app.engine.content(LoadedForm).form)  # still the good form
        assert "fields[9] (contact).type" in summary["idea_form"]["problems"]
    finally:
        await app.close()


def test_suggestions_come_from_the_text_already_given():
    form = load_form(FORM_FILE)
    sdgs = form.field("sdgs")
    answers = {"problem": PROBLEM, "solution": SOLUTION}
    suggested = suggest(sdgs, answers, form)
    assert set(suggested) <= {"2", "5", "8", "11", "12"} and len(suggested) == 3
    english = {"problem": "Rural women have no income and no access to clean drinking water."}
    assert suggest(sdgs, english, form) == ["6", "1", "5"]  # water and drinking: two hits first
    assert suggest(sdgs, {"problem": "Nada que ver con nada."}, form) == []


def test_contact_answers():
    contact = load_form(FORM_FILE).field("contact")
    accepted = {
        "ana@example.org": {"email": "ana@example.org", "phone": None},
        "+591 70012345": {"email": None, "phone": "+591 70012345"},
        "correo: ana@example.org, cel (591) 700-12-345": {"email": "ana@example.org", "phone": "(591) 700-12-345"},
    }
    for typed, value in accepted.items():
        assert check_answer(contact, typed, None).value == value, typed
    for typed, key in {"ana@example": "idea.error.not_email", "ana @ example.org": "idea.error.not_email",
                       "123": "idea.error.not_phone", "+591 7001234567890123": "idea.error.not_phone",
                       "mañana": "idea.error.no_contact"}.items():
        assert check_answer(contact, typed, None).key == key, typed
