"""tests/eval/report.py, the scorer behind `make eval`: score_faq.py's rules, the suggestions figure, and a
held-back set whose questions never reach the output."""

from __future__ import annotations

import importlib.util
import json
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "knowledge"

_spec = importlib.util.spec_from_file_location("eval_report", ROOT / "tests" / "eval" / "report.py")
assert _spec and _spec.loader
report = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = report  # dataclasses look their module up
_spec.loader.exec_module(report)

COMMAND = (f"{shlex.quote(sys.executable)} -m bot.services.knowledge.commands --batch {{file}} --json "
           f"--knowledge-dir {shlex.quote(str(FIXTURES))}")
ROWS = [
    {"id": "a", "lang": "es", "question": "¿Cuál es el presupuesto de la red?", "expect_any": ["50.000"]},
    {"id": "b", "lang": "en", "question": "When was Colmena founded?", "expect_any": ["a different year"]},
    {"id": "c", "lang": "es", "question": "receta de tortilla", "out_of_scope": True, "expect_any": []},
]


def write_set(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_right_refused_and_misses(tmp_path, capsys):
    dev = write_set(tmp_path / "dev.jsonl", ROWS)
    assert report.main([str(dev), "--cmd", COMMAND, "--show-misses"]) == 0
    out = capsys.readouterr().out
    assert "in scope right  50.0% (1/2)" in out and "out of scope refused 100.0% (1/1)" in out
    assert "  b [en] 'When was Colmena founded?' -> matched=True entry=founding-year" in out


def test_the_right_entry_among_suggestions_counts_apart(tmp_path):
    dev = write_set(tmp_path / "dev.jsonl", ROWS[:1])
    result = report.score(dev, COMMAND)
    assert result.in_scope == [True] and result.among == [True]
    suggested = {"matched": False, "answer": "", "suggested": [{"id": "budget", "answer": "50.000 euros"}]}
    assert report.contains_expected(suggested["suggested"][0]["answer"], ROWS[0])


@pytest.mark.parametrize("name", report.HELD_BACK)
def test_held_back_questions_are_never_printed(tmp_path, capsys, name):
    held = write_set(tmp_path / name, ROWS)
    assert report.main([str(held), "--cmd", COMMAND, "--show-misses"]) == 0
    out = capsys.readouterr().out
    assert name in out and "(misses of the held-back set are not shown: 1)" in out
    assert all(row["question"] not in out for row in ROWS)


def test_every_set_is_reported_by_default_the_held_back_ones_last():
    names = [path.name for path in report.DEFAULT_SETS]
    assert names == ["faq_dev.jsonl", "faq_dev2.jsonl", "fresh.jsonl", "fresh2.jsonl", "fresh3.jsonl", "fresh4.jsonl",
                     "fresh5.jsonl", "fresh6.jsonl", "fresh7.jsonl", "fresh8.jsonl", "fresh9.jsonl", "fresh10.jsonl",
                     "fresh11.jsonl", "fresh12.jsonl", "fresh13.jsonl", "fresh14.jsonl", "fresh15.jsonl",
                     "fresh16.jsonl", "fresh17.jsonl", "fresh18.jsonl", "fresh19.jsonl", "fresh20.jsonl",
                     "fresh21.jsonl", "fresh22.jsonl", "fresh23.jsonl", "fresh24.jsonl", "fresh25.jsonl",
                     "fresh26.jsonl", "fresh27.jsonl", "fresh28.jsonl", "fresh29.jsonl", "fresh30.jsonl",
                     *report.HELD_BACK]
