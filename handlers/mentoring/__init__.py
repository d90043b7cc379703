"""Mentoring: finalists (or anyone, ``LIDERES_MENTORING_OPEN_TO``) book sessions with mentors in the chat, across
time zones; both sides get confirmations with calendar files, reminders before (``LIDERES_REMINDER_OFFSETS``)
and a feedback question after. When no mentor fits, the request goes to the coordinators, as before booking
existed.

One feature, one router, in a few modules that read top to bottom:

- ``booking``: /mentoring (topics → the user's zone → free times → book) and /timezone
- ``sessions``: /mysessions (cancel, change the time) and the feedback after a session
- ``slots``: /slots, a mentor's free times
- ``coordinators``: /mentors (figures, mentors, pausing one), adding a mentor, /assign

The rules (one session per slot, reminders as rows, calendar files) are in ``bot/services/mentoring.py`` and
``bot/services/reminders.py``, shared with ``lideres mentors`` and ``lideres slots``.
"""

from __future__ import annotations

from handlers.mentoring import booking, coordinators, sessions, slots
from handlers.mentoring.common import router

__all__ = ["booking", "coordinators", "router", "sessions", "slots"]
