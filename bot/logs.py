"""Structured logs: one JSON line per event, with ids from ``extra``; message texts only at DEBUG.

Values never reach the log through an exception either. The database engines hide statement parameters
(``hide_parameters=True``), and every handler ``configure`` installs carries ``RedactValues``, which keeps
tracebacks (frames, exception types and messages) but takes out what a database error can quote: the
``[parameters: …]`` of a statement, literals in its ``[SQL: …]``, PostgreSQL's ``DETAIL`` lines (the key
or the whole failing row) and asyncpg's "invalid input for query argument $1: <value>".
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}

HIDDEN = "(hidden)"
_PARAMETERS = re.compile(r"\[parameters: [^\n]*")  # to the line end: SQLAlchemy prints the repr on one line
_SQL = re.compile(r"\[SQL: (.*?)\](?=\n|$)", re.DOTALL)
_SQL_LITERAL = re.compile(r"'(?:[^']|'')*'|(?<![\w$:.])[-+]?\d+(?:\.\d+)?(?![\w.])")
_DETAIL = re.compile(r"^(\s*DETAIL:\s*).*$", re.MULTILINE)  # "Key (x)=(…)", "Failing row contains (…)"
_ARGUMENT = re.compile(r"(invalid input for query argument \$\d+: ).*$", re.MULTILINE)
_MARKERS = ("[parameters: ", "[SQL: ", "DETAIL:", "invalid input for query argument")
_ANY_MARKER = re.compile("|".join(re.escape(marker) for marker in _MARKERS))  # one scan: every line, every extra


def redact(text: str) -> str:
    """``text`` (a traceback or a message) without the values a database error quotes."""
    if _ANY_MARKER.search(text) is None:
        return text
    text = _PARAMETERS.sub(f"[parameters: {HIDDEN}]", text)
    text = _SQL.sub(lambda match: "[SQL: " + _SQL_LITERAL.sub("?", match.group(1)) + "]", text)
    text = _DETAIL.sub(rf"\g<1>{HIDDEN}", text)
    return _ARGUMENT.sub(rf"\g<1>{HIDDEN}", text)


class RedactValues(logging.Filter):
    """Keeps the record, takes the values out of its message, its traceback and its string extras. The
    traceback is formatted here (``exc_text``), so every formatter after it prints the redacted one."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(self._formatter.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": redact(record.getMessage()),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_text:
            entry["traceback"] = redact(record.exc_text)
        elif record.exc_info:
            entry["traceback"] = redact(self.formatException(record.exc_info))
        line = json.dumps(entry, ensure_ascii=False, default=str)
        # A lone surrogate (JSON from outside may carry one) cannot be written as UTF-8: written as the JSON
        # escape \udXXX instead, which reads back the same
        return line.encode("utf-8", "backslashreplace").decode("utf-8")


def configure(level: str = "INFO", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    for each in root.handlers:  # every handler, so a traceback never carries a value whatever prints it
        if not any(isinstance(f, RedactValues) for f in each.filters):
            each.addFilter(RedactValues())
    root.setLevel(level)
    # What a record would collect and the JSON never shows (the logging HOWTO's "Optimization"): the caller's
    # file and line (a walk up the stack), the thread's and the process's names; one line per message handled.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Libraries log request URLs, and Telegram's carry the bot token: keep them quiet.
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
