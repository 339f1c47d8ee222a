"""Swedish working days (vardagar) for deadlines, and the Swedish month names.

A working day is Monday to Friday that is neither a public holiday (allmän
helgdag, lag 1989:253) nor midsommarafton, julafton or nyårsafton. That is the
list in lag (1930:173) om beräkning av lagstadgad tid, § 2: a time limit ending
on "söndag, annan allmän helgdag, lördag, midsommarafton, julafton eller
nyårsafton" may be met on the next vardag. § 1 of the same act says how months
are counted (see `add_months`). Summary and sources: shared/domain.md §3.

Påskafton is not named in § 2 but is always a Saturday, so the weekend rule
covers it. Valborgsmässoafton and the day before a holiday (klämdag) are
ordinary working days.

Holidays come from the `holidays` package (pinned to 0.106 in pyproject.toml):
the PUBLIC category gives the allmänna helgdagar, DE_FACTO gives the three eves.
`include_sundays=True` is passed explicitly because its default changes in
0.107; Sundays are weekend days here anyway, so the flag only keeps the
holiday set complete and stable across versions.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from dateutil.relativedelta import relativedelta
from holidays.constants import DE_FACTO, PUBLIC

# Imported from its module rather than as holidays.SE: the package exports its
# countries lazily, which mypy --strict does not see as a re-export.
from holidays.countries.sweden import SE

# Years the holidays package knows Swedish rules for. Outside them it silently
# returns no holidays, which would turn julafton into a working day.
_FIRST_YEAR = SE.start_year
_LAST_YEAR = SE.end_year

_ONE_DAY = timedelta(days=1)

#: Month names as Swedish writes them in running text: lower case, "maj 2026",
#: "24 augusti 2026". The one list for letters, run names and CSV parsing.
SV_MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip


@cache
def _non_working_weekdays(year: int) -> frozenset[date]:
    """Holidays and eves of `year` (any weekday; weekends are checked separately)."""
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise ValueError(
            f"no Swedish holiday calendar for {year}: the holidays package "
            f"covers {_FIRST_YEAR}-{_LAST_YEAR}"
        )
    swedish = SE(
        years=year,
        categories=(PUBLIC, DE_FACTO),
        include_sundays=True,
        language="sv",
    )
    return frozenset(swedish.keys())


def is_working_day(day: date) -> bool:
    """True if `day` is a vardag (working day).

    Monday to Friday, not a public holiday, not midsommarafton, julafton or
    nyårsafton. Raises ValueError for a year the holidays package has no Swedish calendar for.
    """
    # Look the year up first so an unsupported year fails even on a weekend.
    non_working = _non_working_weekdays(day.year)
    return day.weekday() < 5 and day not in non_working


def roll_forward(day: date) -> date:
    """`day` itself if it is a working day, else the next working day (lag 1930:173 § 2)."""
    while not is_working_day(day):
        day += _ONE_DAY
    return day


def first_working_day(year: int, month: int) -> date:
    """The first working day of a month (Huddinge's "första vardagen", seed 000)."""
    return roll_forward(date(year, month, 1))


def add_working_days(day: date, n: int) -> date:
    """Move `n` working days from `day`.

    - n > 0: the n-th working day after `day` (`day` itself is never counted).
    - n < 0: the |n|-th working day before `day` (`day` itself is never counted).
    - n == 0: `roll_forward(day)`, so the result is always a working day.

    So from Thursday 2026-04-02 (skärtorsdag), +1 is Tuesday 2026-04-07, past
    långfredag, the Easter weekend and annandag påsk; from 2026-04-07, -1 is
    2026-04-02. `day` need not be a working day: from Saturday, +1 is the next
    working day and -1 the previous one.
    """
    if n == 0:
        return roll_forward(day)
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        day += step
        if is_working_day(day):
            remaining -= 1
    return day


def add_months(day: date, n: int) -> date:
    """The same date number `n` months later (earlier if n < 0), or that month's last day.

    Lag (1930:173) § 1: a time limit in months ends on the day with the same
    number, or on the last day of the month when it has no such day. So
    2028-01-31 + 1 month is 2028-02-29 and 2027-01-31 + 1 month is 2027-02-28.
    The result is not rolled to a working day: call `roll_forward` for that.
    dateutil's relativedelta counts months exactly so.
    """
    return day + relativedelta(months=n)


def working_days_between(start: date, end: date) -> int:
    """Number of working days d with start < d <= end; negative if end < start.

    For "the report came N working days late": due Friday, received the next
    Monday is 1; received on the due date is 0. Swapping the arguments flips
    the sign.
    """
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += _ONE_DAY
        if is_working_day(day):
            count += 1
    return count


def month_name(period: str) -> str:
    """ "2026-05" -> "maj 2026"."""
    year, month = (int(part) for part in period.split("-"))
    return f"{SV_MONTHS[month - 1]} {year}"
