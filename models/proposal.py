"""A proposal (förslag) the system makes and a person decides: the system proposes, staff decide.

The daily sweep and the registrations find the grounds (repeated late reports,
12 months without customers, few customers after 24 months, a contract term
that ends); a proposal records the ground once, and staff accept or dismiss it
in a form. Accepting is what changes a contract, never the proposal itself.
One row per (kind, contract, ground): the unique key makes proposing
idempotent across re-runs and concurrent sweeps.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import StrEnumType, UTCDateTime, new_id, utcnow
from models.status_transitions import Transitions, transitions


class ProposalKind(StrEnum):
    #: policy `late_reports_for_warning` late deviation reports within `late_window_months`
    warning_late_reports = "warning_late_reports"
    #: no customers for `months_without_customers` (Salem hävs 002 §4.5; Stockholm upphör 003)
    end_inactivity = "end_inactivity"
    #: at most `low_volume_max_customers` after `low_volume_after_months` (Stockholm, 003)
    notice_low_volume = "notice_low_volume"
    #: the term ends within `end_reminder_months_before`: extend or let end (Salem 002 §4.1)
    contract_term = "contract_term"
    #: a serious lex Sarah case, or `cases_per_year_for_follow_up` cases within
    #: `window_months` (policy [lex_sarah], local practice; domain.md §1)
    lex_sarah_follow_up = "lex_sarah_follow_up"
    #: a new business manager was not approved: the contract hävs (Salem 002 §4.6; issue 5)
    end_manager_rejected = "end_manager_rejected"
    #: a warning (models/warning.py) was not remedied in time: hävning, decided by the
    #: committee or its chair (seed 002 §3.1-3.4, §4.5, §7.2; seed 003 "Hävning")
    end_breach = "end_breach"


#: What staff see for each kind (Swedish: UI and letters).
PROPOSAL_TITLES: dict[ProposalKind, str] = {
    ProposalKind.warning_late_reports: "Varning för upprepat sena avvikelserapporter",
    ProposalKind.end_inactivity: "Avtalet avslutas: inga kunder under 12 månader",
    ProposalKind.notice_low_volume: "Uppsägning: få kunder efter 24 månader",
    ProposalKind.contract_term: "Avtalstiden löper ut: förläng eller låt avtalet upphöra",
    ProposalKind.lex_sarah_follow_up: "Uppföljning av utföraren efter lex Sarah",
    ProposalKind.end_manager_rejected: "Avtalet hävs: ny verksamhetsansvarig godkändes inte",
    ProposalKind.end_breach: "Hävning: bristerna i varningen är inte åtgärdade",
}


class ProposalStatus(StrEnum):
    open = "open"
    accepted = "accepted"
    dismissed = "dismissed"


_S = ProposalStatus
#: A status not named here is final.
PROPOSAL_TRANSITIONS = transitions(
    ProposalStatus,
    {
        _S.open: {_S.accepted, _S.dismissed},
    },
)


class Proposal(SQLModel, table=True):
    __tablename__ = "proposal"
    __table_args__ = (UniqueConstraint("kind", "contract_id", "ground", name="uq_proposal_ground"),)
    ENTITY_TYPE: ClassVar[str] = "proposal"
    TRANSITIONS: ClassVar[Transitions[ProposalStatus]] = PROPOSAL_TRANSITIONS

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: ProposalKind = Field(sa_type=StrEnumType(ProposalKind), index=True)
    municipality_id: str = Field(foreign_key="municipality.id", index=True, max_length=40)
    provider_id: uuid.UUID = Field(foreign_key="provider.id", index=True)
    contract_id: uuid.UUID = Field(foreign_key="contract.id", index=True)
    #: What makes this proposal one of a kind: the first month of a streak without
    #: customers ("2026-01"), the term's end date ("2027-05-31"), the latest late month.
    ground: str = Field(max_length=40)
    #: Counts and dates behind the proposal (no personal data), shown to staff.
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    proposed_on: date
    status: ProposalStatus = Field(
        default=ProposalStatus.open, sa_type=StrEnumType(ProposalStatus), index=True
    )
    decided_by: str | None = Field(default=None, max_length=200)
    decided_on: date | None = None
    decision_note: str | None = Field(default=None, sa_type=Text)
    flow_run_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Ground:
    """A reason to propose something about one contract, found by a check."""

    kind: ProposalKind
    contract_id: uuid.UUID
    provider_id: uuid.UUID
    municipality_id: str
    #: Makes the proposal one of a kind (see Proposal.ground).
    ground: str
    details: dict[str, Any] = field(default_factory=dict)
