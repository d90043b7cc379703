"""Configuration: defaults that run, one clear line for a wrong value, secrets never printed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIDERES_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env={**clean, **env}, timeout=60
    )


def test_defaults_run_embedded(monkeypatch):
    for name in list(os.environ):
        if name.startswith("LIDERES_"):
            monkeypatch.delenv(name)
    settings = load_settings(_env_file=None)
    assert settings.database_url.startswith("sqlite+aiosqlite:///") and settings.database_url.endswith("var/lideres.db")
    assert (settings.web_host, settings.web_port, settings.default_language) == ("127.0.0.1", 8080, "es")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("database_url", "mysql://x"),
        ("default_language", "fr"),
        ("web_port", "99999"),
        ("admins", "telegram12345"),
    ],
)
def test_a_wrong_value_names_the_variable(variable, value):
    with pytest.raises(ConfigError) as error:
        load_settings(**{variable: value})
    assert str(error.value).startswith(f"LIDERES_{variable.upper()}: ")
    assert "\n" not in str(error.value)


def test_wrong_value_at_start_up_is_one_line_not_a_traceback():
    result = run_cli("config", LIDERES_WEB_PORT="eighty")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "lideres: configuration error: LIDERES_WEB_PORT: Input should be a valid integer, unable to parse string as an"
        " integer"
    ]


def test_config_prints_effective_values_with_secrets_masked():
    result = run_cli(
        "config",
        LIDERES_TELEGRAM_TOKEN="123456:very-secret-token",
        LIDERES_DATABASE_URL="postgresql+asyncpg://bot:hunter2@db.example/lideres",
        LIDERES_ADMINS="telegram:42,web:ana",
    )
    assert result.returncode == 0, result.stderr
    assert "very-secret-token" not in result.stdout and "hunter2" not in result.stdout
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert lines["LIDERES_TELEGRAM_TOKEN"] == "********"
    assert lines["LIDERES_DATABASE_URL"] == "postgresql+asyncpg://bot:********@db.example/lideres"
    assert lines["LIDERES_ADMINS"] == "telegram:42,web:ana"


def test_admin_pairs_are_parsed():
    settings = load_settings(admins=" telegram:12345 , web:ana ")
    assert settings.admin_ids == {("telegram", "12345"), ("web", "ana")}


def test_a_broken_form_file_stops_start_up_with_a_clear_message(tmp_path):
    form = tmp_path / "form.yaml"
    form.write_text("fields: [\n", encoding="utf-8")
    result = run_cli(
        "chat", LIDERES_FORM_FILE=str(form), LIDERES_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"lideres: configuration error: {form}: not valid YAML")
    assert "Traceback" not in result.stderr


def test_form_check_reports_the_shipped_form_and_every_problem_of_a_bad_one(tmp_path):
    assert run_cli("form", "check").stdout.endswith("11 fields, the call is open\n")
    bad = tmp_path / "form.yaml"
    bad.write_text("competition: {}\nfields: []\n", encoding="utf-8")
    result = run_cli("form", "check", str(bad))
    assert result.returncode == 2
    assert "competition.reference_prefix: Field required" in result.stderr
    assert "fields: List should have at least 1 item" in result.stderr
