"""A new or additional business manager's case in the database: registered, vetted, decided.

Every change is one transaction with its audit event and its letter in the
outbox (each with its own key), so a replayed or restarted run neither stores
nor sends anything twice. The flow (flows/business_manager_change.py) decides
where a case stands from what is stored here.

The manager's name is written once, at registration, and never read back out
of this module: views, audit events, logs and letters carry the case number.

Decision deadline: the seeds give no separate time for a manager, and the
manager is vetted "på samma sätt som vid ansökning" (Huddinge, seed 000), so the
application's decision time applies (policy `decision`, `Policy.decision_due`:
Salem six weeks, ten when notified in June-August, seed 002 §8.2), counted from
the day the notification came in. It is a `decision_deadline` obligation on the
manager, reminded by the daily sweep like an application's
(models/checks/manager_reminders.py).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import or_
from sqlmodel import Session, col, select

from models.audit import audit
from models.business_manager import BusinessManager, ManagerStatus
from models.case_lookup import CaseNotFound, attach_run, find_case, from_row, load_view
from models.contract import Contract, ContractStatus
from models.db import session_scope
from models.forms.manager import (
    ChangeKind,
    ManagerDecisionForm,
    ManagerNotification,
    ManagerOutcome,
)
from models.forms.vetting import CompletionForm, CompletionOutcome
from models.manager_vetting import MANAGER_GROUND_KEYS, MANAGER_ITEM_BY_KEY, MANAGER_ITEMS
from models.obligation import Obligation, ObligationKind
from models.policy import Policy
from models.proposal import Ground, Proposal, ProposalKind
from models.provider import Provider
from models.provider_case import find_obligation, fulfil_if_open, policy_of, provider_of
from models.provider_letters import CaseLetters
from models.state_machine import change_status
from models.sv_format import case_no
from models.vetting import round_summary
from models.vetting_steps import assessed_round, completion_request, recorded_before
from tasks.proposals import attach_review_run, propose

logger = logging.getLogger(__name__)

M = ManagerStatus
ENTITY = BusinessManager.ENTITY_TYPE

#: Contracts a manager can be notified for: in force.
IN_FORCE = (ContractStatus.active, ContractStatus.notice_given)


@dataclass(frozen=True)
class ManagerView:
    """A manager's case without the name: what the flow and its forms may show."""

    id: uuid.UUID
    case_no: str
    contract_id: uuid.UUID
    contract_no: str
    contract_status: ContractStatus
    status: ManagerStatus
    additional: bool
    notified_on: date
    decision_due: date
    policy_name: str
    references_max_age_years: int
    rounds: list[dict[str, Any]]
    completions: list[dict[str, Any]]
    decision: dict[str, Any] | None
    proposal_id: uuid.UUID | None
    proposal_run_id: uuid.UUID | None

    @property
    def last_round(self) -> dict[str, Any] | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def findings(self) -> dict[str, str] | None:
        """The last round's results, if it is a complete round (nothing missing)."""
        last = self.last_round
        if last is None or last["outcome"] == "missing":
            return None
        return {key: value["result"] for key, value in last["items"].items()}


def _load(
    session: Session, manager_id: uuid.UUID
) -> tuple[BusinessManager, Contract, Provider, Policy]:
    manager = session.get(BusinessManager, manager_id)
    if manager is None or manager.contract_id is None:
        raise CaseNotFound(f"no business manager case with id {manager_id}")
    contract = session.get(Contract, manager.contract_id)
    assert contract is not None  # a foreign key
    return manager, contract, provider_of(session, manager), policy_of(session, contract)


def _letters(
    manager: BusinessManager, contract: Contract, provider: Provider, policy: Policy
) -> CaseLetters:
    """The letters of the manager's case: each names the contract and the notification."""
    common = {
        "reason": f"ni har avtal om hemtjänst med {policy.municipality}",
        "contract_no": case_no(contract.id),
        "notified_on": manager.notified_on,
        "additional": manager.additional,
    }
    return CaseLetters(manager, contract.municipality_id, provider, policy, common)


# --------------------------------------------------------------------------- lookups


