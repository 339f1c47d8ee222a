"""A proposal as the review flow sees it, the checks on staff's answer, and the decision applied.

Every decision is one transaction: the proposal's status (audited, with who and
why), the contract's change (models/contract_end.py, audited) and the
provider's letter in the outbox. A termination (hävning) or a notice is
refused without the decision body, date and paragraph: the committee or its
chair decides, never the officer alone (seed 002 §4.5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from models import contract_end
from models.calendar import is_working_day, roll_forward
from models.case_lookup import find_case
from models.contract import Contract, ContractEndKind, ContractStatus
from models.db import session_scope
from models.forms.fields import DECIDING_BODY, DecisionBody
from models.forms.proposal import (
    EndForm,
    EndOutcome,
    FollowUpForm,
    FollowUpOutcome,
    NoticeForm,
    NoticeOutcome,
    TermForm,
    TermOutcome,
)
from models.manager_vetting import MANAGER_REJECTION_BASIS
from models.obligation import ObligationKind
from models.proposal import PROPOSAL_TITLES, Proposal, ProposalKind, ProposalStatus
from models.provider_case import add_obligation, policy_of
from models.sv_format import case_no, sv_date
from tasks import warning_store
from tasks.proposals import decide, facts


@dataclass(frozen=True)
class ProposalView:
    id: uuid.UUID
    case_no: str
    kind: ProposalKind
    status: ProposalStatus
    title: str
    facts: list[list[str]]
    details: dict[str, Any]
    contract_id: uuid.UUID
    contract_no: str
    contract_status: ContractStatus
    contract_starts_on: date | None
    contract_ends_on: date | None
    consequence: str
    notice_months: int
    extension_years: int
    follow_up_days: int = 30


@task(name="load-proposal", cache_policy=NO_CACHE, persist_result=False)
def load_proposal(reference: str) -> ProposalView:
    with session_scope() as session:
        proposal = find_case(session, Proposal, reference)
        contract = session.get(Contract, proposal.contract_id)
        assert contract is not None  # a foreign key
        policy = policy_of(session, proposal)
        return ProposalView(
            id=proposal.id,
            case_no=case_no(proposal.id),
            kind=proposal.kind,
            status=proposal.status,
            title=PROPOSAL_TITLES[proposal.kind],
            facts=facts(proposal),
            details=dict(proposal.details),
            contract_id=contract.id,
            contract_no=case_no(contract.id),
            contract_status=contract.status,
            contract_starts_on=contract.starts_on,
            contract_ends_on=contract.ends_on,
            # A manager who is not approved: "avtalet hävs" (seed 002 §4.6), a decision.
            consequence=(
                "havning"
                if proposal.kind is ProposalKind.end_manager_rejected
                else policy.inactivity.consequence
            ),
            notice_months=policy.contract.notice_municipality_months,
            extension_years=policy.contract.extension_years,
            follow_up_days=policy.lex_sarah.contract_follow_up_days,
        )


def _decision_problems(answer: EndForm | NoticeForm, what: str) -> list[str]:
    missing = []
    if answer.decision_body is DecisionBody.not_applicable:
        missing.append("Beslutande organ")
    if not answer.paragraph.strip():
        missing.append("Paragraf")
    if not missing:
        return []
    return [
        f"{', '.join(missing)}: {what} beslutas av nämnden eller dess ordförande, aldrig av "
        "handläggaren ensam (förfrågningsunderlaget §4.5). Fyll i organ, beslutsdatum och "
        "paragraf."
    ]


def _dismiss_problems(note: str) -> list[str]:
    return [] if note.strip() else ["Motivering: skriv varför förslaget avvisas."]


def end_problems(view: ProposalView, answer: EndForm) -> list[str]:
    if answer.outcome is EndOutcome.dismiss:
        return _dismiss_problems(answer.note)
    problems = []
    # A termination after a warning is always a hävning (seed 002 §4.5, §7.2).
    if view.consequence == "havning" or view.kind is ProposalKind.end_breach:
        problems += _decision_problems(answer, "Hävning")
    if view.contract_starts_on is not None and answer.last_day < view.contract_starts_on:
        problems.append(
            f"Sista dag avtalet gäller: kan inte ligga före avtalets start "
            f"{sv_date(view.contract_starts_on)}."
        )
    return problems


def notice_problems(view: ProposalView, answer: NoticeForm) -> list[str]:
    if answer.outcome is NoticeOutcome.dismiss:
        return _dismiss_problems(answer.note)
    return _decision_problems(answer, "Uppsägning")


def term_problems(view: ProposalView, answer: TermForm) -> list[str]:
    return []


def follow_up_default(view: ProposalView, on: date) -> date:
    """The follow-up's last day, filled in: the policy's days (local practice), a working day."""
    return roll_forward(on + timedelta(days=view.follow_up_days))


def follow_up_problems(view: ProposalView, answer: FollowUpForm) -> list[str]:
    if answer.outcome is FollowUpOutcome.dismiss:
        return _dismiss_problems(answer.note)
    if not is_working_day(answer.follow_up_by):
        return [f"Uppföljningen görs senast: {sv_date(answer.follow_up_by)} är inte en vardag."]
    return []


def _decision(answer: EndForm | NoticeForm) -> dict[str, Any] | None:
    if answer.decision_body is DecisionBody.not_applicable:
        return None
    return {
        "body": DECIDING_BODY.key(answer.decision_body).value,
        "meeting_on": answer.meeting_on.isoformat(),
        "paragraph": answer.paragraph.strip(),
    }


#: Proposals that end the contract when accepted (decided with an `EndForm`).
END_KINDS = (
    ProposalKind.end_inactivity,
    ProposalKind.end_manager_rejected,
    ProposalKind.end_breach,
)


def _end_terms(
    session: Session, proposal: Proposal, contract: Contract
) -> tuple[ContractEndKind, str, str]:
    """How an accepted end proposal ends the contract: the kind of end, and the letter's
    ground ("Skälet är att ...") and basis."""
    details = proposal.details
    if proposal.kind is ProposalKind.end_breach:
        ground, basis = warning_store.breach_ground(session, proposal)
        return ContractEndKind.havning, ground, basis
    if proposal.kind is ProposalKind.end_manager_rejected:
        notified_on = sv_date(date.fromisoformat(details["manager_notified_on"]))
        ground = f"den verksamhetsansvariga som ni anmälde den {notified_on} inte godkändes"
        return ContractEndKind.havning, ground, MANAGER_REJECTION_BASIS
    rule = policy_of(session, contract).inactivity
    ground = (
        f"ni inte har haft några kunder under {details['months_without']} "
        f"månader i följd (sedan {details['since_month']})"
    )
    return ContractEndKind(rule.consequence), ground, rule.basis


@task(name="apply-proposal-decision", cache_policy=NO_CACHE, persist_result=False)
def apply_decision(proposal_id: uuid.UUID, answer: dict[str, Any], on: date) -> str:
    """Store the decision and act on the contract; return the proposal's new status."""
    with session_scope() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        if proposal.status is not ProposalStatus.open:
            return proposal.status.value  # decided already (a replay after resume)
        contract = session.get(Contract, proposal.contract_id)
        assert contract is not None
        if proposal.kind in END_KINDS:
            form = EndForm.model_validate(answer)
            accept = form.outcome is EndOutcome.end
            decide_on(session, proposal, accept, form.decided_by, on, form.note, _decision(form))
            if accept:
                kind, ground, basis = _end_terms(session, proposal, contract)
                contract_end.end_contract(
                    session,
                    contract,
                    last_day=form.last_day,
                    kind=kind,
                    ground=ground,
                    basis=basis,
                    actor=form.decided_by,
                    decision=_decision(form),
                )
            if proposal.kind is ProposalKind.end_breach:
                warning_store.termination_decided(session, proposal, accept, form.decided_by)
        elif proposal.kind is ProposalKind.notice_low_volume:
            notice = NoticeForm.model_validate(answer)
            accept = notice.outcome is NoticeOutcome.notice
            decide_on(
                session, proposal, accept, notice.decided_by, on, notice.note, _decision(notice)
            )
            if accept:
                details = proposal.details
                contract_end.give_notice(
                    session,
                    contract,
                    given_on=notice.given_on,
                    ground=(
                        f"ni har haft {details['customers']} kunder efter "
                        f"{details['contract_months']} månader med avtal"
                    ),
                    actor=notice.decided_by,
                    decision=_decision(notice),
                )
        elif proposal.kind is ProposalKind.lex_sarah_follow_up:
            follow = FollowUpForm.model_validate(answer)
            accept = follow.outcome is FollowUpOutcome.follow_up
            decide_on(session, proposal, accept, follow.decided_by, on, follow.note, None)
            if accept:
                # One follow-up per lex Sarah case (the proposal's ground is the case's id).
                period = f"lex-sarah-{proposal.ground[:8]}"
                add_obligation(
                    session,
                    contract,
                    ObligationKind.contract_follow_up,
                    follow.follow_up_by,
                    period,
                )
        else:
            term = TermForm.model_validate(answer)
            decide_on(session, proposal, True, term.decided_by, on, term.note, None)
            if term.outcome is TermOutcome.extend:
                contract_end.extend(session, contract, actor=term.decided_by, note=term.note)
            else:
                contract_end.let_term_end(session, contract, actor=term.decided_by, note=term.note)
        return proposal.status.value


def decide_on(
    session: Any,
    proposal: Proposal,
    accept: bool,
    by: str,
    on: date,
    note: str,
    decision: dict[str, Any] | None,
) -> None:
    decide(
        session,
        proposal,
        accept=accept,
        decided_by=by,
        decided_on=on,
        note=note.strip() or None,
        details={"decision": decision} if decision else None,
    )


@task(name="close-stale-proposal", cache_policy=NO_CACHE, persist_result=False)
def close_if_moot(proposal_id: uuid.UUID, on: date) -> bool:
    """Dismiss a proposal whose contract is no longer active (ended, or notice given since)."""
    with session_scope() as session:
        proposal = session.get(Proposal, proposal_id)
        contract = session.get(Contract, proposal.contract_id) if proposal else None
        if proposal is None or contract is None or proposal.status is not ProposalStatus.open:
            return False
        if contract.status is ContractStatus.active:
            return False
        decide(
            session,
            proposal,
            accept=False,
            decided_by="system:flow",
            decided_on=on,
            note=f"avtalet är inte längre aktivt ({contract.status.value})",
        )
        return True
