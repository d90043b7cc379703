"""Which paragraphs of the seed documents the knowledge base states, and why the others need no entry.

A fact the seeds give and no entry states is a question the bot cannot answer, and nobody notices until a
user asks it. So entries cite the lines they take their facts from (`source: seeds/FILE.txt:97-101`), and
every paragraph of a seed (a maximal run of non-blank lines) must be cited by an entry or explained in
`knowledge/coverage.yaml` (site navigation, a newsletter form, a bare heading). An explanation for a
paragraph that has since got an entry, or that no longer exists, is reported too: stale reasons would
hide the next fact that goes missing.

The bot never reads the seeds; only `lideres kb check` and `lideres kb coverage` do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.services.knowledge.entries import SEEDS_PREFIX, Entry

COVERAGE_FILE = "coverage.yaml"
PREVIEW_CHARS = 60


def is_blank(line: str) -> bool:
    return not line.strip()


def read_lines(path: Path) -> list[str]:
    """The lines of a text file as editors number them: split on newlines only (not on the form feeds
    or Unicode separators `str.splitlines` also breaks at)."""
    text = path.read_text(encoding="utf-8-sig")
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()  # the newline ending the last line starts no line
    return lines


@dataclass(frozen=True)
class Paragraph:
    """A maximal run of non-blank lines of a seed, lines numbered from 1."""

    seed: str  # file name under the seeds directory
    first: int
    last: int
    text: str

    @property
    def label(self) -> str:
        lines = str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        return f"{SEEDS_PREFIX}{self.seed}:{lines}"

    @property
    def preview(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1].rstrip() + "…"


def paragraphs(seed: str, lines: list[str]) -> list[Paragraph]:
    out: list[Paragraph] = []
    start: int | None = None
    for number, line in enumerate([*lines, ""], start=1):
        if not is_blank(line) and start is None:
            start = number
        elif is_blank(line) and start is not None:
            out.append(Paragraph(seed, start, number - 1, "\n".join(lines[start - 1: number - 1])))
            start = None
    return out


class Seeds:
    """The seed documents of a directory, each read once."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lines: dict[str, list[str] | None] = {}

    def exists(self) -> bool:
        return self.directory.is_dir()

    def names(self) -> list[str]:
        return sorted(p.name for p in self.directory.glob("*.txt") if p.is_file() and not p.name.startswith("."))

    def lines(self, name: str) -> list[str] | None:
        """The lines of seed `name`, or None when there is no such readable file."""
        if name not in self._lines:
            path = self.directory / name
            try:
                self._lines[name] = read_lines(path) if path.is_file() else None
            except (OSError, UnicodeDecodeError):
                self._lines[name] = None
        return self._lines[name]

    def paragraphs(self, name: str) -> list[Paragraph]:
        lines = self.lines(name)
        return paragraphs(name, lines) if lines is not None else []


def check_citations(entries: Iterable[Entry], seeds: Seeds) -> list[str]:
    """`file:line: problem` for each seed citation that points at no file, past a seed's end, or starts
    on a blank line (a range starts on the first line of the paragraph it cites)."""
    problems: list[str] = []
    for entry in entries:
        where = f"{entry.path}:{entry.source_line}"
        for citation in entry.citations:
            if citation.kind != "seed":
                continue
            lines = seeds.lines(citation.target)
            if lines is None:
                problems.append(f"{where}: source: no seed file {SEEDS_PREFIX}{citation.target} "
                                f"in {seeds.directory}")
            elif citation.first is None:
                continue
            elif (citation.last or citation.first) > len(lines):
                problems.append(f"{where}: source: {citation} is outside the seed "
                                f"({len(lines)} lines)")
            elif is_blank(lines[citation.first - 1]):
                problems.append(f"{where}: source: {citation} starts on a blank line (start a range on "
                                "the first line of the paragraph it cites)")
    return problems


@dataclass(frozen=True)
class Explanation:
    seed: str
    line: int
    reason: str
    at: int  # line of coverage.yaml, for problems


