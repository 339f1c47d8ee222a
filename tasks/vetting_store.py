"""Database work for application vetting: each function is one transaction.

Every decision is stored (status, checklist, audit event) and its letter queued
in the outbox in the same transaction, before the flow goes on. Each function
is idempotent against the stored case: it checks the status it expects and the
outbox key, so a replayed or repeated call changes nothing and sends nothing
twice. The flow (flows/application_vetting.py) reads `CaseView` to know which
step is next.

Logs carry ids, case numbers and counts only: company and person names, notes
and motivations stay in the database.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel
from sqlmodel import Session, select

from models.application import SERVICE_LABELS, Application, ApplicationStatus, Service
from models.audit import audit
from models.business_manager import BusinessManager, ManagerStatus
from models.case_lookup import attach_run, find_id, from_row, load_view
from models.contract import Contract
from models.db import session_scope
from models.email_queue import Attachment
from models.forms.vetting import CompletionForm, CompletionOutcome, DecisionForm, Outcome
from models.obligation import ObligationKind, ObligationStatus
from models.policy import Policy
from models.provider import Provider
from models.provider_case import (
    add_obligation,
    find_obligation,
    fulfil_obligation,
    load_for_update,
    open_obligations,
    policy_of,
)
from models.provider_letters import CaseLetters
from models.state_machine import change_status
from models.sv_format import case_no
from models.vetting import GROUND_KEYS, ITEMS, STEP1_ITEMS, Assessment, iso_date, round_summary
from models.vetting_steps import assessed_round, completion_request, recorded_before

logger = logging.getLogger(__name__)

S = ApplicationStatus


class CaseView(BaseModel):
    """What the flow needs to choose the next step and describe the case (no free text)."""

    id: uuid.UUID
    case_no: str
    status: ApplicationStatus
    municipality_id: str
    policy_name: str
    received_on: date
    decision_due: date
    step1_rounds: int
    #: The last step-1 round's outcome: "complete", "missing" or "failing".
    last_step1_outcome: str | None
    #: What the applicant was asked to complete in the last round (keys).
    requested_items: list[str]
    #: Whether staff chose to decide without waiting for the completion.
    completion_skipped: bool
    #: The last step-1 round as stored: decided_on, and per item its result and note.
    last_step1: dict[str, Any] | None
    #: Latest step-1 findings per item key (Assessment value), if any round exists.
    step1: dict[str, str] | None
    step1_approved_on: date | None
    meeting: dict[str, Any] | None
    step2: dict[str, str] | None
    contract_id: uuid.UUID | None
    case_officer_email: str | None
    flow_run_id: uuid.UUID | None


def to_applicant(
    session: Session,
    application: Application,
    provider: Provider,
    policy: Policy,
    *,
    message: str,
    template: str,
    context: dict[str, Any],
    attachments: list[Attachment] | None = None,
) -> None:
    """Queue a letter about `application` to the applicant, once per `message`."""
    letters = CaseLetters(
        application, application.municipality_id, provider, policy, {"reason": _reason(policy)}
    )
    letters.queue(session, message, template, context, attachments or ())


def _reason(policy: Policy) -> str:
    return f"ni har ansökt om att bli utförare av hemtjänst i {policy.municipality}"


# --------------------------------------------------------------------------- lookups


def case_view(session: Session, application: Application) -> CaseView:
    policy = policy_of(session, application)
    checklist = application.checklist or {}
    rounds: list[dict[str, Any]] = checklist.get("step1", [])
    last = rounds[-1] if rounds else None
    completions: list[dict[str, Any]] = checklist.get("completions", [])
    skipped = (
        bool(completions)
        and len(completions) == len(rounds)
        and (completions[-1].get("outcome") == "decide")
    )
    contract = session.exec(
        select(Contract).where(Contract.application_id == application.id)
    ).first()
    step1_approved_on = None
    if last and last["outcome"] == "complete":
        step1_approved_on = date.fromisoformat(last["decided_on"])
    return from_row(
        CaseView,
        application,
        case_no=case_no(application.id),
        policy_name=policy.name,
        decision_due=policy.decision_due(application.received_on),
        step1_rounds=len(rounds),
        last_step1_outcome=last["outcome"] if last else None,
        requested_items=[
            key
            for key, found in (last or {}).get("items", {}).items()
            if found["result"] == Assessment.missing
        ],
        completion_skipped=skipped,
        last_step1=last,
        step1={key: found["result"] for key, found in last["items"].items()} if last else None,
        step1_approved_on=step1_approved_on,
        meeting=checklist.get("meeting"),
        step2=(
            {key: found["result"] for key, found in checklist["step2"]["items"].items()}
            if "step2" in checklist
            else None
        ),
        contract_id=contract.id if contract else None,
    )


@task(name="load-application", cache_policy=NO_CACHE, persist_result=False)
def load_case(application_id: uuid.UUID) -> CaseView:
    """The stored case: the flow's only source for which step comes next."""
    return load_view(Application, application_id, case_view)


