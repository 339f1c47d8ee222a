"""Municipal rules as data: one TOML file per municipality in policies/, validated here.

Every rule cites domain.md (shared/domain.md) or a seed (shared/seeds/). Each
policy file gives the values its municipality's documents state, each with a
comment quoting the seed; where the documents are silent the key is left out
and the default below applies. The field description says what the default is
and why, and `Policy.defaulted_fields()` lists every value that came from a
default, so staff can see which rules "the policy says" only because nothing
else was written down.

The model is frozen and refuses unknown keys, so a misspelt key in a file is an
error at load time rather than a silently ignored rule.
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from models.calendar import first_working_day, roll_forward
from models.paths import PROJECT_ROOT
from models.validation import normalise_email

POLICY_DIR = PROJECT_ROOT / "policies"

MailPurpose = Literal["staff", "deviation_report", "lex_sarah", "procurement"]


class PolicyError(ValueError):
    """A policy is unknown, or its file is not valid TOML or breaks a rule."""


class _Section(BaseModel):
    # extra="forbid": a misspelt key is refused, not ignored. frozen: one loaded
    # policy is shared through the cache, so nobody may change it in place;
    # sequences are tuples for the same reason.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique_sorted(values: tuple[int, ...], what: str) -> tuple[int, ...]:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat a value")
    return tuple(sorted(values))


class MailPolicy(_Section):
    """Addresses the municipality sends from and to."""

    sender: str = Field(
        description=(
            "From address of every message lovflow sends for the municipality. Required: no "
            "municipality's seed names a sending address, so each file sets one (a placeholder "
            "under .invalid until the municipality gives its own)."
        )
    )
    staff_recipient: str = Field(
        description=(
            "Shared inbox of the municipality's case officers: staff reminders go here. Required."
        )
    )
    deviation_report_recipient: str | None = Field(
        default=None,
        description=(
            "Where providers send the monthly deviation report (Huddinge: kundfaktura@huddinge.se, "
            "seed 000). Default None: no address in the seeds, so staff_recipient is used."
        ),
    )
    lex_sarah_recipient: str | None = Field(
        default=None,
        description=(
            "Where providers send lex Sarah reports and investigations (Huddinge: sof@huddinge.se, "
            "seed 000). Default None: no address in the seeds, so staff_recipient is used."
        ),
    )
    procurement_recipient: str | None = Field(
        default=None,
        description=(
            "Procurement unit for contract changes, new IVO permits and new managers (Huddinge: "
            "upphandling@huddinge.se, seed 000). Default None: staff_recipient is used."
        ),
    )

    @field_validator(
        "sender",
        "staff_recipient",
        "deviation_report_recipient",
        "lex_sarah_recipient",
        "procurement_recipient",
    )
    @classmethod
    def _check_address(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)

    def address_for(self, purpose: MailPurpose) -> str:
        """The address for `purpose`, falling back to staff_recipient when none is set."""
        specific = {
            "staff": None,
            "deviation_report": self.deviation_report_recipient,
            "lex_sarah": self.lex_sarah_recipient,
            "procurement": self.procurement_recipient,
        }[purpose]
        return specific or self.staff_recipient

    def placeholders(self) -> list[str]:
        """Keys whose address is a placeholder under the reserved .invalid domain (RFC 2606).

        Mail to or from such an address can never be delivered; a deployment
        should replace them before it sends real mail.
        """
        return [
            key
            for key, value in self.model_dump().items()
            if isinstance(value, str) and value.endswith(".invalid")
        ]


class DeviationReportPolicy(_Section):
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
        return _unique_sorted(value, "reminder offsets")

    @model_validator(mode="after")
    def _day_matches_rule(self) -> Self:
        if self.due == "day_of_next_month" and self.day is None:
            raise ValueError("due = 'day_of_next_month' needs day (1-28)")
        if self.due == "first_working_day_of_next_month" and self.day is not None:
            raise ValueError("day is only used with due = 'day_of_next_month'")
        return self


class DecisionPolicy(_Section):
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

    @field_validator("summer_months")
    @classmethod
    def _check_months(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= month <= 12 for month in value):
            raise ValueError("months must be 1-12")
        return _unique_sorted(value, "summer months")

    @model_validator(mode="after")
    def _summer_not_shorter(self) -> Self:
        if self.summer_weeks < self.weeks:
            raise ValueError("summer_weeks must not be shorter than weeks")
        return self


class ApplicationPolicy(_Section):
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


class ContractPolicy(_Section):
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


class InactivityPolicy(_Section):
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
        return _unique_sorted(value, "warning months")

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


class ChangesPolicy(_Section):
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


class ContractClause(_Section):
    """A contract condition a warning can name as breached."""

    key: str = Field(pattern=r"^[a-z0-9_]{2,40}$", description="Stable id stored on warnings.")
    title: str = Field(min_length=3, max_length=120, description="Swedish, as staff pick it.")
    source: str = Field(
        min_length=3,
        max_length=120,
        description='Where it stands, e.g. "förfrågningsunderlaget §3.1".',
    )


class ImmediateGround(_Section):
    """A ground that ends the contract at once, without a warning first."""

    key: str = Field(pattern=r"^[a-z0-9_]{2,40}$", description="Stable id.")
    title: str = Field(min_length=3, max_length=160, description="Swedish, as staff pick it.")
    consequence: Literal["havning", "upphor"] = Field(
        description=(
            "havning: decided by the committee or its chair (seed 002 §4.5); upphor: the "
            "contract ends by itself, staff confirm the facts (seed 003)."
        )
    )
    ground: str = Field(
        min_length=3, max_length=200, description='The letter\'s "Skälet är att ..." clause.'
    )
    source: str = Field(min_length=3, max_length=120, description="Where it stands.")


def _default_clauses() -> tuple[ContractClause, ...]:
    return (
        ContractClause(
            key="contract_terms",
            title="Villkoren i avtalet",
            source="avtalet",
        ),
    )


class WarningPolicy(_Section):
    """Warnings (varning), action plans (åtgärdsplan) and grounds that end a contract at once."""

    clauses: tuple[ContractClause, ...] = Field(
        default_factory=_default_clauses,
        min_length=1,
        description=(
            "The contract conditions a warning can name. Default: one clause, the contract's "
            "terms as a whole, for municipalities whose documents in the seeds list none."
        ),
    )
    basis: str = Field(
        default="avtalet",
        min_length=1,
        max_length=200,
        description=(
            "Where warnings and termination for breach stand, as letters cite it (Salem: "
            '"förfrågningsunderlaget §4.5 och §7.2"). Default "avtalet".'
        ),
    )
    remedy_roll_forward: bool = Field(
        default=True,
        description=(
            "A remedy deadline or action-plan date on a non-working day moves to the next "
            "working day (lag 1930:173 § 2, domain.md §3.1). Default True: the law's rule for "
            "time limits; no seed says otherwise (UNVERIFIED for contracts, domain.md §6)."
        ),
    )
    late_reports_clause: str | None = Field(
        default=None,
        description=(
            "The clause a warning for repeatedly late deviation reports names, filled in when "
            "staff take up the daily check's proposal (Salem: §6.8, seed 002). Default None: "
            "staff pick the clause."
        ),
    )
    immediate_grounds: tuple[ImmediateGround, ...] = Field(
        default=(),
        description=(
            "Grounds that end a contract at once. Default none: only Salem (seed 002 §4.5, "
            "charging customers) and Stockholm (seed 003, IVO permit) state any."
        ),
    )

    @model_validator(mode="after")
    def _unique_keys(self) -> Self:
        for what, keys in (
            ("clauses", [c.key for c in self.clauses]),
            ("immediate_grounds", [g.key for g in self.immediate_grounds]),
        ):
            if len(set(keys)) != len(keys):
                raise ValueError(f"{what}: keys must be unique")
        if self.late_reports_clause is not None and self.late_reports_clause not in {
            c.key for c in self.clauses
        }:
            raise ValueError("late_reports_clause must be the key of one of the clauses")
        return self

    def clause(self, key: str) -> ContractClause:
        for clause in self.clauses:
            if clause.key == key:
                return clause
        raise KeyError(key)

    def immediate_ground(self, key: str) -> ImmediateGround:
        for ground in self.immediate_grounds:
            if ground.key == key:
                return ground
        raise KeyError(key)


class LexSarahPolicy(_Section):
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
        return _unique_sorted(value, "reminder offsets")

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


class Policy(_Section):
    """One municipality's rules. Every rule cites domain.md or a seed."""

    name: str = Field(description="Policy key: the file name without .toml (e.g. 'salem').")
    municipality: str = Field(min_length=1, description="Display name, e.g. 'Huddinge kommun'.")
    sources: tuple[str, ...] = Field(
        min_length=1, description="Documents the values come from (seed files, web pages)."
    )
    mail: MailPolicy = Field(description="Sender and recipient addresses. Required.")
    deviation_report: DeviationReportPolicy = Field(
        default_factory=DeviationReportPolicy, description="Monthly deviation report."
    )
    decision: DecisionPolicy = Field(
        default_factory=DecisionPolicy, description="Decision time for applications."
    )
    application: ApplicationPolicy = Field(
        default_factory=ApplicationPolicy, description="Application rules."
    )
    contract: ContractPolicy = Field(
        default_factory=ContractPolicy, description="Contract term and notice."
    )
    inactivity: InactivityPolicy = Field(
        default_factory=InactivityPolicy, description="Providers without customers."
    )
    changes: ChangesPolicy = Field(
        default_factory=ChangesPolicy, description="Limits on provider changes."
    )
    lex_sarah: LexSarahPolicy = Field(
        default_factory=LexSarahPolicy, description="Lex Sarah follow-up."
    )
    warning: WarningPolicy = Field(
        default_factory=WarningPolicy,
        description="Warnings, action plans and grounds that end a contract at once.",
    )
    appeal_weeks: int = Field(
        default=3,
        ge=1,
        description=(
            "Weeks to apply for correction (rättelse) at the förvaltningsrätt after a rejection. "
            "Default 3: LOV (2008:962) 10 kap. 1 § (domain.md §2), as Salem states (seed 002 §8.4)."
        ),
    )

    appeal_court: str | None = Field(
        default=None,
        min_length=3,
        description=(
            "The court that hears an application for correction (rättelse), e.g. "
            "'Förvaltningsrätten i Stockholm', named in rejection letters. No seed names one; "
            "when unset the letter says 'the förvaltningsrätt whose district the municipality "
            "is in' (LOV 10 kap. 1 §, domain.md §2)."
        ),
    )

    def deviation_report_due(self, year: int, month: int) -> date:
        """Due date of the deviation report that covers `month` of `year`.

        The report is due in the following month (December's in January of
        year + 1). Huddinge: its first working day, "senast första vardagen
        varje månad" (seed 000). Salem: the 10th, "senast den 10:e varje månad"
        (seed 002 §6.8), moved to the next working day when roll_forward is set
        (lag 1930:173 § 2; UNVERIFIED for Salem, domain.md §3.2).
        """
        if not 1 <= month <= 12:
            raise ValueError(f"month must be 1-12, got {month}")
        due_year, due_month = (year + 1, 1) if month == 12 else (year, month + 1)
        rule = self.deviation_report
        if rule.due == "first_working_day_of_next_month":
            return first_working_day(due_year, due_month)
        assert rule.day is not None  # guaranteed by DeviationReportPolicy's validator
        due = date(due_year, due_month, rule.day)
        return roll_forward(due) if rule.roll_forward else due

    def decision_due(self, received: date) -> date:
        """Last day for the decision on an application received on `received`.

        received + weeks, or + summer_weeks when received in a summer month
        (Salem: "inom sex veckor ... (juni-augusti) ... tio veckor", seed 002
        §8.2). Weeks end on the same weekday (lag 1930:173 § 1), then the date
        moves to the next working day if roll_forward is set (§ 2). Salem,
        received 2026-06-15: 10 weeks, Monday 2026-08-24.
        """
        rule = self.decision
        weeks = rule.summer_weeks if received.month in rule.summer_months else rule.weeks
        due = received + timedelta(weeks=weeks)
        return roll_forward(due) if rule.roll_forward else due

    def binding_ends(self, submitted: date) -> date:
        """Last day the applicant is bound by an application submitted on `submitted`.

        Salem: "bunden av sin ansökan i 90 dagar från och med inlämningsdagen"
        (seed 002 §8.1). "Från och med" counts the submission day as day 1, so
        the 90th day is submitted + 89 days: submitted 2026-01-01, bound through
        2026-03-31. Not rolled forward: it ends a period of being bound, it is
        not a day by which anyone must act.
        """
        return submitted + timedelta(days=self.application.binding_days - 1)

    def defaulted_fields(self) -> list[str]:
        """Dotted paths of every value the file left out, so that the default applies.

        E.g. "decision.weeks" for a municipality whose documents give no
        decision time. A section left out entirely lists all its fields.
        """
        return _defaulted(self, "")


