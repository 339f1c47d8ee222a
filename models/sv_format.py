"""Swedish wording of dates, clock times and case numbers, as letters and forms show them."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from models.calendar import SV_MONTHS
from models.settings import get_settings

_SV_WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


def sv_date(value: date, weekday: bool = False) -> str:
    """A date the Swedish way, "24 augusti 2026" (or "måndag 24 augusti 2026").

    Written out rather than through `strftime` and a locale, because the
    sv_SE locale is often missing on servers and `setlocale` is process-wide.
    An aware datetime is first converted to the configured time zone, so a
    timestamp late in the evening UTC shows the date a Swede would see.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(get_settings().tz)
        value = value.date()
    text = f"{value.day} {SV_MONTHS[value.month - 1]} {value.year}"
    if weekday:
        text = f"{_SV_WEEKDAYS[value.weekday()]} {text}"
    return text


def sv_time(value: datetime) -> str:
    """A clock time the Swedish way, "14:00", in the configured time zone.

    Only an aware datetime is accepted: a naive one could mean UTC or Swedish
    time, and a meeting time that is an hour off is worse than an error.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"sv_time needs a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("sv_time needs an aware datetime (with a time zone)")
    return value.astimezone(get_settings().tz).strftime("%H:%M")


def case_no(value: uuid.UUID | str) -> str:
    """The short case number shown to people: the first 8 hex digits, upper case.

    "A1B2C3D4" is easy to read out on the phone; the full UUID stays in the
    database. Eight hex digits make a clash between two open cases unlikely but
    not impossible, so staff look cases up by this number within a municipality.
    """
    case_id = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    return case_id.hex[:8].upper()