def view(session: Session, manager: BusinessManager) -> ManagerView:
    assert manager.contract_id is not None
    contract = session.get(Contract, manager.contract_id)
    assert contract is not None
    policy = policy_of(session, contract)
    deadline = find_obligation(session, manager, ObligationKind.decision_deadline)
    assert deadline is not None and manager.notified_on is not None  # made at registration
    vetting = manager.vetting or {}
    proposal = session.exec(
        select(Proposal).where(
            Proposal.kind == ProposalKind.end_manager_rejected,
            Proposal.contract_id == contract.id,
            Proposal.ground == str(manager.id),
        )
    ).first()
    return from_row(
        ManagerView,
        manager,
        case_no=case_no(manager.id),
        contract_id=contract.id,
        contract_no=case_no(contract.id),
        contract_status=contract.status,
        decision_due=deadline.due_on,
        policy_name=policy.name,
        references_max_age_years=policy.application.references_max_age_years,
        rounds=list(vetting.get("rounds", [])),
        completions=list(vetting.get("completions", [])),
        decision=vetting.get("decision"),
        proposal_id=proposal.id if proposal else None,
        proposal_run_id=proposal.flow_run_id if proposal else None,
    )


@task(name="load-manager-case", cache_policy=NO_CACHE, persist_result=False)
def load(manager_id: uuid.UUID) -> ManagerView:
    return load_view(BusinessManager, manager_id, view)


@task(name="resolve-manager-case", cache_policy=NO_CACHE, persist_result=False)
def resolve(reference: str) -> uuid.UUID:
    """The manager case with number `reference` (8 characters) or id."""
    with session_scope() as session:
        manager = find_case(session, BusinessManager, reference)
        if manager.contract_id is None or manager.vetting is None:
            raise CaseNotFound(
                f"business manager {case_no(manager.id)} was vetted with its application; "
                "continue the application instead"
            )
        return manager.id


def take_over(manager_id: uuid.UUID, flow_run_id: uuid.UUID) -> uuid.UUID | None:
    """Make `flow_run_id` the run that drives the case; return the run it replaces, if any."""
    return attach_run(BusinessManager, manager_id, flow_run_id)


# --------------------------------------------------------------------------- registration


@task(name="register-manager-notification", cache_policy=NO_CACHE, persist_result=False)
def register(form: ManagerNotification) -> uuid.UUID:
    """Store the notification and the decision deadline; return the case's id.

    The same notification again (same contract, name, day, kind) is the same
    case: its id is returned and nothing is stored or sent.

    Raises ValueError naming the field (contract) when the contract does not
    exist or is not in force: a manager can only be approved for a contract
    that runs.
    """
    with session_scope() as session:
        try:
            contract = find_case(session, Contract, form.contract)
        except CaseNotFound as error:
            raise ValueError(f"contract: {error}") from None
        if contract.status not in IN_FORCE:
            raise ValueError(
                f"contract: contract {case_no(contract.id)} is {contract.status.value}, "
                "not in force; a manager can only be notified for a running contract"
            )
        policy = policy_of(session, contract)
        if form.notified_on < (contract.starts_on or form.notified_on):
            raise ValueError(
                f"notified_on: {form.notified_on.isoformat()} is before contract "
                f"{case_no(contract.id)} started"
            )
        # A resumed run replays the flow from the top (prefect-notes.md A1), and staff
        # may register the same notification twice: both find the stored case.
        known = session.exec(
            select(BusinessManager).where(
                BusinessManager.contract_id == contract.id,
                BusinessManager.full_name == form.manager_name,
                BusinessManager.notified_on == form.notified_on,
                BusinessManager.additional == (form.change is ChangeKind.additional),
            )
        ).first()
        if known is not None:
            return known.id
        manager = BusinessManager(
            provider_id=contract.provider_id,
            contract_id=contract.id,
            full_name=form.manager_name,
            notified_on=form.notified_on,
            additional=form.change is ChangeKind.additional,
            registered_by=form.registered_by,
            case_officer_email=form.case_officer_email,
            vetting={"rounds": [], "completions": []},
        )
        session.add(manager)
        session.flush()
        due = policy.decision_due(form.notified_on)
        audit(
            session,
            manager,
            "notified",
            actor=form.registered_by,
            to_status=M.proposed,
            details={
                "contract_id": str(contract.id),
                "additional": manager.additional,
                "notified_on": form.notified_on.isoformat(),
                "decision_due": due.isoformat(),
            },
        )
        session.add(
            Obligation(
                kind=ObligationKind.decision_deadline,
                municipality_id=contract.municipality_id,
                provider_id=contract.provider_id,
                subject_type=ENTITY,
                subject_id=manager.id,
                due_on=due,
            )
        )
        logger.info(
            "Manager case %s registered for contract %s; decision due %s",
            case_no(manager.id),
            case_no(contract.id),
            due.isoformat(),
        )
        return manager.id


