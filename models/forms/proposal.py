"""The forms staff decide a proposal in (Swedish: what they read).

Each form follows the choice it offers. Fields are listed in the order staff
fill them in: the decision first, then who decided it and when. No field is
optional-by-type (`X | None`): Prefect's form shows those as a confusing
"X | None" switch, so the deciding body has an explicit "Ej tillämpligt" and
the decision date is filled in with today.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from prefect.input import RunInput
from pydantic import ConfigDict, Field

from models.forms import fields
from models.forms.fields import DecisionBody


def _decision_body() -> Any:
    return fields.decision_body("hävning och uppsägning")


def _paragraph() -> Any:
    return fields.paragraph("hävning och uppsägning")


def _note(description: str = "Krävs när förslaget avvisas.") -> Any:
    return fields.note(f"{description} Skrivs i avtalets logg, inte i brevet.")


class EndOutcome(StrEnum):
    end = "Avsluta avtalet"
    dismiss = "Avvisa förslaget"


class EndForm(RunInput):
    model_config = ConfigDict(title="Avsluta avtalet: inga kunder", extra="forbid")

    outcome: EndOutcome = Field(title="Beslut")
    last_day: date = fields.last_day(
        "Förifylld med dagens datum. Kan inte ligga före avtalets start."
    )
    decision_body: DecisionBody = _decision_body()
    meeting_on: date = fields.meeting_on()
    paragraph: str = _paragraph()
    note: str = _note()
    decided_by: str = fields.person()


class NoticeOutcome(StrEnum):
    notice = "Säg upp avtalet"
    dismiss = "Avvisa förslaget"


class NoticeForm(RunInput):
    model_config = ConfigDict(title="Säga upp avtalet: få kunder", extra="forbid")

    outcome: NoticeOutcome = Field(title="Beslut")
    given_on: date = fields.notice_given_on(
        "Uppsägningstiden (kommunens, enligt avtalet) räknas från den här dagen."
    )
    decision_body: DecisionBody = _decision_body()
    meeting_on: date = fields.meeting_on()
    paragraph: str = _paragraph()
    note: str = _note()
    decided_by: str = fields.person()


class TermOutcome(StrEnum):
    extend = "Förläng avtalet"
    let_end = "Låt avtalet löpa ut"


class TermForm(RunInput):
    model_config = ConfigDict(title="Avtalstiden löper ut", extra="forbid")

    outcome: TermOutcome = Field(title="Beslut")
    note: str = _note("Frivillig.")
    decided_by: str = fields.person()


class FollowUpOutcome(StrEnum):
    follow_up = "Följ upp avtalet"
    dismiss = "Avvisa förslaget"


class FollowUpForm(RunInput):
    # A follow-up of the provider after lex Sarah (ProposalKind.lex_sarah_follow_up).

    model_config = ConfigDict(title="Uppföljning efter lex Sarah", extra="forbid")

    outcome: FollowUpOutcome = Field(title="Beslut")
    follow_up_by: date = fields.day(
        "Uppföljningen görs senast",
        "Förifylld enligt kommunens rutin. Du får en påminnelse före och på dagen.",
    )
    note: str = _note(
        "Krävs när förslaget avvisas. Skriv inga namn eller uppgifter ur lex Sarah-rapporten."
    )
    decided_by: str = fields.person()
