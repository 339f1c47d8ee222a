"""`[deviation_report]`: the monthly deviation report, its due date and its reminders."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from models.policy.section import Section, reminder_offsets


class DeviationReportPolicy(Section):
    """The provider's monthly deviation report for customer billing (avvikelserapportering)."""

    due: Literal["first_working_day_of_next_month", "day_of_next_month"] = Field(
        default="first_working_day_of_next_month",
        description=(
            "When the report covering a month is due. Huddinge: the first working day of the next "
            "month (seed 000); Salem: a fixed day of the next month (seed 002 §6.8). Default "
            "first_working_day_of_next_month: the earlier of the two known rules, so a "
            "municipality whose documents are silent is never reminded later than a known one."
        ),
    )
    day: int | None = Field(
        default=None,
        ge=1,
        le=28,
        description=(
            "Day of the next month, required when due is day_of_next_month (Salem: 10). At most "
            "28 so every month has it. Default None: not used by the first-working-day rule."
        ),
    )
    roll_forward: bool = Field(
        default=True,
        description=(
            "Move a fixed-day due date that is not a working day to the next working day. "
            "Default True: lag (1930:173) § 2 does so for statutory limits; that municipalities "
            "apply it to contract deadlines (Salem's 10th) is UNVERIFIED (domain.md §3.1)."
        ),
    )
    reminder_offsets_working_days: tuple[int, ...] = Field(
        default=(-5, 0, 1, 5),
        description=(
            "Working days from the due date on which the provider is reminded: negative before, "
            "0 on the day, positive for overdue notices. Default (-5, 0, 1, 5): local practice, "
            "the seeds set no reminders."
        ),
    )
    late_reports_for_warning: int = Field(
        default=3,
        ge=1,
        description=(
            "Late reports within late_window_months that make lovflow propose a warning to staff. "
            "Default 3: local practice, the seeds set no number."
        ),
    )
    late_window_months: int = Field(
        default=12,
        ge=1,
        description="Window for counting late reports. Default 12: local practice (one year).",
    )

    @field_validator("reminder_offsets_working_days")
    @classmethod
    def _check_offsets(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return reminder_offsets(value)

    @model_validator(mode="after")
    def _day_matches_rule(self) -> Self:
        if self.due == "day_of_next_month" and self.day is None:
            raise ValueError("due = 'day_of_next_month' needs day (1-28)")
        if self.due == "first_working_day_of_next_month" and self.day is not None:
            raise ValueError("day is only used with due = 'day_of_next_month'")
        return self