@task(name="start-manager-review", cache_policy=NO_CACHE, persist_result=False)
def start_review(manager_id: uuid.UUID) -> None:
    with session_scope() as session:
        manager, _, _, _ = _load(session, manager_id)
        if manager.status is M.proposed:
            change_status(
                session,
                manager,
                M.under_review,
                actor="system:flow",
                reason="prövningen har börjat",
            )


# --------------------------------------------------------------------------- vetting


@task(name="record-manager-vetting", cache_policy=NO_CACHE, persist_result=False)
def record_round(manager_id: uuid.UUID, round_no: int, answer: dict[str, Any]) -> str:
    """Store a vetting round; ask the provider for completions if something is missing.

    Returns the round's outcome ("complete", "missing" or "failing").
    """
    with session_scope() as session:
        manager, contract, provider, policy = _load(session, manager_id)
        vetting = dict(manager.vetting or {})
        rounds = list(vetting.get("rounds", []))
        if recorded_before(
            len(rounds) >= round_no, manager, M.under_review, "vetting cannot be recorded"
        ):
            return str(rounds[round_no - 1]["outcome"])  # stored by an earlier attempt
        record, result = assessed_round(round_no, answer, MANAGER_ITEMS, ("oldest_reference_on",))
        manager.vetting = vetting | {"rounds": [*rounds, record]}
        session.add(manager)
        details = round_summary(record)
        if result == "missing":
            reply_by, letter = completion_request(policy, record, MANAGER_ITEM_BY_KEY)
            details["reply_by"] = reply_by.isoformat()
            _letters(manager, contract, provider, policy).queue(
                session, f"completion-request:{round_no}", "manager-completion-request", letter
            )
        audit(
            session,
            manager,
            "vetted",
            actor=str(answer["decided_by"]),
            reason={
                "complete": "alla punkter godkända",
                "missing": "komplettering begärd",
                "failing": "punkter uppfylls inte; ärendet går till beslut",
            }[result],
            details=details,
        )
        logger.info("Manager case %s round %d: %s", case_no(manager.id), round_no, result)
        return result


@task(name="record-manager-completion", cache_policy=NO_CACHE, persist_result=False)
def record_completion(manager_id: uuid.UUID, round_no: int, answer: dict[str, Any]) -> None:
    """The completion came in (vetted again), or staff decide without it."""
    form = CompletionForm.model_validate(answer)
    with session_scope() as session:
        manager, _, _, _ = _load(session, manager_id)
        vetting = dict(manager.vetting or {})
        completions = list(vetting.get("completions", []))
        if any(entry["round"] == round_no for entry in completions):
            return
        received = form.outcome is CompletionOutcome.received
        entry = {
            "round": round_no,
            "received": received,
            "received_on": form.received_on.isoformat() if form.received_on else None,
            "registered_by": form.registered_by,
        }
        manager.vetting = vetting | {"completions": [*completions, entry]}
        session.add(manager)
        audit(
            session,
            manager,
            "completion_received" if received else "completion_skipped",
            actor=form.registered_by,
            reason="kompletteringen har kommit in"
            if received
            else "ingen komplettering; till beslut",
            details={"round": round_no, "received_on": entry["received_on"]},
        )


# --------------------------------------------------------------------------- decision


def _current_managers(
    session: Session, contract: Contract, manager_id: uuid.UUID
) -> list[BusinessManager]:
    """The contract's approved managers but `manager_id`: notified, or from its application."""
    belongs: list[Any] = [col(BusinessManager.contract_id) == contract.id]
    if contract.application_id is not None:
        belongs.append(col(BusinessManager.application_id) == contract.application_id)
    return list(
        session.exec(
            select(BusinessManager).where(
                BusinessManager.status == M.approved,
                col(BusinessManager.id) != manager_id,
                or_(*belongs),
            )
        ).all()
    )


