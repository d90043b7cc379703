"""Seed citations and paragraph coverage: what `kb check` says about a wrong line range, and what
`kb coverage` lists, explains and fails on, on small seeds and entries made here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.services.knowledge.coverage import Seeds, check_citations, coverage, paragraphs
from bot.services.knowledge.entries import Citation, load_knowledge, parse_source

SEED = """\
Title of the page

Skip to main content
  • Menu

The network was founded in 2015 by twelve cooperatives.

Its budget is 50,000 euros a year,
paid by the members.
"""  # paragraphs: 1, 3-4, 6, 8-9

ENTRY = """\
---
id: {id}
title: {{es: Título, en: Title}}
questions:
  es: ["¿Primera pregunta?", "¿Segunda pregunta?", "¿Tercera pregunta?"]
  en: ["First question?", "Second question?", "Third question?"]
source: "{source}"
---
## es

Respuesta.

## en

Answer.
"""


def make_kb(tmp_path: Path, sources: dict[str, str], explained: str | None = None) -> tuple[Path, Path]:
    """A knowledge dir with one entry per `sources` item and a seeds dir with `a.txt`."""
    seeds, knowledge = tmp_path / "seeds", tmp_path / "knowledge"
    seeds.mkdir()
    knowledge.mkdir()
    (seeds / "a.txt").write_text(SEED, encoding="utf-8")
    for entry_id, source in sources.items():
        (knowledge / f"{entry_id}.md").write_text(ENTRY.format(id=entry_id, source=source), encoding="utf-8")
    if explained is not None:
        (knowledge / "coverage.yaml").write_text(explained, encoding="utf-8")
    return knowledge, seeds


def report_of(knowledge: Path, seeds: Path):
    loaded = load_knowledge(knowledge)
    assert loaded.problems == ()
    return coverage(loaded.entries, Seeds(seeds), knowledge / "coverage.yaml")


EXPLAINED = """\
seeds/a.txt:
  1: the page title
  3: site navigation
