"""``lideres admin grant/revoke`` and ``lideres export`` on a real SQLite file, as a server's operator runs them."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from bot.cli import main


def test_grant_revoke_and_export_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIDERES_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    assert main(["admin", "grant", "telegram:42", "coordinator"]) == 0  # before they ever wrote to the bot
    assert "telegram:42 is coordinator (was entrepreneur)" in capsys.readouterr().out
    assert main(["admin", "grant", "nonsense", "coordinator"]) == 1
    assert "is not CHANNEL:ID" in capsys.readouterr().err
    assert main(["export", "users", "--format", "csv", "--out", str(tmp_path / "users.csv")]) == 0
    [header, row] = list(csv.reader(io.StringIO((tmp_path / "users.csv").read_text(encoding="utf-8-sig"))))
    assert row[header.index("member")] == "telegram:42" and row[header.index("role")] == "coordinator"
    assert main(["admin", "revoke", "telegram:42"]) == 0
    assert main(["export", "users", "--format", "xlsx", "--out", str(tmp_path / "users.xlsx")]) == 0
    sheet = load_workbook(tmp_path / "users.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][rows[0].index("role")] == "entrepreneur"
    assert main(["export", "mentoring", "--format", "csv", "--out", str(tmp_path / "m.csv"), "--lang", "en"]) == 0
    [header] = list(csv.reader(io.StringIO((tmp_path / "m.csv").read_text(encoding="utf-8-sig"))))
    assert header[:2] == ["session", "mentor"] and "start (mentor's time)" in header  # no session yet: headers
