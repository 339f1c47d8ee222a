"""The forms staff decide a proposal in (Swedish: what they read).

Fields are listed in the order staff fill them in: the decision first, then
who decided it and when. No field is optional-by-type (`X | None`): Prefect's
form shows those as a confusing "X | None" switch, so the deciding body has an
explicit "Ej tillämpligt" and the decision date is filled in with today.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from prefect.input import RunInput
from pydantic import ConfigDict, Field

from models.contract import DecidingBody
from models.forms.keys import Labels


class DecisionBody(StrEnum):
    """Who may decide a termination (hävning) or notice: the committee, or its chair by
    delegation (seed 002 §4.5; domain.md §4), never the officer alone."""

    committee = "Nämnden"
    chair = "Nämndens ordförande (delegation)"
    not_applicable = "Ej tillämpligt"


#: The stored key (DecidingBody) of each choice, and back to the text for letters.
DECIDING_BODY = Labels(DecidingBody, DecisionBody)


class EndOutcome(StrEnum):
    end = "Avsluta avtalet"
    dismiss = "Avvisa förslaget"


class NoticeOutcome(StrEnum):
    notice = "Säg upp avtalet"
    dismiss = "Avvisa förslaget"


class TermOutcome(StrEnum):
    extend = "Förläng avtalet"
    let_end = "Låt avtalet löpa ut"


def _decision_body() -> Any:
    return Field(
        default=DecisionBody.not_applicable,
        title="Beslutande organ",
        description="Nämnden eller dess ordförande. Krävs för hävning och uppsägning.",
    )


def _meeting_on() -> Any:
    return Field(
        title="Beslutsdatum",
        description="Sammanträdets eller ordförandebeslutets datum. Förifyllt med dagens datum.",
    )


def _paragraph() -> Any:
    return Field(
        default="",
        title="Paragraf",
        description="Protokollets paragraf, t.ex. § 45. Krävs för hävning och uppsägning.",
        max_length=40,
    )


def _note(description: str = "Krävs när förslaget avvisas.") -> Any:
    return Field(
        default="",
        title="Motivering",
        description=f"{description} Skrivs i avtalets logg, inte i brevet.",
        max_length=4000,
    )


def _decided_by() -> Any:
    return Field(
        title="Handläggare",
        description="Ditt namn eller din e-postadress. Sparas i avtalets logg.",
        min_length=2,
        max_length=200,
    )


class EndForm(RunInput):
    model_config = ConfigDict(title="Avsluta avtalet: inga kunder", extra="forbid")

    outcome: EndOutcome = Field(title="Beslut")
    last_day: date = Field(
        title="Sista dag avtalet gäller",
        description="Förifylld med dagens datum. Kan inte ligga före avtalets start.",
    )
    decision_body: DecisionBody = _decision_body()
    meeting_on: date = _meeting_on()
    paragraph: str = _paragraph()
    note: str = _note()
    decided_by: str = _decided_by()


class NoticeForm(RunInput):
    model_config = ConfigDict(title="Säga upp avtalet: få kunder", extra="forbid")

    outcome: NoticeOutcome = Field(title="Beslut")
    given_on: date = Field(
        title="Uppsägningen lämnas",
        description="Uppsägningstiden (kommunens, enligt avtalet) räknas från den här dagen.",
    )
    decision_body: DecisionBody = _decision_body()
    meeting_on: date = _meeting_on()
    paragraph: str = _paragraph()
    note: str = _note()
    decided_by: str = _decided_by()


class TermForm(RunInput):
    model_config = ConfigDict(title="Avtalstiden löper ut", extra="forbid")

    outcome: TermOutcome = Field(title="Beslut")
    note: str = _note("Frivillig.")
    decided_by: str = _decided_by()


class FollowUpOutcome(StrEnum):
    follow_up = "Följ upp avtalet"
    dismiss = "Avvisa förslaget"


class FollowUpForm(RunInput):
    """A follow-up of the provider after lex Sarah (ProposalKind.lex_sarah_follow_up)."""

    model_config = ConfigDict(title="Uppföljning efter lex Sarah", extra="forbid")

    outcome: FollowUpOutcome = Field(title="Beslut")
    follow_up_by: date = Field(
        title="Uppföljningen görs senast",
        description="Förifylld enligt kommunens rutin. Du får en påminnelse före och på dagen.",
    )
    note: str = _note(
        "Krävs när förslaget avvisas. Skriv inga namn eller uppgifter ur lex Sarah-rapporten."
    )
    decided_by: str = _decided_by()
