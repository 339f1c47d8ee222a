"""Lex Sarah cases in the app database: register, store each answer, load what the flow needs.

Each change is one transaction: the case's status (audited through
`change_status`), its obligations and the provider's letter in the outbox.
Audit reasons and details hold ids, dates and codes only, never the text.

The functions that take an answer are plain functions, not Prefect tasks: the
answer holds the report's text, and a task's arguments feed its cache key and
could end up in result storage. Registering is a task (nothing personal).
`CaseView` is what the flow sees of a case: no text and no names, because the
flow writes from it into run names, form descriptions and artifacts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session, select

from models.audit import audit
from models.case_lookup import attach_run, find_id, from_row, load_view
from models.contract import Contract
from models.contract_lookup import RegistrationRefused, contract_for
from models.db import session_scope
from models.forms.lex_sarah import (
    CATEGORY,
    CLOSURE,
    AssessmentForm,
    ClosureForm,
    DescriptionForm,
    IvoForm,
    LexSarahReport,
    Seriousness,
)
from models.lex_sarah import ClosureKind, LexSarahCase, LexSarahCategory, LexSarahStatus
from models.obligation import ObligationKind
from models.policy import Policy, load_policy
from models.provider_case import (
    add_obligation,
    find_obligation,
    fulfil_if_open,
    municipality_of,
    policy_of,
)
from models.provider_letters import letter_about
from models.state_machine import change_status
from models.sv_format import case_no

S = LexSarahStatus


@dataclass(frozen=True)
class CaseView:
    id: uuid.UUID
    case_no: str
    contract_no: str
    policy_name: str
    municipality: str
    category: LexSarahCategory
    status: LexSarahStatus
    event_on: date
    provider_received_on: date
    received_on: date
    investigation_due: date | None
    ivo_due: date | None
    investigation_received_on: date | None
    serious: bool | None
    closure_kind: ClosureKind | None
    closed_on: date | None
    flow_run_id: uuid.UUID | None


def _due(session: Session, case: LexSarahCase, kind: ObligationKind) -> date | None:
    obligation = find_obligation(session, case, kind)
    return obligation.due_on if obligation is not None else None


def _view(session: Session, case: LexSarahCase) -> CaseView:
    municipality = municipality_of(session, case)
    return from_row(
        CaseView,
        case,
        case_no=case_no(case.id),
        contract_no=case_no(case.contract_id),
        policy_name=municipality.policy_name,
        municipality=municipality.name,
        investigation_due=_due(session, case, ObligationKind.lex_sarah_investigation),
        ivo_due=_due(session, case, ObligationKind.ivo_confirmation),
    )


@task(name="load-lex-sarah-case", cache_policy=NO_CACHE, persist_result=False)
def load_case(case_id: uuid.UUID) -> CaseView:
    return load_view(LexSarahCase, case_id, _view)


@task(name="resolve-lex-sarah-case", cache_policy=NO_CACHE, persist_result=False)
def resolve_case(reference: str) -> uuid.UUID:
    return find_id(LexSarahCase, reference)


def _letter(
    session: Session, case: LexSarahCase, policy: Policy, message: str, **context: object
) -> None:
    """The provider's letter `lex-sarah-<message>`, queued once per case and message.

    A choice in `context` is given by its label (`.value`), as the letter says it.
    """
    letter_about(
        session,
        case,
        policy,
        key=f"lex_sarah:{case.id}:{message}",
        template=f"lex-sarah-{message}",
        context={
            "case_id": case.id,
            "contract_id": case.contract_id,
            "submit_to": policy.mail.address_for("lex_sarah"),
            "legal_reference": policy.lex_sarah.legal_reference,
        }
        | context,
    )


def _fulfil(
    session: Session, case: LexSarahCase, kind: ObligationKind, on: date, actor: str
) -> None:
    """What the case waited for of `kind` came in on `on`: its follow-up ends."""
    fulfil_if_open(session, case, kind, actor=actor, on=on, reason="received")


@dataclass(frozen=True)
class Registered:
    """The new case's id, or the Swedish reason it was refused (without the org number)."""

    case_id: uuid.UUID | None
    refusal: str | None = None


@task(name="register-lex-sarah-report", cache_policy=NO_CACHE, persist_result=False)
def register(report: LexSarahReport, run_id: uuid.UUID) -> Registered:
    """Store the report (no text yet), the investigation's follow-up date and the receipt.

    The same run registering again (a replay after a resume) finds its case.
    Refused (no such provider, or no contract of it in the municipality in force
    in the month of the event) with a reason, not an exception: a failed task's
    log would repeat the English message, which names the organisation number.
    """
    try:
        return Registered(_register(report, run_id))
    except RegistrationRefused as error:
        return Registered(None, f"Utförare: {error.swedish}.")


