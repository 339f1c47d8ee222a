"""Flow `business-manager-change`: a new or additional business manager from notice to decision.

The provider notifies a new or additional manager (verksamhetsansvarig); staff
register it ("Ny verksamhetsansvarig"; the parameter form is the notification).
The manager is vetted like the manager part of an application's step 1
(models/manager_vetting.py: education, experience, CV, references at most 3
years old, no exclusion ground of LOV 7 kap. 1 §): "prövas ... på samma sätt
som vid ansökning" (Huddinge, seed 000), "ska godkännas" (Salem, seed 002 §4.6).

1. Vetting (a form): something missing sends the provider a completion request
   listing exactly those items, and the run waits for the completion; then the
   manager is vetted again.
2. The decision (a form): approved makes the manager approved (and the
   replaced one replaced unless additional), records it on the contract and
   confirms by e-mail. Not approved: a reasoned letter to the provider, and a
   proposal to end the contract ("Godkänns inte ... avtalet hävs", seed 002
   §4.6), which the committee or its chair decides in "Pröva förslag" (never
   the officer alone, §4.5); accepting it ends the contract (models/contract_end.py).

The decision deadline is the application's (tasks/manager_store.py explains
why); the daily sweep reminds the case officer (models/checks/manager_reminders.py).
Like "Fortsätt ansökan", "Fortsätt verksamhetsansvarig" continues a case whose
run was lost, from its stored state: nothing decided is asked again and no
letter goes twice. Run names, logs and artifacts carry case numbers only.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from prefect.artifacts import acreate_markdown_artifact

from flows.case_runner import Action, CaseType, Shown, run_case
from flows.names import MANAGER_FLOW
from flows.parameter_check import Refused, body, take, take_case, validated_in_run
from flows.parameters import parameter, reference
from flows.proposal_review import start_review
from flows.run_helpers import case_flow
from flows.vetting_steps import SHOWN, Vetting, remaining
from models.business_manager import BusinessManager, ManagerStatus
from models.clock import today
from models.fact_lines import fact_lines
from models.forms.manager import (
    ManagerDecisionForm,
    ManagerNotification,
    ManagerOutcome,
    ManagerVettingForm,
)
from models.forms.vetting import ASSESSMENT
from models.manager_vetting import (
    MANAGER_GROUND_KEYS,
    MANAGER_ITEM_BY_KEY,
    MANAGER_ITEMS,
    decision_problems,
    findings_problems,
)
from models.policy import load_policy
from models.status_texts import MANAGER_STATUS_TEXT as STATUS_TEXT
from models.sv_format import case_no, sv_date
from models.vetting import Assessment
from tasks import manager_store
from tasks.manager_store import ManagerView

M = ManagerStatus


@validated_in_run
@case_flow(MANAGER_FLOW, "verksamhetsansvarig")
async def register_manager(
    notification: ManagerNotification = parameter("Anmälan"),
) -> str:
    """Register a provider's notice of a new or additional manager and vet the manager.

    A notice the form or the contract refuses is asked for again with the Swedish
    reason (everything typed kept), never a Failed run.
    """
    return await run_case(MANAGER, await take(ManagerNotification, notification, _registered))


async def _registered(form: ManagerNotification) -> uuid.UUID | Refused:
    """The stored case, or why the contract refuses it (the store names the field)."""
    try:
        return body(manager_store.register)(form)
    except ValueError as refused:
        field = str(refused).partition(":")[0]
        return Refused([REGISTER_REFUSALS.get(field, "Anmälan: kan inte registreras.")])


#: The store's refusals, in Swedish (its English message names the field only).
REGISTER_REFUSALS = {
    "contract": "Avtal: inget avtal som gäller nu har det numret; en verksamhetsansvarig "
    "anmäls för ett avtal i kraft.",
    "notified_on": "Anmälan kom in: dagen ligger före avtalets start.",
}


@case_flow(MANAGER_FLOW, "verksamhetsansvarig {case_number}")
async def continue_manager(case_number: str = reference("Ärendenummer")) -> str:
    """Continue a manager's case from its stored state ("Fortsätt verksamhetsansvarig")."""
    found = await take_case(
        manager_store.resolve, "inget ärende om verksamhetsansvarig", case_number=case_number
    )
    return await run_case(MANAGER, found)


# --------------------------------------------------------------------------- steps

VETTING: Vetting[ManagerView] = Vetting(
    checklist=MANAGER_ITEMS,
    arrived="anmälan",
    arrived_on=lambda case: case.notified_on,
    last_round=lambda case: case.last_round,
)


def _completion(case: ManagerView) -> dict[str, Any] | None:
    """The completion answered for the last round, if any."""
    last = case.last_round
    if last is None:
        return None
    return next((c for c in case.completions if c["round"] == last["round"]), None)


def _waits_for_round(case: ManagerView) -> bool:
    """The first round, or the next one once the asked-for completion came in."""
    if case.status is not M.under_review:
        return False
    last, done = case.last_round, _completion(case)
    return last is None or (last["outcome"] == "missing" and done is not None and done["received"])


def _waits_for_completion(case: ManagerView) -> bool:
    last = case.last_round
    return (
        case.status is M.under_review
        and last is not None
        and last["outcome"] == "missing"
        and _completion(case) is None
    )


def vetting_rules(
    case: ManagerView, answer: Any, results: dict[str, tuple[Assessment, str]]
) -> list[str]:
    return findings_problems(
        results,
        notified_on=case.notified_on,
        oldest_reference_on=answer.oldest_reference_on,
        references_max_age_years=case.references_max_age_years,
    )


