"""`[warning]`: warnings, action plans, the clauses they name, grounds that end a contract."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from models.policy.section import Section, reminder_offsets


class ContractClause(Section):
    """A contract condition a warning can name as breached."""

    key: str = Field(pattern=r"^[a-z0-9_]{2,40}$", description="Stable id stored on warnings.")
    title: str = Field(min_length=3, max_length=120, description="Swedish, as staff pick it.")
    source: str = Field(
        min_length=3,
        max_length=120,
        description='Where it stands, e.g. "förfrågningsunderlaget §3.1".',
    )


class ImmediateGround(Section):
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


class WarningPolicy(Section):
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

    staff_reminder_offsets_working_days: tuple[int, ...] = Field(
        default=(0,),
        description=(
            "Working days from a remedy deadline, an action plan's due date or one of its "
            "follow-up dates on which staff are reminded to take the step: 0 on the day, "
            "positive after it. Default (0,): on the day, local practice; the warning sets the "
            'deadline ("inom den tid som anges i varningen", seed 002 §4.5, §7.2) and no seed '
            "sets a reminder."
        ),
    )

    @field_validator("staff_reminder_offsets_working_days")
    @classmethod
    def _check_offsets(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        # Not before the date: the step is taken in the warning's run on or after it.
        return reminder_offsets(value, earliest=0)

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
