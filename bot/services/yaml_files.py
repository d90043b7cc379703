"""The network's YAML files (the idea form, the mutual-aid vocabulary) read into their pydantic models, every
problem named by its place, so a coordinator editing one sees all that is wrong at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.config import ConfigError

Model = TypeVar("Model", bound=BaseModel)
Describe = Callable[[ErrorDetails, dict[str, Any]], str]  # one validation error → "where: what"


def problem_text(error: ErrorDetails) -> str:
    """What is wrong, in words for whoever edits the file: an unknown key is said to be a possible typo."""
    if error["type"] == "extra_forbidden":
        return "unknown setting (a typo?)"
    return str(error["msg"]).removeprefix("Value error, ")


def dotted(error: ErrorDetails, raw: dict[str, Any]) -> str:
    """``tags.3.label: ...``: the error's place as dotted steps."""
    return f"{'.'.join(str(step) for step in error['loc']) or 'file'}: {problem_text(error)}"


def load_model(path: Path, model: type[Model], error: type[ConfigError], *, what: str, shape: str,
               describe: Describe = dotted) -> Model:
    """The file at ``path`` as ``model``, or ``error`` naming the file and every problem, one per line: unreadable,
    not YAML, not a mapping (``what`` must be a mapping with ``shape``), or each validation error."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(raw, dict):
        raise error(f"{path}: the {what} must be a mapping with {shape}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [describe(item, raw) for item in exc.errors()]
        raise error(f"{path}: {len(problems)} problem(s):\n  - " + "\n  - ".join(problems)) from None
