"""Loading the knowledge base: one Markdown file per entry, YAML front matter, one answer per language.

The files are edited by people, not programs, so every mistake is reported as `file:line: what is wrong`
(the form editors and `kb check` jump to), and a bad file is skipped while the others still load: one
typo must not take the whole FAQ offline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.services.knowledge.text import LANGUAGES

MIN_VARIANTS = 3
# Telegram caps a message at 4096 characters; an answer is sent as one message.
MAX_ANSWER_CHARS = 4000
KNOWN_FIELDS = ("id", "title", "tags", "questions", "source")
REQUIRED_FIELDS = ("id", "title", "questions")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: start-up parses every entry

NOT_ENTRIES = frozenset({"readme.md"})

_ID_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_SECTION_RE = re.compile(r"^##\s+([A-Za-z]{2})\s*$")

SEEDS_PREFIX = "seeds/"
BOT_SOURCE = "lideres-bot"
_RANGE_RE = re.compile(r"^(\d+)(?:-(\d+))?$")


@dataclass(frozen=True)
class Citation:
    """One item of an entry's `source:`: lines of a seed document, a whole seed (legacy, vague), the bot
    itself, or another document the network approved. Line ranges let `kb coverage` tell which
    paragraphs of the seeds no entry states yet."""

    kind: str  # "seed", "bot" or "other"
    target: str  # the seed's file name under the seeds directory, else the text as written
    first: int | None = None  # 1-based, inclusive; None: the whole file
    last: int | None = None

    @property
    def lines(self) -> range:
        """The cited lines; empty for a whole-file citation, which points at nothing in particular."""
        return range(self.first, (self.last or self.first) + 1) if self.first is not None else range(0)

    def __str__(self) -> str:
        if self.kind != "seed":
            return self.target
        where = "" if self.first is None else f":{self.first}" if self.first == self.last \
            else f":{self.first}-{self.last}"
        return f"{SEEDS_PREFIX}{self.target}{where}"


def parse_source(text: str) -> tuple[tuple[Citation, ...], list[str]]:
    """The citations of a `source:` text and what is wrong with its syntax.

    Items are comma-separated: `seeds/FILE.txt:97-101` (lines 97 to 101), `seeds/FILE.txt:97`, plain
    `seeds/FILE.txt`, `lideres-bot`, or any other text. A bare range (`seeds/F.txt:5, 9-12`) continues
    the seed named before it, so several paragraphs of one seed need not repeat its name."""
    citations: list[Citation] = []
    problems: list[str] = []
    seed: str | None = None  # the seed a bare range continues
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            problems.append("source: an empty item between commas")
            continue
        if item.startswith(SEEDS_PREFIX):
            name, colon, lines = item[len(SEEDS_PREFIX):].partition(":")
            seed = name.strip()
            if not seed or seed.startswith("/") or ".." in Path(seed).parts:
                problems.append(f"source: '{item}' does not name a file of the seeds directory")
                seed = None
                continue
            if not colon:
                citations.append(Citation("seed", seed))
                continue
            item = lines.strip()
        elif seed is None or not _RANGE_RE.match(item):
            if _RANGE_RE.match(item):
                problems.append(f"source: line range '{item}' without a seed file before it")
            else:
                citations.append(Citation("bot" if item == BOT_SOURCE else "other", item))
            seed = None
            continue
        citation, problem = _seed_range(seed, item)
        if problem:
            problems.append(problem)
        else:
            citations.append(citation)
    return tuple(citations), problems


def _seed_range(seed: str, item: str) -> tuple[Citation, str]:
    """The citation of lines `item` ("97" or "97-101") of `seed`, or the problem with them."""
    match = _RANGE_RE.match(item)
    where = f"{SEEDS_PREFIX}{seed}"
    if match is None:
        return Citation("seed", seed), f"source: '{where}:{item}': '{item}' is not a line or a range like 97-101"
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if first < 1 or last < first:
        return Citation("seed", seed), (f"source: bad line range '{item}' of {where} (lines count from 1, "
                                        "the first no greater than the last)")
    return Citation("seed", seed, first, last), ""


@dataclass(frozen=True)
class Entry:
    """One question-and-answer topic, in every language."""

    id: str
    title: Mapping[str, str]
    questions: Mapping[str, tuple[str, ...]]
    answers: Mapping[str, str]
    tags: tuple[str, ...] = ()
    source: str | None = None
    path: Path | None = None
    citations: tuple[Citation, ...] = ()  # `source` parsed
    source_line: int = 0  # where `source:` is written, for problems about its citations

    def answer(self, lang: str) -> str:
        """The answer in `lang`; a loaded entry has every language, the fallback only serves a language
        the knowledge base was not written for."""
        return self.answers.get(lang) or next(iter(self.answers.values()), "")

    def title_for(self, lang: str) -> str:
        return self.title.get(lang) or next(iter(self.title.values()), self.id)


@dataclass(frozen=True)
class LoadResult:
    entries: tuple[Entry, ...]
    problems: tuple[str, ...] = field(default=())


def load_knowledge(
    directory: str | Path, languages: Iterable[str] = LANGUAGES, min_variants: int = MIN_VARIANTS
) -> LoadResult:
    """Every valid entry under `directory` (recursively, README.md excepted) and the problems of the
    others. Entries come in file-name order so that a rebuild gives the same index; of two files with
    one id, the one nearer the top loads."""
    directory = Path(directory)
    languages = tuple(languages)
    if not directory.is_dir():
        return LoadResult((), (f"{directory}:0: knowledge directory not found",))
    entries: list[Entry] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    paths = sorted(
        (p for p in directory.rglob("*.md")
         if p.name.lower() not in NOT_ENTRIES and not any(part.startswith(".") for part in p.parts)),
        key=lambda p: (len(p.parts), p.parts),  # top-level files first, then sub-folders
    )
    for path in paths:
        entry, file_problems = parse_entry_file(path, languages, min_variants)
        if entry is not None and entry.id in seen:
            file_problems.append(f"{path}:2: duplicate id '{entry.id}', already in {seen[entry.id]}")
        if file_problems:
            problems.extend(file_problems)
            continue
        assert entry is not None
        seen[entry.id] = path
        entries.append(entry)
    if not paths:
        problems.append(f"{directory}:0: no knowledge entries (*.md files) found")
    return LoadResult(tuple(entries), tuple(problems))


def parse_entry_file(
    path: Path, languages: tuple[str, ...] = LANGUAGES, min_variants: int = MIN_VARIANTS
) -> tuple[Entry | None, list[str]]:
    """The entry of one file, or None with the reasons it cannot be used."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [f"{path}:0: cannot read: {exc.strerror or exc}"]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [f"{path}:{line}: not valid UTF-8 text"]
    return parse_entry(path, text, languages, min_variants)


