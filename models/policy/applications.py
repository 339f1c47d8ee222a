"""`[decision]` and `[application]`: the decision time on an application and its rules."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from models.policy.section import MAX_REMINDER_OFFSET, Section, unique_sorted


class DecisionPolicy(Section):
    """Time for the municipality's decision on an application (handläggningstid)."""

    weeks: int = Field(
        default=6,
        ge=1,
        description=(
            "Weeks from receipt to decision. Default 6: Salem's time (seed 002 §8.2), the only one "
            "in the seeds; LOV itself sets no limit."
        ),
    )
    summer_weeks: int = Field(
        default=10,
        ge=1,
        description=(
            "Weeks from receipt when the application arrives in a summer month. Default 10: "
            "Salem's time (seed 002 §8.2)."
        ),
    )
    summer_months: tuple[int, ...] = Field(
        default=(6, 7, 8),
        description="Months of receipt that get summer_weeks. Default June-August (seed 002 §8.2).",
    )
    roll_forward: bool = Field(
        default=True,
        description=(
            "Move a decision date that is not a working day to the next working day. Default "
            "True: lag (1930:173) § 2; its use for this deadline is a convention (domain.md §3.1)."
        ),
    )
    staff_reminder_working_days_before: int = Field(
        default=5,
        ge=0,
        description=(
            "Working days before the decision date on which staff are reminded. Default 5: local "
            "practice, the seeds set no reminder."
        ),
    )
    staff_overdue_reminder_working_days_after: int = Field(
        default=1,
        ge=1,
        le=MAX_REMINDER_OFFSET,
        description=(
            "Working days after the decision date on which staff are reminded, once, that it has "
            "passed without a decision. Default 1: local practice; Salem sets the decision time "
            "(seed 002 §8.2) but no reminder."
        ),
    )

    @field_validator("summer_months")
    @classmethod
    def _check_months(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= month <= 12 for month in value):
            raise ValueError("months must be 1-12")
        return unique_sorted(value, "summer months")

    @model_validator(mode="after")
    def _summer_not_shorter(self) -> Self:
        if self.summer_weeks < self.weeks:
            raise ValueError("summer_weeks must not be shorter than weeks")
        return self


class ApplicationPolicy(Section):
    """Rules for an application (ansökan) and its attachments."""

    binding_days: int = Field(
        default=90,
        ge=1,
        description=(
            "Days the applicant is bound by the application, counting the submission day. "
            "Default 90: Salem (seed 002 §8.1), the only value in the seeds."
        ),
    )
    tax_certificate_max_age_months: int = Field(
        default=3,
        ge=1,
        description=(
            "Maximum age of the SKV 4820 tax certificate. Default 3: Salem (seed 002 §8.1)."
        ),
    )
    references_max_age_years: int = Field(
        default=3,
        ge=1,
        description="Maximum age of references. Default 3: Salem (seed 002 §8.1).",
    )
    completion_reply_working_days: int = Field(
        default=10,
        ge=1,
        description=(
            "Working days the applicant gets to send requested completions. Default 10: local "
            "practice; Salem says only that completions may be requested (seed 002 §8.2)."
        ),
    )