def load_explanations(path: Path) -> tuple[list[Explanation], list[str]]:
    """The reasons of coverage.yaml (`seeds/FILE.txt:` → `LINE: reason`) and its problems. A missing
    file explains nothing."""
    if not path.is_file():
        return [], []
    try:
        text = path.read_text(encoding="utf-8-sig")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}:0: cannot read: {exc}"]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return [], [f"{path}:{mark.line + 1 if mark else 1}: YAML syntax error: {exc.problem or exc.context}"]
    except yaml.YAMLError as exc:
        return [], [f"{path}:1: YAML error: {exc}"]
    if node is None:
        return [], []
    if not isinstance(node, yaml.MappingNode):
        return [], [f"{path}:1: coverage.yaml must map each seed file to its explained lines"]
    out: list[Explanation] = []
    problems: list[str] = []
    for seed_node, lines_node in node.value:
        seed = str(seed_node.value).removeprefix(SEEDS_PREFIX)
        if not isinstance(lines_node, yaml.MappingNode):
            problems.append(f"{path}:{seed_node.start_mark.line + 1}: {seed_node.value} must map line numbers "
                            "to reasons, e.g. '12: site navigation'")
            continue
        for line_node, reason_node in lines_node.value:
            at = line_node.start_mark.line + 1
            reason = reason_node.value if isinstance(reason_node, yaml.ScalarNode) else None
            if not str(line_node.value).isdigit() or int(line_node.value) < 1:
                problems.append(f"{path}:{at}: '{line_node.value}' is not a line number")
            elif not isinstance(reason, str) or not reason.strip():
                problems.append(f"{path}:{at}: line {line_node.value} of {seed} needs a reason")
            else:
                out.append(Explanation(seed, int(line_node.value), " ".join(reason.split()), at))
    return out, problems


@dataclass
class Row:
    """One paragraph with the entries citing it, or the reason it needs none."""

    paragraph: Paragraph
    entries: list[str] = field(default_factory=list)
    reason: str | None = None

    @property
    def uncovered(self) -> bool:
        return not self.entries and self.reason is None


@dataclass
class CoverageReport:
    rows: list[Row]
    problems: list[str]  # stale or broken explanations, bad citations: `file:line: problem`

    @property
    def uncovered(self) -> list[Row]:
        return [row for row in self.rows if row.uncovered]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.uncovered


def coverage(entries: Iterable[Entry], seeds: Seeds, explanations_file: Path) -> CoverageReport:
    """Every paragraph of every seed with the entries citing any of its lines and its reason."""
    entries = list(entries)
    problems = check_citations(entries, seeds)
    rows: dict[tuple[str, int], Row] = {}
    by_line: dict[tuple[str, int], Row] = {}
    for name in seeds.names():
        for paragraph in seeds.paragraphs(name):
            row = rows[(name, paragraph.first)] = Row(paragraph)
            for number in range(paragraph.first, paragraph.last + 1):
                by_line[(name, number)] = row
    for entry in entries:
        for citation in entry.citations:
            if citation.kind != "seed":
                continue
            for number in citation.lines:
                cited = by_line.get((citation.target, number))
                if cited is not None and entry.id not in cited.entries:
                    cited.entries.append(entry.id)

    explanations, explanation_problems = load_explanations(explanations_file)
    problems += explanation_problems
    for explanation in explanations:
        where = f"{explanations_file}:{explanation.at}"
        explained = rows.get((explanation.seed, explanation.line))
        if seeds.lines(explanation.seed) is None:
            problems.append(f"{where}: no seed file {SEEDS_PREFIX}{explanation.seed} in {seeds.directory}")
        elif explained is None:
            starts = ", ".join(str(p.first) for p in seeds.paragraphs(explanation.seed))
            problems.append(f"{where}: line {explanation.line} of {SEEDS_PREFIX}{explanation.seed} does not "
                            f"start a paragraph (paragraphs start at lines {starts})")
        elif explained.reason is not None:
            problems.append(f"{where}: {explained.paragraph.label} is explained twice")
        else:
            explained.reason = explanation.reason
            if explained.entries:
                problems.append(f"{where}: {explained.paragraph.label} is explained but also cited by "
                                f"{', '.join(explained.entries)}: drop the stale reason")
    return CoverageReport(list(rows.values()), problems)


def format_report(report: CoverageReport) -> list[str]:
    """Every paragraph, then the uncovered ones, then a count: what `kb coverage` prints."""
    def line(row: Row) -> str:
        if row.entries:
            status = ", ".join(row.entries)
        elif row.reason is not None:
            status = f"explained: {row.reason}"
        else:
            status = "UNCOVERED"
        return f"{row.paragraph.label}  \"{row.paragraph.preview}\"  -> {status}"

    out = [line(row) for row in report.rows]
    uncovered = report.uncovered
    out.append("")
    out.append(f"uncovered ({len(uncovered)}):" if uncovered else "uncovered: none")
    out += [f"  {row.paragraph.label}  \"{row.paragraph.preview}\"" for row in uncovered]
    covered = sum(1 for row in report.rows if row.entries)
    explained = sum(1 for row in report.rows if not row.entries and row.reason is not None)
    out.append(f"{len(report.rows)} paragraphs: {covered} covered, {explained} explained, "
               f"{len(uncovered)} uncovered")
    return out
