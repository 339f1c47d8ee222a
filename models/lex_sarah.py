"""A lex Sarah case: a provider's report of a wrong (missförhållande) in care, followed up.

Rules: domain.md §1 (SoL 14 kap. 3-7 §§, SOSFS 2011:5; IVO's guidance) and
seed 000 (Huddinge: "Rapporten skickas så fort den är gjord och utredningen så
snart den är klar"). The provider investigates "utan dröjsmål" and notifies
IVO "snarast" when the wrong is serious; the municipality follows both up.

This table is the ONLY place that holds the report's free text and the names
of the people involved (`description`, `persons`, `municipality_action`,
`measures`). Nothing else may copy them: not the audit log (reasons and
details hold ids and codes), not Prefect (flows/private_step.py deletes each
form answer once it is stored here), not e-mail (letters carry the case number).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from models.base import StrEnumType, UTCDateTime, new_id, utcnow
from models.status_transitions import Transitions, transitions


class LexSarahCategory(StrEnum):
    """What the report is about: the two things staff must report (domain.md §1.2).

    Stable keys; the Swedish text staff pick is CategoryChoice (models/forms/lex_sarah.py).
    """

    wrong = "wrong"
    risk = "risk"


class ClosureKind(StrEnum):
    """An investigation ends with a decision or a position (ivo.se, domain.md §1.2).

    Stable keys; the Swedish text staff pick is ClosureChoice (models/forms/lex_sarah.py).
    """

    decision = "decision"
    position = "position"


class LexSarahStatus(StrEnum):
    #: Registered (provider, dates, category); the description is not stored yet.
    reported = "reported"
    #: The description is stored; waiting for the provider's investigation.
    investigating = "investigating"
    #: Assessed serious: waiting for the copy or confirmation of the IVO notification.
    ivo_pending = "ivo_pending"
    #: Assessed (and, if serious, IVO confirmed): waiting for the closure.
    closing = "closing"
    closed = "closed"


_S = LexSarahStatus
#: A status not named here is final.
LEX_SARAH_TRANSITIONS = transitions(
    LexSarahStatus,
    {
        _S.reported: {_S.investigating},
        _S.investigating: {_S.ivo_pending, _S.closing},
        _S.ivo_pending: {_S.closing},
        _S.closing: {_S.closed},
    },
)

#: What staff read for each status (Swedish: artifacts and form descriptions).
STATUS_TEXT: dict[LexSarahStatus, str] = {
    _S.reported: "registrerad, beskrivningen saknas",
    _S.investigating: "väntar på utredningen",
    _S.ivo_pending: "allvarligt: väntar på kopia av anmälan till IVO",
    _S.closing: "bedömd: väntar på avslut",
    _S.closed: "avslutad",
}


class LexSarahCase(SQLModel, table=True):
    __tablename__ = "lex_sarah_case"
    ENTITY_TYPE: ClassVar[str] = "lex_sarah_case"
    TRANSITIONS: ClassVar[Transitions[LexSarahStatus]] = LEX_SARAH_TRANSITIONS

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    municipality_id: str = Field(foreign_key="municipality.id", index=True, max_length=40)
    provider_id: uuid.UUID = Field(foreign_key="provider.id", index=True)
    contract_id: uuid.UUID = Field(foreign_key="contract.id", index=True)
    category: LexSarahCategory = Field(sa_type=StrEnumType(LexSarahCategory))
    #: The day of the event, the day the provider got its staff's report, the day
    #: the report reached the municipality.
    event_on: date
    provider_received_on: date
    received_on: date = Field(index=True)
    status: LexSarahStatus = Field(
        default=LexSarahStatus.reported, sa_type=StrEnumType(LexSarahStatus), index=True
    )
    registered_by: str = Field(max_length=200)
    #: The run that registered the case: registering again in a replay finds it.
    registration_run_id: uuid.UUID | None = Field(default=None, unique=True)
    #: The run that follows the case now (a continued run takes it over).
    flow_run_id: uuid.UUID | None = Field(default=None)

    # Personal data: the report's text and the people named. Only here.
    description: str | None = Field(default=None, sa_type=Text)
    persons: str | None = Field(default=None, sa_type=Text)

    investigation_received_on: date | None = None
    serious: bool | None = None
    assessed_on: date | None = None
    assessed_by: str | None = Field(default=None, max_length=200)
    #: The municipality's own duty to act on a serious wrong, as staff recorded it.
    municipality_action: str | None = Field(default=None, sa_type=Text)

    ivo_notified_on: date | None = None
    ivo_confirmation_received_on: date | None = None

    closure_kind: ClosureKind | None = Field(default=None, sa_type=StrEnumType(ClosureKind))
    closed_on: date | None = None
    closed_by: str | None = Field(default=None, max_length=200)
    measures: str | None = Field(default=None, sa_type=Text)

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
