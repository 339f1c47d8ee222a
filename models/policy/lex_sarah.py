"""`[lex_sarah]`: follow-up of lex Sarah cases (domain.md §1)."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field, field_validator

from models.calendar import roll_forward
from models.policy.section import Section, reminder_offsets


class LexSarahPolicy(Section):
    """Follow-up of lex Sarah cases (domain.md §1)."""

    investigation_follow_up_days: int = Field(
        default=14,
        ge=1,
        description=(
            "Days after a report before staff ask for the investigation. Default 14: LOCAL "
            'PRACTICE; the law says only "utan dröjsmål" (domain.md §1.2).'
        ),
    )
    ivo_confirmation_follow_up_days: int = Field(
        default=14,
        ge=1,
        description=(
            "Days after a serious case before staff ask for proof of the IVO notification. "
            'Default 14: LOCAL PRACTICE; the law says "snarast" (domain.md §1.2).'
        ),
    )
    cases_per_year_for_follow_up: int = Field(
        default=2,
        ge=1,
        description=(
            "Cases within a year that make lovflow propose a follow-up of the provider. "
            "Default 2: local practice."
        ),
    )
    legal_reference: str = Field(
        default="14 kap. 3–7 §§ socialtjänstlagen (2001:453)",
        min_length=1,
        description=(
            "Legal reference quoted in messages. Default: old SoL; the numbering in the new SoL "
            "(2025:400) is UNVERIFIED (domain.md §1.1)."
        ),
    )
    roll_forward: bool = Field(
        default=True,
        description=(
            "Move a follow-up date that is not a working day to the next working day. Default "
            "True: as lag (1930:173) § 2 does for statutory limits (domain.md §3.1); local "
            "practice, as the days themselves are."
        ),
    )
    reminder_offsets_working_days: tuple[int, ...] = Field(
        default=(0, 5),
        description=(
            "Working days from a follow-up date (investigation, IVO confirmation) on which the "
            "provider is reminded: 0 on the day, positive when overdue. Default (0, 5): local "
            "practice, the law and the seeds set none."
        ),
    )
    escalation_working_days: int = Field(
        default=5,
        ge=1,
        description=(
            "Working days after a follow-up date when staff are told that it is overdue. "
            "Default 5: local practice."
        ),
    )
    window_months: int = Field(
        default=12,
        ge=1,
        description=(
            "The period in which cases_per_year_for_follow_up cases propose a follow-up. "
            'Default 12: local practice ("several in a year").'
        ),
    )
    contract_follow_up_days: int = Field(
        default=30,
        ge=1,
        description=(
            "Days staff get to follow a contract up once they accept a lex Sarah proposal. "
            "Default 30: local practice."
        ),
    )

    @field_validator("reminder_offsets_working_days")
    @classmethod
    def _check_offsets(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return reminder_offsets(value, earliest=0)

    def _follow_up(self, start: date, days: int) -> date:
        due = start + timedelta(days=days)
        return roll_forward(due) if self.roll_forward else due

    def investigation_due(self, received_on: date) -> date:
        """The day the municipality follows up the investigation of a report received then.

        Calendar days from the day the report reached the municipality (it cannot
        follow up what it does not know), rolled to the next working day: the
        law says "utan dröjsmål" and sets no days (domain.md §1.2), so the number
        is LOCAL PRACTICE. Received Thursday 2026-12-10 + 14 = julafton, so
        Monday 2026-12-28.
        """
        return self._follow_up(received_on, self.investigation_follow_up_days)

    def ivo_confirmation_due(self, assessed_on: date) -> date:
        """The day the copy or confirmation of the IVO notification is followed up.

        Calendar days from the day staff assessed the wrong as serious, rolled to
        the next working day; the law says "snarast" (14 kap. 7 § SoL, domain.md
        §1.2), so the number is LOCAL PRACTICE.
        """
        return self._follow_up(assessed_on, self.ivo_confirmation_follow_up_days)
