"""Knowledge-base entries drafted from a coordinator's answer to an unanswered question.

A draft is a normal entry file (``knowledge/README.md`` describes the format) written under the knowledge
folder's hidden ``.drafts/`` folder, which the loader skips: the question as its title and first ways of asking
(every wording members used, by language), the answer in the language it was given, the source naming the
answer. It needs a person to complete what the checker asks (the other language, at least three ways of
asking in each); once it passes, ``publish`` moves it beside the other entries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import yaml

from bot.config import LANGUAGES
from bot.db.models import Unanswered
from bot.services.knowledge.entries import parse_entry_file
from bot.services.knowledge.text import fold

DRAFTS = ".drafts"
TODO = "TODO"


def same_question(text: str) -> str:
    """Two members asked the same thing when their questions read the same without case, accents or signs."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).split())


def draft_path(knowledge_dir: Path, number: int) -> Path:
    return knowledge_dir / DRAFTS / f"{entry_id(number)}.md"


def entry_id(number: int) -> str:
    return f"answered-question-{number}"


def write_draft(knowledge_dir: Path, question: Unanswered, asked: Sequence[Unanswered], *, now: datetime) -> Path:
    """Write (or rewrite) the draft of ``question``'s answer; returns its path."""
    path = draft_path(knowledge_dir, question.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    by_language: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for item in asked:
        wording = " ".join(item.question.split())[:300]
        if wording not in by_language.setdefault(item.language, []):
            by_language[item.language].append(wording)
    title = {lang: (by_language[lang][0] if by_language.get(lang) else f"{TODO}: {lang}") for lang in LANGUAGES}
    front = {
        "id": entry_id(question.id),
        "title": title,
        "tags": [],
        "questions": {lang: by_language.get(lang) or [] for lang in LANGUAGES},
        "source": f"coordinators' answer to question {question.id} ({now.date().isoformat()})",
    }
    answers = "\n\n".join(f"## {lang}\n\n{(question.reply or '') if lang == question.language else TODO}"
                          for lang in LANGUAGES)
    path.write_text("---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n" + answers + "\n",
                    encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    """What the knowledge base's checker says of the draft, and any TODO left in it."""
    entry, found = parse_entry_file(path)
    text = path.read_text(encoding="utf-8")
    if TODO in text:
        found = [f"{path.name}: replace every {TODO} (the other language's title and answer)", *found]
    return found


def publish(knowledge_dir: Path, path: Path) -> Path:
    """Move a draft that passes the checker beside the other entries."""
    target = knowledge_dir / path.name
    path.replace(target)
    return target
