"""Proposals (förslag): the grounds the sweep finds, stored once, for a person to decide.

`propose` adds many proposals in one INSERT ... ON CONFLICT DO NOTHING on the
(kind, contract, ground) key, so a second sweep, a re-run or two sweeps at once
propose each ground once. `decide` records the person's decision with its
audit event; what the decision does to the contract is up to the caller
(models/contract_end.py), in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Table
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.base import new_id, utcnow
from models.contract import Contract
from models.db import session_scope
from models.municipality import Municipality
from models.policy import load_policy
from models.proposal import PROPOSAL_TITLES, Ground, Proposal, ProposalKind, ProposalStatus
from models.provider import Provider
from models.reminder_ladder import queue_new, run_url
from models.reminders import Letter
from models.state_machine import change_status
from models.sv_format import case_no

PROPOSAL = cast(Table, Proposal.__table__)  # type: ignore[attr-defined]

#: Kinds decided in the "Pröva förslag" flow; a warning proposal is taken up by
#: the warnings flow instead (issue 5), so no review run is started for it.
REVIEWED_KINDS = (
    ProposalKind.end_inactivity,
    ProposalKind.notice_low_volume,
    ProposalKind.contract_term,
    ProposalKind.lex_sarah_follow_up,
    ProposalKind.end_manager_rejected,
    ProposalKind.end_breach,
)
#: Kinds taken up in a run of "Utfärda varning" (flows/warning_and_termination.py).
WARNING_KINDS = (ProposalKind.warning_late_reports,)


def propose(session: Session, grounds: Sequence[Ground], as_of: date) -> int:
    """Store the proposals not made before; return how many are new."""
    if not grounds:
        return 0
    # Most grounds were proposed on earlier days: find those with one query and
    # send only the new ones (ON CONFLICT below still settles a race).
    known = set(
        session.execute(
            core_select(col(Proposal.kind), col(Proposal.contract_id), col(Proposal.ground)).where(
                col(Proposal.contract_id).in_({ground.contract_id for ground in grounds})
            )
        ).all()
    )
    grounds = [g for g in grounds if (g.kind, g.contract_id, g.ground) not in known]
    if not grounds:
        return 0
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "kind": ground.kind.value,
            "municipality_id": ground.municipality_id,
            "provider_id": ground.provider_id,
            "contract_id": ground.contract_id,
            "ground": ground.ground,
            "details": ground.details,
            "proposed_on": as_of,
            "status": ProposalStatus.open.value,
            "created_at": now,
            "updated_at": now,
        }
        for ground in grounds
    ]
    dialect = session.get_bind().dialect.name
    insert: Any = (postgresql if dialect == "postgresql" else sqlite).insert(PROPOSAL)
    statement = insert.on_conflict_do_nothing(
        index_elements=["kind", "contract_id", "ground"]
    ).returning(PROPOSAL.c.id)
    return len(session.execute(statement, rows).all())


def _without_run(session: Session, kinds: Sequence[ProposalKind]) -> list[Proposal]:
    return list(
        session.exec(
            select(Proposal).where(
                Proposal.status == ProposalStatus.open,
                col(Proposal.kind).in_([kind.value for kind in kinds]),
                col(Proposal.flow_run_id).is_(None),
            )
        ).all()
    )


def awaiting_review_run(session: Session) -> list[Proposal]:
    """Open proposals of the reviewed kinds that no review run has been started for."""
    return _without_run(session, REVIEWED_KINDS)


def awaiting_warning_run(session: Session) -> list[Proposal]:
    """Open warning proposals that no "Utfärda varning" run has been started for."""
    return _without_run(session, WARNING_KINDS)


def attach_review_run(session: Session, proposal_id: uuid.UUID, flow_run_id: uuid.UUID) -> None:
    proposal = session.get(Proposal, proposal_id)
    if proposal is not None and proposal.flow_run_id != flow_run_id:
        proposal.flow_run_id = flow_run_id
        session.add(proposal)


def queue_staff_letters(session: Session, as_of: date) -> int:
    """Tell staff once about each open proposal (with a link to its review run, if any).

    A reviewed kind waits until its run exists, so the letter can link to it;
    one query for all open proposals.
    """
    rows = session.exec(
        select(Proposal, Contract, Provider, Municipality)
        .join(Contract, col(Contract.id) == col(Proposal.contract_id))
        .join(Provider, col(Provider.id) == col(Proposal.provider_id))
        .join(Municipality, col(Municipality.id) == col(Proposal.municipality_id))
        .where(Proposal.status == ProposalStatus.open)
    ).all()
    letters = []
    for proposal, contract, provider, municipality in rows:
        if proposal.kind in REVIEWED_KINDS + WARNING_KINDS and proposal.flow_run_id is None:
            continue
        policy = load_policy(municipality.policy_name)
        reviewed = proposal.kind in REVIEWED_KINDS + WARNING_KINDS
        letters.append(
            Letter(
                key=f"proposal:{proposal.id}:staff",
                template="proposal-for-staff",
                policy=policy,
                recipient=policy.mail.staff_recipient,
                case_type=Contract.ENTITY_TYPE,
                case_id=contract.id,
                context={
                    "title": PROPOSAL_TITLES[proposal.kind],
                    "proposal_no": case_no(proposal.id),
                    "company_name": provider.name,
                    "facts": facts(proposal),
                    "action": (
                        "Öppna körningen (länken nedan), tryck på Resume och fyll i beslutet."
                        if proposal.kind in REVIEWED_KINDS
                        else "Öppna körningen (länken nedan), tryck på Resume och utfärda "
                        "varningen eller avvisa förslaget."
                        if reviewed
                        else "Pröva om en varning ska utfärdas (se den dagliga kontrollens "
                        "tabell Efterlevnad)."
                    ),
                    "run_link": run_url(proposal.flow_run_id) if reviewed else None,
                    "reason": "du handlägger avtal i valfrihetssystemet i lovflow",
                },
            )
        )
    return queue_new(session, letters)


# --------------------------------------------------------------------------- the sweep's tasks


@task(name="proposals-awaiting-review", cache_policy=NO_CACHE, persist_result=False)
def awaiting_review() -> list[str]:
    """Ids of open proposals that need a "Pröva förslag" run and have none yet."""
    with session_scope() as session:
        return [str(proposal.id) for proposal in awaiting_review_run(session)]


@task(name="warning-proposals-awaiting-run", cache_policy=NO_CACHE, persist_result=False)
def awaiting_warning() -> list[str]:
    """Ids of open warning proposals that need an "Utfärda varning" run and have none yet."""
    with session_scope() as session:
        return [str(proposal.id) for proposal in awaiting_warning_run(session)]


@task(name="attach-review-run", cache_policy=NO_CACHE, persist_result=False)
def attach_review(proposal_id: str, flow_run_id: str) -> None:
    """Store the run that takes the proposal up, so it is started once."""
    with session_scope() as session:
        attach_review_run(session, uuid.UUID(proposal_id), uuid.UUID(flow_run_id))


@task(name="queue-proposal-letters", cache_policy=NO_CACHE, persist_result=False)
def queue_proposal_letters(as_of: date) -> int:
    """Queue staff's letter about each open proposal once; return how many are new."""
    with session_scope() as session:
        return queue_staff_letters(session, as_of)