def suggested_grounds(case: ManagerView) -> list[str]:
    """What the last round did not approve (labels)."""
    last = case.last_round or {"items": {}}
    return [
        MANAGER_ITEM_BY_KEY[key].label
        for key, value in last["items"].items()
        if value["result"] != Assessment.approved
    ]


def decision_rules(case: ManagerView, answer: ManagerDecisionForm) -> list[str]:
    return decision_problems(
        approve=answer.outcome is ManagerOutcome.approve,
        grounds=[MANAGER_GROUND_KEYS[label] for label in answer.grounds],
        motivation=answer.motivation,
        findings=case.findings,
    )


async def start_termination(case: ManagerView) -> str:
    """A rejected manager: start "Pröva förslag" for the proposal to end the contract, once.

    If the server cannot start it now, the daily check does. Then the case's last summary.
    """
    if case.status is M.rejected and case.proposal_id is not None and case.proposal_run_id is None:
        run_id = await start_review(case.proposal_id)
        if run_id is not None:
            manager_store.attach_proposal_run(case.proposal_id, run_id)
    await acreate_markdown_artifact(
        key=f"verksamhetsansvarig-{case.case_no.lower()}",
        markdown=_final_text(manager_store.load(case.id)),
        description=SHOWN,
    )
    return case.status.value


# --------------------------------------------------------------------------- description


def describe(case: ManagerView, step: str, intro: str) -> str:
    """The Markdown above a form: numbers, dates and statuses only, never the manager's name."""
    policy = load_policy(case.policy_name)
    kind = "ytterligare verksamhetsansvarig" if case.additional else "ny verksamhetsansvarig"
    lines = [
        f"### Verksamhetsansvarig {case.case_no}: {step}",
        "",
        f"- **Avtal:** {case.contract_no} ({policy.municipality}); {kind}",
        f"- **Anmälan kom in:** {sv_date(case.notified_on)}",
        f"- **Beslut senast:** {sv_date(case.decision_due)}, {remaining(case.decision_due)}",
        "",
        intro,
    ]
    if case.last_round is not None:
        open_items = [
            f"{MANAGER_ITEM_BY_KEY[key].label}: {ASSESSMENT.label(value['result'])}"
            for key, value in case.last_round["items"].items()
            if value["result"] != Assessment.approved
        ]
        lines += [
            "",
            f"**Omgång {case.last_round['round']}:** "
            + ("allt godkänt." if not open_items else ""),
        ]
        lines += [f"- {item}" for item in open_items]
    return "\n".join(lines)


#: The manager is vetted in rounds (each missing item asks the provider to
#: complete, and the next round waits for it), then decided.
MANAGER: CaseType[ManagerView] = CaseType(
    noun="verksamhetsansvarig",
    entity=BusinessManager.ENTITY_TYPE,
    load=manager_store.load,
    take_over=manager_store.take_over,
    steps=(
        Action(
            waits=lambda case: case.status is M.proposed,
            do=lambda case: manager_store.start_review(case.id),
        ),
        VETTING.checklist_round(
            waits=_waits_for_round,
            key="provning-{n}",
            title="Prövning, omgång {n}",
            instructions=(
                "Pröva den verksamhetsansvariga som vid en ansökan: bedöm varje punkt som "
                "**Godkänd**, **Saknas** (utföraren får en begäran om komplettering med just de "
                "punkterna) eller **Uppfylls inte** (ärendet går till beslut). Skriv en "
                "anteckning för allt som saknas eller inte uppfylls: den står i brevet till "
                "utföraren."
            ),
            form=ManagerVettingForm,
            problems=vetting_rules,
            record=manager_store.record_round,
        ),
        VETTING.completion_wait(
            waits=_waits_for_completion,
            key="komplettering-{n}",
            record=manager_store.record_completion,
            party="Utföraren",
            again="prövar du igen",
        ),
        VETTING.decision(
            waits=lambda case: case.status is M.under_review,
            key="beslut",
            instructions=(
                "Godkänn den verksamhetsansvariga, eller godkänn inte med skäl och motivering. "
                "Godkänns hen inte får utföraren ett motiverat brev, och ett förslag att häva "
                "avtalet (enligt avtalets villkor) går till nämnden eller dess ordförande i "
                "**Pröva förslag**."
            ),
            prefilled_from="prövningen",
            form=ManagerDecisionForm,
            suggested=suggested_grounds,
            problems=decision_rules,
            record=lambda case, answer: manager_store.record_decision(
                case.id, answer.model_dump(mode="json"), today()
            ),
        ),
    ),
    describe=describe,
    show=lambda case: Shown(key=f"verksamhetsansvarig-{case.case_no.lower()}", description=SHOWN),
    finish=start_termination,
)


#: Who decides the proposal to end the contract (never the officer alone, seed 002 §4.5).
_REVIEWED_BY = "beslutas i **Pröva förslag** av nämnden eller dess ordförande."


def _final_text(case: ManagerView) -> str:
    decision, proposal = case.decision, case.proposal_id
    lines = [
        f"### Verksamhetsansvarig {case.case_no}: {STATUS_TEXT[case.status].lower()}",
        "",
        f"- **Avtal:** {case.contract_no}",
        f"- **Anmälan kom in:** {sv_date(case.notified_on)}",
        *fact_lines(
            ("Beslut", None if decision is None else date.fromisoformat(decision["decided_on"])),
            (
                "Förslag om hävning",
                None if proposal is None else f"{case_no(proposal)}, {_REVIEWED_BY}",
            ),
        ),
    ]
    return "\n".join(lines)
