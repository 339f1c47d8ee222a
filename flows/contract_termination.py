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

from typing import Any

from prefect import flow, get_run_logger

from flows.human_step import ask
from flows.names import END_CONTRACT_FLOW
from flows.run_helpers import deliver_now, used_pause_keys
from models.clock import today
from models.contract import ContractStatus
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
from models.policy import load_policy
from models.sv_format import sv_date
from tasks.contract_termination import ContractRef, TerminationRefused, apply_step, load_contract

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


#: The statuses each action starts from (a replay finds the step's answer instead).
_STARTS_FROM = {
    # An interim-terminated contract: a new run (the old one was lost) goes straight
    # to the investigation's end.
    EndAction.interim: (
        ContractStatus.active,
        ContractStatus.notice_given,
        ContractStatus.interim_terminated,
    ),
    EndAction.immediate: (
        ContractStatus.active,
        ContractStatus.notice_given,
        ContractStatus.interim_terminated,
    ),
    EndAction.notice_municipality: (ContractStatus.active,),
    EndAction.notice_provider: (ContractStatus.active,),
}


async def _interim(ref: ContractRef, day: Any, decision_defaults: dict[str, Any]) -> None:
    answer = await ask(
        InterimForm,
        key="interim",
        description=describe(
            ref,
            "Interimistisk hävning under utredningstiden, när en allvarlig brist utgör fara "
            "för kunderna (förfrågningsunderlaget §4.5). Beslutas av nämndens ordförande.",
        ),
        check=lambda a: interim_problems(ref, a),
        defaults=decision_defaults | {"from_day": day},
    )
    apply_step(ref.id, "interim", answer.model_dump(mode="json"))
    await deliver_now()


@flow(name=END_CONTRACT_FLOW, flow_run_name="avsluta avtal {contract}", persist_result=True)
async def end_contract_by_staff(contract: str, action: EndAction) -> str:
    """Interim termination, a ground that applies at once, or notice, for `contract`."""
    logger = get_run_logger()
    ref = load_contract(contract)
    policy = load_policy(ref.policy_name)
    day = today()
    first_key = "interim" if action is EndAction.interim else "beslut"
    if first_key not in used_pause_keys() and ref.status not in _STARTS_FROM[action]:
        raise TerminationRefused(
            f"contract: {ref.number} is {ref.status.value}; "
            f"'{action.value}' needs {', '.join(s.value for s in _STARTS_FROM[action])}"
        )
    decision_defaults = {"meeting_on": day}
    status: str
    answer: Any
    if action is EndAction.interim:
        if ref.status is not ContractStatus.interim_terminated or "interim" in used_pause_keys():
            await _interim(ref, day, decision_defaults)
            ref = load_contract(contract)
        answer = await ask(
            InvestigationForm,
            key="utredning",
            description=describe(
                ref,
                "Utredningen pågår. När den är klar: häv avtalet slutligt (nämnden eller dess "
                "ordförande) eller återställ det.",
            ),
            check=lambda a: investigation_problems(ref, a),
            defaults=decision_defaults | {"last_day": day},
        )
        status = apply_step(ref.id, "investigation", answer.model_dump(mode="json"))
    elif action is EndAction.immediate:
        grounds = policy.warning.immediate_grounds
        if not grounds:
            raise TerminationRefused(
                f"action: the policy {policy.name!r} has no grounds that end a contract at once"
            )
        form = immediate_form(grounds)
        consequence: dict[str, str] = {ground_label(g): g.consequence for g in grounds}
        answer = await ask(
            form,
            key="beslut",
            description=describe(
                ref,
                "Välj grunden. Hävning beslutas av nämnden eller dess ordförande; upphör "
                "avtalet av sig självt räcker det att du bekräftar uppgifterna.",
            ),
            check=lambda a: immediate_problems(ref, consequence, a),
            defaults=decision_defaults | {"last_day": day},
        )
        status = apply_step(ref.id, "immediate", answer.model_dump(mode="json"))
    elif action is EndAction.notice_municipality:
        months = policy.contract.notice_municipality_months
        answer = await ask(
            MunicipalNoticeForm,
            key="beslut",
            description=describe(
                ref,
                f"Kommunens uppsägningstid är {months} månader ({policy.contract.basis}). "
                "Uppsägning beslutas av nämnden eller dess ordförande.",
            ),
            check=lambda a: decision_problems(a, "Uppsägning"),
            defaults=decision_defaults | {"given_on": day},
        )
        status = apply_step(ref.id, "notice_municipality", answer.model_dump(mode="json"))
    else:
        months = policy.contract.notice_provider_months
        answer = await ask(
            ProviderNoticeForm,
            key="beslut",
            description=describe(
                ref,
                f"Utförarens uppsägningstid är {months} månader ({policy.contract.basis}), "
                "räknat från dagen uppsägningen kom in.",
            ),
            check=lambda a: [],
            defaults={"received_on": day},
        )
        status = apply_step(ref.id, "notice_provider", answer.model_dump(mode="json"))
    await deliver_now()
    logger.info("Contract %s is %s", ref.number, status)
    return status
