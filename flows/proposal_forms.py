"""The forms staff decide a proposal in (Swedish: what they read)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from prefect.input import RunInput
from pydantic import ConfigDict, Field

_DECIDED_BY = Field(
    title="Handläggare",
    description="Ditt namn eller din e-postadress. Sparas i avtalets logg som den som beslutade.",
    min_length=2,
    max_length=200,
)
_NOTE = Field(
    default="",
    title="Motivering",
    description="Krävs när förslaget avvisas. Skrivs i avtalets logg, inte i brevet.",
    max_length=4000,
)


class DecisionBody(StrEnum):
    """Who may decide a termination (hävning) or notice: the committee, or its chair by
    delegation (seed 002 §4.5; domain.md §4), never the officer alone."""

    committee = "Nämnden"
    chair = "Nämndens ordförande (delegation)"


class EndOutcome(StrEnum):
    end = "Avsluta avtalet"
    dismiss = "Avvisa förslaget"


class NoticeOutcome(StrEnum):
    notice = "Säg upp avtalet"
    dismiss = "Avvisa förslaget"


class TermOutcome(StrEnum):
    extend = "Förläng avtalet"
    let_end = "Låt avtalet löpa ut"


class _Decision(RunInput):
    decision_body: DecisionBody | None = Field(
        default=None,
        title="Beslutande organ",
        description="Nämnden eller dess ordförande. Krävs för hävning och uppsägning.",
    )
    meeting_on: date | None = Field(
        default=None, title="Beslutsdatum", description="Sammanträdets eller beslutets datum."
    )
    paragraph: str = Field(
        default="",
        title="Paragraf",
        description="Protokollets paragraf, t.ex. § 45.",
        max_length=40,
    )


class EndForm(_Decision):
    model_config = ConfigDict(title="Avsluta avtalet: inga kunder", extra="forbid")

    outcome: EndOutcome = Field(title="Beslut")
    last_day: date = Field(
        title="Sista dag avtalet gäller",
        description="Förifylld med dagens datum. Kan inte ligga före avtalets start.",
    )
    note: str = _NOTE
    decided_by: str = _DECIDED_BY


class NoticeForm(_Decision):
    model_config = ConfigDict(title="Säga upp avtalet: få kunder", extra="forbid")

    outcome: NoticeOutcome = Field(title="Beslut")
    given_on: date = Field(
        title="Uppsägningen lämnas",
        description="Uppsägningstiden (kommunens, enligt avtalet) räknas från den här dagen.",
    )
    note: str = _NOTE
    decided_by: str = _DECIDED_BY


class TermForm(RunInput):
    model_config = ConfigDict(title="Avtalstiden löper ut", extra="forbid")

    outcome: TermOutcome = Field(title="Beslut")
    note: str = _NOTE
    decided_by: str = _DECIDED_BY
