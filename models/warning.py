"""A written warning (varning) to a provider, with a remedy deadline and an optional action plan.

Seed 002 (Salem): "Vid mindre brister utdelas en skriftlig varning och om
dessa inte åtgärdas inom tid som anges i varningen kan avtalet hävas" (§7.2;
the same consequence closes §3.1-3.4 and §4.5); "Vid allvarliga brister ...
ska en åtgärdsplan upprättas. Uppföljning sker fortlöpande enligt upprättad
åtgärdsplan. Avtalet hävs om åtgärder inte vidtas" (§7.2). Seed 003
(Stockholm): "Vid allvarlig brist: Möjlighet till rättelse, Hävning av
kontrakt".

A warning is a case of its own on a contract. Its deadlines are obligations
(ObligationKind.warning_remedy, ObligationKind.action_plan) that the daily
sweep reminds staff of; the warning's run waits in a form meanwhile. A warning
that is not remedied never ends the contract by itself: it proposes a
termination (ProposalKind.end_breach) that the committee or its chair decides
(seed 002 §4.5).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from models.base import enum_field, id_field, json_field, timestamp_field
from models.status_transitions import Transitions, transitions

# Staff's answers in a warning's forms, as keys (the Swedish text is the form's
# enum of the same member names in models/forms/warning.py).


class PlanResult(StrEnum):
    received = "received"
    missing = "missing"


class FollowUpResult(StrEnum):
    on_track = "on_track"
    no_action = "no_action"


class RemedyResult(StrEnum):
    remedied = "remedied"
    not_remedied = "not_remedied"


class WarningStatus(StrEnum):
    #: sent to the provider; the remedy deadline (and any action plan) runs
    issued = "issued"
    #: staff found the deficiencies remedied; the provider was told
    remedied = "remedied"
    #: not remedied (or no action plan / no action): a termination proposal waits
    termination_proposed = "termination_proposed"
    #: the committee or its chair terminated the contract (hävning)
    terminated = "terminated"
    #: the committee or its chair decided not to terminate
    termination_dismissed = "termination_dismissed"
    #: the contract ended another way while the warning ran
    cancelled = "cancelled"


_S = WarningStatus
#: A status not named here is final.
WARNING_TRANSITIONS = transitions(
    WarningStatus,
    {
        _S.issued: {_S.remedied, _S.termination_proposed, _S.cancelled},
        _S.termination_proposed: {_S.terminated, _S.termination_dismissed, _S.cancelled},
    },
)


class ContractWarning(SQLModel, table=True):
    """One warning on one contract. (`Warning` would shadow Python's built-in.)"""

    __tablename__ = "contract_warning"
    ENTITY_TYPE: ClassVar[str] = "contract_warning"
    TRANSITIONS: ClassVar[Transitions[WarningStatus]] = WARNING_TRANSITIONS

    id: uuid.UUID = id_field()
    contract_id: uuid.UUID = Field(foreign_key="contract.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="provider.id", index=True)
    municipality_id: str = Field(foreign_key="municipality.id", index=True, max_length=40)
    status: WarningStatus = enum_field(WarningStatus, WarningStatus.issued, index=True)
    #: Keys of the breached clauses in the policy's `[warning].clauses`.
    clauses: list[str] = json_field(list)
    #: What must be done: staff's text about the provider's deficiencies. Kept here
    #: and in the provider's letter only, never in logs, audit details or artifacts.
    description: str = Field(sa_type=Text)
    issued_on: date
    #: Last day to remedy, rolled to a working day where the policy says so.
    remedy_by: date
    action_plan_required: bool = False
    action_plan_due: date | None = None
    action_plan_received_on: date | None = None
    #: The follow-up dates the provider's plan sets (ISO dates).
    follow_up_dates: list[str] = json_field(list)
    #: The sweep's proposal this warning came from (late reports), if any.
    proposal_id: uuid.UUID | None = Field(default=None, foreign_key="proposal.id")
    #: The termination proposal made when the warning was not remedied.
    termination_proposal_id: uuid.UUID | None = Field(default=None)
    issued_by: str = Field(max_length=200)
    closed_on: date | None = None
    flow_run_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()

    def facts(self) -> dict[str, Any]:
        """Ids, dates and counts for audit details and artifacts (never the description)."""
        return {
            "clauses": list(self.clauses),
            "remedy_by": self.remedy_by.isoformat(),
            "action_plan_due": self.action_plan_due.isoformat() if self.action_plan_due else None,
        }
