"""Flow `contract-termination`: staff end a contract (deployment "Avsluta avtal").

Started with the contract's number (as in a run name, `avtal 9F4F7CA2`) and
what to do; the run then waits in that step's form:

- **Interimistisk hävning**: the chair terminates for the time being when
  customers are at risk (seed 002 §4.5). The contract leaves the public list
  and the no-choice rotation, the provider is told and staff get the task of
  moving its customers (omval). The run then waits for the investigation's end:
  a final hävning decided by the committee or its chair, or the contract back
  in force.
- **Grund som gäller direkt**: the policy's grounds that end a contract at once
  (Salem: charging customers for assessed services, hävs, seed 002 §4.5;
  Stockholm: the IVO permit lost or revoked, upphör, seed 003). A hävning needs
  the decision body, date and paragraph.
- **Kommunens uppsägning**: the municipality's notice period (6 months), by a
  decision of the committee or its chair.
- **Utförarens uppsägning**: the provider's own notice, registered: its notice
  period (3 months) from the day it came in.

When the contract's last day has passed, the daily sweep ends it (after a
notice) or it ends at once (hävning, upphör): status and end date stored and
audited, the provider told, staff told to arrange the customers' new choice
with their number, and the contract off the public list and the rotation.
Logs and run names carry the contract's number and statuses only.
"""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow, get_run_logger

from flows.case_runner import CaseType, Step, run_case
from flows.names import END_CONTRACT_FLOW
from flows.parameter_check import Refused, body, not_found, take_parameters
from flows.parameters import parameter, reference
from flows.run_helpers import current_run_id
from models.clock import today
from models.contract_ending import ContractEnding, EndingAction, EndingStatus
from models.forms.fields import DecisionBody
from models.forms.warning import (
    EndAction,
    InterimForm,
    InvestigationForm,
    InvestigationOutcome,
    MunicipalNoticeForm,
    ProviderNoticeForm,
    ground_label,
    immediate_form,
)
from models.policy import ImmediateGround, load_policy
from models.sv_format import sv_date
from tasks.contract_store import STATUS_TEXT as CONTRACT_STATUS_TEXT
from tasks.contract_termination import (
    END_ACTION,
    STARTS_FROM,
    ContractRef,
    EndingView,
    TerminationRefused,
    apply_step,
    load_contract,
    load_ending,
    open_ending,
    take_over_ending,
)

_NEVER_ALONE = (
    "beslutas av nämnden eller dess ordförande, aldrig av handläggaren ensam "
    "(förfrågningsunderlaget §4.5). Fyll i organ, beslutsdatum och paragraf."
)


def decision_problems(answer: Any, what: str) -> list[str]:
    missing = []
    if answer.decision_body is DecisionBody.not_applicable:
        missing.append("Beslutande organ")
    if not answer.paragraph.strip():
        missing.append("Paragraf")
    return [f"{', '.join(missing)}: {what} {_NEVER_ALONE}"] if missing else []


def _not_before_start(ref: ContractRef, day: Any, field: str) -> list[str]:
    if ref.starts_on is not None and day < ref.starts_on:
        return [f"{field}: kan inte ligga före avtalets start {sv_date(ref.starts_on)}."]
    return []


def interim_problems(ref: ContractRef, answer: InterimForm) -> list[str]:
    return decision_problems(answer, "Interimistisk hävning") + _not_before_start(
        ref, answer.from_day, "Gäller från"
    )


def investigation_problems(ref: ContractRef, answer: InvestigationForm) -> list[str]:
    if answer.outcome is InvestigationOutcome.reinstate:
        return []
    return decision_problems(answer, "Hävning") + _not_before_start(
        ref, answer.last_day, "Sista dag avtalet gäller"
    )


def immediate_problems(ref: ContractRef, consequence: dict[str, str], answer: Any) -> list[str]:
    problems = _not_before_start(ref, answer.last_day, "Sista dag avtalet gäller")
    if consequence[str(answer.ground)] == "havning":
        problems = decision_problems(answer, "Hävning") + problems
    return problems


def describe(ref: ContractRef, text: str) -> str:
    lines = [f"## Avtal {ref.number}", "", f"- Status: {ref.status.value}"]
    if ref.starts_on is not None:
        lines.append(f"- Gäller från: {sv_date(ref.starts_on)}")
    if ref.ends_on is not None:
        lines.append(f"- Gäller till och med: {sv_date(ref.ends_on)}")
    return "\n".join(lines + ["", text, ""])


def _grounds(case: EndingView) -> tuple[ImmediateGround, ...]:
    return load_policy(case.contract.policy_name).warning.immediate_grounds


def _months(case: EndingView, whose: str) -> str:
    """The notice period of the municipality or of the provider, with its source."""
    terms = load_policy(case.contract.policy_name).contract
    months = {
        "municipality": terms.notice_municipality_months,
        "provider": terms.notice_provider_months,
    }[whose]
    return f"{months} månader ({terms.basis})"


#: The pause key of each status a step waits in (kept: a resumed run finds its answer by it).
_PAUSE_KEYS = {
    EndingStatus.interim: "interim",
    EndingStatus.investigation: "utredning",
    EndingStatus.decision: "beslut",
}


