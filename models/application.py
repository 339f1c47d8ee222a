"""An application (ansökan) to become a provider in one municipality.

Vetting has two steps (domain.md §5; seeds 002 §8 and 003): step 1 checks
documents and eligibility and may ask for completions (komplettering); step 2 is
the meeting and the 25 required routines. The decision approves or rejects with
reasons. An owner change or a contract transfer is a new application that links
the earlier provider (seed 002 §4.6-4.7).
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


class Service(StrEnum):
    """What a provider offers (seed 002 §2): service and/or personal care."""

    service = "service"
    omvardnad = "omvardnad"


#: How a service is named in letters and the contract.
SERVICE_LABELS: dict[Service, str] = {Service.service: "Service", Service.omvardnad: "Omvårdnad"}


class ApplicationStatus(StrEnum):
    received = "received"
    step1_review = "step1_review"
    completion_requested = "completion_requested"
    step2_review = "step2_review"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


_S = ApplicationStatus
#: A status not named here is final.
APPLICATION_TRANSITIONS = transitions(
    ApplicationStatus,
    {
        _S.received: {_S.step1_review, _S.rejected, _S.withdrawn},
        _S.step1_review: {_S.completion_requested, _S.step2_review, _S.rejected, _S.withdrawn},
        _S.completion_requested: {_S.step1_review, _S.rejected, _S.withdrawn},
        _S.step2_review: {_S.approved, _S.rejected, _S.withdrawn},
    },
)


class Application(SQLModel, table=True):
    __tablename__ = "application"
    ENTITY_TYPE: ClassVar[str] = "application"
    TRANSITIONS: ClassVar[Transitions[ApplicationStatus]] = APPLICATION_TRANSITIONS

    id: uuid.UUID = id_field()
    provider_id: uuid.UUID = Field(foreign_key="provider.id", index=True)
    municipality_id: str = Field(foreign_key="municipality.id", index=True, max_length=40)
    status: ApplicationStatus = enum_field(
        ApplicationStatus, ApplicationStatus.received, index=True
    )
    received_on: date
    services: list[str] = json_field(list)
    capacity_hours_per_month: int = Field(ge=0)
    subcontractors: str | None = Field(default=None, sa_type=Text)
    #: Set when the application follows an owner change or a contract transfer.
    replaces_provider_id: uuid.UUID | None = Field(default=None, foreign_key="provider.id")
    case_officer: str | None = Field(default=None, max_length=200)
    #: Where staff reminders about this case go (the decision deadline).
    case_officer_email: str | None = Field(default=None, max_length=254)
    #: The Prefect flow run that drives the case now. A new run for the same case
    #: (after a lost one) takes over and cancels the older, still waiting run.
    flow_run_id: uuid.UUID | None = Field(default=None)
    #: Step 1 and step 2 results per item: {"item": {"result": ..., "note": ...}}.
    checklist: dict[str, Any] = json_field(dict)
    decided_on: date | None = None
    decision_reason: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
