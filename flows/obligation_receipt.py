"""Flow `obligation-receipt`: staff mark an obligation done (deployment "Kvittera skyldighet").

The copies a provider owes at the start (insurance, IVO permit: seed 002 §8.1,
§3.1) and staff's own follow-ups (Stockholm's 6-month follow-up, seed 003)
are obligations with reminders from the daily sweep; when the copy arrives or
the follow-up is done, staff enter the obligation's number (from the reminder
letter) and the date, and the reminders stop. Audited with who and when.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from flows.parameters import parameter
from models.case_lookup import find_case
from models.db import session_scope
from models.obligation import Obligation, ObligationStatus
from models.state_machine import change_status
from models.sv_format import case_no


class ObligationReceipt(BaseModel):
    model_config = ConfigDict(title="Kvittera skyldighet", extra="forbid")

    obligation: str = Field(
        title="Skyldighetens nummer",
        description="De 8 tecknen i påminnelsebrevet, t.ex. 1A2B3C4D.",
        pattern=r"^\s*[0-9A-Fa-f]{8}\s*$",
    )
    done_on: date = Field(
        title="Datum", description="Dagen handlingen kom in eller uppgiften gjordes."
    )
    note: str = Field(default="", title="Kommentar", max_length=2000)
    registered_by: str = Field(
        title="Handläggare",
        description="Ditt namn eller din e-postadress. Sparas i loggen.",
        min_length=2,
        max_length=200,
    )


class ReceiptRefused(ValueError):
    pass


@task(name="fulfil-obligation", cache_policy=NO_CACHE, persist_result=False)
def fulfil(receipt: ObligationReceipt) -> str:
    with session_scope() as session:
        obligation = find_case(session, Obligation, receipt.obligation)
        if obligation.status is not ObligationStatus.open:
            raise ReceiptRefused(
                f"obligation: {case_no(obligation.id)} is {obligation.status.value}, not open"
            )
        change_status(
            session,
            obligation,
            ObligationStatus.fulfilled,
            actor=receipt.registered_by,
            reason=receipt.note.strip() or "kvitterad",
            fulfilled_on=receipt.done_on,
        )
        return case_no(obligation.id)


@flow(name="obligation-receipt", flow_run_name="kvittens")
def receive(receipt: ObligationReceipt = parameter("Kvittens")) -> str:
    """Mark the obligation fulfilled; its reminders stop."""
    number = fulfil(receipt)
    get_run_logger().info("Obligation %s fulfilled", number)
    return number
