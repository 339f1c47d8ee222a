"""An obligation: anything with a due date, for a provider or for staff.

Deadlines are data: the daily sweep asks this table what is due, due soon or
overdue, so no flow sleeps for weeks. One row per (kind, subject, period): the
unique constraint makes creating an obligation idempotent across re-runs.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import enum_field, id_field, timestamp_field
from models.status_transitions import Transitions, transitions


class ObligationKind(StrEnum):
    decision_deadline = "decision_deadline"  # staff decide an application (seed 002 §8.2)
    application_binding = "application_binding"  # applicant bound 90 days (seed 002 §8.1)
    completion_reply = "completion_reply"  # applicant sends completions
    contract_signature = "contract_signature"
    insurance_copy = "insurance_copy"  # by start of operations (seed 002 §8.1)
    permit_copy = "permit_copy"  # by start of operations (seed 002 §3.1)
    new_provider_follow_up = "new_provider_follow_up"  # after 6 months (seed 003)
    contract_end = "contract_end"  # extend or let end (seed 002 §4.1)
    deviation_report = "deviation_report"  # monthly (seeds 000, 002 §6.8)
    warning_remedy = "warning_remedy"
    action_plan = "action_plan"
    lex_sarah_investigation = "lex_sarah_investigation"
    ivo_confirmation = "ivo_confirmation"
    #: staff follow a contract up after a lex Sarah proposal was accepted (local practice)
    contract_follow_up = "contract_follow_up"


class ObligationStatus(StrEnum):
    open = "open"
    fulfilled = "fulfilled"
    waived = "waived"
    cancelled = "cancelled"


_S = ObligationStatus
#: A status not named here is final.
OBLIGATION_TRANSITIONS = transitions(
    ObligationStatus, {_S.open: {_S.fulfilled, _S.waived, _S.cancelled}}
)

#: The period of an obligation that is not periodic. An empty string rather than
#: NULL, because NULLs never collide in a unique constraint.
NO_PERIOD = ""


class Obligation(SQLModel, table=True):
    __tablename__ = "obligation"
    __table_args__ = (
        UniqueConstraint(
            "kind", "subject_type", "subject_id", "period", name="uq_obligation_subject"
        ),
    )
    ENTITY_TYPE: ClassVar[str] = "obligation"
    TRANSITIONS: ClassVar[Transitions[ObligationStatus]] = OBLIGATION_TRANSITIONS

    id: uuid.UUID = id_field()
    kind: ObligationKind = enum_field(ObligationKind, index=True)
    municipality_id: str = Field(foreign_key="municipality.id", index=True, max_length=40)
    provider_id: uuid.UUID | None = Field(default=None, foreign_key="provider.id", index=True)
    #: What the obligation is about: "application", "contract", "lex_sarah_case", ...
    subject_type: str = Field(max_length=40)
    subject_id: uuid.UUID
    #: "2026-05" for a monthly obligation, NO_PERIOD otherwise.
    period: str = Field(default=NO_PERIOD, max_length=20)
    due_on: date = Field(index=True)
    status: ObligationStatus = enum_field(ObligationStatus, ObligationStatus.open, index=True)
    fulfilled_on: date | None = None
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
