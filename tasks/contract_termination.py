"""Ending a contract by staff's hand: interim termination, grounds that apply at once, notice.

Rules (domain.md §4):
- Hävning for deficiencies is decided by the committee (nämnd), delegable only
  to its chair; "Vid misstanke om allvarlig brist i verksamheten som utgör fara
  för kund får ordföranden i socialnämnden besluta om att interimistiskt häva
  avtalet under utredningstiden" (seed 002 §4.5). The investigation then ends
  in a final hävning or the contract back in force.
- Grounds that end a contract at once (policy `[warning].immediate_grounds`):
  Salem, charging customers for assessed services, "hävs" (seed 002 §4.5);
  Stockholm, the IVO permit lost or revoked, the contract ends (seed 003).
- Notice (uppsägning): the municipality's `notice_municipality_months` (6),
  the provider's `notice_provider_months` (3) (seed 002 §4.1, seed 003),
  counted from the day given (lag 1930:173 § 1: 30 November + 3 months is
  28 February), or the term's end if that comes first.

Each function is one step in the caller's transaction, audited through
`change_status`, with its letters in the outbox under their own keys; each
checks the contract's status first, so a replay does nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session, select

from models import contract_end
from models.base import utcnow
from models.case_lookup import CaseNotFound, attach_run, find_case, from_row, load_view
from models.contract import (
    Contract,
    ContractEndKind,
    ContractStatus,
    DecidingBody,
    InvestigationResult,
)
from models.contract_end import _letter, _letter_decision, latest_customers
from models.contract_ending import ContractEnding, EndingAction, EndingStatus
from models.db import session_scope
from models.forms.fields import DECIDING_BODY, DecisionBody
from models.forms.keys import Labels
from models.forms.warning import INVESTIGATION, EndAction, ground_of
from models.policy import ImmediateGround
from models.provider_case import municipality_of, policy_of
from models.state_machine import change_status
from models.sv_format import case_no


class TerminationRefused(ValueError):
    """The contract is not in a status where this step applies ("contract: ...")."""


#: The statuses the steps start from: in force, terminated for the time being, active.
IN_FORCE = (ContractStatus.active, ContractStatus.notice_given)
INTERIM = (ContractStatus.interim_terminated,)
ACTIVE = (ContractStatus.active,)


def _require(contract: Contract, *allowed: ContractStatus) -> None:
    if contract.status not in allowed:
        raise TerminationRefused(
            f"contract: is {contract.status.value}; this step needs "
            + " or ".join(status.value for status in allowed)
        )


def interim_terminate(
    session: Session,
    contract: Contract,
    *,
    from_day: date,
    decision: dict[str, Any],
    actor: str,
    note: str | None,
) -> None:
    """The chair terminates for the time being; off the list, staff move the customers."""
    _require(contract, *IN_FORCE)
    change_status(
        session,
        contract,
        ContractStatus.interim_terminated,
        actor=actor,
        reason=note,
        details={"from_day": from_day.isoformat(), "decision": decision},
        publicly_listed=False,
        in_no_choice_rotation=False,
    )
    policy = policy_of(session, contract)
    letter_decision = _letter_decision(decision)
    _letter(
        session,
        contract,
        key=f"contract:{contract.id}:interim:{from_day.isoformat()}",
        template="contract-interim-terminated",
        from_day=from_day,
        decision=letter_decision,
        basis=policy.warning.basis,
    )
    _letter(
        session,
        contract,
        key=f"contract:{contract.id}:interim:{from_day.isoformat()}:staff",
        template="contract-interim-staff",
        to_staff=True,
        from_day=from_day,
        customers=latest_customers(session, contract),
    )


def reinstate(session: Session, contract: Contract, *, actor: str, note: str | None) -> None:
    """The investigation found no ground: the contract is back in force and on the list."""
    _require(contract, *INTERIM)
    policy = policy_of(session, contract)
    change_status(
        session,
        contract,
        ContractStatus.active,
        actor=actor,
        reason=note,
        details={"reinstated": True},
        publicly_listed=True,
        in_no_choice_rotation=policy.contract.no_choice_rotation,
    )
    _letter(
        session,
        contract,
        key=f"contract:{contract.id}:reinstated",
        template="contract-reinstated",
    )


def end_on_ground(
    session: Session,
    contract: Contract,
    *,
    ground: ImmediateGround,
    last_day: date,
    decision: dict[str, Any] | None,
    actor: str,
) -> None:
    """End the contract at once on a ground of the policy (hävning or upphör)."""
    _require(contract, *IN_FORCE, *INTERIM)
    contract_end.end_contract(
        session,
        contract,
        last_day=last_day,
        kind=ContractEndKind(ground.consequence),
        ground=ground.ground,
        basis=ground.source,
        actor=actor,
        decision=decision,
    )


def final_havning(
    session: Session, contract: Contract, *, last_day: date, decision: dict[str, Any], actor: str
) -> None:
    """The investigation after an interim termination ends in hävning."""
    _require(contract, *INTERIM)
    policy = policy_of(session, contract)
    contract_end.end_contract(
        session,
        contract,
        last_day=last_day,
        kind=ContractEndKind.havning,
        ground="utredningen efter den interimistiska hävningen visade allvarliga brister i "
        "verksamheten som utgör fara för kunderna",
        basis=policy.warning.basis,
        actor=actor,
        decision=decision,
    )


def provider_notice(session: Session, contract: Contract, *, received_on: date, actor: str) -> date:
    """Register the provider's own notice; returns the last day in force.

    `notice_provider_months` after the notice came in, or the term's end if sooner.
    """
    _require(contract, *ACTIVE)
    policy = policy_of(session, contract)
    months = policy.contract.notice_provider_months
    last_day = contract_end.enter_notice(
        session,
        contract,
        months=months,
        from_day=received_on,
        kind=ContractEndKind.uppsagning_provider,
        reason="utföraren har sagt upp avtalet",
        end_reason="utförarens uppsägning",
        actor=actor,
        details={"received_on": received_on.isoformat()},
    )
    _letter(
        session,
        contract,
        key=f"contract:{contract.id}:provider-notice",
        template="provider-notice-received",
        received_on=received_on,
        notice_months=months,
        ends_on=last_day,
        basis=policy.contract.basis,
    )
    return last_day


def municipal_notice(
    session: Session,
    contract: Contract,
    *,
    given_on: date,
    ground: str,
    decision: dict[str, Any],
    actor: str,
) -> date:
    _require(contract, *ACTIVE)
    return contract_end.give_notice(
        session, contract, given_on=given_on, ground=ground, actor=actor, decision=decision
    )


# ------------------------------------------------------------------ the flow's steps


@dataclass(frozen=True)
class ContractRef:
    id: uuid.UUID
    number: str
    status: ContractStatus
    end_kind: ContractEndKind | None
    policy_name: str
    starts_on: date | None
    ends_on: date | None


@dataclass(frozen=True)
class EndingView:
    """A stored ending case and its contract as the run sees them (keys, dates, statuses)."""

    id: uuid.UUID
    action: EndingAction
    status: EndingStatus
    contract: ContractRef


#: The form's labels of each action (the row keeps the key).
END_ACTION = Labels(EndingAction, EndAction)

#: The contract statuses each action starts from. An interim-terminated contract
#: may be started on again for "interim": the investigation's end is then asked.
STARTS_FROM: dict[EndingAction, tuple[ContractStatus, ...]] = {
    EndingAction.interim: IN_FORCE + INTERIM,
    EndingAction.immediate: IN_FORCE + INTERIM,
    EndingAction.notice_municipality: ACTIVE,
    EndingAction.notice_provider: ACTIVE,
}


def _ref(session: Session, contract: Contract) -> ContractRef:
    return from_row(
        ContractRef,
        contract,
        number=case_no(contract.id),
        policy_name=municipality_of(session, contract).policy_name,
    )


@task(name="load-contract-for-ending", cache_policy=NO_CACHE, persist_result=False)
def load_contract(reference: str) -> ContractRef:
    """The contract by its number ("9F4F7CA2", "avtal 9F4F7CA2") or id."""
    text = reference.strip().lower().removeprefix("avtal").strip()
    with session_scope() as session:
        try:
            contract = find_case(session, Contract, text)
        except CaseNotFound as error:
            raise TerminationRefused(f"contract: {error}") from None
        return _ref(session, contract)


@task(name="open-contract-ending", cache_policy=NO_CACHE, persist_result=False)
def open_ending(contract_id: uuid.UUID, action: EndingAction, flow_run_id: uuid.UUID) -> uuid.UUID:
    """The ending case this run walks: its own (a replay), one still open, or a new one.

    A new case needs the contract in a status the action starts from, and for a
    ground that applies at once, a policy that has such grounds.
    """
    with session_scope() as session:
        own = session.exec(
            select(ContractEnding).where(ContractEnding.flow_run_id == flow_run_id)
        ).first()
        if own is not None:
            return own.id
        contract = session.get(Contract, contract_id)
        assert contract is not None
        if contract.status not in STARTS_FROM[action]:
            raise TerminationRefused(
                f"contract: {case_no(contract.id)} is {contract.status.value}; "
                f"'{END_ACTION.text[action]}' needs "
                + ", ".join(status.value for status in STARTS_FROM[action])
            )
        waiting = session.exec(
            select(ContractEnding).where(
                ContractEnding.contract_id == contract_id,
                ContractEnding.action == action,
                ContractEnding.status != EndingStatus.done,
            )
        ).first()
        if waiting is not None:
            return waiting.id  # the runner takes it over from its earlier run
        policy = policy_of(session, contract)
        if action is EndingAction.immediate and not policy.warning.immediate_grounds:
            raise TerminationRefused(
                f"action: the policy {policy.name!r} has no grounds that end a contract at once"
            )
        if action is not EndingAction.interim:
            status = EndingStatus.decision
        elif contract.status is ContractStatus.interim_terminated:
            status = EndingStatus.investigation
        else:
            status = EndingStatus.interim
        ending = ContractEnding(contract_id=contract_id, action=action, status=status)
        session.add(ending)
        session.flush()
        return ending.id


def _ending_view(session: Session, ending: ContractEnding) -> EndingView:
    contract = session.get(Contract, ending.contract_id)
    assert contract is not None
    return from_row(EndingView, ending, contract=_ref(session, contract))


@task(name="load-contract-ending", cache_policy=NO_CACHE, persist_result=False)
def load_ending(ending_id: uuid.UUID) -> EndingView:
    return load_view(ContractEnding, ending_id, _ending_view)


def take_over_ending(ending_id: uuid.UUID, flow_run_id: uuid.UUID) -> uuid.UUID | None:
    return attach_run(ContractEnding, ending_id, flow_run_id)


def decision_of(answer: dict[str, Any]) -> dict[str, Any] | None:
    """The committee's or chair's decision from a form, or None ("Ej tillämpligt")."""
    body = DECIDING_BODY.key(answer.get("decision_body", DecisionBody.not_applicable))
    if body is DecidingBody.not_applicable:
        return None
    return {
        "body": body.value,
        "meeting_on": answer["meeting_on"],
        "paragraph": answer["paragraph"].strip(),
    }


def _day(answer: dict[str, Any], name: str) -> date:
    return date.fromisoformat(answer[name])


def _decided(answer: dict[str, Any], needs: str) -> dict[str, Any]:
    """The decision a step cannot do without (the form's check asks for it first)."""
    decision = decision_of(answer)
    if decision is None:
        raise TerminationRefused(f"decision_body: {needs}")
    return decision


def _by(answer: dict[str, Any]) -> str:
    return str(answer["decided_by"])


def _note(answer: dict[str, Any]) -> str | None:
    return (answer.get("note") or "").strip() or None


def _interim(session: Session, contract: Contract, answer: dict[str, Any]) -> None:
    interim_terminate(
        session,
        contract,
        from_day=_day(answer, "from_day"),
        decision=_decided(answer, "interim hävning needs the chair"),
        actor=_by(answer),
        note=_note(answer),
    )


def _investigation(session: Session, contract: Contract, answer: dict[str, Any]) -> None:
    if INVESTIGATION.key(answer["outcome"]) is InvestigationResult.terminate:
        final_havning(
            session,
            contract,
            last_day=_day(answer, "last_day"),
            decision=_decided(answer, "hävning needs the committee"),
            actor=_by(answer),
        )
    else:
        reinstate(session, contract, actor=_by(answer), note=_note(answer))


def _immediate(session: Session, contract: Contract, answer: dict[str, Any]) -> None:
    end_on_ground(
        session,
        contract,
        ground=ground_of(policy_of(session, contract).warning.immediate_grounds, answer["ground"]),
        last_day=_day(answer, "last_day"),
        decision=decision_of(answer),
        actor=_by(answer),
    )


def _notice_municipality(session: Session, contract: Contract, answer: dict[str, Any]) -> None:
    municipal_notice(
        session,
        contract,
        given_on=_day(answer, "given_on"),
        ground=answer["ground"].strip(),
        decision=_decided(answer, "notice needs the committee"),
        actor=_by(answer),
    )


def _notice_provider(session: Session, contract: Contract, answer: dict[str, Any]) -> None:
    provider_notice(session, contract, received_on=_day(answer, "received_on"), actor=_by(answer))


@dataclass(frozen=True)
class _Step:
    """An answered step: the contract statuses it acts on, and what it does then.

    A contract in another status has passed the step (a replay, or it ended
    another way meanwhile): the answer changes nothing.
    """

    acts_on: tuple[ContractStatus, ...]
    act: Callable[[Session, Contract, dict[str, Any]], None]


#: The steps by the flow's store key (flows/contract_termination.py).
_STEPS = {
    "interim": _Step(IN_FORCE, _interim),
    "investigation": _Step(INTERIM, _investigation),
    "immediate": _Step(IN_FORCE + INTERIM, _immediate),
    "notice_municipality": _Step(ACTIVE, _notice_municipality),
    "notice_provider": _Step(ACTIVE, _notice_provider),
}


def _apply(session: Session, contract: Contract, step: str, answer: dict[str, Any]) -> None:
    """One answered step on the contract; a step whose status has passed changes nothing."""
    if step not in _STEPS:
        raise ValueError(f"step: unknown step {step!r}")
    if contract.status in _STEPS[step].acts_on:
        _STEPS[step].act(session, contract, answer)


@task(name="apply-contract-ending", cache_policy=NO_CACHE, persist_result=False)
def apply_step(ending_id: uuid.UUID, step: str, answer: dict[str, Any]) -> str:
    """Apply one answered step and move the case on; returns the contract's status after.

    The case moves on even where the contract's status had already passed the
    step (a replay, or the contract ended another way meanwhile), so the run
    never waits twice for one answer.
    """
    with session_scope() as session:
        ending = session.get(ContractEnding, ending_id)
        assert ending is not None
        contract = session.get(Contract, ending.contract_id)
        assert contract is not None
        _apply(session, contract, step, answer)
        interim_in_force = contract.status is ContractStatus.interim_terminated
        if step == "interim" and interim_in_force:
            ending.status = EndingStatus.investigation
        else:
            ending.status = EndingStatus.done
        ending.updated_at = utcnow()
        session.add(ending)
        return contract.status.value
