"""The shipped knowledge base: loads cleanly, covers both languages, and quotes no evaluation question."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.services.knowledge.entries import load_knowledge
from bot.services.knowledge.text import fold

EVAL_SETS = sorted((PROJECT_ROOT.parent / "shared" / "eval").glob("*.jsonl"))


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
    questions = {
        comparable(json.loads(line)["question"])
        for path in EVAL_SETS
        for line in Path(path).read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    quoted = [
        (entry.id, text)
        for entry in load_knowledge(PROJECT_ROOT / "knowledge").entries
        for text in [*entry.title.values(), *(v for variants in entry.questions.values() for v in variants)]
        if comparable(text) in questions
    ]
    assert quoted == []
