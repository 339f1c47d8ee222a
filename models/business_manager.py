"""A business manager (verksamhetsansvarig) of a provider.

A new or additional manager is vetted like a new application (seed 000; seed
002 §4.6); a rejection ends the contract. The name is personal data: it stays in
this table and never goes into logs, run names or artifacts. It comes in as a
parameter of the registering run ("Registrera ansökan", "Ny verksamhetsansvarig"),
which Prefect keeps with that run (README, "Personal data").
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.base import enum_field, id_field, timestamp_field
from models.status_transitions import Transitions, transitions


class ManagerStatus(StrEnum):
    proposed = "proposed"
    under_review = "under_review"
    approved = "approved"
    rejected = "rejected"
    replaced = "replaced"


_S = ManagerStatus
#: A status not named here is final.
MANAGER_TRANSITIONS = transitions(
    ManagerStatus,
    {
        _S.proposed: {_S.under_review, _S.approved, _S.rejected},
        _S.under_review: {_S.approved, _S.rejected},
        _S.approved: {_S.replaced},
    },
)


class BusinessManager(SQLModel, table=True):
    __tablename__ = "business_manager"
    ENTITY_TYPE: ClassVar[str] = "business_manager"
    TRANSITIONS: ClassVar[Transitions[ManagerStatus]] = MANAGER_TRANSITIONS

    id: uuid.UUID = id_field()
    provider_id: uuid.UUID = Field(foreign_key="provider.id", index=True)
    contract_id: uuid.UUID | None = Field(default=None, foreign_key="contract.id", index=True)
    application_id: uuid.UUID | None = Field(default=None, foreign_key="application.id")
    full_name: str = Field(max_length=200)
    status: ManagerStatus = enum_field(ManagerStatus, ManagerStatus.proposed)
    notified_on: date | None = None
    decided_on: date | None = None
    #: Notified as an additional manager (True) or one who replaces the current one.
    additional: bool = Field(default=False)
    #: Who registered the notification and who gets the deadline reminders.
    registered_by: str | None = Field(default=None, max_length=200)
    case_officer_email: str | None = Field(default=None, max_length=254)
    #: The vetting as staff recorded it: rounds of findings, completions, the
    #: decision (issue 5; flows/business_manager_change.py). Item keys and dates,
    #: and the notes staff wrote for the provider's letters.
    vetting: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    flow_run_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
