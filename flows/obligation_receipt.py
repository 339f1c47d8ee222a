"""Flow `obligation-receipt`: staff mark an obligation done (deployment "Kvittera skyldighet").

The copies a provider owes at the start (insurance, IVO permit: seed 002 §8.1,
§3.1) and staff's own follow-ups (Stockholm's 6-month follow-up, seed 003)
are obligations with reminders from the daily sweep; when the copy arrives or
the follow-up is done, staff enter the obligation's number (from the reminder
letter) and the date, and the reminders stop. Audited with who and when.

A number that matches no open obligation is asked for again, with the reason
(flows/parameter_check.py); the run does not fail.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from flows.parameter_check import Refused, not_found, take
from flows.parameters import parameter
from models.case_lookup import CaseNotFound, find_case
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


#: What a closed obligation has become, as the refusal says it.
_CLOSED = {
    ObligationStatus.fulfilled: "redan kvitterad",
    ObligationStatus.waived: "efterskänkt",
    ObligationStatus.cancelled: "makulerad",
}
_NUMBER = "Skyldighetens nummer"


@task(name="fulfil-obligation", cache_policy=NO_CACHE, persist_result=False)
def fulfil(receipt: ObligationReceipt) -> str | Refused:
    """Mark the obligation fulfilled; its number, or why not (no such open obligation).

    A refusal is returned, not raised: the flow asks for the number again.
    """
    with session_scope() as session:
        try:
            obligation = find_case(session, Obligation, receipt.obligation)
        except CaseNotFound as error:
            return Refused([not_found(error, title=_NUMBER, missing="ingen skyldighet")])
        if obligation.status is not ObligationStatus.open:
            closed = _CLOSED.get(obligation.status, obligation.status.value)
            return Refused([f"{_NUMBER}: skyldighet {case_no(obligation.id)} är {closed}."])
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
async def receive(receipt: ObligationReceipt = parameter("Kvittens")) -> str:
    """Mark the obligation fulfilled; its reminders stop."""

    async def fulfilled(form: ObligationReceipt) -> str | Refused:
        return fulfil(form)

    number = await take(ObligationReceipt, receipt, fulfilled)
    get_run_logger().info("Obligation %s fulfilled", number)
    return number
