"""Reminder ladders as data: rungs at working-day offsets from a date, and the letters they make.

A ladder (models/reminder_ladder.py runs one) finds rows with one query; each
row has one or more tracks, and a track is a list of rungs, each a name and a
number of working days from the track's date (negative before, 0 on the day,
positive after). On a given day a track sends the latest rung whose day has
come, once per (case, rung) through the outbox key `<case key>:<rung name>`:
a day the sweep did not run is caught up by the next run, and sweeping every
day of a past period sends the same letters as sweeping daily. A track with
one rung (an escalation) stands on its own, so a sweep that missed days sends
it beside the latest rung of another track.

Every offset comes from the municipality's policy (models/policy.py); the
rung names are part of the outbox keys, so they stay as they were named when
the letters were first sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from models.calendar import add_working_days
from models.policy import Policy


@dataclass(frozen=True)
class Step:
    """A rung placed on the calendar: its name and the day it falls on."""

    name: str
    on: date


@dataclass(frozen=True)
class Rung:
    """A rung of a ladder: its name (the end of the outbox key) and its working-day offset."""

    name: str
    offset: int


def current_step(steps: Sequence[Step], as_of: date) -> Step | None:
    """The latest step whose date has come, unless a later step's date has come too."""
    due = [step for step in steps if step.on <= as_of]
    return due[-1] if due else None


def place(rungs: Sequence[Rung], start: date, *, roll_on_the_day: bool = False) -> list[Step]:
    """The rungs' days: `offset` working days from `start` (models/calendar.add_working_days).

    Offset 0 is `start` itself, or with `roll_on_the_day` the next working day
    if `start` is not one (add_working_days(start, 0)). The order is the
    rungs' order, which `current_step` relies on when two fall on one day.
    """
    return [
        Step(
            rung.name,
            add_working_days(start, rung.offset) if rung.offset or roll_on_the_day else start,
        )
        for rung in rungs
    ]


@cache
def by_offset(offsets: tuple[int, ...], prefix: str = "") -> tuple[Rung, ...]:
    """Rungs named after their offsets: `before-5`, `due`, `after-1`, with a prefix if given."""
    return tuple(
        Rung(
            prefix
            + ("due" if offset == 0 else f"before-{-offset}" if offset < 0 else f"after-{offset}"),
            offset,
        )
        for offset in offsets
    )


@cache
def signed(offsets: tuple[int, ...], prefix: str) -> tuple[Rung, ...]:
    """Rungs named with their signed offsets: `provider+0`, `provider+5` (lex Sarah's names)."""
    return tuple(Rung(f"{prefix}{offset:+d}", offset) for offset in offsets)


@dataclass(frozen=True)
class Letter:
    """One letter to queue in the outbox, once per `key` (tasks/reminder_ladder.queue_new)."""

    key: str
    template: str
    policy: Policy
    recipient: str
    case_type: str
    case_id: uuid.UUID
    context: dict[str, object]
