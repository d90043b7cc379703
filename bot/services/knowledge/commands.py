"""Command-line tools over the knowledge base: `ask` (try the FAQ matcher), `kb check` (lint entries) and
`kb coverage` (which paragraphs of the seed documents no entry states).

`add_commands` plugs them into the main `lideres` CLI (it fits `bot.cli.COMMAND_EXTENSIONS`); each
sub-command stores its runner in `args.func(settings, args) -> exit status`, like the other commands.
Run as a module the file is `ask` on its own, which is how the FAQ evaluation calls it:

    python -m bot.services.knowledge.commands --batch questions.jsonl --json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.services.knowledge.coverage import COVERAGE_FILE, Seeds, check_citations, coverage, format_report
from bot.services.knowledge.entries import LoadResult, load_knowledge
from bot.services.knowledge.index import KnowledgeIndex, SearchResult
from bot.services.knowledge.text import LANGUAGES

if TYPE_CHECKING:
    from typing import TypeAlias

    from bot.config import Settings

    SubParsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

DefaultDir = Callable[[], Path] | Path | None
Runner = Callable[["Settings | None", argparse.Namespace], int]
"""What each sub-command stores in ``args.func``: settings (None when run stand-alone) and its arguments
to an exit status."""


def default_knowledge_dir() -> Path:
    """The repository's knowledge/ directory (until settings provide LIDERES_KNOWLEDGE_DIR)."""
    return Path(__file__).resolve().parents[3] / "knowledge"


def default_seeds_dir() -> Path:
    """`../shared/seeds` beside the repository, as LIDERES_SEEDS_DIR defaults (for stand-alone use)."""
    return Path(__file__).resolve().parents[4] / "shared" / "seeds"


def add_commands(subparsers: SubParsers, default_dir: DefaultDir = None) -> None:
    """Add `ask` and `kb check` to an argparse sub-parsers object (joining an existing `kb` command if
    another feature made one). Entries are read from --knowledge-dir, else the settings'
    `knowledge_dir`, else `default_dir` (a path, or a function called when the command runs), else
    the repository's knowledge/."""
    ask = subparsers.add_parser("ask", help="answer a question from the knowledge base")
    _ask_arguments(ask)
    ask.set_defaults(func=run_ask, default_knowledge_dir=default_dir)
    add_kb_check(_kb_subcommands(subparsers), default_dir)


def add_kb_check(kb_subparsers: SubParsers, default_dir: DefaultDir = None) -> None:
    """Add `check` and `coverage` to the sub-parsers of a `kb` command."""
    check = kb_subparsers.add_parser("check", help="report every problem of the knowledge base files")
    check.add_argument("--knowledge-dir", type=Path, help="directory of entries (default: knowledge/)")
    check.add_argument("--seeds-dir", type=Path, help="seed documents cited by entries (default: LIDERES_SEEDS_DIR)")
    check.set_defaults(func=run_check, default_knowledge_dir=default_dir)
    cover = kb_subparsers.add_parser(
        "coverage", help="list the seed paragraphs with the entries citing them; fail on any uncovered"
    )
    cover.add_argument("--knowledge-dir", type=Path, help="directory of entries (default: knowledge/)")
    cover.add_argument("--seeds-dir", type=Path, help="seed documents (default: LIDERES_SEEDS_DIR)")
    cover.set_defaults(func=run_coverage, default_knowledge_dir=default_dir)


def _kb_subcommands(subparsers: SubParsers) -> SubParsers:
    """The sub-parsers of the `kb` command, created if no other feature did."""
    kb = subparsers.choices.get("kb")
    if kb is None:
        kb = subparsers.add_parser("kb", help="knowledge base tools")
        return kb.add_subparsers(dest="kb_command", required=True)
    for action in kb._actions:  # argparse keeps no public handle on a parser's sub-parsers
        if isinstance(action, argparse._SubParsersAction):
            return action
    return kb.add_subparsers(dest="kb_command", required=True)


def _ask_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", nargs="?", help="the question (omit with --batch)")
    parser.add_argument("--lang", choices=LANGUAGES, default=LANGUAGES[0], help="language of the answer")
    parser.add_argument("--json", action="store_true", help="print one JSON object per question")
    parser.add_argument("--batch", metavar="FILE.jsonl",
                        help='questions, one JSON object a line: {"id", "question", "lang"}; - for stdin')
    parser.add_argument("--knowledge-dir", type=Path, help="directory of entries (default: knowledge/)")


def _knowledge_dir(settings: Settings | None, args: argparse.Namespace) -> Path:
    if args.knowledge_dir is not None:
        return Path(args.knowledge_dir)
    if settings is not None:
        return settings.knowledge_dir
    default: DefaultDir = getattr(args, "default_knowledge_dir", None)
    if callable(default):
        default = default()
    return Path(default) if default is not None else default_knowledge_dir()


def _seeds_dir(settings: Settings | None, args: argparse.Namespace) -> Path:
    if getattr(args, "seeds_dir", None) is not None:
        return Path(args.seeds_dir)
    if settings is not None:
        return settings.seeds_dir
    return default_seeds_dir()


