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

from prefect import flow

from flows.case_runner import Action, CaseType, Step, run_case
from flows.names import SIGNING_FLOW
from flows.parameter_check import take_case
from flows.parameters import reference
from models.clock import today
from models.contract import Contract, ContractStatus
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
async def sign_contract(
    contract: str = reference("Avtal", "Avtalets nummer, till exempel 9F4F7CA2."),
) -> str:
    """Send the contract, register signatures, activate it. `contract` is its number or id.

    A number that matches no contract is asked for again (flows/parameter_check.py).
    """
    return await run_case(
        CONTRACT, await take_case(resolve_contract, "inget avtal", contract=contract)
    )


def describe(view: ContractView, title: str = "", instructions: str = "") -> str:
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


def _signed(view: ContractView) -> int:
    return (view.provider_signed_on is not None) + (view.municipality_signed_on is not None)


async def _done(view: ContractView) -> str:
    return view.status.value


#: A draft is sent for signature first, and the letter goes at once.
SEND: Action[ContractView] = Action(
    waits=lambda view: view.status is C.draft,
    do=lambda view: send_for_signature(view.id, today()),
    deliver=True,
)

#: Then the signatures, one form at a time (keyed by how many are in), until both
#: have signed; activation sends the welcome letter.
SIGNATURES: Step[ContractView] = Step(
    waits=lambda view: view.status in (C.sent_for_signature, C.partially_signed),
    key=lambda view: f"signatures-{_signed(view)}",
    form=SignatureForm,
    title="underskrifter",
    label="Underskrifter",
    instructions="",
    check=signature_problems,
    store=lambda view, answer: record_signatures(view.id, answer.model_dump(mode="json")),
    deliver=lambda view, status: status is C.active,
)

CONTRACT: CaseType[ContractView] = CaseType(
    noun="avtal",
    entity=Contract.ENTITY_TYPE,
    load=load_contract,
    take_over=take_over_contract,
    steps=(SEND, SIGNATURES),
    describe=describe,
    finish=_done,
)
