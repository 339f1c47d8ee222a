"""Staff ending a contract ("Avsluta avtal"): the stored case the run walks.

One row per time staff set out to end a contract: what they chose (`action`)
and which step it waits for (`status`). The contract's own status cannot say
this: after an interim termination that the investigation reverses, the
contract is `active` again, as it was before the interim decision, and a
resumed run (which replays from the top, prefect-notes.md A1) would ask for the
interim decision once more. The case's status moves only forward.

Rules (seed 002 §4.5, seed 003, domain.md §4) live with the steps in
tasks/contract_termination.py; this row holds keys and dates only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlmodel import Field, SQLModel

from models.base import enum_field, id_field, timestamp_field


class EndingAction(StrEnum):
    """What staff started "Avsluta avtal" for (the form's labels: EndAction)."""

    interim = "interim"
    immediate = "immediate"
    notice_municipality = "notice_municipality"
    notice_provider = "notice_provider"


class EndingStatus(StrEnum):
    #: waits for the chair's interim decision (interim only)
    interim = "interim"
    #: the interim termination is in force; waits for the investigation's end
    investigation = "investigation"
    #: waits for the decision: the ground, or the notice (the other actions)
    decision = "decision"
    #: answered: the contract has ended, is under notice, or is back in force
    done = "done"


class ContractEnding(SQLModel, table=True):
    __tablename__ = "contract_ending"
    ENTITY_TYPE: ClassVar[str] = "contract_ending"

    id: uuid.UUID = id_field()
    contract_id: uuid.UUID = Field(foreign_key="contract.id", index=True)
    action: EndingAction = enum_field(EndingAction)
    status: EndingStatus = enum_field(EndingStatus, index=True)
    flow_run_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
