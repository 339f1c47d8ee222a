"""Warning and termination rules on real calendar dates, against a real database.

SQLite and PostgreSQL (tests/conftest.py). The flows' end-to-end paths are in
tests/test_warning_flow.py; here each rule is checked on its own: a remedy
deadline on a holiday rolls to the next working day, notice from a month end
ends on the last day of the month (lag 1930:173 § 1, leap years), a hävning
never happens without the decision body, and the sweep reminds staff on the
warning's dates once.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlmodel import Session, col, select

from models import contract_end
from models.audit import AuditEvent
from models.case_lookup import attach_run
from models.checks import warning_reminders
from models.contract import Contract, ContractEndKind, ContractStatus
from models.contract_ending import ContractEnding, EndingAction, EndingStatus
from models.forms.warning import ground_label, ground_of
from models.obligation import Obligation, ObligationKind
from models.outbox import OutgoingEmail
from models.policy import load_policy
from models.state_machine import IllegalTransition, change_status
from models.warning import ContractWarning, WarningStatus
from tasks import contract_termination
from tasks.compliance_checks import run_checks
from tasks.warning_store import remedy_date
from tests.factories import make_contract, make_municipality, make_provider

SALEM = load_policy("salem")


@pytest.mark.parametrize(
    ("chosen", "stored"),
    [
        (date(2026, 6, 19), date(2026, 6, 22)),  # midsommarafton -> Monday
        (date(2026, 12, 24), date(2026, 12, 28)),  # julafton, juldagen, annandag, Sunday
        (date(2026, 12, 31), date(2027, 1, 4)),  # nyårsafton, nyårsdagen, weekend
        (date(2027, 3, 26), date(2027, 3, 30)),  # långfredagen ... annandag påsk 2027
        (date(2028, 2, 29), date(2028, 2, 29)),  # a leap day on a Tuesday stays
        (date(2026, 6, 5), date(2026, 6, 5)),  # a Friday stays
    ],
)
def test_remedy_deadline_on_a_non_working_day_moves_to_the_next_working_day(
    chosen: date, stored: date
) -> None:
    assert remedy_date(SALEM, chosen) == stored


def _salem_contract(session: Session, **overrides: object) -> Contract:
    make_municipality(session, "salem", name="Salems kommun", policy_name="salem")
    values: dict[str, object] = {
        "municipality_id": "salem",
        "status": ContractStatus.active,
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2027, 12, 31),
        "publicly_listed": True,
    }
    contract = make_contract(session, **(values | overrides))
    session.commit()
    return contract


@pytest.mark.parametrize(
    ("received", "last_day"),
    [
        (date(2026, 11, 30), date(2027, 2, 28)),  # 30 Nov + 3 months: February's last day
        (date(2027, 11, 30), date(2027, 12, 31)),  # 2028-02-29 is after the term's end
        (date(2026, 5, 31), date(2026, 8, 31)),
    ],
)
def test_provider_notice_runs_three_months_from_the_day_it_came_in(
    session: Session, received: date, last_day: date
) -> None:
    contract = _salem_contract(session)
    assert (
        contract_termination.provider_notice(session, contract, received_on=received, actor="t")
        == last_day
    )
    session.commit()
    assert (contract.status, contract.end_kind, contract.ends_on) == (
        ContractStatus.notice_given,
        ContractEndKind.uppsagning_provider,
        last_day,
    )


def test_provider_notice_in_a_leap_year_ends_on_29_february(session: Session) -> None:
    contract = _salem_contract(session, ends_on=date(2029, 12, 31))
    got = contract_termination.provider_notice(
        session, contract, received_on=date(2027, 11, 30), actor="t"
    )
    assert got == date(2028, 2, 29)


def test_municipal_notice_from_a_month_end_runs_six_months(session: Session) -> None:
    contract = _salem_contract(session)
    decision = {"body": "committee", "meeting_on": "2026-08-27", "paragraph": "§ 12"}
    got = contract_termination.municipal_notice(
        session,
        contract,
        given_on=date(2026, 8, 31),
        ground="kommunen avvecklar valfrihetssystemet",
        decision=decision,
        actor="t",
    )
    assert got == date(2027, 2, 28)


def test_a_havning_without_the_decision_body_is_refused_and_nothing_is_stored(
    session: Session,
) -> None:
    contract = _salem_contract(session)
    for decision in (None, {"body": "committee", "meeting_on": "2026-11-30", "paragraph": ""}):
        with pytest.raises(ValueError, match="decision: a hävning needs the deciding body"):
            contract_end.end_contract(
                session,
                contract,
                last_day=date(2026, 11, 30),
                kind=ContractEndKind.havning,
                ground="x",
                basis="y",
                actor="handläggare",
                decision=decision,
            )
    session.rollback()
    stored = session.get(Contract, contract.id)
    assert stored is not None and stored.status is ContractStatus.active
    assert session.exec(select(OutgoingEmail)).all() == []


def test_interim_termination_without_the_chair_is_refused(session: Session) -> None:
    contract = _salem_contract(session)
    answer = {
        "from_day": "2026-11-30",
        "decision_body": "Ej tillämpligt",
        "meeting_on": "2026-11-30",
        "paragraph": "",
        "note": "",
        "decided_by": "handläggare",
    }
    ending = _open(contract, EndingAction.interim)
    with pytest.raises(contract_termination.TerminationRefused, match="decision_body"):
        contract_termination.apply_step.fn(ending, "interim", answer)
    session.expire_all()
    stored = session.get(Contract, contract.id)
    assert stored is not None and stored.status is ContractStatus.active
    kept = session.get(ContractEnding, ending)  # the refusal stored nothing: still waiting
    assert kept is not None and kept.status is EndingStatus.interim


def _open(contract: Contract, action: EndingAction, run: uuid.UUID | None = None) -> uuid.UUID:
    return contract_termination.open_ending.fn(contract.id, action, run or uuid.uuid4())


def test_an_ending_is_kept_per_run_and_continued_by_the_next_run(session: Session) -> None:
    contract = _salem_contract(session)
    first_run = uuid.uuid4()
    ending = _open(contract, EndingAction.interim, first_run)
    attach_run(ContractEnding, ending, first_run)
    assert _open(contract, EndingAction.interim, first_run) == ending  # a replay
    assert _open(contract, EndingAction.interim) == ending  # a new run takes it over
    notice = _open(contract, EndingAction.notice_provider)  # another action: its own case
    assert notice != ending
    chair = {
        "from_day": "2026-11-30",
        "decision_body": "Nämndens ordförande (delegation)",
        "meeting_on": "2026-11-30",
        "paragraph": "§ 3",
        "note": "",
        "decided_by": "handläggare",
    }
    assert contract_termination.apply_step.fn(ending, "interim", chair) == "interim_terminated"
    session.expire_all()
    stored = session.get(ContractEnding, ending)
    assert stored is not None and stored.status is EndingStatus.investigation
    # The provider's notice needs an active contract: refused now, naming the statuses.
    with pytest.raises(contract_termination.TerminationRefused, match="needs active"):
        _open(contract, EndingAction.notice_provider)
    reinstated = {"outcome": "Återställ avtalet", "note": "", "decided_by": "handläggare"}
    assert contract_termination.apply_step.fn(ending, "investigation", reinstated) == "active"
    session.expire_all()
    stored = session.get(ContractEnding, ending)
    assert stored is not None and stored.status is EndingStatus.done
    # Back in force: a new interim start is a new case that waits for the decision again.
    again = _open(contract, EndingAction.interim)
    assert again != ending
    fresh = session.get(ContractEnding, again)
    assert fresh is not None and fresh.status is EndingStatus.interim


def test_the_sweep_ends_a_noticed_contract_and_takes_it_off_the_lists(session: Session) -> None:
    contract = _salem_contract(session, in_no_choice_rotation=True)
    contract_termination.provider_notice(
        session, contract, received_on=date(2026, 11, 30), actor="t"
    )
    session.commit()
    run_checks(session, date(2027, 2, 28))
    session.commit()
    assert session.get(Contract, contract.id).status is ContractStatus.notice_given  # type: ignore[union-attr]
    run_checks(session, date(2027, 3, 1))
    session.commit()
    session.expire_all()
    ended = session.get(Contract, contract.id)
    assert ended is not None
    assert (ended.status, ended.ended_on, ended.publicly_listed, ended.in_no_choice_rotation) == (
        ContractStatus.ended,
        date(2027, 2, 28),
        False,
        False,
    )
    templates = {row.template for row in session.exec(select(OutgoingEmail)).all()}
    assert {"provider-notice-received", "contract-ended", "contract-ended-staff"} <= templates
    with pytest.raises(IllegalTransition):  # ended is final
        change_status(session, ended, ContractStatus.active, actor="t")


def _warning(session: Session, contract: Contract, remedy_by: date) -> ContractWarning:
    warning = ContractWarning(
        contract_id=contract.id,
        provider_id=contract.provider_id,
        municipality_id=contract.municipality_id,
        clauses=["carrying_out"],
        description="Genomförandeplaner saknas.",
        issued_on=date(2026, 12, 1),
        remedy_by=remedy_by,
        issued_by="t",
        flow_run_id=uuid.uuid4(),
    )
    session.add(warning)
    session.flush()
    session.add(
        Obligation(
            kind=ObligationKind.warning_remedy,
            municipality_id=contract.municipality_id,
            provider_id=contract.provider_id,
            subject_type=ContractWarning.ENTITY_TYPE,
            subject_id=warning.id,
            due_on=remedy_by,
        )
    )
    session.commit()
    return warning


def test_staff_are_reminded_on_the_remedy_day_once_and_not_before(session: Session) -> None:
    contract = _salem_contract(session)
    _warning(session, contract, date(2026, 12, 28))
    assert warning_reminders.queue_reminders(session, date(2026, 12, 23)) == 0
    # 24-27 December are not working days; the sweep runs again on the 28th.
    assert warning_reminders.queue_reminders(session, date(2026, 12, 28)) == 1
    assert warning_reminders.queue_reminders(session, date(2026, 12, 29)) == 0
    session.commit()
    [letter] = session.exec(
        select(OutgoingEmail).where(OutgoingEmail.template == "warning-deadline-staff")
    ).all()
    assert letter.recipients == [SALEM.mail.staff_recipient]
    assert "Genomförandeplaner" not in (letter.body_text or "")  # the description stays out


def test_no_reminder_for_a_closed_warning_or_an_ended_contract(session: Session) -> None:
    contract = _salem_contract(session)
    warning = _warning(session, contract, date(2026, 12, 28))
    warning.status = WarningStatus.remedied
    session.add(warning)
    other = _salem_contract(session, provider_id=make_provider(session).id)
    _warning(session, other, date(2026, 12, 28))
    other.status = ContractStatus.ended
    session.add(other)
    session.commit()
    assert warning_reminders.queue_reminders(session, date(2026, 12, 28)) == 0


def test_audit_of_a_provider_notice_is_one_status_change_with_the_dates(session: Session) -> None:
    contract = _salem_contract(session)
    contract_termination.provider_notice(
        session, contract, received_on=date(2026, 11, 30), actor="handläggare"
    )
    session.commit()
    [event] = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity_id == str(contract.id))
        .order_by(col(AuditEvent.id))
    ).all()
    assert (event.from_status, event.to_status, event.actor) == (
        "active",
        "notice_given",
        "handläggare",
    )
    assert event.details["last_day"] == "2027-02-28" and event.details["notice_months"] == 3


def test_a_warning_moves_only_along_its_table(session: Session) -> None:
    contract = _salem_contract(session)
    warning = _warning(session, contract, date(2026, 12, 28))
    with pytest.raises(IllegalTransition, match="'issued' to 'terminated'"):
        change_status(session, warning, WarningStatus.terminated, actor="t")
    session.rollback()
    change_status(session, warning, WarningStatus.remedied, actor="t", closed_on=date(2026, 12, 28))
    session.commit()
    with pytest.raises(IllegalTransition, match="none \\(final status\\)"):
        change_status(session, warning, WarningStatus.termination_proposed, actor="t")
    [event] = session.exec(select(AuditEvent).where(AuditEvent.entity_id == str(warning.id))).all()
    assert (event.from_status, event.to_status) == ("issued", "remedied")


def test_a_lost_ivo_permit_ends_a_stockholm_contract_without_a_committee(
    session: Session,
) -> None:
    make_municipality(session, "stockholm", name="Stockholms stad", policy_name="stockholm")
    contract = make_contract(
        session,
        municipality_id="stockholm",
        status=ContractStatus.active,
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
        publicly_listed=True,
    )
    session.commit()
    ground = load_policy("stockholm").warning.immediate_ground("ivo_permit")
    answer = {
        "ground": ground_label(ground),
        "last_day": "2026-11-30",
        "decision_body": "Ej tillämpligt",
        "meeting_on": "2026-11-30",
        "paragraph": "",
        "note": "",
        "decided_by": "handläggare",
    }
    ending = _open(contract, EndingAction.immediate)
    assert contract_termination.apply_step.fn(ending, "immediate", answer) == "ended"
    session.expire_all()
    ended = session.get(Contract, contract.id)
    assert ended is not None
    assert (ended.end_kind, ended.ended_on, ended.publicly_listed) == (
        ContractEndKind.upphor,
        date(2026, 11, 30),
        False,
    )
    # A replay of the same answer changes nothing.
    assert contract_termination.apply_step.fn(ending, "immediate", answer) == "ended"
    letters = session.exec(select(OutgoingEmail)).all()
    assert sorted(row.template for row in letters) == ["contract-ended", "contract-ended-staff"]
    assert "IVO" in letters[0].body_text or "IVO" in letters[1].body_text


def test_an_immediate_ground_is_found_by_its_label_and_an_unknown_label_names_the_field() -> None:
    grounds = load_policy("stockholm").warning.immediate_grounds
    ground = load_policy("stockholm").warning.immediate_ground("ivo_permit")
    assert ground_of(grounds, ground_label(ground)) is ground
    with pytest.raises(ValueError, match="^ground: "):
        ground_of(grounds, "Grund som inte finns")
