"""A warning's case as its flow sees it, and each step stored in one transaction.

Every step (issue, action plan, follow-up, the judgement at the deadline)
writes the warning's change with its audit event, its obligations and the
provider's letter together, so a replay after a resume finds the step done and
does nothing twice. Audit details hold clause keys, dates and counts; staff's
description of the deficiencies stays on the warning row and in the letter.

Rules (seed 002 §3.1-3.4, §4.5, §7.2; seed 003 "Vid allvarlig brist"):
a warning names the breached conditions and a time to remedy them; serious
deficiencies need an action plan followed up at the dates it sets; not
remedied (or no plan, or no action) leads to hävning, which the committee or
its chair decides (a proposal, `ProposalKind.end_breach`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session, col, select

from models.audit import audit, record_event
from models.calendar import roll_forward
from models.case_lookup import CaseNotFound, find_case, from_row, load_view
from models.checks.warning_reminders import PLAN_PERIOD, WARNABLE
from models.contract import Contract, ContractStatus
from models.db import session_scope
from models.forms.warning import FOLLOW_UP, PLAN, REMEDY
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import Policy
from models.proposal import Proposal, ProposalKind, ProposalStatus
from models.provider_case import (
    add_obligation,
    case_ground,
    find_obligation,
    fulfil_obligation,
    municipality_of,
    open_obligations,
    policy_of,
)
from models.provider_letters import letter_about
from models.state_machine import change_status
from models.sv_format import case_no
from models.warning import (
    ContractWarning,
    FollowUpResult,
    PlanResult,
    RemedyResult,
    WarningStatus,
)
from tasks.proposals import decide


class WarningRefused(ValueError):
    """A warning cannot be started: "field: reason" (English, ids only)."""


@dataclass(frozen=True)
class WarningCase:
    """What the flow needs to know: ids, numbers, dates and the policy's clauses."""

    contract_id: uuid.UUID
    contract_no: str
    policy_name: str
    proposal_id: uuid.UUID | None = None
    proposal_no: str | None = None
    proposal_facts: list[list[str]] = field(default_factory=list)
    warning_id: uuid.UUID | None = None


@dataclass(frozen=True)
class WarningView:
    id: uuid.UUID
    number: str
    contract_id: uuid.UUID
    contract_no: str
    contract_status: ContractStatus
    policy_name: str
    status: WarningStatus
    clauses: list[str]
    issued_on: date
    remedy_by: date
    action_plan_required: bool
    action_plan_due: date | None
    action_plan_received_on: date | None
    follow_up_dates: list[date]
    #: Follow-up dates already judged (their obligation is no longer open).
    followed_up: list[date]
    termination_proposal_id: uuid.UUID | None


@task(name="open-warning-case", cache_policy=NO_CACHE, persist_result=False)
def open_case(contract_ref: str, proposal_ref: str, run_id: uuid.UUID) -> WarningCase:
    """The contract (by number) or the sweep's proposal (by number) the run is about.

    Raises WarningRefused naming the parameter when neither or both are given,
    when nothing matches, or when the contract is not in force.
    """
    from tasks.proposals import facts

    contract_text = contract_ref.strip().lower().removeprefix("avtal").strip()
    proposal_text = proposal_ref.strip().lower().removeprefix("förslag").strip()
    if bool(contract_text) == bool(proposal_text):
        raise WarningRefused("contract: give the contract number or a proposal number (one)")
    with session_scope() as session:
        existing = session.exec(
            select(ContractWarning).where(ContractWarning.flow_run_id == run_id)
        ).first()
        proposal: Proposal | None = None
        try:
            if proposal_text:
                proposal = find_case(session, Proposal, proposal_text)
                if proposal.kind is not ProposalKind.warning_late_reports:
                    raise WarningRefused(f"proposal: {case_no(proposal.id)} is not a warning")
                contract = session.get(Contract, proposal.contract_id)
                assert contract is not None
            else:
                contract = find_case(session, Contract, contract_text)
        except CaseNotFound as error:
            raise WarningRefused(
                f"{'proposal' if proposal_text else 'contract'}: {error}"
            ) from None
        if proposal is not None and existing is None:
            existing = session.exec(
                select(ContractWarning).where(ContractWarning.proposal_id == proposal.id)
            ).first()
        if existing is None and contract.status not in WARNABLE:
            raise WarningRefused(
                f"contract: {case_no(contract.id)} is {contract.status.value}, not in force"
            )
        return WarningCase(
            contract_id=contract.id,
            contract_no=case_no(contract.id),
            policy_name=municipality_of(session, contract).policy_name,
            proposal_id=proposal.id if proposal else None,
            proposal_no=case_no(proposal.id) if proposal else None,
            proposal_facts=facts(proposal) if proposal else [],
            warning_id=existing.id if existing else None,
        )


