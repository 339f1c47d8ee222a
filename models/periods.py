"""Months as periods ("2026-05"): the month before, streaks without customers, a contract's age.

Pure date arithmetic for the monthly checks (models/checks/deviation_reports.py,
models/checks/inactivity.py); months are counted as lag (1930:173) § 1 does
(models/calendar.add_months).
"""

from __future__ import annotations

from datetime import date, timedelta

from models.calendar import add_months


def previous_period(day: date) -> tuple[int, int]:
    """(year, month) of the month before `day`'s month: the report that falls due in it."""
    before = add_months(day.replace(day=1), -1)
    return before.year, before.month


def period_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _month_index(period: str) -> int:
    year, month = (int(part) for part in period.split("-"))
    return year * 12 + month - 1


def _period_at(index: int) -> str:
    year, month = divmod(index, 12)
    return period_of(year, month + 1)


def first_whole_month(starts_on: date) -> str:
    """The first month the contract was in force all of: its start month if it began on the 1st."""
    if starts_on.day == 1:
        return period_of(starts_on.year, starts_on.month)
    following = add_months(starts_on.replace(day=1), 1)
    return period_of(following.year, following.month)


def months_without_customers(
    starts_on: date, last_with_customers: str | None, judged: str
) -> tuple[str, int]:
    """(first month of the streak, months in it up to and including `judged`)."""
    start = _month_index(first_whole_month(starts_on))
    if last_with_customers is not None:
        start = max(start, _month_index(last_with_customers) + 1)
    return _period_at(start), max(_month_index(judged) - start + 1, 0)


def contract_age_months(starts_on: date, on: date) -> int:
    """Whole months the contract has run by the end of `on` (lag 1930:173 § 1 month steps)."""
    months = (on.year * 12 + on.month) - (starts_on.year * 12 + starts_on.month)
    while months > 0 and add_months(starts_on, months) > on + timedelta(days=1):
        months -= 1
    return max(months, 0)
