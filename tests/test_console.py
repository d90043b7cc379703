"""``lideres chat`` driven through a pipe, one message per line, as scripts use it."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def chat(tmp_path, lines: list[str], *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIDERES_")}
    env["LIDERES_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_buttons_are_numbered_and_answer_by_number_or_label(tmp_path):
    out = chat(tmp_path, ["/start", "3", "/menu", "ℹ️ ayuda"], "--user", "ana", "--lang", "es")
    assert "[3] ✅ Acepto" in out
    assert "¡Gracias!" in out  # "3" pressed the consent button
    assert re.search(r"\[\d+\] ℹ️ Ayuda", out)  # numbered like every button
    assert "/cancel — Salir de lo que estés haciendo" in out  # the label, case-insensitive, pressed Help


def test_state_survives_between_sessions_and_language_flag(tmp_path):
    chat(tmp_path, ["/start", "✅ I agree"], "--user", "bob", "--lang", "en")
    out = chat(tmp_path, ["/start"], "--user", "bob", "--lang", "en")
    assert "Welcome back Bob" in out or "Welcome back bob" in out
