"""The forms of "Ny verksamhetsansvarig": the notification, the vetting and the decision.

Swedish for what staff read, English identifiers. The notification is the
deployment's parameter form: it holds the manager's name, as the application's
form does (Prefect keeps a run's parameters; README, "Personal data"). Nothing
after it asks for or shows the name: the forms on the run's page, the run name,
the logs and the artifacts use the case number only.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models import clock
from models.forms import fields
from models.forms.vetting import DECIDED_BY, ItemFinding, checklist_form
from models.manager_vetting import MANAGER_ITEM_BY_KEY, MANAGER_ITEMS
from models.validation import normalise_email


class ChangeKind(StrEnum):
    replaces = "Ny verksamhetsansvarig (ersätter den nuvarande)"
    additional = "Ytterligare verksamhetsansvarig"


class ManagerNotification(BaseModel):
    # The parameter form of "Ny verksamhetsansvarig": the provider's notification.

    model_config = fields.described(
        "Anmälan om verksamhetsansvarig",
        "Utförarens anmälan om en ny eller en ytterligare verksamhetsansvarig.",
    )

    contract: str = Field(
        title="Avtal",
        description="Avtalets nummer, 8 tecken som i körningens namn, t.ex. avtal 9F4F7CA2.",
        min_length=8,
        max_length=60,
    )
    manager_name: str = fields.person_name(
        "Verksamhetsansvarigs namn",
        "Sparas i ärendet; syns inte i körningens namn, loggar eller artefakter.",
    )
    change: ChangeKind = Field(title="Ny eller ytterligare")
    notified_on: date = fields.day("Anmälan kom in")
    case_officer_email: str | None = fields.case_officer_email()
    registered_by: str = DECIDED_BY

    @field_validator("contract")
    @classmethod
    def _contract_number(cls, value: str) -> str:
        text = re.sub(r"^avtal(?:snummer)?[\s:]*", "", value.strip().lower())
        if not re.fullmatch(r"[0-9a-f]{8}(?:[0-9a-f-]{28})?", text):
            raise ValueError(
                f"Avtal: '{value.strip()}' är inte ett avtalsnummer (8 tecken, t.ex. 9F4F7CA2)."
            )
        return text

    @field_validator("manager_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return fields.one_line(value, "Verksamhetsansvarigs namn: får inte vara tomt.")

    @field_validator("case_officer_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return normalise_email(value)
        except ValueError:
            raise ValueError(
                "Handläggarens e-post: ange en giltig e-postadress, t.ex. namn@kommun.se."
            ) from None

    @model_validator(mode="after")
    def _not_in_future(self) -> ManagerNotification:
        today = clock.today()
        if self.notified_on > today:
            raise ValueError(f"Anmälan kom in: {self.notified_on.isoformat()} ligger i framtiden.")
        return self


class _VettingBase(RunInput):
    model_config = ConfigDict(title="Prövning av verksamhetsansvarig", extra="forbid")

    decided_by: str = DECIDED_BY
    decided_on: date = fields.day("Datum", "Dagen då bedömningen gjordes.")
    oldest_reference_on: fields.OptionalDate = fields.optional(
        "Datum på den äldsta referensen",
        "Referenserna får vara högst 3 år gamla räknat från anmälningsdagen.",
    )


#: One finding per item of MANAGER_ITEMS, in the order of the list.
ManagerVettingForm = checklist_form("ManagerVettingForm", _VettingBase, MANAGER_ITEMS, ItemFinding)


class ManagerOutcome(StrEnum):
    approve = "Godkänn den verksamhetsansvariga"
    reject = "Godkänn inte (avtalet går till hävning)"


class ManagerDecisionForm(RunInput):
    model_config = ConfigDict(title="Beslut om verksamhetsansvarig", extra="forbid")

    outcome: ManagerOutcome = Field(title="Beslut")
    grounds: list[str] = fields.grounds(
        "Skäl",
        "Välj minst ett skäl när den verksamhetsansvariga inte godkänns.",
        [item.label for item in MANAGER_ITEM_BY_KEY.values()],
    )
    motivation: str = fields.motivation(
        "Krävs när den verksamhetsansvariga inte godkänns (minst 20 tecken). "
        "Står i brevet till utföraren."
    )
    decided_by: str = DECIDED_BY
    decided_on: date = fields.day("Datum", "Dagen då beslutet fattades.")
