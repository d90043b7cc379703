"""Small knowledge bases written to a folder for the matcher's tests: the real loader and index read them."""

from __future__ import annotations

import json
from pathlib import Path

from bot.services.knowledge.entries import load_knowledge
from bot.services.knowledge.index import KnowledgeIndex

# Per entry id: its Spanish questions, its English questions (the first of each is its title) and one answer
# written in both languages.
Entries = dict[str, tuple[list[str], list[str], str]]


def write_entries(directory: Path, files: Entries) -> KnowledgeIndex:
    """Write one entry file per item of `files` and build the index over the folder; a file the loader
    finds a problem in fails the test."""
    for entry_id, (es, en, answer) in files.items():
        title = f"{{es: {json.dumps(es[0])}, en: {json.dumps(en[0])}}}"
        (directory / f"{entry_id}.md").write_text(
            f"---\nid: {entry_id}\ntitle: {title}\nquestions:\n  es: {es}\n  en: {en}\n---\n"
            f"## es\n\n{answer}\n\n## en\n\n{answer}\n", encoding="utf-8")
    loaded = load_knowledge(directory)
    assert loaded.problems == ()
    return KnowledgeIndex.build(loaded.entries)
