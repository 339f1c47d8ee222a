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
   the officer alone, §4.5); accepting it ends the contract (tasks/contract_end.py).

The decision deadline is the application's (tasks/manager_store.py explains
why); the daily sweep reminds the case officer (tasks/manager_reminders.py).
Like "Fortsätt ansökan", "Fortsätt verksamhetsansvarig" continues a case whose
run was lost, from its stored state: nothing decided is asked again and no
letter goes twice. Run names, logs and artifacts carry case numbers only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.deployments.flow_runs import arun_deployment

from flows.human_step import R, ask
from flows.names import MANAGER_FLOW, PROPOSAL_FLOW, REVIEW_PROPOSAL, full_name
from flows.run_helpers import current_run_id, deliver_now, rename_run, retire_run, used_pause_keys
from models.business_manager import ManagerStatus
from models.calendar import working_days_between
from models.clock import today
from models.forms.manager import (
    ManagerDecisionForm,
    ManagerNotification,
    ManagerOutcome,
    ManagerVettingForm,
)
from models.forms.vetting import ASSESSMENT, CompletionForm, completion_problems
from models.manager_vetting import (
    MANAGER_GROUND_KEYS,
    MANAGER_ITEM_BY_KEY,
    MANAGER_ITEMS,
    decision_problems,
    findings_problems,
)
from models.policy import load_policy
from models.sv_format import case_no, sv_date
from models.vetting import Assessment
from tasks import manager_store
from tasks.manager_store import STATUS_TEXT, ManagerView

M = ManagerStatus


@flow(
    name=MANAGER_FLOW,
    flow_run_name="verksamhetsansvarig",
    persist_result=True,
    log_prints=False,
)
async def register_manager(notification: ManagerNotification) -> str:
    """Register a provider's notice of a new or additional manager and vet the manager."""
    manager_id = manager_store.register(notification)
    return await vet_manager(manager_id)


@flow(
    name=MANAGER_FLOW,
    flow_run_name="verksamhetsansvarig {case_number}",
    persist_result=True,
    log_prints=False,
)
async def continue_manager(case_number: str) -> str:
    """Continue a manager's case from its stored state ("Fortsätt verksamhetsansvarig")."""
    return await vet_manager(manager_store.resolve(case_number))


async def vet_manager(manager_id: uuid.UUID) -> str:
    """Walk the case through its remaining steps; return the manager's final status."""
    logger = get_run_logger()
    replaced = manager_store.take_over(manager_id, current_run_id())
    if replaced is not None:
        await retire_run(replaced)
    case = manager_store.load(manager_id)
    await rename_run(f"verksamhetsansvarig {case.case_no}")
    while True:
        case = manager_store.load(manager_id)
        logger.info("Manager case %s is %s", case.case_no, case.status.value)
        if case.status is M.proposed:
            manager_store.start_review(manager_id)
            continue
        if case.status is not M.under_review:
            break
        last = case.last_round
        if last is None:
            await _vetting(case, 1)
        elif last["outcome"] == "missing":
            done = next((c for c in case.completions if c["round"] == last["round"]), None)
            if done is None:
                await _completion(case, last)
            elif done["received"]:
                await _vetting(case, last["round"] + 1)
            else:
                await _decision(case)
        else:
            await _decision(case)
    if case.status is M.rejected:
        await _start_termination(case)
    await _show(case, _final_text(manager_store.load(manager_id)))
    return case.status.value


# --------------------------------------------------------------------------- steps


async def _vetting(case: ManagerView, round_no: int) -> None:
    defaults: dict[str, Any] = {"decided_on": today()}
    if case.last_round is not None:
        # A later round starts from the last one: staff change only what came in.
        defaults |= dict(case.last_round["items"])
    intro = (
        "Pröva den verksamhetsansvariga som vid en ansökan: bedöm varje punkt som "
        "**Godkänd**, **Saknas** (utföraren får en begäran om komplettering med just de "
        "punkterna) eller **Uppfylls inte** (ärendet går till beslut). Skriv en anteckning "
        "för allt som saknas eller inte uppfylls: den står i brevet till utföraren."
    )

    def check(answer: Any) -> list[str]:
        results = {
            item.key: (
                ASSESSMENT.key(getattr(answer, item.key).result),
                getattr(answer, item.key).note,
            )
            for item in MANAGER_ITEMS
        }
        problems = findings_problems(
            results,
            notified_on=case.notified_on,
            oldest_reference_on=answer.oldest_reference_on,
            references_max_age_years=case.references_max_age_years,
        )
        if answer.decided_on < case.notified_on:
            problems.append("Datum: kan inte vara före dagen då anmälan kom in.")
        return problems

    answer = await _form(
        case,
        f"Prövning, omgång {round_no}",
        intro,
        ManagerVettingForm,
        key=f"provning-{round_no}",
        check=check,
        defaults=defaults,
    )
    manager_store.record_round(case.id, round_no, answer.model_dump(mode="json"))
    await deliver_now()


async def _completion(case: ManagerView, last: dict[str, Any]) -> None:
    requested = ", ".join(
        MANAGER_ITEM_BY_KEY[key].label
        for key, value in last["items"].items()
        if value["result"] == Assessment.missing
    )
    asked_on = date.fromisoformat(last["decided_on"])
    intro = (
        f"Utföraren har ombetts komplettera: {requested}. När kompletteringen har kommit "
        "in: välj **Kompletteringen har kommit in** och ange datumet; sedan prövar du igen. "
        "Kommer inget in kan du gå till beslut."
    )

    def check(answer: CompletionForm) -> list[str]:
        return completion_problems(answer, asked_on)

    answer = await _form(
        case,
        "Väntar på komplettering",
        intro,
        CompletionForm,
        key=f"komplettering-{last['round']}",
        check=check,
    )
    manager_store.record_completion(case.id, last["round"], answer.model_dump(mode="json"))