@task(name="find-application", cache_policy=NO_CACHE, persist_result=False)
def resolve_case(reference: str) -> uuid.UUID:
    return find_id(Application, reference)


@task(name="take-over-case", cache_policy=NO_CACHE, persist_result=False)
def take_over(application_id: uuid.UUID, flow_run_id: uuid.UUID) -> uuid.UUID | None:
    """Make `flow_run_id` the run that drives the case; return the run it replaces, if any."""
    return attach_run(Application, application_id, flow_run_id)


def load_checklist(
    session: Session, application_id: uuid.UUID
) -> tuple[Application, Provider, Policy, dict[str, Any]]:
    """The case for update, and a copy of its checklist to record a step in."""
    application, provider, policy = load_for_update(session, Application, application_id)
    # A new dict, so SQLAlchemy sees the JSON column change.
    return application, provider, policy, dict(application.checklist or {})


@task(name="start-step1", cache_policy=NO_CACHE, persist_result=False)
def start_step1(application_id: uuid.UUID) -> None:
    with session_scope() as session:
        application, _, _ = load_for_update(session, Application, application_id)
        if application.status is S.received:
            change_status(session, application, S.step1_review, actor="system:flow")


# --------------------------------------------------------------------------- step 1


@task(name="record-step1", cache_policy=NO_CACHE, persist_result=False)
def record_step1(application_id: uuid.UUID, round_no: int, answer: dict[str, Any]) -> str:
    """Store a step-1 round; ask for completions if something is missing. Returns the outcome.

    `answer` is a checked Step1Form as a dict. "missing" moves the case to
    completion_requested, creates the completion-reply obligation (policy:
    working days from the assessment date) and queues the letter listing
    exactly the missing items. "failing" keeps the case in step 1 for a
    reasoned rejection; "complete" moves it to step 2.
    """
    with session_scope() as session:
        application, provider, policy, checklist = load_checklist(session, application_id)
        rounds = list(checklist.get("step1", []))
        if recorded_before(
            len(rounds) >= round_no, application, S.step1_review, "step 1 cannot be recorded"
        ):
            return str(rounds[round_no - 1]["outcome"])  # stored by an earlier attempt
        record, outcome = assessed_round(
            round_no, answer, STEP1_ITEMS, ("tax_certificate_issued_on", "oldest_reference_on")
        )
        checklist["step1"] = [*rounds, record]
        summary = round_summary(record)
        if outcome == "missing":
            reply_by, letter = completion_request(policy, record, ITEMS)
            change_status(
                session,
                application,
                S.completion_requested,
                actor=answer["decided_by"],
                reason="komplettering begärd",
                details=summary | {"reply_by": reply_by.isoformat()},
                checklist=checklist,
            )
            add_obligation(
                session, application, ObligationKind.completion_reply, reply_by, f"round-{round_no}"
            )
            to_applicant(
                session,
                application,
                provider,
                policy,
                message=f"completion-request:{round_no}",
                template="completion-request",
                context=letter,
            )
        elif outcome == "complete":
            change_status(
                session,
                application,
                S.step2_review,
                actor=answer["decided_by"],
                reason="steg 1 godkänt",
                details=summary,
                checklist=checklist,
            )
        else:
            application.checklist = checklist
            session.add(application)
            audit(
                session,
                application,
                "step1_failing",
                actor=answer["decided_by"],
                reason="punkter uppfylls inte; ärendet går till beslut",
                details=summary,
            )
        logger.info("Step 1 round %d of %s: %s", round_no, case_no(application.id), outcome)
        return outcome


@task(name="record-completion", cache_policy=NO_CACHE, persist_result=False)
def record_completion(application_id: uuid.UUID, round_no: int, answer: dict[str, Any]) -> None:
    """Completions came in (back to step 1), or staff decide without them."""
    form = CompletionForm.model_validate(answer)
    with session_scope() as session:
        application, _, _, checklist = load_checklist(session, application_id)
        completions = list(checklist.get("completions", []))
        if recorded_before(
            len(completions) >= round_no,
            application,
            S.completion_requested,
            "completion cannot be recorded",
        ):
            return
        entry = {
            "round": round_no,
            "outcome": "received" if form.outcome is CompletionOutcome.received else "decide",
            "received_on": iso_date(form.received_on),
            "registered_by": form.registered_by,
        }
        checklist["completions"] = [*completions, entry]
        obligation = find_obligation(
            session, application, ObligationKind.completion_reply, f"round-{round_no}"
        )
        assert obligation is not None  # added with the request
        if form.outcome is CompletionOutcome.received:
            assert form.received_on is not None  # checked by the flow
            fulfil_obligation(session, obligation, actor=form.registered_by, on=form.received_on)
            change_status(
                session,
                application,
                S.step1_review,
                actor=form.registered_by,
                reason="komplettering inkommen",
                details=entry,
                checklist=checklist,
            )
        else:
            change_status(
                session,
                obligation,
                ObligationStatus.waived,
                actor=form.registered_by,
                reason="handläggaren går till beslut utan komplettering",
            )
            application.checklist = checklist
            session.add(application)
            audit(
                session, application, "completion_skipped", actor=form.registered_by, details=entry
            )