@task(name="find-warning", cache_policy=NO_CACHE, persist_result=False)
def find_warning(reference: str) -> uuid.UUID:
    """A warning by its number ("5E6F7A8B", "varning 5E6F7A8B") or id."""
    text = reference.strip().lower().removeprefix("varning").strip()
    with session_scope() as session:
        try:
            return find_case(session, ContractWarning, text).id
        except CaseNotFound as error:
            raise WarningRefused(f"warning: {error}") from None


def proposal_status(proposal_id: uuid.UUID) -> ProposalStatus:
    with session_scope() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        return proposal.status


def remedy_date(policy: Policy, chosen: date) -> date:
    """The remedy deadline as stored: moved to the next working day when the policy rolls.

    Lag (1930:173) § 2 (domain.md §3.1): a deadline on a Saturday, Sunday, public
    holiday, midsommarafton, julafton or nyårsafton may be met on the next
    working day. E.g. 2026-06-19 (midsommarafton) -> Monday 2026-06-22.
    """
    return roll_forward(chosen) if policy.warning.remedy_roll_forward else chosen


def _letter(
    session: Session, warning: ContractWarning, *, key: str, template: str, **context: Any
) -> None:
    """A letter to the provider about the warning (the case it names is the contract)."""
    letter_about(
        session,
        warning,
        policy_of(session, warning),
        key=key,
        template=template,
        context={"case_id": warning.contract_id, "warning_no": case_no(warning.id)} | context,
    )


@task(name="issue-warning", cache_policy=NO_CACHE, persist_result=False)
def issue(
    case: WarningCase, answer: dict[str, Any], clause_keys: list[str], run_id: uuid.UUID, on: date
) -> uuid.UUID:
    """Store the warning, its obligations and the provider's letter; accept the proposal."""
    with session_scope() as session:
        if case.warning_id is not None:
            return case.warning_id  # issued already (a replay)
        contract = session.get(Contract, case.contract_id)
        assert contract is not None
        policy = policy_of(session, contract)
        remedy_by = remedy_date(policy, date.fromisoformat(answer["remedy_by"]))
        plan = bool(answer["action_plan_required"])
        plan_due = remedy_date(policy, date.fromisoformat(answer["action_plan_due"]))
        warning = ContractWarning(
            contract_id=contract.id,
            provider_id=contract.provider_id,
            municipality_id=contract.municipality_id,
            clauses=clause_keys,
            description=answer["deficiencies"].strip(),
            issued_on=on,
            remedy_by=remedy_by,
            action_plan_required=plan,
            action_plan_due=plan_due if plan else None,
            proposal_id=case.proposal_id,
            issued_by=answer["decided_by"],
            flow_run_id=run_id,
        )
        session.add(warning)
        session.flush()
        for entity_type, entity_id, action in (
            (ContractWarning.ENTITY_TYPE, warning.id, "issued"),
            (Contract.ENTITY_TYPE, contract.id, "warning_issued"),
        ):
            record_event(
                session,
                actor=warning.issued_by,
                entity_type=entity_type,
                entity_id=entity_id,
                action=action,
                to_status=WarningStatus.issued.value if entity_type != "contract" else None,
                details=warning.facts() | {"warning_id": str(warning.id)},
            )
        add_obligation(session, warning, ObligationKind.warning_remedy, remedy_by)
        if plan:
            add_obligation(session, warning, ObligationKind.action_plan, plan_due, PLAN_PERIOD)
        if case.proposal_id is not None:
            proposal = session.get(Proposal, case.proposal_id)
            assert proposal is not None
            if proposal.status is ProposalStatus.open:
                decide(
                    session,
                    proposal,
                    accept=True,
                    decided_by=warning.issued_by,
                    decided_on=on,
                    note=None,
                    details={"warning_id": str(warning.id)},
                )
        _letter(
            session,
            warning,
            key=f"warning:{warning.id}:issued",
            template="warning-issued",
            clauses=[
                {
                    "title": policy.warning.clause(key).title,
                    "source": policy.warning.clause(key).source,
                }
                for key in clause_keys
            ],
            description=warning.description,
            remedy_by=remedy_by,
            action_plan_due=warning.action_plan_due,
            basis=policy.warning.basis,
            submit_to=policy.mail.address_for("procurement"),
        )
        return warning.id