async def _decision(case: ManagerView) -> None:
    last = case.last_round or {"items": {}}
    suggested = [
        MANAGER_ITEM_BY_KEY[key].label
        for key, value in last["items"].items()
        if value["result"] != Assessment.approved
    ]
    intro = (
        "Godkänn den verksamhetsansvariga, eller godkänn inte med skäl och motivering. "
        "Godkänns hen inte får utföraren ett motiverat brev, och ett förslag att häva "
        "avtalet (enligt avtalets villkor) går till nämnden eller dess ordförande i "
        "**Pröva förslag**."
    )
    if suggested:
        intro += " Skälen nedan är förifyllda från prövningen."

    def check(answer: ManagerDecisionForm) -> list[str]:
        problems = decision_problems(
            approve=answer.outcome is ManagerOutcome.approve,
            grounds=[MANAGER_GROUND_KEYS[label] for label in answer.grounds],
            motivation=answer.motivation,
            findings=case.findings,
        )
        if answer.decided_on < case.notified_on:
            problems.append("Datum: kan inte vara före dagen då anmälan kom in.")
        return problems

    answer = await _form(
        case,
        "Beslut",
        intro,
        ManagerDecisionForm,
        key="beslut",
        check=check,
        defaults={"grounds": suggested, "decided_on": today()},
    )
    manager_store.record_decision(case.id, answer.model_dump(mode="json"), today())
    await deliver_now()


async def _start_termination(case: ManagerView) -> None:
    """Start "Pröva förslag" for the proposal to end the contract, once (the server keeps the key).

    If the server cannot start it now, the daily sweep starts it (the kind is
    one of the reviewed kinds, tasks/proposals.py).
    """
    if case.proposal_id is None or case.proposal_run_id is not None:
        return
    logger = get_run_logger()
    try:
        run = await arun_deployment(
            name=full_name(PROPOSAL_FLOW, REVIEW_PROPOSAL),
            parameters={"proposal": case_no(case.proposal_id)},
            timeout=0,
            idempotency_key=f"proposal-review:{case.proposal_id}",
            as_subflow=False,
        )
    except Exception as error:  # the sweep tries again tomorrow
        logger.warning("Could not start the review of proposal %s: %s", case.proposal_id, error)
        return
    manager_store.attach_proposal_run(case.proposal_id, run.id)
    logger.info("Termination proposal %s is reviewed in run %s", case_no(case.proposal_id), run.id)


# --------------------------------------------------------------------------- description


def describe(case: ManagerView, step: str, intro: str) -> str:
    """The Markdown above a form: numbers, dates and statuses only, never the manager's name."""
    policy = load_policy(case.policy_name)
    now = today()
    left = working_days_between(now, case.decision_due)
    if left > 0:
        remaining = f"**{left} arbetsdagar kvar** (räknat {sv_date(now)})"
    elif left == 0 and now == case.decision_due:
        remaining = "**sista dagen är i dag**"
    else:
        remaining = f"**försenat {abs(left)} arbetsdagar** (räknat {sv_date(now)})"
    kind = "ytterligare verksamhetsansvarig" if case.additional else "ny verksamhetsansvarig"
    lines = [
        f"### Verksamhetsansvarig {case.case_no}: {step}",
        "",
        f"- **Avtal:** {case.contract_no} ({policy.municipality}); {kind}",
        f"- **Anmälan kom in:** {sv_date(case.notified_on)}",
        f"- **Beslut senast:** {sv_date(case.decision_due)}, {remaining}",
        "",
        intro,
    ]
    if case.last_round is not None:
        open_items = [
            f"{MANAGER_ITEM_BY_KEY[key].label}: {value['result']}"
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


def _final_text(case: ManagerView) -> str:
    lines = [
        f"### Verksamhetsansvarig {case.case_no}: {STATUS_TEXT[case.status].lower()}",
        "",
        f"- **Avtal:** {case.contract_no}",
        f"- **Anmälan kom in:** {sv_date(case.notified_on)}",
    ]
    if case.decision is not None:
        lines.append(f"- **Beslut:** {sv_date(date.fromisoformat(case.decision['decided_on']))}")
    if case.proposal_id is not None:
        lines.append(
            f"- **Förslag om hävning:** {case_no(case.proposal_id)}, beslutas i "
            "**Pröva förslag** av nämnden eller dess ordförande."
        )
    return "\n".join(lines)


async def _show(case: ManagerView, text: str) -> None:
    await acreate_markdown_artifact(
        key=f"verksamhetsansvarig-{case.case_no.lower()}",
        markdown=text,
        description="Ärendet just nu: frist, status och bedömningar (inga namn).",
    )


async def _form(
    case: ManagerView,
    step: str,
    intro: str,
    form: type[R],
    *,
    key: str,
    check: Callable[[R], list[str]],
    defaults: dict[str, Any] | None = None,
) -> R:
    """Describe the case above the form and on the run page, then wait for the answer."""
    text = describe(case, step, intro)
    if key not in used_pause_keys():  # on a replay the summary is already there
        await _show(case, text)
    return await ask(form, key=key, description=text, check=check, defaults=defaults)
