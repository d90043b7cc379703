"""FAQ accuracy on every evaluation set we have, one line per set (what `make eval` prints).

    python tests/eval/report.py [SET.jsonl ...] [--show-misses] [--cmd 'lideres ask --batch {file} --json']

Without arguments the sets are ../shared/eval/faq_dev.jsonl and faq_dev2.jsonl (the shared ones),
tests/eval/fresh.jsonl to fresh30.jsonl (calibration; fresh3 to fresh30 were held-back sets, read once for their
figure and then used for calibration) and tests/eval/heldback29.jsonl to heldback32.jsonl (read only for a final
figure, never yet), each when present. Right and refused follow ../shared/eval/score_faq.py
(read-only, so not extended): an in-scope question is right when the answer is matched and contains one of
`expect_any` (case- and accent-insensitive), an out-of-scope one when nothing is matched. On top of it,
"among suggestions" counts an in-scope question whose expected text is in the answer or in the answer of one
of the suggested entries: the right entry was at least one tap away, which tells a threshold problem from a
matcher that cannot find the entry at all.

The held-back sets' questions are never printed, not even with --show-misses: looking at them would make
it one more set the matcher is tuned on.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "eval"
EVAL = ROOT / "tests" / "eval"
HELD_BACK = ("heldback29.jsonl", "heldback30.jsonl", "heldback31.jsonl", "heldback32.jsonl")
DEFAULT_SETS = (SHARED / "faq_dev.jsonl", SHARED / "faq_dev2.jsonl",
                *(EVAL / f"fresh{n}.jsonl" for n in ("", *map(str, range(2, 31)))),
                *(EVAL / name for name in HELD_BACK))


def fold(text: str) -> str:
    """score_faq.py's comparison: accents and case ignored."""
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def default_command() -> str:
    lideres = Path(sys.executable).parent / "lideres"
    program = str(lideres) if lideres.exists() else f"{sys.executable} -m bot"
    return f"{program} ask --batch {{file}} --json"


@dataclass
class Score:
    name: str
    in_scope: list[bool] = field(default_factory=list)
    refused: list[bool] = field(default_factory=list)
    among: list[bool] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    error: str = ""

    def line(self) -> str:
        if self.error:
            return f"{self.name:16s} error: {self.error}"
        return (f"{self.name:16s} in scope right {pct(self.in_scope)}   out of scope refused {pct(self.refused)}   "
                f"right entry among suggestions {pct(self.among)}")


def pct(values: list[bool]) -> str:
    if not values:
        return "    - (0/0)"
    return f"{100.0 * sum(values) / len(values):5.1f}% ({sum(values)}/{len(values)})"


def read_set(path: Path) -> tuple[list[dict], str]:
    """The rows of a set, or the place of its first bad line (never the line itself)."""
    rows: list[dict] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            return [], f"{path.name}:{number}: not JSON"
        if not isinstance(row, dict) or "id" not in row or "question" not in row:
            return [], f"{path.name}:{number}: no id or question"
        rows.append(row)
    return rows, ""


def ask(path: Path, command: str) -> tuple[dict, str]:
    """The command's answers to every question of `path`, by id, from one process."""
    argv = [part.format(file=str(path)) for part in shlex.split(command)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=ROOT)
    answers: dict = {}
    for line in proc.stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "id" in obj:
            answers[obj["id"]] = obj
    return answers, "" if answers else f"the command printed no answers (exit {proc.returncode})"


def contains_expected(text: str, row: dict) -> bool:
    folded = fold(str(text or ""))
    return any(fold(expected) in folded for expected in row.get("expect_any") or [])


def score(path: Path, command: str) -> Score:
    result = Score(path.name)
    rows, result.error = read_set(path)
    if result.error:
        return result
    answers, result.error = ask(path, command)
    if result.error:
        return result
    for row in rows:
        got = answers.get(row["id"], {"matched": False, "answer": ""})
        if row.get("out_of_scope"):
            ok = not got.get("matched")
            result.refused.append(ok)
        else:
            ok = bool(got.get("matched")) and contains_expected(got.get("answer", ""), row)
            result.in_scope.append(ok)
            suggested = [s.get("answer", "") for s in got.get("suggested") or [] if isinstance(s, dict)]
            result.among.append(ok or any(contains_expected(text, row) for text in suggested))
        if not ok:
            result.misses.append(
                f"  {row['id']} [{row.get('lang')}] {row['question']!r} -> matched={got.get('matched')} "
                f"entry={got.get('entry')} suggestions={got.get('suggestions')}"
            )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", type=Path, help="evaluation sets (default: all we have)")
    parser.add_argument("--cmd", default=default_command(), help="batch command; {file} is the set")
    parser.add_argument("--show-misses", action="store_true", help="list the misses (never of the held-back set)")
    args = parser.parse_args(argv)
    sets = [p for p in (args.sets or DEFAULT_SETS) if p.is_file()]
    if not sets:
        print("no evaluation set found", file=sys.stderr)
        return 2
    status = 0
    for path in sets:
        result = score(path, args.cmd)
        print(result.line(), flush=True)
        status = status or (1 if result.error else 0)
        if args.show_misses and result.misses:
            if path.name.startswith("heldback"):  # any held-back set, listed by default or not
                print(f"  (misses of the held-back set are not shown: {len(result.misses)})")
            else:
                print("\n".join(result.misses))
    return status


if __name__ == "__main__":
    sys.exit(main())