_FACT_LABELS = {
    "since_month": "Inga kunder sedan",
    "months_without": "Månader utan kunder",
    "judged_month": "Senaste månad med kundantal",
    "customers": "Antal kunder",
    "contract_months": "Avtalets ålder (månader)",
    "ends_on": "Avtalet löper ut",
    "late_reports": "Sena avvikelserapporter",
    "window_months": "Under de senaste (månader)",
    "latest_late_period": "Senast sena rapporten avsåg",
    "consequence": "Följd enligt avtalet",
    "lex_sarah_case": "Lex Sarah-ärende",
    "serious": "Allvarligt missförhållande",
    "cases_in_window": "Lex Sarah-ärenden för avtalet under perioden",
    "manager_case": "Ärende om verksamhetsansvarig",
    "manager_notified_on": "Anmälan om verksamhetsansvarig kom in",
    "manager_decided_on": "Verksamhetsansvarig godkändes inte den",
    "warning_no": "Varning",
    "issued_on": "Varningen utfärdades",
    "remedy_by": "Åtgärdas senast",
    "clauses": "Antal villkor som inte uppfylls",
    "why": "Skäl",
}

_CONSEQUENCE_TEXT = {"havning": "avtalet hävs", "upphor": "avtalet upphör utan uppsägning"}


def facts(proposal: Proposal) -> list[list[str]]:
    """The proposal's details as [label, value] pairs in Swedish (ids, counts, dates)."""
    pairs = []
    for key, label in _FACT_LABELS.items():
        if key not in proposal.details:
            continue
        value = proposal.details[key]
        text = _CONSEQUENCE_TEXT.get(str(value), str(value)) if key == "consequence" else str(value)
        pairs.append([label, text])
    return pairs


def decide(
    session: Session,
    proposal: Proposal,
    *,
    accept: bool,
    decided_by: str,
    decided_on: date,
    note: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record a person's decision on a proposal (audited); the caller acts on the contract."""
    change_status(
        session,
        proposal,
        ProposalStatus.accepted if accept else ProposalStatus.dismissed,
        actor=decided_by,
        reason=note,
        details=details,
        decided_by=decided_by,
        decided_on=decided_on,
        decision_note=note,
    )