# --------------------------------------------------------------------------- decision


@task(name="record-decision", cache_policy=NO_CACHE, persist_result=False)
def record_decision(application_id: uuid.UUID, answer: dict[str, Any]) -> uuid.UUID | None:
    """Approve or reject, close the deadlines, queue the decision letter.

    An approval also creates the contract (draft) from the application, in the
    same transaction, and returns its id; contract signing takes it from there.
    """
    form = DecisionForm.model_validate(answer)
    approve = form.outcome is Outcome.approve
    with session_scope() as session:
        application, provider, policy = load_for_update(session, Application, application_id)
        if application.status in (S.approved, S.rejected):
            contract = session.exec(
                select(Contract).where(Contract.application_id == application.id)
            ).first()
            return contract.id if contract else None
        grounds = [GROUND_KEYS[label] for label in form.grounds]
        target = S.approved if approve else S.rejected
        change_status(
            session,
            application,
            target,
            actor=form.decided_by,
            reason=form.motivation or ("ansökan godkänd" if approve else None),
            details={"grounds": grounds, "decided_on": form.decided_on.isoformat()},
            decided_on=form.decided_on,
            decision_reason=form.motivation or None,
        )
        for obligation in open_obligations(session, application):
            if obligation.kind is ObligationKind.decision_deadline:
                fulfil_obligation(
                    session,
                    obligation,
                    actor=form.decided_by,
                    on=form.decided_on,
                    reason="beslut fattat",
                )
            else:
                change_status(
                    session,
                    obligation,
                    ObligationStatus.cancelled,
                    actor=form.decided_by,
                    reason="beslut fattat",
                )
        manager = session.exec(
            select(BusinessManager).where(BusinessManager.application_id == application.id)
        ).first()
        if manager is not None and manager.status is ManagerStatus.proposed:
            change_status(
                session,
                manager,
                ManagerStatus.approved if approve else ManagerStatus.rejected,
                actor=form.decided_by,
                reason="prövad med ansökan",
                decided_on=form.decided_on,
            )
        base = {"decided_on": form.decided_on}
        contract_id: uuid.UUID | None = None
        if approve:
            contract = Contract(
                application_id=application.id,
                provider_id=provider.id,
                municipality_id=application.municipality_id,
                services=list(application.services),
                capacity_hours_per_month=application.capacity_hours_per_month,
            )
            session.add(contract)
            session.flush()
            contract_id = contract.id
            audit(
                session,
                contract,
                "created",
                actor=form.decided_by,
                to_status=contract.status,
                details={"application_id": str(application.id)},
            )
            if manager is not None:
                manager.contract_id = contract.id
                session.add(manager)
            to_applicant(
                session,
                application,
                provider,
                policy,
                message="approved",
                template="application-approved",
                context=base
                | {
                    "services": [SERVICE_LABELS[Service(s)] for s in application.services],
                    "capacity_hours_per_month": application.capacity_hours_per_month,
                },
            )
        else:
            notes = _ground_notes(application)
            to_applicant(
                session,
                application,
                provider,
                policy,
                message="rejected",
                template="application-rejected",
                context=base
                | {
                    "grounds": [
                        {"label": ITEMS[key].label, "note": notes.get(key, "")} for key in grounds
                    ],
                    "motivation": form.motivation,
                    "appeal_weeks": policy.appeal_weeks,
                    "appeal_court": policy.appeal_court,
                },
            )
        logger.info(
            "Decision on %s: %s", case_no(application.id), "approved" if approve else "rejected"
        )
        return contract_id


def _ground_notes(application: Application) -> dict[str, str]:
    """The staff's notes on each item, latest first, to explain a ground in the letter."""
    checklist = application.checklist or {}
    notes: dict[str, str] = {}
    sources: list[dict[str, Any]] = []
    if "step2" in checklist:
        sources.append(checklist["step2"]["items"])
    sources.extend(reversed([r["items"] for r in checklist.get("step1", [])]))
    for items in sources:
        for key, value in items.items():
            if value.get("note") and key not in notes:
                notes[key] = value["note"]
    return notes
