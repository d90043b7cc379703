"""The README's table of commands lists every ``lideres`` subcommand the command line has (an operator reads
the README, not the parser), so a command added later cannot be forgotten there."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bot.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def command_paths(parser: argparse.ArgumentParser, prefix: str = "lideres") -> list[str]:
    """``lideres run``, ``lideres db upgrade``, ...: every leaf of the parser's subcommands."""
    groups = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not groups:
        return [prefix]
    return [path for group in groups for name, sub in group.choices.items()
            for path in command_paths(sub, f"{prefix} {name}")]


def test_every_lideres_subcommand_is_in_the_readme_commands_table():
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Commands"):text.index("## Configuration")]
    written = {" ".join(code.split()[:n]) for code in re.findall(r"`(lideres [^`]*)`", table) for n in (2, 3)}
    paths = command_paths(build_parser())
    assert {"lideres privacy forget", "lideres privacy export", "lideres privacy purge"} <= set(paths)
    assert [path for path in paths if path not in written] == []