def run_check(settings: Settings | None, args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print each problem as `file:line: what is wrong`; exit status 1 when there is any. Citations of
    seed lines are checked against the seeds when their directory is here, else only for syntax."""
    out = out or sys.stdout
    result = load_knowledge(_knowledge_dir(settings, args))
    problems = list(result.problems)
    seeds = Seeds(_seeds_dir(settings, args))
    if seeds.exists():
        problems += check_citations(result.entries, seeds)
    else:
        print(f"note: no seeds directory {seeds.directory}: citations checked for syntax only", file=sys.stderr)
    for problem in problems:
        print(problem, file=out)
    status = "problem" if len(problems) == 1 else "problems"
    print(f"{len(result.entries)} entries loaded, {len(problems)} {status}",
          file=sys.stderr if problems else out)
    return 1 if problems else 0


def run_coverage(settings: Settings | None, args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print every seed paragraph with the entries citing it or its reason in coverage.yaml, then the
    uncovered ones; exit status 1 when one is uncovered or a reason is stale, 2 without seeds."""
    out = out or sys.stdout
    knowledge_dir = _knowledge_dir(settings, args)
    seeds = Seeds(_seeds_dir(settings, args))
    if not seeds.exists():
        print(f"kb coverage: no seeds directory {seeds.directory} (set LIDERES_SEEDS_DIR or --seeds-dir)",
              file=sys.stderr)
        return 2
    loaded = load_knowledge(knowledge_dir)
    _warn(loaded)
    report = coverage(loaded.entries, seeds, knowledge_dir / COVERAGE_FILE)
    for line in format_report(report):
        print(line, file=out)
    for problem in report.problems:
        print(problem, file=out)
    return 0 if report.ok else 1


def run_ask(settings: Settings | None, args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Answer one question, or every line of a batch file with the index built once. `settings` may be
    None (stand-alone use)."""
    out = out or sys.stdout
    if (args.question is None) == (args.batch is None):
        print("ask: give a QUESTION or --batch FILE (not both)", file=sys.stderr)
        return 2
    loaded = load_knowledge(_knowledge_dir(settings, args))
    _warn(loaded)
    index = KnowledgeIndex.build(loaded.entries)
    if args.question is not None:
        result = index.search(args.question, args.lang)
        if args.json:
            _print_json(out, as_json(result, args.lang))
        else:
            print(as_text(result, args.lang), file=out)
        return 0
    try:
        return _ask_batch(args, index, out)
    except OSError as exc:
        print(f"ask: cannot read {args.batch}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def _ask_batch(args: argparse.Namespace, index: KnowledgeIndex, out: TextIO) -> int:
    status = 0
    for number, row in _batch_rows(args.batch):
        if row is None:
            print(f"{args.batch}:{number}: not a JSON object with a \"question\"", file=sys.stderr)
            status = 1
            continue
        wanted = row.get("lang")
        lang: str = wanted if isinstance(wanted, str) and wanted in LANGUAGES else args.lang
        result = index.search(str(row.get("question") or ""), lang)
        if args.json:
            _print_json(out, {"id": row.get("id", number), **as_json(result, lang)})
        else:
            print(f"[{row.get('id', number)}] {as_text(result, lang)}\n", file=out)
    return status


def as_json(result: SearchResult, lang: str) -> dict[str, Any]:
    """The machine-readable form; `matched` is true only for a confident answer, and `answer` is empty
    otherwise (a suggestion is not an answer). `suggested` carries each suggestion's answer too, so an
    evaluation can tell whether the right entry was at least among the buttons the user would see."""
    return {
        "matched": result.matched,
        "entry": result.entry.id if result.entry else None,
        "score": result.score,
        "answer": result.entry.answer(lang) if result.matched and result.entry else "",
        "suggestions": [e.id for e in result.suggestions],
        "suggested": [{"id": e.id, "answer": e.answer(lang)} for e in result.suggestions],
    }


_TEXTS = {
    "es": {"none": "No encuentro una respuesta a esa pregunta.", "suggest": "¿Quizás quieres decir:",
           "related": "Relacionado:"},
    "en": {"none": "I have no answer to that question.", "suggest": "Did you mean:", "related": "Related:"},
}


def as_text(result: SearchResult, lang: str) -> str:
    texts = _TEXTS.get(lang, _TEXTS["en"])
    lines: list[str] = []
    if result.matched and result.entry:
        lines += [f"{result.entry.title_for(lang)}  ({result.entry.id}, {result.score:.2f})", "",
                  result.entry.answer(lang)]
        if result.suggestions:
            lines += ["", texts["related"]]
    elif result.outcome == "suggest":
        lines.append(f"{texts['suggest']}  ({result.score:.2f})")
    else:
        lines.append(f"{texts['none']}  ({result.score:.2f})")
    lines += [f"  - {e.title_for(lang)} ({e.id})" for e in result.suggestions]
    return "\n".join(lines)


def _batch_rows(path: str) -> Iterator[tuple[int, dict[str, Any] | None]]:
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            yield number, row if isinstance(row, dict) and "question" in row else None
    finally:
        if stream is not sys.stdin:
            stream.close()


def _print_json(out: TextIO, obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), file=out)


def _warn(loaded: LoadResult) -> None:
    """Problems go to stderr: the rest of the knowledge base still answers."""
    for problem in loaded.problems:
        print(f"warning: {problem}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point: `ask` unless the first argument names another command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bot.services.knowledge.commands")
    add_commands(parser.add_subparsers(dest="command", required=True))
    if not argv or argv[0] not in ("ask", "kb", "-h", "--help"):
        argv.insert(0, "ask")
    args = parser.parse_args(argv)
    run: Runner = args.func
    return run(None, args)


if __name__ == "__main__":
    sys.exit(main())
