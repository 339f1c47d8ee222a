"""`[obligations]`: reminders about copies due at start and about follow-ups.

Insurance and permit copies are due "senast vid start av verksamheten" (Salem,
seed 002 §8.1 and §3.1); a new provider is followed up after 6 months
(Stockholm, seed 003); a contract is followed up after an accepted lex Sarah
proposal (`lex_sarah.contract_follow_up_days`). The seeds set the dates; the
reminders around them are local practice (models/checks/obligation_reminders.py).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from models.policy.section import MAX_REMINDER_OFFSET, Section, reminder_offsets


class ObligationPolicy(Section):
    """Reminders about the obligations other flows create (copies due at start, follow-ups)."""

    copy_reminder_offsets_working_days: tuple[int, ...] = Field(
        default=(0, 5),
        description=(
            "Working days from the due date of an insurance or permit copy (due by the start of "
            "operations, seed 002 §8.1, §3.1) on which the provider is reminded: 0 on the day, "
            "positive when overdue. Default (0, 5): local practice, the seeds set no reminders."
        ),
    )
    copy_escalation_working_days: int = Field(
        default=10,
        ge=1,
        le=MAX_REMINDER_OFFSET,
        description=(
            "Working days after the due date of an insurance or permit copy when staff are told "
            "it has not come in. Default 10: local practice, the seeds set none."
        ),
    )
    follow_up_reminder_offsets_working_days: tuple[int, ...] = Field(
        default=(-5, 0),
        description=(
            "Working days from a follow-up's date (a new provider after 6 months, seed 003; a "
            "contract after a lex Sarah proposal) on which staff are reminded: negative before, "
            "0 on the day. Default (-5, 0): local practice, the seeds set no reminders."
        ),
    )

    @field_validator(
        "copy_reminder_offsets_working_days", "follow_up_reminder_offsets_working_days"
    )
    @classmethod
    def _check_offsets(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return reminder_offsets(value)
