"""The `ask` and `kb check` commands as scripts and the evaluation call them: real processes, JSON out."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from bot.services.knowledge.commands import add_commands

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "knowledge"
MODULE = "bot.services.knowledge.commands"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args], input=stdin, capture_output=True, text=True, cwd=ROOT,
        env=env, timeout=60,
    )


def test_ask_json_answer():
    proc = run("¿Cuánto dinero tiene Colmena?", "--lang", "en", "--json", "--knowledge-dir", str(FIXTURES))
    assert proc.returncode == 0, proc.stderr
    [line] = proc.stdout.splitlines()
    obj = json.loads(line)
    assert set(obj) == {"matched", "entry", "score", "answer", "suggestions", "suggested"}
    assert obj["matched"] is True and obj["entry"] == "budget"
    assert obj["answer"] == "The yearly budget is 50,000 euros, paid by the members' fees."
    assert 0.0 <= obj["score"] <= 1.0 and isinstance(obj["suggestions"], list)


def test_ask_json_no_answer_is_not_matched_and_empty():
    proc = run("Who won the football world cup?", "--json", "--knowledge-dir", str(FIXTURES))
    obj = json.loads(proc.stdout)
    assert obj == {"matched": False, "entry": None, "score": obj["score"], "answer": "", "suggestions": [],
                   "suggested": []}


def test_ask_json_suggestion_is_not_an_answer():
    proc = run("cuánto cuesta exponer en la feria de la miel", "--json", "--knowledge-dir", str(FIXTURES))
    obj = json.loads(proc.stdout)
    assert obj["matched"] is False and obj["answer"] == ""
    assert "honey-fair" in obj["suggestions"]
    assert [s["id"] for s in obj["suggested"]] == obj["suggestions"]
    assert all(s["answer"] for s in obj["suggested"])  # what each button would answer, for the evaluation


def test_ask_prints_the_answer_readably():
    proc = run("¿Cómo reservo una mentoría?", "--knowledge-dir", str(FIXTURES))
    assert proc.returncode == 0
    assert "Escribe /mentoring, elige un mentor" in proc.stdout
    assert not proc.stdout.lstrip().startswith("{")


def test_ask_batch_keeps_ids_and_answers_each_line(tmp_path):
    batch = tmp_path / "questions.jsonl"
    rows = [
        {"id": "q1", "question": "¿Cuál es el presupuesto de la red?", "lang": "es"},
        {"id": "q2", "question": "When was Colmena founded?", "lang": "en"},
        {"id": "q3", "question": "receta de tortilla", "lang": "es"},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + ["not json"]
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run("--batch", str(batch), "--json", "--knowledge-dir", str(FIXTURES))
    answers = {obj["id"]: obj for obj in map(json.loads, proc.stdout.splitlines())}
    assert list(answers) == ["q1", "q2", "q3"]
    assert answers["q1"]["entry"] == "budget" and "50.000" in answers["q1"]["answer"]
    assert answers["q2"]["entry"] == "founding-year" and "founded in 2015" in answers["q2"]["answer"]
    assert answers["q3"]["matched"] is False
    assert ":4: not a JSON object" in proc.stderr  # the bad line is reported, the others answered
    assert proc.returncode == 1


def test_ask_batch_from_stdin():
    line = json.dumps({"id": 7, "question": "¿Guardan mis datos?", "lang": "es"})
    proc = run("ask", "--batch", "-", "--json", "--knowledge-dir", str(FIXTURES), stdin=line + "\n")
    assert json.loads(proc.stdout)["id"] == 7 and json.loads(proc.stdout)["entry"] == "privacy"


def test_ask_needs_a_question_or_a_batch():
    proc = run("ask", "--json", "--knowledge-dir", str(FIXTURES))
    assert proc.returncode == 2 and "QUESTION or --batch" in proc.stderr


def test_kb_check_passes_on_good_entries():
    proc = run("kb", "check", "--knowledge-dir", str(FIXTURES))
    assert proc.returncode == 0
    assert "8 entries loaded, 0 problems" in proc.stdout


def test_kb_check_prints_each_problem_and_fails(tmp_path):
    good = (FIXTURES / "budget.md").read_text(encoding="utf-8")
    (tmp_path / "budget.md").write_text(good, encoding="utf-8")
    (tmp_path / "wrong.md").write_text(good, encoding="utf-8")  # id 'budget' in wrong.md
    proc = run("kb", "check", "--knowledge-dir", str(tmp_path))
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"{tmp_path / 'wrong.md'}:2: id 'budget' does not match the file name 'wrong.md'"
    ]


def test_ask_warns_about_bad_files_but_answers_from_the_rest(tmp_path):
    (tmp_path / "budget.md").write_bytes((FIXTURES / "budget.md").read_bytes())
    (tmp_path / "broken.md").write_text("no front matter\n", encoding="utf-8")
    proc = run("presupuesto", "--json", "--knowledge-dir", str(tmp_path))
    assert json.loads(proc.stdout)["entry"] == "budget"
    assert "warning:" in proc.stderr and "broken.md:1:" in proc.stderr


def test_commands_plug_into_another_cli_with_settings():
    """The main CLI calls `func(settings, args)`; the settings' knowledge_dir is used by default."""
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["kb", "check"])
    out = io.StringIO()
    settings = Settings(_env_file=None, knowledge_dir=FIXTURES)
    assert args.func(settings, args, out=out) == 0
    assert "8 entries loaded" in out.getvalue()