def _register(report: LexSarahReport, run_id: uuid.UUID) -> uuid.UUID:
    with session_scope() as session:
        existing = session.exec(
            select(LexSarahCase).where(LexSarahCase.registration_run_id == run_id)
        ).first()
        if existing is not None:
            return existing.id
        policy = load_policy(report.municipality)
        period = f"{report.event_on.year:04d}-{report.event_on.month:02d}"
        contract: Contract = contract_for(session, report.municipality, report.provider, period)
        case = LexSarahCase(
            municipality_id=report.municipality,
            provider_id=contract.provider_id,
            contract_id=contract.id,
            category=CATEGORY.key(report.category),
            event_on=report.event_on,
            provider_received_on=report.provider_received_on,
            received_on=report.received_on,
            registered_by=report.registered_by,
            registration_run_id=run_id,
            flow_run_id=run_id,
        )
        session.add(case)
        session.flush()
        audit(
            session,
            case,
            "registered",
            actor=report.registered_by,
            to_status=S.reported.value,
            details={"contract_id": str(contract.id), "flow_run_id": str(run_id)},
        )
        due = policy.lex_sarah.investigation_due(report.received_on)
        add_obligation(session, case, ObligationKind.lex_sarah_investigation, due)
        _letter(
            session,
            case,
            policy,
            "received",
            category=report.category.value,
            event_on=report.event_on,
            received_on=report.received_on,
            investigation_due=due,
        )
        return case.id


def _case(session: Session, case_id: uuid.UUID) -> tuple[LexSarahCase, Policy]:
    case = session.get(LexSarahCase, case_id)
    assert case is not None
    return case, policy_of(session, case)


def store_description(case_id: uuid.UUID, answer: DescriptionForm, actor: str) -> None:
    """The report's text and names: into the case, nowhere else."""
    with session_scope() as session:
        case, _ = _case(session, case_id)
        if case.status is not S.reported:
            return  # stored already
        change_status(
            session,
            case,
            S.investigating,
            actor=actor,
            reason="description stored",
            description=answer.description.strip(),
            persons=answer.persons.strip() or None,
        )


def store_assessment(case_id: uuid.UUID, answer: AssessmentForm) -> None:
    """The investigation came in and was assessed; a serious wrong starts the IVO follow-up."""
    with session_scope() as session:
        case, policy = _case(session, case_id)
        if case.status is not S.investigating:
            return
        serious = answer.serious is Seriousness.serious
        _fulfil(
            session,
            case,
            ObligationKind.lex_sarah_investigation,
            answer.investigation_received_on,
            answer.assessed_by,
        )
        change_status(
            session,
            case,
            S.ivo_pending if serious else S.closing,
            actor=answer.assessed_by,
            reason="assessed serious" if serious else "assessed not serious",
            details={"investigation_received_on": answer.investigation_received_on.isoformat()},
            investigation_received_on=answer.investigation_received_on,
            serious=serious,
            assessed_on=answer.assessed_on,
            assessed_by=answer.assessed_by,
            municipality_action=answer.municipality_action.strip() or None,
        )
        if serious:
            due = policy.lex_sarah.ivo_confirmation_due(answer.assessed_on)
            add_obligation(session, case, ObligationKind.ivo_confirmation, due)
            _letter(
                session, case, policy, "ivo-request", assessed_on=answer.assessed_on, ivo_due=due
            )


def store_ivo(case_id: uuid.UUID, answer: IvoForm) -> None:
    with session_scope() as session:
        case, _ = _case(session, case_id)
        if case.status is not S.ivo_pending:
            return
        _fulfil(
            session, case, ObligationKind.ivo_confirmation, answer.received_on, answer.registered_by
        )
        change_status(
            session,
            case,
            S.closing,
            actor=answer.registered_by,
            reason="IVO notification confirmed",
            details={"notified_on": answer.notified_on.isoformat()},
            ivo_notified_on=answer.notified_on,
            ivo_confirmation_received_on=answer.received_on,
        )


def store_closure(case_id: uuid.UUID, answer: ClosureForm) -> None:
    with session_scope() as session:
        case, policy = _case(session, case_id)
        if case.status is not S.closing:
            return
        change_status(
            session,
            case,
            S.closed,
            actor=answer.closed_by,
            reason=f"closed: {answer.closure.name}",
            closure_kind=CLOSURE.key(answer.closure),
            closed_on=answer.closed_on,
            closed_by=answer.closed_by,
            measures=answer.measures.strip(),
        )
        _letter(
            session,
            case,
            policy,
            "closed",
            closure=answer.closure.value,
            closed_on=answer.closed_on,
        )


@task(name="attach-lex-sarah-run", cache_policy=NO_CACHE, persist_result=False)
def take_over(case_id: uuid.UUID, run_id: uuid.UUID) -> uuid.UUID | None:
    return attach_run(LexSarahCase, case_id, run_id)
