"""A contract (avtal/kontrakt) between a municipality and an approved provider.

Valid only when both parties have signed (LOV 2:2; seed 002 §8.3). It can end by
expiry, notice (uppsägning: provider 3 months, municipality 6, seed 002 §4.1),
termination for breach (hävning, decided by the committee, seed 002 §4.5) or by
itself (Stockholm: no customers for 12 months, seed 003).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import Text, false
from sqlmodel import Field, SQLModel

from models.base import enum_field, id_field, json_field, timestamp_field
from models.status_transitions import Transitions, transitions


class ContractStatus(StrEnum):
    draft = "draft"
    sent_for_signature = "sent_for_signature"
    partially_signed = "partially_signed"
    active = "active"
    notice_given = "notice_given"
    interim_terminated = "interim_terminated"
    ended = "ended"
    cancelled = "cancelled"


class DecidingBody(StrEnum):
    """Who decided a termination or notice, as the audit log keeps it: the committee, or
    its chair by delegation (seed 002 §4.5). The form's Swedish text is DecisionBody
    (models/forms/proposal.py)."""

    committee = "committee"
    chair = "chair"
    not_applicable = "not_applicable"


class InvestigationResult(StrEnum):
    """How the investigation after an interim hävning ended (the form: InvestigationOutcome)."""

    terminate = "terminate"
    reinstate = "reinstate"


class ContractEndKind(StrEnum):
    expiry = "expiry"
    uppsagning_provider = "uppsagning_provider"
    uppsagning_municipality = "uppsagning_municipality"
    havning = "havning"
    upphor = "upphor"  # ends by itself without notice (Stockholm inactivity, lost IVO permit)


_S = ContractStatus
#: A status not named here is final.
CONTRACT_TRANSITIONS = transitions(
    ContractStatus,
    {
        _S.draft: {_S.sent_for_signature, _S.cancelled},
        _S.sent_for_signature: {_S.partially_signed, _S.active, _S.cancelled},
        _S.partially_signed: {_S.active, _S.cancelled},
        _S.active: {_S.notice_given, _S.interim_terminated, _S.ended},
        _S.notice_given: {_S.ended, _S.active},
        _S.interim_terminated: {_S.ended, _S.active},
    },
)


class Contract(SQLModel, table=True):
    __tablename__ = "contract"
    ENTITY_TYPE: ClassVar[str] = "contract"
    TRANSITIONS: ClassVar[Transitions[ContractStatus]] = CONTRACT_TRANSITIONS

    id: uuid.UUID = id_field()
    application_id: uuid.UUID | None = Field(default=None, foreign_key="application.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="provider.id", index=True)
    municipality_id: str = Field(foreign_key="municipality.id", index=True, max_length=40)
    status: ContractStatus = enum_field(ContractStatus, ContractStatus.draft, index=True)
    services: list[str] = json_field(list)
    capacity_hours_per_month: int = Field(default=0, ge=0)
    sent_for_signature_on: date | None = None
    provider_signed_on: date | None = None
    municipality_signed_on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    ended_on: date | None = None
    end_kind: ContractEndKind | None = enum_field(ContractEndKind, None)
    end_reason: str | None = Field(default=None, sa_type=Text)
    #: The contract as sent for signature (HTML), kept as the record of what was signed.
    document_html: str | None = Field(default=None, sa_type=Text)
    #: Who signed for the municipality (a staff name, not a customer's).
    municipality_signatory: str | None = Field(default=None, max_length=200)
    flow_run_id: uuid.UUID | None = Field(default=None)
    #: Shown on the municipality's public list of providers (Salem: "När företaget
    #: godkänts läggs en presentation av företaget ut på Salems kommuns hemsida",
    #: seed 002 §1.6). Set when the contract becomes active, cleared when it ends or
    #: is terminated for the time being.
    publicly_listed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    #: Takes its turn as the default provider for customers who do not choose
    #: (ickeval; Huddinge: "Varje utförare utgör ickevalsalternativet en månad i
    #: taget enligt listan", seed 000). Only where the policy has such a rotation
    #: (`contract.no_choice_rotation`); cleared like `publicly_listed`.
    in_no_choice_rotation: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
