"""What every policy section shares: unknown keys are refused, values are frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    # extra="forbid": a misspelt key is refused, not ignored. frozen: one loaded
    # policy is shared through the cache, so nobody may change it in place;
    # sequences are tuples for the same reason.
    model_config = ConfigDict(extra="forbid", frozen=True)


#: The most working days a reminder may lie from its date. The sweep looks for
#: open cases within about a month of their dates (models/checks/obligation_reminders.py,
#: models/checks/warning_reminders.py: 31 days), which 15 working days and a holiday
#: season stay inside.
MAX_REMINDER_OFFSET = 15


def unique_sorted(values: tuple[int, ...], what: str) -> tuple[int, ...]:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat a value")
    return tuple(sorted(values))


def reminder_offsets(
    values: tuple[int, ...], *, earliest: int = -MAX_REMINDER_OFFSET
) -> tuple[int, ...]:
    """A ladder's working-day offsets, sorted: unique, from `earliest` to MAX_REMINDER_OFFSET."""
    if not values:
        raise ValueError("give at least one offset (0 is the day itself)")
    if any(not earliest <= value <= MAX_REMINDER_OFFSET for value in values):
        raise ValueError(
            f"offsets must be working days from {earliest} to {MAX_REMINDER_OFFSET}, got "
            f"{list(values)}"
        )
    return unique_sorted(values, "reminder offsets")
