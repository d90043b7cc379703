"""Times as a person reads them: in their language (Babel) and their time zone, and times a person types, read in
theirs. Stored times are always UTC; a zone is only applied at the edges, here.

A member's zone is ``users.timezone`` (asked once with the network's zones as buttons, ``LIDERES_TIMEZONES``,
changed with /timezone); someone who never said gets the zone the caller falls back to, shown with its name so
the time is never ambiguous.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time, get_timezone_location

from bot.config import is_zone
from bot.i18n import translate

FALLBACK_ZONE = "UTC"

# Typed dates: 2026-12-03 17:00, 03/12/2026 17:00, 3/12 17:00 (day first, as in Bolivia, Mexico and Spain).
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2})[:.h](\d{2})")
_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\s+(\d{1,2})[:.h](\d{2})")


def zone(name: str | None, fallback: str = FALLBACK_ZONE) -> ZoneInfo:
    """The zone ``name``, or ``fallback`` when it is unset or unknown (a zone removed from the database)."""
    if name and is_zone(name):
        return ZoneInfo(name)
    return ZoneInfo(fallback if is_zone(fallback) else FALLBACK_ZONE)


def zone_label(name: str, lang: str) -> str:
    """"hora de Bolivia", "Spain (Madrid) Time": what Babel calls the zone in ``lang``."""
    return str(get_timezone_location(zone(name), locale=lang))


def format_day(at: datetime, lang: str, zone_name: str) -> str:
    """"jueves 3 de diciembre" / "Thursday, December 3", the day ``at`` falls on in that zone."""
    return str(format_datetime(at, translate("mentoring.date_format", lang), tzinfo=zone(zone_name), locale=lang))


def format_clock(at: datetime, lang: str, zone_name: str) -> str:
    """"10:00" / "10:00 AM"."""
    return str(format_time(at, "short", tzinfo=zone(zone_name), locale=lang))


def format_short(at: datetime, lang: str, zone_name: str) -> str:
    """For a button: "jue 3 dic · 10:00"."""
    day = format_datetime(at, translate("mentoring.short_date_format", lang), tzinfo=zone(zone_name), locale=lang)
    return f"{day} · {format_clock(at, lang, zone_name)}"


def format_when(at: datetime, lang: str, zone_name: str, ends_at: datetime | None = None) -> str:
    """The day, the time (or the span) and the zone's name: "jueves 3 de diciembre, 10:00–11:00 (hora de
    Bolivia)". A span crossing midnight in the reader's zone shows both days."""
    clock = format_clock(at, lang, zone_name)
    if ends_at is not None:
        local = zone(zone_name)
        if ends_at.astimezone(local).date() == at.astimezone(local).date():
            clock += "–" + format_clock(ends_at, lang, zone_name)
        else:
            clock += " – " + format_day(ends_at, lang, zone_name) + " " + format_clock(ends_at, lang, zone_name)
    return translate("mentoring.when", lang, day=format_day(at, lang, zone_name), time=clock,
                     zone=zone_label(zone_name, lang))


def parse_local(text: str, zone_name: str, now: datetime) -> datetime | None:
    """A typed date and time in ``zone_name`` as UTC, or None when it is not one. A day without a year is the
    next such day from ``now`` (in December, "3/1 10:00" is next January). A time that does not exist in the
    zone (skipped by a daylight-saving change) is moved forward by the gap, as clocks are."""
    text = " ".join(text.strip().split())
    iso, day_first = _ISO.fullmatch(text), _DAY_FIRST.fullmatch(text)
    local_zone = zone(zone_name)
    try:
        if iso:
            year, month, day, hour, minute = (int(part) for part in iso.groups())
        elif day_first:
            day, month, hour, minute = (int(day_first.group(i)) for i in (1, 2, 4, 5))
            year_text = day_first.group(3)
            if year_text:
                year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            else:
                year = now.astimezone(local_zone).year
                if date(year, month, day) < now.astimezone(local_zone).date():
                    year += 1
        else:
            return None
        local = datetime.combine(date(year, month, day), time(hour, minute), tzinfo=local_zone)
    except ValueError:  # 31/02, 25:00
        return None
    return normalize(local)


def normalize(local: datetime) -> datetime:
    """``local`` (aware, in its zone) as UTC. A wall time skipped by a daylight-saving change comes out as the
    time the clocks show then (02:30 on the spring-forward night in Madrid is 03:30); a repeated one is the first."""
    return local.astimezone(UTC)  # zoneinfo reads a skipped wall time with the offset before the gap: later


def parse_iso(text: str, zone_name: str) -> datetime | None:
    """An ISO-8601 date-time as UTC; without an offset it is a wall time in ``zone_name``."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return normalize(parsed.replace(tzinfo=zone(zone_name)))
    return parsed.astimezone(UTC)