@task(name="dismiss-warning-proposal", cache_policy=NO_CACHE, persist_result=False)
def dismiss_proposal(proposal_id: uuid.UUID, by: str, note: str, on: date) -> None:
    with session_scope() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        if proposal.status is ProposalStatus.open:
            decide(session, proposal, accept=False, decided_by=by, decided_on=on, note=note)


def _view(session: Session, warning: ContractWarning) -> WarningView:
    contract = session.get(Contract, warning.contract_id)
    assert contract is not None
    done = session.exec(
        select(Obligation.period).where(
            Obligation.subject_id == warning.id,
            Obligation.kind == ObligationKind.action_plan,
            col(Obligation.period).startswith("uppf-"),
            Obligation.status != ObligationStatus.open,
        )
    ).all()
    return from_row(
        WarningView,
        warning,
        number=case_no(warning.id),
        contract_no=case_no(contract.id),
        contract_status=contract.status,
        policy_name=municipality_of(session, warning).policy_name,
        clauses=list(warning.clauses),
        follow_up_dates=sorted(date.fromisoformat(d) for d in warning.follow_up_dates),
        followed_up=sorted(date.fromisoformat(p.removeprefix("uppf-")) for p in done),
    )


@task(name="load-warning", cache_policy=NO_CACHE, persist_result=False)
def load_warning(warning_id: uuid.UUID) -> WarningView:
    return load_view(ContractWarning, warning_id, _view)


@contextmanager
def _open_warning(warning_id: uuid.UUID) -> Iterator[tuple[Session, ContractWarning]]:
    """The warning a step acts on, in the step's one transaction."""
    with session_scope() as session:
        warning = session.get(ContractWarning, warning_id)
        assert warning is not None
        yield session, warning


def _close_obligations(
    session: Session, warning: ContractWarning, actor: str, on: date, to: ObligationStatus
) -> None:
    for obligation in open_obligations(session, warning):
        values: dict[str, Any] = {"fulfilled_on": on} if to is ObligationStatus.fulfilled else {}
        change_status(session, obligation, to, actor=actor, reason="varningen avslutad", **values)


#: How a warning's open obligations close when it leaves `issued`: no longer owed
#: when the contract is gone, done with otherwise (remedied, or a proposal takes over).
_OBLIGATIONS_CLOSE_AS = {
    WarningStatus.remedied: ObligationStatus.fulfilled,
    WarningStatus.termination_proposed: ObligationStatus.fulfilled,
    WarningStatus.cancelled: ObligationStatus.cancelled,
}


def _leave_issued(
    session: Session,
    warning: ContractWarning,
    to: WarningStatus,
    *,
    actor: str,
    on: date,
    reason: str | None,
    **values: Any,
) -> None:
    """Close the warning's open obligations, then move it to `to` (audited); a warning that
    ends there (no status after it) is closed on `on`."""
    _close_obligations(session, warning, actor, on, _OBLIGATIONS_CLOSE_AS[to])
    if not ContractWarning.TRANSITIONS[to]:
        values["closed_on"] = on
    change_status(session, warning, to, actor=actor, reason=reason, **values)


def _propose_termination(
    session: Session, warning: ContractWarning, *, actor: str, on: date, why: str
) -> uuid.UUID:
    """Warning -> termination_proposed, with a proposal the committee or chair decides."""
    proposal = Proposal(
        kind=ProposalKind.end_breach,
        details={
            "warning_no": case_no(warning.id),
            "issued_on": warning.issued_on.isoformat(),
            "remedy_by": warning.remedy_by.isoformat(),
            "clauses": len(warning.clauses),
            "why": why,
        },
        proposed_on=on,
        **case_ground(warning),
    )
    session.add(proposal)
    session.flush()
    _leave_issued(
        session,
        warning,
        WarningStatus.termination_proposed,
        actor=actor,
        on=on,
        reason=why,
        details={"proposal_id": str(proposal.id)},
        termination_proposal_id=proposal.id,
    )
    return proposal.id


def _cancel_if_contract_gone(
    session: Session, warning: ContractWarning, actor: str, on: date
) -> bool:
    contract = session.get(Contract, warning.contract_id)
    assert contract is not None
    if contract.status in WARNABLE:
        return False
    why = f"avtalet är inte längre i kraft ({contract.status.value})"
    _leave_issued(session, warning, WarningStatus.cancelled, actor=actor, on=on, reason=why)
    return True