def parse_entry(
    path: Path, text: str, languages: tuple[str, ...] = LANGUAGES, min_variants: int = MIN_VARIANTS
) -> tuple[Entry | None, list[str]]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None, [f"{path}:1: no front matter: the file must start with a '---' line"]
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return None, [f"{path}:1: front matter not closed: no second '---' line"]
    front = "\n".join(lines[1:end])
    try:
        node = yaml.compose(front, Loader=_Loader)
        data = yaml.load(front, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else 2
        return None, [f"{path}:{line}: YAML syntax error: {exc.problem or exc.context}"]
    except yaml.YAMLError as exc:
        return None, [f"{path}:2: YAML error: {exc}"]
    if not isinstance(data, dict):
        return None, [f"{path}:2: front matter must be a mapping of fields (id, title, questions...)"]

    checker = _FrontMatter(path, node, languages)
    problems = checker.problems
    for name in data:
        if name not in KNOWN_FIELDS:
            checker.report(f"unknown field '{name}' (known: {', '.join(KNOWN_FIELDS)})", name)
    for name in REQUIRED_FIELDS:
        if name not in data:
            problems.append(f"{path}:1: missing field '{name}'")

    entry_id = data.get("id")
    if "id" in data:
        if not isinstance(entry_id, str) or not _ID_RE.match(entry_id):
            checker.report(f"id must be lower-case letters, digits and hyphens, got {entry_id!r}", "id")
        elif entry_id != path.stem:
            checker.report(f"id '{entry_id}' does not match the file name '{path.name}'", "id")
    title = checker.texts_by_language(data.get("title"), "title") if "title" in data else {}
    questions = checker.questions(data.get("questions"), min_variants) if "questions" in data else {}
    tags = checker.string_list(data.get("tags", []), "tags")
    source = data.get("source")
    citations: tuple[Citation, ...] = ()
    if source is not None and not isinstance(source, str):
        checker.report("source must be a text (the seed file the facts come from)", "source")
    elif source is not None:
        citations, syntax = parse_source(source)
        for problem in syntax:
            checker.report(problem, "source")

    answers = _answers(path, lines, end, languages, problems)
    if problems:
        return None, problems
    return Entry(
        id=str(entry_id),
        title=title,
        questions=questions,
        answers=answers,
        tags=tuple(tags),
        source=source,
        path=path,
        citations=citations,
        source_line=checker.line("source") if source is not None else 0,
    ), []


class _FrontMatter:
    """Checks of front-matter fields, each problem reported at the line of the field it is about."""

    def __init__(self, path: Path, node: yaml.Node | None, languages: tuple[str, ...]) -> None:
        self.path = path
        self.node = node
        self.languages = languages
        self.problems: list[str] = []

    def line(self, *keys: str) -> int:
        """File line of a (nested) key; the closest parent's line when the key is absent."""
        node, line = self.node, 2
        for name in keys:
            if not isinstance(node, yaml.MappingNode):
                break
            for key_node, value_node in node.value:
                if key_node.value == name:
                    line, node = key_node.start_mark.line + 2, value_node
                    break
            else:
                break
        return line

    def report(self, what: str, *keys: str) -> None:
        self.problems.append(f"{self.path}:{self.line(*keys)}: {what}")

    def texts_by_language(self, value: Any, name: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.report(f"{name} must map each language to a text, e.g. {{es: ..., en: ...}}", name)
            return {}
        out: dict[str, str] = {}
        for lang in self.languages:
            text = value.get(lang)
            if lang not in value:
                self.report(f"{name}: missing language '{lang}'", name)
            elif not isinstance(text, str) or not text.strip():
                self.report(f"{name}.{lang} must be a non-empty text", name, lang)
            else:
                out[lang] = text.strip()
        self._unknown_languages(value, name)
        return out

    def questions(self, value: Any, min_variants: int) -> dict[str, tuple[str, ...]]:
        if not isinstance(value, dict):
            self.report("questions must map each language to a list of question variants", "questions")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for lang in self.languages:
            if lang not in value:
                self.report(f"questions: missing language '{lang}'", "questions")
                continue
            variants = self.string_list(value[lang], f"questions.{lang}", "questions", lang)
            unique = list(dict.fromkeys(v.strip() for v in variants))
            if len(unique) < len(variants):
                self.report(f"questions.{lang}: the same variant is written twice", "questions", lang)
            if len(unique) < min_variants:
                self.report(
                    f"questions.{lang}: {len(unique)} question variant(s), at least {min_variants} needed "
                    "(different phrasings are what lets users find the entry)",
                    "questions", lang,
                )
            out[lang] = tuple(unique)
        self._unknown_languages(value, "questions")
        return out

    def string_list(self, value: Any, name: str, *keys: str) -> list[str]:
        """A list of texts; plain numbers are taken as texts (YAML reads the tag `2019` as a number)."""
        keys = keys or (name,)
        if not isinstance(value, list):
            self.report(f"{name} must be a list, e.g. [a, b, c]", *keys)
            return []
        out: list[str] = []
        for position, item in enumerate(value, start=1):
            if isinstance(item, int | float) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                self.report(f"{name}: item {position} must be a non-empty text, got {item!r}", *keys)
                return []
            out.append(item.strip())
        return out

    def _unknown_languages(self, value: Mapping[object, object], name: str) -> None:  # YAML keys: any type
        for lang in value:
            if lang not in self.languages:
                self.report(f"{name}: unknown language '{lang}' (expected {', '.join(self.languages)})",
                            name, str(lang))


def _answers(path: Path, lines: list[str], end: int, languages: tuple[str, ...],
             problems: list[str]) -> dict[str, str]:
    """The `## es` / `## en` sections after the front matter, each with its line for the problems."""
    sections: dict[str, tuple[int, list[str]]] = {}
    current: list[str] | None = None
    for number, line in enumerate(lines[end + 1:], start=end + 2):
        heading = _SECTION_RE.match(line.strip())
        if heading:
            lang = heading.group(1).lower()
            if lang not in languages:
                problems.append(f"{path}:{number}: unknown language section '## {heading.group(1)}'")
                current = []
            elif lang in sections:
                problems.append(f"{path}:{number}: second '## {lang}' section")
                current = []
            else:
                current = []
                sections[lang] = (number, current)
        elif current is not None:
            current.append(line)
        elif line.strip():
            problems.append(f"{path}:{number}: text before the first '## <language>' answer section")
            current = []
    answers: dict[str, str] = {}
    for lang in languages:
        if lang not in sections:
            problems.append(f"{path}:{end + 1}: no '## {lang}' answer section")
            continue
        number, body = sections[lang]
        answer = "\n".join(body).strip()
        if not answer:
            problems.append(f"{path}:{number}: the '## {lang}' answer is empty")
        elif len(answer) > MAX_ANSWER_CHARS:
            problems.append(f"{path}:{number}: the '## {lang}' answer has {len(answer)} characters, "
                            f"more than the {MAX_ANSWER_CHARS} a chat message can carry")
        answers[lang] = answer
    return answers
