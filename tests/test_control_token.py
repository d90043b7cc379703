"""The control-token files under var/ (``lideres kb reload``'s secret, one per web port) go when the bot
stops, and those of processes that died without stopping go when the next bot starts: they used to pile
up, one per port ever used."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

from bot.app import control_token_file, remove_control_token, remove_stale_control_tokens, write_control_token
from bot.config import PROJECT_ROOT, load_settings
from tests.test_run import free_port


def settings_on(port: int, tmp_path: Path):  # noqa: ANN201
    return load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", web_port=port)


def test_the_token_file_is_private_while_the_bot_runs_and_removed_when_it_stops(tmp_path):
    settings = settings_on(free_port(), tmp_path)
    token = write_control_token(settings)
    path = control_token_file(settings)
    assert path.read_text() == token and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path not in remove_stale_control_tokens(path.parent)  # ours, held: not stale
    assert path.exists()
    remove_control_token(settings)
    assert not path.exists()
    remove_control_token(settings)  # twice is harmless


def test_files_of_dead_processes_are_removed_and_those_of_live_ones_kept(tmp_path):
    folder = PROJECT_ROOT / "var"
    folder.mkdir(exist_ok=True)
    dead = folder / f"control-{free_port()}.token"
    dead.write_text("left by a killed bot")  # nobody holds it
    live = folder / f"control-{free_port()}.token"
    live.write_text("a running bot's")
    holder = os.open(live, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # as a running bot holds its file
    settings = settings_on(free_port(), tmp_path)
    try:
        write_control_token(settings)
        assert not dead.exists() and live.exists() and control_token_file(settings).exists()
    finally:
        os.close(holder)
        live.unlink()
        remove_control_token(settings)


def _start(port: int, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIDERES_")}
    env.update(LIDERES_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / f'run-{port}.db'}", LIDERES_WEB_PORT=str(port),
               PYTHONPATH=str(PROJECT_ROOT))
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path)
    assert process.stderr is not None
    for line in process.stderr:  # the start-up log line, not a time
        if json.loads(line)["event"] == "bot started":
            # answered once the loop runs again, i.e. after the SIGTERM handler is installed
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
                assert response.status == 200
            return process
    raise AssertionError(f"the bot did not start: exit {process.wait()}")


def test_lideres_run_removes_its_file_on_sigterm_and_a_killed_ones_file_at_the_next_start(tmp_path):
    killed_port, port = free_port(), free_port()
    killed_file = PROJECT_ROOT / "var" / f"control-{killed_port}.token"
    file = PROJECT_ROOT / "var" / f"control-{port}.token"
    killed = _start(killed_port, tmp_path)
    try:
        assert killed_file.exists()
        killed.kill()  # SIGKILL: nothing of the bot runs, its file stays
        killed.wait(timeout=30)
        assert killed_file.exists()
        process = _start(port, tmp_path)
        try:
            assert file.exists() and not killed_file.exists()  # the new bot cleaned up after the dead one
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
            assert not file.exists()
        finally:
            if process.poll() is None:
                process.kill()
    finally:
        if killed.poll() is None:
            killed.kill()
        killed_file.unlink(missing_ok=True)
        file.unlink(missing_ok=True)
