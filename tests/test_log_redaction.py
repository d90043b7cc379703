"""No value a statement carried reaches the log through an exception, on either database: the engines hide
parameters, and the log keeps tracebacks but takes out what database errors quote (parameters, literals in
the SQL, PostgreSQL's DETAIL lines with keys and failing rows, asyncpg's rejected argument)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot import logs as bot_logs
from bot.db.session import create_engine
from bot.logs import JsonFormatter, RedactValues, redact

PHONE = "+52 55 1234 5678"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()
    bot_logs.configure("INFO", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


async def failing_writes(database_url: str) -> list[Exception]:
    """Real failed statements whose values are the phone number: bound, inline, too big, a key conflict."""
    engine = create_engine(database_url)
    failures: list[Exception] = []
    statements = [
        ("insert into users (channel, external_id, display_name, language, role, created_at)"
         " values (:c, :e, :d, 'es', 'entrepreneur', current_timestamp)", {"c": "t", "e": PHONE, "d": PHONE}),
        ("insert into users (channel, external_id, display_name, language, role, created_at)"
         f" values ('t', '{PHONE}', '{PHONE}', 'es', 'entrepreneur', current_timestamp)", {}),
        ("insert into processed_updates (channel, update_id, created_at) values (:c, :u, current_timestamp)",
         {"c": PHONE, "u": 2**63}),
        ("insert into users (channel, external_id, language, role, created_at)"
         " values ('t', :e, 'es', 'entrepreneur', null)", {"e": PHONE}),
    ]
    for statement, values in statements:
        try:
            async with engine.begin() as connection:
                await connection.execute(text(statement), values)
        except Exception as exc:  # noqa: BLE001 - the point is to log it
            failures.append(exc)
    await engine.dispose()
    return failures


async def test_failed_writes_are_logged_with_their_traceback_and_without_values(database_url, captured):
    failures = await failing_writes(database_url)
    assert len(failures) >= 3
    log = logging.getLogger("bot.test")
    for failure in failures:
        try:
            raise failure
        except Exception:
            log.exception("write failed", extra={"reason": str(failure)})
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert len(lines) == len(failures)
    for line in lines:
        assert line["traceback"].startswith("Traceback") and "Error" in line["traceback"]
        assert PHONE not in json.dumps(line, ensure_ascii=False) and "1234 5678" not in json.dumps(line)
    assert any("[SQL:" in line["traceback"] for line in lines)  # the statement's shape stays


def test_redaction_keeps_the_shape_and_drops_the_values():
    sqlalchemy_text = (
        "(sqlite3.IntegrityError) UNIQUE constraint failed: users.external_id\n"
        "[SQL: INSERT INTO users (name, phone) VALUES ('Ana', '+52 55 1234 5678') LIMIT 10]\n"
        "[parameters: ('Ana', 'ana@example.org', 42)]\n"
        "(Background on this error at: https://sqlalche.me/e/21/gkpj)"
    )
    clean = redact(sqlalchemy_text)
    assert "UNIQUE constraint failed: users.external_id" in clean and "Background on this error" in clean
    assert "[SQL: INSERT INTO users (name, phone) VALUES (?, ?) LIMIT ?]" in clean
    assert "Ana" not in clean and "ana@example.org" not in clean and "1234" not in clean
    postgres = ('duplicate key value violates unique constraint "users_pkey"\n'
                "DETAIL:  Key (external_id)=(+52 55 1234 5678) already exists.\n"
                "[SQL: INSERT INTO users (external_id) VALUES ($1::VARCHAR)]")
    assert redact(postgres) == ('duplicate key value violates unique constraint "users_pkey"\n'
                                "DETAIL:  (hidden)\n[SQL: INSERT INTO users (external_id) VALUES ($1::VARCHAR)]")
    argument = "invalid input for query argument $2: '+52 55 1234 5678' (str object cannot be an int)"
    assert redact(argument) == "invalid input for query argument $2: (hidden)"
    assert redact("telegram webhook: bad update id") == "telegram webhook: bad update id"


def test_a_line_with_a_lone_surrogate_can_still_be_written(captured):
    logging.getLogger("bot.test").warning("odd id", extra={"update_id": "\ud800x"})
    line = captured.getvalue().splitlines()[-1]
    line.encode("utf-8")  # a log file or a pipe in UTF-8 takes it
    assert json.loads(line)["update_id"] == "\ud800x"  # written as a JSON escape: read back the same


def test_every_handler_configure_installs_redacts(captured):
    configured = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert configured and all(any(isinstance(f, RedactValues) for f in h.filters) for h in configured)
    record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "failed: %s", ("[parameters: ('x@y.z',)]",), None)
    RedactValues().filter(record)
    assert "x@y.z" not in record.getMessage() and "[parameters: (hidden)]" in record.getMessage()


async def test_the_engines_hide_parameters(database_url):
    engine = create_engine(database_url)
    assert engine.sync_engine.hide_parameters
    await engine.dispose()