@task(name="record-manager-decision", cache_policy=NO_CACHE, persist_result=False)
def record_decision(manager_id: uuid.UUID, answer: dict[str, Any], on: date) -> str:
    """Approve or reject the manager; return the new status.

    Approved: the manager is approved; unless additional, the contract's current
    manager is replaced; the contract records the change; the provider gets a
    confirmation. Rejected: the provider gets a reasoned letter, and a proposal
    to end the contract (hävning, seed 002 §4.6) waits for the committee's
    decision in "Pröva förslag" (decided there, never by the officer alone).
    One transaction either way.
    """
    form = ManagerDecisionForm.model_validate(answer)
    with session_scope() as session:
        manager, contract, provider, policy = _load(session, manager_id)
        if manager.status is not M.under_review:
            return manager.status.value  # decided already (a replay after resume)
        approve = form.outcome is ManagerOutcome.approve
        grounds = [MANAGER_GROUND_KEYS[label] for label in form.grounds]
        rounds = (manager.vetting or {}).get("rounds", [])
        last_round: dict[str, Any] = rounds[-1] if rounds else {}
        decision = {
            "approved": approve,
            "grounds": grounds,
            "decided_by": form.decided_by,
            "decided_on": form.decided_on.isoformat(),
        }
        manager.vetting = dict(manager.vetting or {}) | {"decision": decision}
        change_status(
            session,
            manager,
            M.approved if approve else M.rejected,
            actor=form.decided_by,
            reason="godkänd" if approve else "inte godkänd",
            details={"grounds": grounds, "contract_id": str(contract.id)},
            decided_on=form.decided_on,
        )
        fulfil_if_open(
            session,
            manager,
            ObligationKind.decision_deadline,
            actor=form.decided_by,
            on=form.decided_on,
            reason="beslut fattat",
        )
        letters = _letters(manager, contract, provider, policy)
        if approve:
            replaced = (
                [] if manager.additional else _current_managers(session, contract, manager.id)
            )
            for earlier in replaced:
                change_status(
                    session,
                    earlier,
                    M.replaced,
                    actor=form.decided_by,
                    reason=f"ersatt av verksamhetsansvarig {case_no(manager.id)}",
                )
            contract.updated_at = manager.updated_at
            session.add(contract)
            audit(
                session,
                contract,
                "business_manager_approved",
                actor=form.decided_by,
                reason="ytterligare verksamhetsansvarig godkänd"
                if manager.additional
                else "ny verksamhetsansvarig godkänd",
                details={
                    "business_manager_id": str(manager.id),
                    "additional": manager.additional,
                    "replaced": [str(earlier.id) for earlier in replaced],
                },
            )
            letters.queue(session, "approved", "manager-approved", {"decided_on": form.decided_on})
        else:
            notes = {
                key: value["note"]
                for key, value in last_round.get("items", {}).items()
                if value["note"].strip()
            }
            letters.queue(
                session,
                "rejected",
                "manager-rejected",
                {
                    "decided_on": form.decided_on,
                    "grounds": [
                        {"label": MANAGER_ITEM_BY_KEY[key].label, "note": notes.get(key, "")}
                        for key in grounds
                    ],
                    "motivation": form.motivation.strip(),
                },
            )
            propose(
                session,
                [
                    Ground(
                        kind=ProposalKind.end_manager_rejected,
                        contract_id=contract.id,
                        provider_id=contract.provider_id,
                        municipality_id=contract.municipality_id,
                        ground=str(manager.id),
                        details={
                            "manager_case": case_no(manager.id),
                            "manager_notified_on": (
                                manager.notified_on.isoformat() if manager.notified_on else ""
                            ),
                            "manager_decided_on": form.decided_on.isoformat(),
                            "consequence": "havning",
                        },
                    )
                ],
                on,
            )
        logger.info(
            "Manager case %s decided: %s",
            case_no(manager.id),
            "approved" if approve else "rejected",
        )
        return manager.status.value


@task(name="attach-manager-proposal-run", cache_policy=NO_CACHE, persist_result=False)
def attach_proposal_run(proposal_id: uuid.UUID, flow_run_id: uuid.UUID) -> None:
    with session_scope() as session:
        attach_review_run(session, proposal_id, flow_run_id)
