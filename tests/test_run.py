"""``lideres run`` as a process: migrates, serves /healthz, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_serves_health_reloads_on_request_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIDERES_")}
    env.update(LIDERES_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", LIDERES_WEB_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        events = []
        for line in process.stderr:  # wait for the start-up log line, not for a time
            events.append(json.loads(line)["event"])
            if events[-1] == "bot started":
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
            assert json.load(response)["status"] == "ok"
        reload = subprocess.run(
            [sys.executable, "-m", "bot", "kb", "reload"], env=env, capture_output=True, text=True, timeout=60
        )
        assert reload.returncode == 0, reload.stderr
        assert reload.stdout.startswith("reloaded in the running bot: ") and "entries" in reload.stdout
        forged = urllib.request.Request(
            f"http://127.0.0.1:{port}/control/reload", method="POST", headers={"Authorization": "Bearer guess"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=10)
        assert refused.value.code == 403
        process.send_signal(signal.SIGTERM)
        rest = [json.loads(line)["event"] for line in process.stderr]
        assert process.wait(timeout=30) == 0
        assert rest[-1] == "stopped"
    finally:
        if process.poll() is None:
            process.kill()
