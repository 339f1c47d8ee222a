"""`[contract]`, `[inactivity]` and `[changes]`: term, notice, signing, customers, changes."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from models.policy.section import Section, unique_sorted


class ContractPolicy(Section):
    """Contract (avtal, kontrakt) term, notice and signing."""

    term_years: int = Field(
        default=2,
        ge=1,
        description="Contract term. Default 2: Salem (seed 002 §4.1), the only term in the seeds.",
    )
    extension_years: int = Field(
        default=1,
        ge=1,
        description="Length of each extension. Default 1: Salem (seed 002 §4.1).",
    )
    notice_provider_months: int = Field(
        default=3,
        ge=0,
        description=(
            "Notice period when the provider ends the contract. Default 3: Salem (seed 002 §4.1) "
            "and Stockholm (seed 003) agree."
        ),
    )
    notice_municipality_months: int = Field(
        default=6,
        ge=0,
        description=(
            "Notice period when the municipality ends the contract. Default 6: Salem (seed 002 "
            "§4.1) and Stockholm (seed 003) agree."
        ),
    )
    signature_reminder_working_days: int = Field(
        default=5,
        ge=1,
        description=(
            "Working days after sending the contract before the provider is reminded to sign. "
            'Default 5: local practice; Salem says only "snarast" (seed 002 §8.3).'
        ),
    )
    signature_escalation_working_days: int = Field(
        default=15,
        ge=1,
        description=(
            "Working days after sending before an unsigned contract goes to staff. Default 15: "
            "local practice."
        ),
    )
    new_provider_follow_up_months: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Months after contract start when a new provider is followed up (Stockholm: 6, seed "
            "003). Default None: no such follow-up in the other seeds."
        ),
    )
    basis: str = Field(
        default="avtalet",
        min_length=1,
        max_length=200,
        description=(
            "Where the term, extension and notice rules stand, as letters cite it (Swedish), "
            'e.g. "förfrågningsunderlaget §4.1". Default "avtalet": the contract itself.'
        ),
    )
    end_reminder_months_before: int = Field(
        default=6,
        ge=0,
        description=(
            "Months before the term ends when staff are reminded to extend or give notice. "
            "Default 6: local practice, matching the municipality's 6-month notice period."
        ),
    )

    no_choice_rotation: bool = Field(
        default=False,
        description=(
            "Whether approved providers take turns as the default for customers who do not "
            'choose (ickeval). Huddinge: "Varje utförare utgör ickevalsalternativet en månad i '
            'taget enligt listan" (seed 000). Default False: in Salem the no-choice alternative '
            "is the municipality's own home care (seed 002 §6.2.1), in Strängnäs too (seed 001)."
        ),
    )

    @model_validator(mode="after")
    def _escalate_after_reminder(self) -> Self:
        if self.signature_escalation_working_days <= self.signature_reminder_working_days:
            raise ValueError(
                "signature_escalation_working_days must be later than "
                "signature_reminder_working_days"
            )
        return self


class InactivityPolicy(Section):
    """A provider without customers (avsaknad av uppdrag)."""

    months_without_customers: int = Field(
        default=12,
        ge=1,
        description=(
            "Months without customers after which the contract ends. Default 12: both seeds that "
            "state a limit say 12 (Salem 002 §4.5, Stockholm 003)."
        ),
    )
    consequence: Literal["havning", "upphor"] = Field(
        default="havning",
        description=(
            'havning: the contract is terminated by a decision (Salem "hävs", seed 002 §4.5); '
            'upphor: it ends by itself without notice (Stockholm "upphör", seed 003). Default '
            "havning: it needs a staff decision, which is the safe choice when the contract "
            "terms are not in the seeds."
        ),
    )
    basis: str = Field(
        default="avtalet",
        min_length=1,
        max_length=200,
        description=(
            "Where the rule on providers without customers stands, as letters cite it "
            '(Swedish), e.g. "förfrågningsunderlaget §4.5". Default "avtalet".'
        ),
    )
    warning_at_months: tuple[int, ...] = Field(
        default=(9, 11),
        description=(
            "Months without customers at which the provider is warned. Default (9, 11): local "
            "practice, the seeds set no warning."
        ),
    )
    low_volume_after_months: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Contract age after which few customers lead to notice (Stockholm: 24, seed 003). "
            "Default None: no such rule in the other seeds."
        ),
    )
    low_volume_max_customers: int | None = Field(
        default=None,
        ge=0,
        description=(
            "At most this many customers after low_volume_after_months leads to notice "
            "(Stockholm: 5, seed 003). Default None: no such rule."
        ),
    )

    @field_validator("warning_at_months")
    @classmethod
    def _check_warnings(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(month < 1 for month in value):
            raise ValueError("warning months must be at least 1")
        return unique_sorted(value, "warning months")

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if any(month >= self.months_without_customers for month in self.warning_at_months):
            raise ValueError("warning_at_months must all come before months_without_customers")
        if (self.low_volume_after_months is None) != (self.low_volume_max_customers is None):
            raise ValueError(
                "low_volume_after_months and low_volume_max_customers go together: "
                "set both or neither"
            )
        return self


class ChangesPolicy(Section):
    """Limits on changes the provider asks for. None everywhere means no limit is stated."""

    area_changes_per_year: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Geographic area changes allowed per year (Huddinge: 1, seed 000). "
            "Default None: no limit."
        ),
    )
    capacity_changes_per_year: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Capacity changes allowed per year (Huddinge: 4, seed 000). Default None: no limit."
        ),
    )
    change_notice_months: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Notice before a capacity or service-type change (Salem: 1, seed 002 §4.3, §4.8). "
            "Default None: no notice period stated."
        ),
    )
    wind_down_notice_months: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Notice before the provider closes its business (Salem: 3, seed 002 §4.5). Default "
            "None: the contract's notice_provider_months applies."
        ),
    )