def _defaulted(model: BaseModel, prefix: str) -> list[str]:
    paths: list[str] = []
    for field_name in type(model).model_fields:
        value = getattr(model, field_name)
        path = f"{prefix}{field_name}"
        if isinstance(value, BaseModel):
            # A section built from its default_factory has an empty fields_set,
            # so recursing lists each of its fields.
            paths.extend(_defaulted(value, f"{path}."))
        elif field_name not in model.model_fields_set:
            paths.append(path)
    return paths


def list_policies(directory: Path | None = None) -> list[str]:
    """Names of the policies in `directory` (default policies/), sorted."""
    folder = POLICY_DIR if directory is None else directory
    return sorted(path.stem for path in folder.glob("*.toml"))


def load_policy(name: str, *, directory: Path | None = None) -> Policy:
    """Load and validate policies/<name>.toml (or <directory>/<name>.toml); cached.

    Raises PolicyError for an unknown name (listing the available ones), a file
    that is not TOML, or a value that breaks a rule (naming the key path).
    """
    if directory is None:
        # The daily sweep asks for a policy per row: skip resolving the folder
        # (a filesystem call) when the default folder's policy is cached already.
        cached = _DEFAULT_FOLDER_CACHE.get(name)
        if cached is not None:
            return cached
    folder = (POLICY_DIR if directory is None else directory).resolve()
    policy = _load_policy(name.strip().lower(), folder)
    if directory is None:
        _DEFAULT_FOLDER_CACHE[name] = policy
    return policy


