"""The one clock: today in the municipality's time zone.

Every "today" lovflow computes comes from here, so a run at 00:30 in Stockholm
is never yesterday, and a test can move the day in one place.
"""

from __future__ import annotations

from datetime import date, datetime

from models.settings import get_settings


def today() -> date:
    """Today in the configured time zone (LOVFLOW_TIMEZONE, Europe/Stockholm)."""
    return datetime.now(get_settings().tz).date()