"""


# --- the source syntax ---

def test_source_items_ranges_single_lines_whole_files_and_the_bot():
    citations, problems = parse_source("seeds/a.txt:97-101, seeds/a.txt:5, seeds/b.txt, lideres-bot")
    assert problems == []
    assert citations == (
        Citation("seed", "a.txt", 97, 101), Citation("seed", "a.txt", 5, 5), Citation("seed", "b.txt"),
        Citation("bot", "lideres-bot"),
    )
    assert list(citations[1].lines) == [5] and list(citations[2].lines) == []
    assert [str(c) for c in citations] == ["seeds/a.txt:97-101", "seeds/a.txt:5", "seeds/b.txt", "lideres-bot"]


def test_a_bare_range_continues_the_seed_before_it():
    citations, problems = parse_source("seeds/a.txt:3, 8-9, another approved report")
    assert problems == []
    assert citations == (Citation("seed", "a.txt", 3, 3), Citation("seed", "a.txt", 8, 9),
                         Citation("other", "another approved report"))


@pytest.mark.parametrize("source, says", [
    ("seeds/a.txt:0", "bad line range '0'"),
    ("seeds/a.txt:9-3", "bad line range '9-3'"),
    ("seeds/a.txt:nine", "'nine' is not a line"),
    ("seeds/a.txt:", "is not a line"),
    ("4-5", "without a seed file before it"),
    ("seeds/../secrets.txt:1", "does not name a file of the seeds directory"),
    ("seeds/a.txt:1,,3", "an empty item"),
])
def test_bad_source_syntax_is_a_problem_at_the_source_line(tmp_path, source, says):
    knowledge, _ = make_kb(tmp_path, {"entry": source})
    loaded = load_knowledge(knowledge)
    assert loaded.entries == ()
    [problem] = loaded.problems
    assert problem.startswith(f"{knowledge / 'entry.md'}:7: source: ") and says in problem


# --- citations against the seeds ---

def test_citations_of_a_missing_seed_past_its_end_or_on_a_blank_line(tmp_path):
    knowledge, seeds = make_kb(tmp_path, {
        "good": "seeds/a.txt:6, 8-9, seeds/a.txt, lideres-bot",
        "missing": "seeds/nowhere.txt:1",
        "past": "seeds/a.txt:8-12",
        "blank": "seeds/a.txt:5-6",
    })
    loaded = load_knowledge(knowledge)
    problems = check_citations(loaded.entries, Seeds(seeds))
    assert problems == [
        f"{knowledge / 'blank.md'}:7: source: seeds/a.txt:5-6 starts on a blank line (start a range on the "
        "first line of the paragraph it cites)",
        f"{knowledge / 'missing.md'}:7: source: no seed file seeds/nowhere.txt in {seeds}",
        f"{knowledge / 'past.md'}:7: source: seeds/a.txt:8-12 is outside the seed (9 lines)",
    ]


def test_paragraphs_are_runs_of_non_blank_lines():
    lines = SEED.splitlines() + ["   ", "last"]
    found = [(p.first, p.last) for p in paragraphs("a.txt", lines)]
    assert found == [(1, 1), (3, 4), (6, 6), (8, 9), (11, 11)]
    assert paragraphs("a.txt", lines)[3].text == "Its budget is 50,000 euros a year,\npaid by the members."


# --- coverage ---

def test_covered_explained_and_uncovered_paragraphs(tmp_path):
    knowledge, seeds = make_kb(tmp_path, {"founding": "seeds/a.txt:6", "whole": "seeds/a.txt"}, EXPLAINED)
    report = report_of(knowledge, seeds)
    status = {row.paragraph.label: (row.entries, row.reason) for row in report.rows}
    assert status == {
        "seeds/a.txt:1": ([], "the page title"),
        "seeds/a.txt:3-4": ([], "site navigation"),
        "seeds/a.txt:6": (["founding"], None),
        "seeds/a.txt:8-9": ([], None),  # the whole-file citation covers nothing in particular
    }
    assert [row.paragraph.label for row in report.uncovered] == ["seeds/a.txt:8-9"]
    assert report.problems == [] and not report.ok


def test_a_citation_of_any_line_of_a_paragraph_covers_it(tmp_path):
    knowledge, seeds = make_kb(tmp_path, {"budget": "seeds/a.txt:9", "founding": "seeds/a.txt:6-8"}, EXPLAINED)
    report = report_of(knowledge, seeds)
    assert {row.paragraph.label: row.entries for row in report.rows if row.entries} == {
        "seeds/a.txt:6": ["founding"], "seeds/a.txt:8-9": ["budget", "founding"],
    }
    assert report.ok


def test_stale_reasons_a_covered_paragraph_or_one_that_does_not_exist(tmp_path):
    explained = EXPLAINED + "  6: no facts here\n  7: a blank line\n  5000: long gone\nseeds/gone.txt:\n  1: old\n"
    knowledge, seeds = make_kb(tmp_path, {"founding": "seeds/a.txt:6", "budget": "seeds/a.txt:8-9"}, explained)
    report = report_of(knowledge, seeds)
    yaml_file = knowledge / "coverage.yaml"
    assert report.problems == [
        f"{yaml_file}:4: seeds/a.txt:6 is explained but also cited by founding: drop the stale reason",
        f"{yaml_file}:5: line 7 of seeds/a.txt does not start a paragraph (paragraphs start at lines 1, 3, 6, 8)",
        f"{yaml_file}:6: line 5000 of seeds/a.txt does not start a paragraph (paragraphs start at lines 1, 3, 6, 8)",
        f"{yaml_file}:8: no seed file seeds/gone.txt in {seeds}",
    ]
    assert report.uncovered == [] and not report.ok


def test_a_reason_must_be_written(tmp_path):
    knowledge, seeds = make_kb(tmp_path, {"founding": "seeds/a.txt:6"}, "seeds/a.txt:\n  1: ''\n  x: heading\n")
    report = report_of(knowledge, seeds)
    yaml_file = knowledge / "coverage.yaml"
    assert report.problems == [f"{yaml_file}:2: line 1 of a.txt needs a reason",
                               f"{yaml_file}:3: 'x' is not a line number"]


# --- the commands ---

def run_kb(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-m", "bot.services.knowledge.commands", "kb", *args],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=60)


def test_kb_coverage_exit_status(tmp_path):
    knowledge, seeds = make_kb(tmp_path, {"founding": "seeds/a.txt:6", "budget": "seeds/a.txt:8"}, EXPLAINED)
    proc = run_kb("coverage", "--knowledge-dir", str(knowledge), "--seeds-dir", str(seeds))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'seeds/a.txt:3-4  "Skip to main content • Menu"  -> explained: site navigation' in proc.stdout
    assert 'seeds/a.txt:8-9  "Its budget is 50,000 euros a year, paid by the members."  -> budget' in proc.stdout
    assert "4 paragraphs: 2 covered, 2 explained, 0 uncovered" in proc.stdout

    (knowledge / "budget.md").unlink()
    proc = run_kb("coverage", "--knowledge-dir", str(knowledge), "--seeds-dir", str(seeds))
    assert proc.returncode == 1
    assert "uncovered (1):\n  seeds/a.txt:8-9" in proc.stdout

    proc = run_kb("coverage", "--knowledge-dir", str(knowledge), "--seeds-dir", str(tmp_path / "none"))
    assert proc.returncode == 2 and "no seeds directory" in proc.stderr


def test_kb_check_reports_bad_ranges_and_only_syntax_without_seeds(tmp_path):
    knowledge, seeds = make_kb(tmp_path, {"past": "seeds/a.txt:8-12", "good": "seeds/a.txt:6"})
    proc = run_kb("check", "--knowledge-dir", str(knowledge), "--seeds-dir", str(seeds))
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [f"{knowledge / 'past.md'}:7: source: seeds/a.txt:8-12 is outside the "
                                        "seed (9 lines)"]
    proc = run_kb("check", "--knowledge-dir", str(knowledge), "--seeds-dir", str(tmp_path / "none"))
    assert proc.returncode == 0 and "syntax only" in proc.stderr


# --- the shipped knowledge base ---

REAL_SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"


@pytest.mark.skipif(not REAL_SEEDS.is_dir(), reason="the seed documents are not beside this checkout")
def test_the_shipped_citations_point_into_the_seeds():
    loaded = load_knowledge(PROJECT_ROOT / "knowledge")
    assert check_citations(loaded.entries, Seeds(REAL_SEEDS)) == []


@pytest.mark.skipif(not REAL_SEEDS.is_dir(), reason="the seed documents are not beside this checkout")
def test_every_paragraph_of_the_seeds_is_covered_or_explained():
    loaded = load_knowledge(PROJECT_ROOT / "knowledge")
    report = coverage(loaded.entries, Seeds(REAL_SEEDS), PROJECT_ROOT / "knowledge" / "coverage.yaml")
    assert report.problems == []
    assert [f"{row.paragraph.label} {row.paragraph.preview}" for row in report.uncovered] == []
