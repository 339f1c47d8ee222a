"""Swedish working days on real dates (domain.md §3; lag 1930:173).

Expected dates are written out by hand, checked against a printed calendar and
the Easter dates (2020-04-12, 2023-04-09, 2026-04-05, 2027-03-28, 2029-04-01),
never computed with the code under test.
"""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.calendar import (
    add_months,
    add_working_days,
    first_working_day,
    is_working_day,
    roll_forward,
    working_days_between,
)

D = date.fromisoformat

# domain.md §3.2, each checked by hand: a 1st that is a weekend or holiday moves on.
FIRST_WORKING_DAYS = {
    2026: "01-02 02-02 03-02 04-01 05-04 06-01 07-01 08-03 09-01 10-01 11-02 12-01",
    2027: "01-04 02-01 03-01 04-01 05-03 06-01 07-01 08-02 09-01 10-01 11-01 12-01",
}


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (year, month, D(f"{year}-{day}"))
        for year, days in FIRST_WORKING_DAYS.items()
        for month, day in enumerate(days.split(), start=1)
    ],
)
def test_first_working_day_of_every_month_2026_2027(year: int, month: int, expected: date) -> None:
    assert first_working_day(year, month) == expected


@pytest.mark.parametrize(
    "day",
    [
        "2026-01-01",  # nyårsdagen, Thursday
        "2026-01-06",  # trettondedag jul, Tuesday
        "2026-04-03",  # långfredagen
        "2026-04-04",  # påskafton (a Saturday, as always)
        "2026-04-05",  # påskdagen
        "2026-04-06",  # annandag påsk
        "2027-03-26",  # långfredagen
        "2027-03-29",  # annandag påsk
        "2026-05-01",  # första maj, Friday
        "2026-05-14",  # Kristi himmelsfärdsdag
        "2027-05-06",  # Kristi himmelsfärdsdag
        "2026-06-06",  # nationaldagen on a Saturday
        "2029-06-06",  # nationaldagen on a Wednesday
        "2026-06-19",  # midsommarafton (lag 1930:173 § 2)
        "2026-06-20",  # midsommardagen
        "2027-06-25",  # midsommarafton
        "2026-10-31",  # alla helgons dag, Saturday
        "2026-12-24",  # julafton, Thursday
        "2026-12-25",  # juldagen
        "2026-12-26",  # annandag jul, Saturday
        "2026-12-31",  # nyårsafton, Thursday
        "2027-01-01",  # nyårsdagen, Friday
        "2027-12-24",  # julafton, Friday
        "2027-12-31",  # nyårsafton, Friday
        "2026-03-07",  # an ordinary Saturday
        "2026-03-08",  # an ordinary Sunday
    ],
)
def test_not_a_working_day(day: str) -> None:
    assert is_working_day(D(day)) is False


