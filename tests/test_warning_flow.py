"""Warnings and contract endings end to end, under the real served deployments.

"Utfärda varning" and "Avsluta avtal" are started and their forms answered
through the Prefect client, as the UI does; the daily sweep reminds staff; a
termination after a warning is decided in "Pröva förslag". Letters arrive at
a real SMTP server (aiosmtpd); the audit trail of each case is read back in
order. App database on SQLite and PostgreSQL (tests/prefect_stack.py).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from flows.names import (
    COMPLIANCE_SWEEP,
    END_CONTRACT,
    END_CONTRACT_FLOW,
    ISSUE_WARNING,
    WARNING_FLOW,
)
from models.audit import AuditEvent
from models.calendar import roll_forward
from models.clock import today as stockholm_today
from models.contract import Contract, ContractEndKind, ContractStatus
from models.customer_count import CustomerCount
from models.forms.warning import clause_label, ground_label
from models.monthly_report import MonthlyReport
from models.policy import load_policy
from models.proposal import Proposal, ProposalKind, ProposalStatus
from models.sv_format import case_no, sv_date
from models.warning import ContractWarning, WarningStatus
from tests.factories import make_provider
from tests.prefect_stack import Stack, wait_until
from tests.smtp_fixtures import ReceivedMessage

pytestmark = pytest.mark.prefect

SALEM = load_policy("salem")
STAFF = SALEM.mail.staff_recipient
OFFICER = "Handläggare Test"
DECISION = {"decision_body": "Nämnden", "paragraph": "§ 45"}


def _plain(received: ReceivedMessage) -> str:
    part = received.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _label(key: str) -> str:
    return clause_label(SALEM.warning.clause(key))


def _next_julafton() -> date:
    today = stockholm_today()
    this_year = date(today.year, 12, 24)
    return this_year if today < this_year - timedelta(days=1) else date(today.year + 1, 12, 24)


def _contract(stack: Stack, customers: int = 7) -> tuple[Contract, str]:
    with Session(stack.engine, expire_on_commit=False) as session:
        provider = make_provider(session)
        contract = Contract(
            provider_id=provider.id,
            municipality_id="salem",
            status=ContractStatus.active,
            services=["service"],
            capacity_hours_per_month=100,
            starts_on=date(2026, 1, 1),
            ends_on=date(2027, 12, 31),
            publicly_listed=True,
        )
        session.add(contract)
        session.flush()
        session.add(
            CustomerCount(
                contract_id=contract.id,
                provider_id=provider.id,
                municipality_id="salem",
                period="2026-10",
                customers=customers,
                performed_minutes=600,
                registered_by="test",
            )
        )
        session.commit()
        return contract, provider.email


def _trail(stack: Stack, entity_id: uuid.UUID) -> list[tuple[str, str | None]]:
    with Session(stack.engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_id == str(entity_id))
            .order_by(col(AuditEvent.id))
        ).all()
        return [(event.action, event.to_status) for event in events]


def _warning_of(stack: Stack, contract_id: uuid.UUID) -> ContractWarning:
    def found() -> ContractWarning | None:
        with Session(stack.engine) as session:
            return session.exec(
                select(ContractWarning).where(ContractWarning.contract_id == contract_id)
            ).first()

    return wait_until("the warning", found, 60)


def _mail_with(stack: Stack, address: str, subject_part: str) -> ReceivedMessage:
    def found() -> ReceivedMessage | None:
        for message in stack.mail_to(address):
            if subject_part in str(message.message["Subject"]):
                return message
        return None

    return wait_until(f"a letter to {address} about {subject_part!r}", found, 90)


def _warning_answer(remedy_by: date, **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "outcome": "Utfärda varning",
        "clauses": [_label("carrying_out"), _label("quality_assurance")],
        "deficiencies": "Genomförandeplaner saknas för nya uppdrag.\nNyckelrutinen följs inte.",
        "remedy_by": remedy_by.isoformat(),
        "action_plan_required": False,
        "action_plan_due": remedy_by.isoformat(),
        "note": "",
        "decided_by": OFFICER,
    }
    return answer | overrides


def _sweep(stack: Stack, as_of: date) -> None:
    run = stack.start("compliance-sweep", COMPLIANCE_SWEEP, {"as_of": as_of.isoformat()})
    done = stack.wait_final(run, timeout=180)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]


def test_warning_remedied_at_the_deadline(stack: Stack) -> None:
    contract, provider_email = _contract(stack)
    number = case_no(contract.id)
    run = stack.start(WARNING_FLOW, ISSUE_WARNING, {"contract": f"avtal {number}"})
    stack.wait_paused(run, "varning")
    assert "Välj villkoren" in stack.form_description(run, "varning")

    # A deadline already passed is refused and asked again, the answer kept.
    stack.resume(run, _warning_answer(stockholm_today()))
    stack.wait_paused(run, "varning-forsok-2")
    assert "Åtgärdas senast" in stack.form_description(run, "varning-forsok-2")

    # Julafton: the deadline moves to the next working day (lag 1930:173 § 2).
    chosen = _next_julafton()
    rolled = roll_forward(chosen)
    assert rolled > chosen
    stack.resume(run, _warning_answer(chosen))
    stack.wait_paused(run, "bedomning")
    description = stack.form_description(run, "bedomning")
    assert sv_date(rolled) in description and "Genomförandeplaner" not in description

    letter = _mail_with(stack, provider_email, "Varning")
    text = _plain(letter)
    assert _label("carrying_out") in text and _label("quality_assurance") in text
    assert "Genomförandeplaner saknas för nya uppdrag." in text
    assert sv_date(rolled, weekday=True) in text
    assert "avtalet hävs (förfrågningsunderlaget §4.5 och §7.2)" in text
    warning = _warning_of(stack, contract.id)
    assert warning.remedy_by == rolled and warning.status is WarningStatus.issued

    # The sweep on the deadline reminds staff with a link to this run.
    _sweep(stack, rolled)
    reminder = _mail_with(stack, STAFF, f"Varning {case_no(warning.id)}")
    assert f"/runs/flow-run/{run}" in _plain(reminder)

    stack.resume(
        run,
        {
            "outcome": "Bristerna är åtgärdade",
            "judged_on": rolled.isoformat(),
            "note": "",
            "decided_by": OFFICER,
        },
    )
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    assert done.name == f"varning {case_no(warning.id)} avtal {number}"
    closed = _mail_with(stack, provider_email, "Varningen är avslutad")
    assert "Bristerna är åtgärdade" in _plain(closed)

    with Session(stack.engine) as session:
        stored = session.get(ContractWarning, warning.id)
        assert stored is not None and stored.status is WarningStatus.remedied
        still = session.get(Contract, contract.id)
        assert still is not None and still.status is ContractStatus.active
    assert _trail(stack, warning.id) == [("issued", "issued"), ("status_changed", "remedied")]
    assert _trail(stack, contract.id) == [("warning_issued", None)]


def test_not_remedied_is_terminated_only_by_the_committee(stack: Stack) -> None:
    contract, provider_email = _contract(stack, customers=12)
    run = stack.start(WARNING_FLOW, ISSUE_WARNING, {"contract": case_no(contract.id)})
    stack.wait_paused(run, "varning")
    remedy_by = roll_forward(stockholm_today() + timedelta(days=40))
    plan_due = roll_forward(stockholm_today() + timedelta(days=10))
    stack.resume(
        run,
        _warning_answer(remedy_by, action_plan_required=True, action_plan_due=plan_due.isoformat()),
    )
    # Serious deficiencies: the action plan, followed up at the date it sets.
    stack.wait_paused(run, "atgardsplan")
    follow_up = plan_due + timedelta(days=7)
    stack.resume(
        run,
        {
            "outcome": "Åtgärdsplanen har kommit in",
            "received_on": stockholm_today().isoformat(),
            "follow_up_dates": [follow_up.isoformat()],
            "decided_by": OFFICER,
        },
    )
    stack.wait_paused(run, f"uppfoljning-{follow_up.isoformat()}")
    stack.resume(
        run, {"outcome": "Åtgärderna vidtas enligt planen", "note": "", "decided_by": OFFICER}
    )
    stack.wait_paused(run, "bedomning")
    # Not remedied before the last day is refused; on the day it is accepted.
    early = {
        "outcome": "Bristerna är inte åtgärdade",
        "judged_on": (remedy_by - timedelta(days=1)).isoformat(),
        "note": "Genomförandeplaner saknas fortfarande.",
        "decided_by": OFFICER,
    }
    stack.resume(run, early)
    stack.wait_paused(run, "bedomning-forsok-2")
    stack.resume(run, early | {"judged_on": remedy_by.isoformat()})
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]

    warning = _warning_of(stack, contract.id)
    assert warning.status is WarningStatus.termination_proposed
    assert warning.termination_proposal_id is not None

    def review_run() -> uuid.UUID | None:
        with Session(stack.engine) as session:
            proposal = session.get(Proposal, warning.termination_proposal_id)
            return proposal.flow_run_id if proposal else None

    review = wait_until("the review run", review_run, 60)
    stack.wait_paused(review, "beslut")
    assert "Hävning" in stack.form_description(review, "beslut")

    # The officer alone cannot terminate (seed 002 §4.5): asked again, nothing ended.
    alone = {"outcome": "Avsluta avtalet", "last_day": remedy_by.isoformat(), "decided_by": OFFICER}
    stack.resume(review, alone)
    stack.wait_paused(review, "beslut-forsok-2")
    assert "Beslutande organ" in stack.form_description(review, "beslut-forsok-2")
    with Session(stack.engine) as session:
        untouched = session.get(Contract, contract.id)
        assert untouched is not None and untouched.status is ContractStatus.active
    stack.resume(review, alone | DECISION | {"meeting_on": remedy_by.isoformat()})
    ended = stack.wait_final(review)
    assert ended.state is not None and ended.state.is_completed(), stack.log()[-3000:]

    with Session(stack.engine) as session:
        stored = session.get(Contract, contract.id)
        assert stored is not None
        assert (stored.status, stored.end_kind, stored.ended_on, stored.publicly_listed) == (
            ContractStatus.ended,
            ContractEndKind.havning,
            remedy_by,
            False,
        )
        decided = session.get(ContractWarning, warning.id)
        assert decided is not None and decided.status is WarningStatus.terminated
        proposal = session.get(Proposal, warning.termination_proposal_id)
        assert proposal is not None and proposal.status is ProposalStatus.accepted
    letter = _plain(_mail_with(stack, provider_email, "Avtalet hävs"))
    assert "bristerna inte har åtgärdats" in letter and "§ 45" in letter
    assert "förfrågningsunderlaget §4.5 och §7.2" in letter
    omval = _plain(_mail_with(stack, STAFF, "ordna omval (avtal " + case_no(contract.id)))
    assert "12 kunder" in omval and "ickevalsordningen" in omval

    assert _trail(stack, warning.id) == [
        ("issued", "issued"),
        ("action_plan_registered", None),
        ("status_changed", "termination_proposed"),
        ("status_changed", "terminated"),
    ]
    assert _trail(stack, contract.id) == [
        ("warning_issued", None),
        ("status_changed", "ended"),
    ]


def _end_run(stack: Stack, contract: Contract, action: str) -> uuid.UUID:
    return stack.start(
        END_CONTRACT_FLOW, END_CONTRACT, {"contract": case_no(contract.id), "action": action}
    )


def test_interim_termination_then_reinstated_or_terminated(stack: Stack) -> None:
    today = stockholm_today()
    kept, kept_email = _contract(stack, customers=4)
    run = _end_run(stack, kept, "Interimistisk hävning (fara för kunderna)")
    stack.wait_paused(run, "interim")
    interim = {"from_day": today.isoformat(), "note": "", "decided_by": OFFICER}
    stack.resume(run, interim)  # no decision body: the officer alone cannot
    stack.wait_paused(run, "interim-forsok-2")
    stack.resume(
        run,
        interim
        | {
            "decision_body": "Nämndens ordförande (delegation)",
            "meeting_on": today.isoformat(),
            "paragraph": "§ 3",
        },
    )
    stack.wait_paused(run, "utredning")
    with Session(stack.engine) as session:
        paused = session.get(Contract, kept.id)
        assert paused is not None
        assert (paused.status, paused.publicly_listed) == (
            ContractStatus.interim_terminated,
            False,
        )
    assert "Nämndens ordförande" in _plain(_mail_with(stack, kept_email, "interimistiskt"))
    assert "4 kunder" in _plain(_mail_with(stack, STAFF, "interimistiskt: ordna omval"))
    stack.resume(
        run,
        {
            "outcome": "Återställ avtalet",
            "last_day": today.isoformat(),
            "meeting_on": today.isoformat(),
            "decided_by": OFFICER,
        },
    )
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    _mail_with(stack, kept_email, "Avtalet gäller igen")
    with Session(stack.engine) as session:
        back = session.get(Contract, kept.id)
        assert back is not None and (back.status, back.publicly_listed) == (
            ContractStatus.active,
            True,
        )
    assert [to for _, to in _trail(stack, kept.id)] == ["interim_terminated", "active"]

    gone, gone_email = _contract(stack)
    run = _end_run(stack, gone, "Interimistisk hävning (fara för kunderna)")
    stack.wait_paused(run, "interim")
    chair = {
        "decision_body": "Nämndens ordförande (delegation)",
        "meeting_on": today.isoformat(),
        "paragraph": "§ 4",
    }
    stack.resume(run, {"from_day": today.isoformat(), "decided_by": OFFICER} | chair)
    stack.wait_paused(run, "utredning")
    final = {
        "outcome": "Häv avtalet slutligt",
        "last_day": today.isoformat(),
        "decided_by": OFFICER,
    }
    stack.resume(run, final | {"meeting_on": today.isoformat()})  # no body: asked again
    stack.wait_paused(run, "utredning-forsok-2")
    stack.resume(run, final | DECISION | {"meeting_on": today.isoformat()})
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    assert "utredningen" in _plain(_mail_with(stack, gone_email, "Avtalet hävs"))
    assert [to for _, to in _trail(stack, gone.id)] == ["interim_terminated", "ended"]


def test_a_lost_interim_run_is_continued_at_the_investigation(stack: Stack) -> None:
    today = stockholm_today()
    contract, _ = _contract(stack)
    first = _end_run(stack, contract, "Interimistisk hävning (fara för kunderna)")
    stack.wait_paused(first, "interim")
    chair = {
        "decision_body": "Nämndens ordförande (delegation)",
        "meeting_on": today.isoformat(),
        "paragraph": "§ 5",
    }
    stack.resume(first, {"from_day": today.isoformat(), "decided_by": OFFICER} | chair)
    stack.wait_paused(first, "utredning")

    # Started again on the same contract: the stored case waits for the investigation,
    # not for a second interim decision, and the first run is retired.
    second = _end_run(stack, contract, "Interimistisk hävning (fara för kunderna)")
    stack.wait_paused(second, "utredning")
    retired = stack.wait_final(first)
    assert retired.state is not None and retired.state.is_cancelled()
    stack.resume(
        second,
        {
            "outcome": "Återställ avtalet",
            "last_day": today.isoformat(),
            "meeting_on": today.isoformat(),
            "decided_by": OFFICER,
        },
    )
    done = stack.wait_final(second)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    assert [to for _, to in _trail(stack, contract.id)] == ["interim_terminated", "active"]

    # Back in force, a new run starts a new case from the interim decision.
    third = _end_run(stack, contract, "Interimistisk hävning (fara för kunderna)")
    stack.wait_paused(third, "interim")
    # Each wait above was logged as the normal thing it is, not as an error.
    waits = [line for line in stack.log().splitlines() if "Finished in state Suspended" in line]
    assert waits and not [line for line in waits if "ERROR" in line]


def test_notice_by_the_municipality_and_by_the_provider(stack: Stack) -> None:
    municipal, municipal_email = _contract(stack)
    run = _end_run(stack, municipal, "Kommunens uppsägning")
    stack.wait_paused(run, "beslut")
    notice = {
        "given_on": "2026-08-31",
        "ground": "kommunen avvecklar valfrihetssystemet för serviceinsatser",
        "meeting_on": "2026-08-27",
        "decided_by": OFFICER,
    }
    stack.resume(run, notice)  # without the committee: asked again
    stack.wait_paused(run, "beslut-forsok-2")
    stack.resume(run, notice | DECISION)
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    text = _plain(_mail_with(stack, municipal_email, "Uppsägning av avtalet"))
    assert "28 februari 2027" in text and "6 månader" in text

    own, own_email = _contract(stack)
    run = _end_run(stack, own, "Utförarens uppsägning (registrera)")
    stack.wait_paused(run, "beslut")
    stack.resume(run, {"received_on": "2026-11-30", "decided_by": OFFICER})
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    text = _plain(_mail_with(stack, own_email, "Vi har tagit emot er uppsägning"))
    assert "28 februari 2027" in text and "3 månader" in text

    # The day after the last day the sweep ends both and tells staff (omval).
    _sweep(stack, date(2027, 3, 1))
    with Session(stack.engine) as session:
        for contract, kind in (
            (municipal, ContractEndKind.uppsagning_municipality),
            (own, ContractEndKind.uppsagning_provider),
        ):
            stored = session.get(Contract, contract.id)
            assert stored is not None
            assert (stored.status, stored.end_kind, stored.ended_on) == (
                ContractStatus.ended,
                kind,
                date(2027, 2, 28),
            )
            assert not stored.publicly_listed
    _mail_with(stack, own_email, "Avtalet upphör efter er uppsägning")
    _mail_with(stack, municipal_email, "Avtalet upphör efter vår uppsägning")
    for contract in (municipal, own):
        assert [to for _, to in _trail(stack, contract.id)] == ["notice_given", "ended"]


def test_charging_customers_ends_the_contract_at_once_by_committee_decision(stack: Stack) -> None:
    contract, provider_email = _contract(stack)
    run = _end_run(stack, contract, "Hävning eller upphörande på grund som gäller direkt")
    stack.wait_paused(run, "beslut")
    answer = {
        "ground": ground_label(SALEM.warning.immediate_ground("customer_fee")),
        "last_day": stockholm_today().isoformat(),
        "meeting_on": stockholm_today().isoformat(),
        "decided_by": OFFICER,
    }
    stack.resume(run, answer)
    stack.wait_paused(run, "beslut-forsok-2")
    stack.resume(run, answer | DECISION)
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    text = _plain(_mail_with(stack, provider_email, "Avtalet hävs"))
    assert "avgift från kund" in text and "förfrågningsunderlaget §4.5" in text


def test_a_late_reports_proposal_accepted_becomes_a_warning(stack: Stack) -> None:
    contract, provider_email = _contract(stack)
    with Session(stack.engine) as session:
        for month, received in (
            ("2026-06", "2026-07-20"),
            ("2026-07", "2026-08-17"),
            ("2026-08", "2026-09-21"),
        ):
            session.add(
                MonthlyReport(
                    contract_id=contract.id,
                    provider_id=contract.provider_id,
                    municipality_id="salem",
                    period=month,
                    received_on=date.fromisoformat(received),
                    due_on=date.fromisoformat(received) - timedelta(days=7),
                    late_working_days=5,
                    days_without_help=0,
                    missed_visit_minutes=0,
                    meals_delivered=0,
                    registered_by="test",
                )
            )
        session.commit()
    _sweep(stack, date(2026, 9, 22))

    def proposal() -> Proposal | None:
        with Session(stack.engine) as session:
            found = session.exec(
                select(Proposal).where(
                    Proposal.contract_id == contract.id,
                    Proposal.kind == ProposalKind.warning_late_reports,
                )
            ).first()
            return found if found is not None and found.flow_run_id is not None else None

    made = wait_until("the warning proposal and its run", proposal, 60)
    assert made.flow_run_id is not None
    run = made.flow_run_id
    stack.wait_paused(run, "varning")
    assert case_no(made.id) in stack.form_description(run, "varning")
    notice = _plain(_mail_with(stack, STAFF, "Varning för upprepat sena"))
    assert f"/runs/flow-run/{run}" in notice
    remedy_by = roll_forward(stockholm_today() + timedelta(days=30))
    # The clause and the text are filled in from the proposal; staff set the date.
    stack.resume(
        run,
        _warning_answer(
            remedy_by,
            clauses=[_label("deviation_reports")],
            deficiencies="Avvikelserapporterna har kommit in för sent tre gånger.",
        ),
    )
    stack.wait_paused(run, "bedomning")
    text = _plain(_mail_with(stack, provider_email, "Varning"))
    assert _label("deviation_reports") in text
    warning = _warning_of(stack, contract.id)
    assert warning.proposal_id == made.id
    with Session(stack.engine) as session:
        accepted = session.get(Proposal, made.id)
        assert accepted is not None and accepted.status is ProposalStatus.accepted
    assert _trail(stack, made.id) == [("status_changed", "accepted")]


def test_a_lost_warning_run_is_continued_by_the_warning_number(stack: Stack) -> None:
    contract, provider_email = _contract(stack)
    first = stack.start(WARNING_FLOW, ISSUE_WARNING, {"contract": case_no(contract.id)})
    stack.wait_paused(first, "varning")
    remedy_by = roll_forward(stockholm_today() + timedelta(days=20))
    stack.resume(first, _warning_answer(remedy_by))
    stack.wait_paused(first, "bedomning")
    warning = _warning_of(stack, contract.id)

    second = stack.start(WARNING_FLOW, ISSUE_WARNING, {"warning": case_no(warning.id)})
    stack.wait_paused(second, "bedomning")  # not asked to issue it again
    cancelled = stack.wait_final(first)  # the old run waiting for the same form is retired
    assert cancelled.state is not None and cancelled.state.is_cancelled()
    stack.resume(
        second,
        {
            "outcome": "Bristerna är åtgärdade",
            "judged_on": stockholm_today().isoformat(),
            "note": "",
            "decided_by": OFFICER,
        },
    )
    done = stack.wait_final(second)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    with Session(stack.engine) as session:
        warnings = session.exec(
            select(ContractWarning).where(ContractWarning.contract_id == contract.id)
        ).all()
        assert [(w.status, w.flow_run_id) for w in warnings] == [(WarningStatus.remedied, second)]
    issued = [m for m in stack.mail_to(provider_email) if "Varning:" in str(m.message["Subject"])]
    assert len(issued) == 1
    assert _trail(stack, warning.id) == [
        ("issued", "issued"),
        ("flow_run_attached", None),
        ("status_changed", "remedied"),
    ]


def test_an_interim_termination_whose_run_was_lost_is_concluded_by_a_new_run(
    stack: Stack,
) -> None:
    today = stockholm_today()
    contract, provider_email = _contract(stack)
    lost = _end_run(stack, contract, "Interimistisk hävning (fara för kunderna)")
    stack.wait_paused(lost, "interim")
    chair = {
        "decision_body": "Nämndens ordförande (delegation)",
        "meeting_on": today.isoformat(),
        "paragraph": "§ 5",
    }
    stack.resume(lost, {"from_day": today.isoformat(), "decided_by": OFFICER} | chair)
    stack.wait_paused(lost, "utredning")

    again = _end_run(stack, contract, "Interimistisk hävning (fara för kunderna)")
    stack.wait_paused(again, "utredning")  # the interim step is not asked again
    stack.resume(
        again,
        {
            "outcome": "Återställ avtalet",
            "last_day": today.isoformat(),
            "meeting_on": today.isoformat(),
            "decided_by": OFFICER,
        },
    )
    done = stack.wait_final(again)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    _mail_with(stack, provider_email, "Avtalet gäller igen")
    assert [to for _, to in _trail(stack, contract.id)] == ["interim_terminated", "active"]