def _step(
    waits_in: EndingStatus, action: EndingAction | None = None, **step: Any
) -> Step[EndingView]:
    """The step the case waits for in `waits_in` (in the decision: the one of `action`).

    `apply_step` applies its answer under the action's name, or the status's
    where only one action waits in it.
    """
    applied = (action or waits_in).value
    return Step(
        waits=lambda case: case.status is waits_in and action in (None, case.action),
        key=_PAUSE_KEYS[waits_in],
        store=lambda case, answer: apply_step(case.id, applied, answer.model_dump(mode="json")),
        **step,
    )


def _decided_today(day_field: str) -> Any:
    """The decision's date and the step's own day, both filled in with today."""
    return lambda case: {"meeting_on": today(), day_field: today()}


async def _finish(case: EndingView) -> str:
    get_run_logger().info("Contract %s is %s", case.contract.number, case.contract.status.value)
    return case.contract.status.value


#: The ending's steps, in order; the stored case says which one it waits for.
ENDING: CaseType[EndingView] = CaseType(
    noun="avtal",
    entity=ContractEnding.ENTITY_TYPE,
    load=load_ending,
    number=lambda case: case.contract.number,
    status=lambda case: f"{case.contract.status.value} ({case.status.value})",
    take_over=take_over_ending,
    rename=False,  # the run is named "avsluta avtal <number>" when it starts
    # The heading is the contract; the form's own title names the step.
    describe=lambda case, title, instructions: describe(case.contract, instructions),
    finish=_finish,
    steps=[
        _step(
            EndingStatus.interim,
            form=InterimForm,
            title="Interimistisk hävning",
            instructions="Interimistisk hävning under utredningstiden, när en allvarlig brist "
            "utgör fara för kunderna (förfrågningsunderlaget §4.5). Beslutas av nämndens "
            "ordförande.",
            check=lambda case, answer: interim_problems(case.contract, answer),
            defaults=_decided_today("from_day"),
        ),
        _step(
            EndingStatus.investigation,
            form=InvestigationForm,
            title="Utredningen är klar",
            instructions="Utredningen pågår. När den är klar: häv avtalet slutligt (nämnden "
            "eller dess ordförande) eller återställ det.",
            check=lambda case, answer: investigation_problems(case.contract, answer),
            defaults=_decided_today("last_day"),
        ),
        _step(
            EndingStatus.decision,
            EndingAction.immediate,
            form=lambda case: immediate_form(_grounds(case)),
            title="Hävning eller upphörande",
            instructions="Välj grunden. Hävning beslutas av nämnden eller dess ordförande; "
            "upphör avtalet av sig självt räcker det att du bekräftar uppgifterna.",
            check=lambda case, answer: immediate_problems(
                case.contract, {ground_label(g): g.consequence for g in _grounds(case)}, answer
            ),
            defaults=_decided_today("last_day"),
        ),
        _step(
            EndingStatus.decision,
            EndingAction.notice_municipality,
            form=MunicipalNoticeForm,
            title="Kommunens uppsägning",
            instructions=lambda case: (
                f"Kommunens uppsägningstid är "
                f"{_months(case, 'municipality')}. Uppsägning beslutas av nämnden eller dess "
                "ordförande."
            ),
            check=lambda case, answer: decision_problems(answer, "Uppsägning"),
            defaults=_decided_today("given_on"),
        ),
        _step(
            EndingStatus.decision,
            EndingAction.notice_provider,
            form=ProviderNoticeForm,
            title="Utförarens uppsägning",
            instructions=lambda case: (
                f"Utförarens uppsägningstid är "
                f"{_months(case, 'provider')}, räknat från dagen uppsägningen kom in."
            ),
            check=lambda case, answer: [],
            defaults=lambda case: {"received_on": today()},
        ),
    ],
)


@flow(name=END_CONTRACT_FLOW, flow_run_name="avsluta avtal {contract}", persist_result=True)
async def end_contract_by_staff(
    contract: str = reference("Avtal", "Avtalets nummer, till exempel 9F4F7CA2.", prefix="avtal"),
    action: EndAction = parameter("Åtgärd", "Vad som ska göras med avtalet."),
) -> str:
    """Interim termination, a ground that applies at once, or notice, for `contract`.

    A contract that is not found, or not in a status the action starts from, is
    asked for again with the reason (flows/parameter_check.py).
    """
    ending = await take_parameters(_opened, contract=contract, action=action)
    return await run_case(ENDING, ending)


async def _opened(given: Any) -> uuid.UUID | Refused:
    """The ending case this run walks for `given.contract` and `given.action`, or why not.

    The tasks' bodies are called: a refusal is a question to staff, not a failed task.
    """
    try:
        ref = body(load_contract)(given.contract)
    except TerminationRefused as error:
        return Refused([not_found(error, title="Avtal", missing="inget avtal")])
    action = END_ACTION.key(given.action)
    try:
        return body(open_ending)(ref.id, action, current_run_id())
    except TerminationRefused as error:
        if str(error).startswith("action:"):
            return Refused(["Åtgärd: kommunen har inga grunder som avslutar ett avtal direkt."])
        needs = " eller ".join(f'"{CONTRACT_STATUS_TEXT[s]}"' for s in STARTS_FROM[action])
        return Refused(
            [
                f'Avtal: avtal {ref.number} har status "{CONTRACT_STATUS_TEXT[ref.status]}"; '
                f"{given.action.value} kräver status {needs}."
            ]
        )