_DEFAULT_FOLDER_CACHE: dict[str, Policy] = {}


def clear_policy_cache() -> None:
    """Forget loaded policies, e.g. after a test or an operator edits a file."""
    _DEFAULT_FOLDER_CACHE.clear()
    _load_policy.cache_clear()


@lru_cache(maxsize=64)
def _load_policy(name: str, folder: Path) -> Policy:
    available = list_policies(folder)
    # Membership in the listing also keeps names like "../x" out of the path.
    if name not in available:
        raise PolicyError(
            f"unknown policy {name!r} in {folder}; available: {', '.join(available) or 'none'}"
        )
    path = folder / f"{name}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    if "name" in data:
        raise PolicyError(f"{path}: name: not allowed, the policy name is the file name")
    try:
        return Policy.model_validate({"name": name, **data})
    except ValidationError as exc:
        raise PolicyError(_describe(path, exc)) from None


def _describe(path: Path, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ""
        for part in item["loc"]:
            key += f"[{part}]" if isinstance(part, int) else f"{'.' if key else ''}{part}"
        message = item["msg"].removeprefix("Value error, ")
        given = item.get("input")
        # A whole section (a missing key, a rule across keys) is too long to echo.
        got = "" if isinstance(given, dict) else f" (got {given!r})"
        lines.append(f"{key or '(top level)'}: {message}{got}")
    return f"invalid policy file {path}:\n  " + "\n  ".join(lines)
