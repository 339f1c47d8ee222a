"""Flow `contract-signing`: from an approved application to an active contract.

Started by application vetting when staff approve (deployment "Teckna avtal",
once per contract), or by staff with the contract's number to continue a lost
run. The contract is rendered from templates/documents/contract.html with the
municipality's terms (seed 002 §4.1: 2 years, extended a year at a time;
notice 3 months for the provider, 6 for the municipality), kept on the
contract, and sent to the provider for signature. Staff register each party's
signature in a form; the contract becomes active only when both have signed
(LOV 2 kap. 2 §; seed 002 §8.3). Activation sets the start and end dates,
creates the deadlines that come with the contract (insurance and permit
copies at the start, the six-month follow-up where the policy has one, the end
of the term) and sends the welcome letter.

The reminder to a provider who has not signed and the escalation to staff are
the daily sweep's (flows/compliance_sweep.py): no run sleeps for days.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger

from flows.human_step import ask
from flows.names import SIGNING_FLOW
from flows.run_helpers import current_run_id, deliver_now, rename_run, retire_run
from models.clock import today
from models.contract import ContractStatus
from models.forms.vetting import SignatureForm
from models.policy import load_policy
from models.sv_format import sv_date
from tasks.contract_store import (
    STATUS_TEXT,
    ContractView,
    load_contract,
    record_signatures,
    resolve_contract,
    send_for_signature,
    signature_problems,
    take_over_contract,
)

C = ContractStatus


@flow(name=SIGNING_FLOW, flow_run_name="avtal", persist_result=True)
async def sign_contract(contract: str) -> str:
    """Send the contract, register signatures, activate it. `contract` is its number or id."""
    logger = get_run_logger()
    contract_id = resolve_contract(contract)
    replaced = take_over_contract(contract_id, current_run_id())
    if replaced is not None:
        await retire_run(replaced)
    view = load_contract(contract_id)
    await rename_run(f"avtal {view.case_no}")

    while True:
        view = load_contract(contract_id)
        logger.info("Contract %s is %s", view.case_no, view.status.value)
        if view.status is C.draft:
            send_for_signature(contract_id, today())
            await deliver_now()
        elif view.status in (C.sent_for_signature, C.partially_signed):
            await _signatures(view)
        else:
            return view.status.value


async def _signatures(view: ContractView) -> None:
    signed = (view.provider_signed_on is not None) + (view.municipality_signed_on is not None)
    answer = await ask(
        SignatureForm,
        key=f"signatures-{signed}",
        description=describe(view),
        check=lambda answer: signature_problems(view, answer),
    )
    status = record_signatures(view.id, answer.model_dump(mode="json"))
    if status is C.active:
        await deliver_now()


def describe(view: ContractView) -> str:
    """The Markdown above the signature form: dates and statuses only."""
    policy = load_policy(view.policy_name)

    def shown(value: date | None) -> str:
        return sv_date(value) if value is not None else "inte ännu"

    # Lists, not tables: Prefect's default UI cuts wide tables off on the right.
    lines = [
        f"### Avtal {view.case_no}: underskrifter",
        "",
        f"- **Kommun:** {policy.municipality}; ansökan {view.application_case_no or '-'}",
        f"- **Status:** {STATUS_TEXT[view.status]}",
        f"- **Skickat för underskrift:** {shown(view.sent_for_signature_on)}; "
        f"utföraren ombeds skriva under senast {shown(view.sign_by)}",
        f"- **Utföraren skrev under:** {shown(view.provider_signed_on)}",
        f"- **Kommunen skrev under:** {shown(view.municipality_signed_on)}",
        "",
        "Registrera underskrifterna när de kommer in, en i taget eller båda på en gång. "
        "Avtalet börjar gälla först när båda parter har skrivit under; då skickas "
        "välkomstbrevet med startdatum och det som ska lämnas in vid start.",
    ]
    return "\n".join(lines)