@task(name="register-action-plan", cache_policy=NO_CACHE, persist_result=False)
def register_plan(warning_id: uuid.UUID, answer: dict[str, Any], on: date) -> None:
    """The provider's action plan came in (follow-ups at its dates), or it did not (hävning)."""
    with _open_warning(warning_id) as (session, warning):
        if warning.status is not WarningStatus.issued or warning.action_plan_received_on:
            return  # stored already (a replay)
        by = answer["decided_by"]
        if _cancel_if_contract_gone(session, warning, by, on):
            return
        if PLAN.key(answer["outcome"]) is not PlanResult.received:
            _propose_termination(
                session, warning, actor=by, on=on, why="ingen åtgärdsplan har kommit in"
            )
            return
        received = date.fromisoformat(answer["received_on"])
        dates = sorted({date.fromisoformat(d) for d in answer["follow_up_dates"]})
        warning.action_plan_received_on = received
        warning.follow_up_dates = [d.isoformat() for d in dates]
        session.add(warning)
        plan = find_obligation(session, warning, ObligationKind.action_plan, PLAN_PERIOD)
        assert plan is not None  # added with the warning
        fulfil_obligation(session, plan, actor=by, on=received)
        for day in dates:
            add_obligation(session, warning, ObligationKind.action_plan, day, f"uppf-{day}")
        audit(
            session,
            warning,
            "action_plan_registered",
            actor=by,
            details={
                "received_on": received.isoformat(),
                "follow_ups": [d.isoformat() for d in dates],
            },
        )


@task(name="record-follow-up", cache_policy=NO_CACHE, persist_result=False)
def record_follow_up(warning_id: uuid.UUID, day: date, answer: dict[str, Any], on: date) -> None:
    with _open_warning(warning_id) as (session, warning):
        obligation = find_obligation(session, warning, ObligationKind.action_plan, f"uppf-{day}")
        assert obligation is not None  # added with the action plan
        if (
            warning.status is not WarningStatus.issued
            or obligation.status is not ObligationStatus.open
        ):
            return  # stored already (a replay)
        by = answer["decided_by"]
        if _cancel_if_contract_gone(session, warning, by, on):
            return
        on_track = FOLLOW_UP.key(answer["outcome"]) is FollowUpResult.on_track
        note = answer.get("note") or None
        fulfil_obligation(
            session, obligation, actor=by, on=on, reason=note, details={"on_track": on_track}
        )
        if not on_track:
            _propose_termination(
                session,
                warning,
                actor=by,
                on=on,
                why=f"åtgärder enligt åtgärdsplanen inte vidtas (uppföljning {day.isoformat()})",
            )


@task(name="judge-remedy", cache_policy=NO_CACHE, persist_result=False)
def judge_remedy(warning_id: uuid.UUID, answer: dict[str, Any], on: date) -> WarningStatus:
    """Remedied closes the warning (letter); not remedied proposes hävning."""
    with _open_warning(warning_id) as (session, warning):
        if warning.status is not WarningStatus.issued:
            return warning.status  # judged already (a replay)
        by = answer["decided_by"]
        if _cancel_if_contract_gone(session, warning, by, on):
            return warning.status
        if REMEDY.key(answer["outcome"]) is RemedyResult.remedied:
            note = answer.get("note") or None
            _leave_issued(session, warning, WarningStatus.remedied, actor=by, on=on, reason=note)
            _letter(
                session,
                warning,
                key=f"warning:{warning.id}:remedied",
                template="warning-closed",
                issued_on=warning.issued_on,
                closed_on=on,
            )
        else:
            _propose_termination(
                session,
                warning,
                actor=by,
                on=on,
                why="bristerna inte har åtgärdats inom den tid som angavs i varningen",
            )
        return warning.status


def attach_termination_review(proposal_id: uuid.UUID, flow_run_id: uuid.UUID) -> None:
    from tasks.proposals import attach_review_run

    with session_scope() as session:
        attach_review_run(session, proposal_id, flow_run_id)


def termination_decided(session: Session, proposal: Proposal, accept: bool, actor: str) -> None:
    """Called in the proposal's decision transaction (tasks/proposal_store.py)."""
    warning = session.exec(
        select(ContractWarning).where(ContractWarning.termination_proposal_id == proposal.id)
    ).first()
    if warning is None or warning.status is not WarningStatus.termination_proposed:
        return
    change_status(
        session,
        warning,
        WarningStatus.terminated if accept else WarningStatus.termination_dismissed,
        actor=actor,
        details={"proposal_id": str(proposal.id)},
        closed_on=proposal.decided_on,
    )


def breach_ground(session: Session, proposal: Proposal) -> tuple[str, str]:
    """The letter's "Skälet är att ..." and basis for a hävning after a warning."""
    policy = policy_of(session, proposal)
    details = proposal.details
    ground = f"{details['why']} (varning {details['warning_no']})"
    return ground, policy.warning.basis
