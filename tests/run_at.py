"""``python -m tests.run_at INSTANT ARGS...``: the ``lideres`` command with the real clock moved to ``INSTANT``
(ISO-8601) and running on from there (time-machine), so an end-to-end test restarts the bot "after the
reminder's due time" without waiting for it. Tests only: the bot itself reads the real clock."""

from __future__ import annotations

import sys
from datetime import datetime

import time_machine


def main() -> int:
    instant = datetime.fromisoformat(sys.argv[1])
    with time_machine.travel(instant, tick=True):
        from bot.cli import main as lideres

        return lideres(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