@pytest.mark.parametrize(
    "day",
    [
        "2026-04-02",  # skärtorsdag is a working day
        "2026-04-07",  # Tuesday after Easter
        "2026-04-30",  # valborgsmässoafton is not named in lag 1930:173 § 2
        "2026-05-15",  # the Friday after Ascension (klämdag)
        "2026-06-05",  # the Friday before nationaldagen
        "2029-06-05",  # the day before nationaldagen on a weekday
        "2026-06-18",  # the day before midsommarafton
        "2026-06-22",  # Monday after midsummer
        "2026-12-23",
        "2026-12-28",
        "2026-12-30",
        "2026-03-09",  # an ordinary Monday
    ],
)
def test_working_day(day: str) -> None:
    assert is_working_day(D(day)) is True


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-12-24", "2026-12-28"),  # julafton, juldagen, annandag jul, Sunday
        ("2026-12-31", "2027-01-04"),  # nyårsafton, nyårsdagen, weekend
        ("2026-04-03", "2026-04-07"),  # långfredagen to the Tuesday after Easter
        ("2026-06-19", "2026-06-22"),  # midsommarafton
        ("2026-06-06", "2026-06-08"),  # Saturday
        ("2026-03-10", "2026-03-10"),  # a working day stays
    ],
)
def test_roll_forward(day: str, expected: str) -> None:
    assert roll_forward(D(day)) == D(expected)


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        ("2026-04-02", 1, "2026-04-07"),  # over the Easter weekend
        ("2026-04-01", 3, "2026-04-08"),  # 04-02, 04-07, 04-08
        ("2026-04-07", -1, "2026-04-02"),  # backwards over Easter
        ("2026-04-08", -2, "2026-04-02"),
        ("2026-04-04", 1, "2026-04-07"),  # from påskafton
        ("2026-04-04", -1, "2026-04-02"),
        ("2026-04-03", 0, "2026-04-07"),  # 0 rolls forward
        ("2026-03-10", 0, "2026-03-10"),
        ("2026-12-23", 1, "2026-12-28"),
        ("2026-12-23", 5, "2027-01-05"),  # 12-28, 12-29, 12-30, 01-04, 01-05
        ("2027-01-04", -1, "2026-12-30"),
        ("2027-01-04", -3, "2026-12-28"),
        ("2026-08-03", -5, "2026-07-27"),  # Huddinge reminder 5 working days before
        ("2026-05-13", 1, "2026-05-15"),  # over Ascension
        ("2026-03-06", 10, "2026-03-20"),  # two ordinary weeks
    ],
)
def test_add_working_days(day: str, n: int, expected: str) -> None:
    assert add_working_days(D(day), n) == D(expected)


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        ("2028-01-31", 1, "2028-02-29"),  # leap year
        ("2027-01-31", 1, "2027-02-28"),
        ("2028-02-29", 12, "2029-02-28"),
        ("2028-02-29", 48, "2032-02-29"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-05-31", 1, "2026-06-30"),
        ("2026-08-31", 1, "2026-09-30"),
        ("2026-11-15", 2, "2027-01-15"),
        ("2026-01-15", -1, "2025-12-15"),
        ("2026-01-31", -13, "2024-12-31"),
        ("2026-06-06", 0, "2026-06-06"),  # not rolled to a working day
    ],
)
def test_add_months(day: str, n: int, expected: str) -> None:
    assert add_months(D(day), n) == D(expected)


@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    n=st.integers(min_value=-600, max_value=600),
)
def test_add_months_is_lag_1930_173_section_1(day: date, n: int) -> None:
    """The same day number `n` months on, or the last day of a month that has none."""
    result = add_months(day, n)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == n
    last = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(day.day, last)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-03-06", "2026-03-09", 1),  # Friday to Monday
        ("2026-03-09", "2026-03-09", 0),  # on the day: not late
        ("2026-04-02", "2026-04-07", 1),  # over Easter
        ("2026-12-23", "2026-12-28", 1),
        ("2026-12-23", "2027-01-04", 4),  # 12-28, 12-29, 12-30, 01-04
        ("2027-01-04", "2026-12-23", -4),
        ("2025-12-31", "2026-01-31", 20),  # January 2026 has 20 working days
        ("2026-01-01", "2026-01-31", 20),
    ],
)
def test_working_days_between(start: str, end: str, expected: int) -> None:
    assert working_days_between(D(start), D(end)) == expected


@pytest.mark.parametrize("day", [date(1952, 12, 24), date(2101, 1, 3), date(2101, 1, 5)])
def test_unsupported_year_is_refused(day: date) -> None:
    # Outside its range the holidays package returns no holidays at all, which
    # would silently make julafton a working day.
    with pytest.raises(ValueError, match=r"no Swedish holiday calendar for (1952|2101)"):
        is_working_day(day)


def test_counting_past_the_supported_range_is_refused() -> None:
    with pytest.raises(ValueError, match="2101"):
        add_working_days(date(2100, 12, 30), 5)


@given(
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    n=st.integers(min_value=1, max_value=40),
)
def test_add_and_count_agree(day: date, n: int) -> None:
    later = add_working_days(day, n)
    assert is_working_day(later)
    assert working_days_between(day, later) == n
    # Going back as many working days lands on the latest working day not after
    # `day` (`day` itself when it is a working day).
    back = add_working_days(later, -n)
    assert is_working_day(back)
    assert back <= day
    assert working_days_between(back, day) == 0
