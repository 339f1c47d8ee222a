"""A new or additional business manager end to end, under real served deployments.

Staff register the notification through "Ny verksamhetsansvarig", answer the
forms through the Prefect client (as the UI's Resume button does), and the
tests check the stored case, its audit trail and the letters a real SMTP
server received: approval after a completion (the earlier manager replaced),
rejection with the contract ended by the committee in "Pröva förslag", a lost
run continued with "Fortsätt verksamhetsansvarig", and the daily sweep's
reminders to the case officer across Christmas. App database on SQLite and on
PostgreSQL (tests/prefect_stack.py).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.states import Cancelled
from sqlmodel import Session, col, select

from flows.names import COMPLIANCE_SWEEP, CONTINUE_MANAGER, MANAGER_FLOW, NEW_MANAGER
from models.audit import AuditEvent
from models.business_manager import BusinessManager, ManagerStatus
from models.clock import today as stockholm_today
from models.contract import Contract, ContractEndKind, ContractStatus
from models.customer_count import CustomerCount
from models.forms.vetting import AssessmentChoice
from models.manager_vetting import MANAGER_ITEMS
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import load_policy
from models.proposal import Proposal, ProposalKind, ProposalStatus
from models.sv_format import case_no
from tests.factories import make_provider
from tests.prefect_stack import Stack, wait_until

pytestmark = pytest.mark.prefect

OFFICER = "Handläggare Test"
#: The manager's name: it must appear in no run name, log, form description or artifact.
NAME = "Ingrid Xylofonsson"


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _contract(stack: Stack, *, customers: int | None = None) -> tuple[Contract, str]:
    """An active Salem contract with its approved manager (from the application)."""
    with Session(stack.engine, expire_on_commit=False) as session:
        provider = make_provider(session)
        contract = Contract(
            provider_id=provider.id,
            municipality_id="salem",
            status=ContractStatus.active,
            services=["service", "omvardnad"],
            capacity_hours_per_month=400,
            starts_on=date(2026, 10, 1),
            ends_on=date(2028, 9, 30),
        )
        session.add(contract)
        session.flush()
        session.add(
            BusinessManager(
                provider_id=provider.id,
                contract_id=contract.id,
                full_name="Tidigare Ansvarig",
                status=ManagerStatus.approved,
                notified_on=date(2026, 8, 3),
            )
        )
        if customers is not None:
            session.add(
                CustomerCount(
                    contract_id=contract.id,
                    provider_id=provider.id,
                    municipality_id="salem",
                    period="2026-10",
                    customers=customers,
                    performed_minutes=6000,
                    registered_by="test",
                )
            )
        session.commit()
        return contract, provider.email


def _notification(contract: Contract, **overrides: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "contract": f"avtal {case_no(contract.id)}",
        "manager_name": NAME,
        "change": "Ny verksamhetsansvarig (ersätter den nuvarande)",
        "notified_on": (stockholm_today() - timedelta(days=2)).isoformat(),
        "case_officer_email": f"handlaggare-{tag}@salem.example",
        "registered_by": OFFICER,
    }
    return values | overrides


def _vetting(
    notified_on: date, *, missing: tuple[str, ...] = (), failing: tuple[str, ...] = ()
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "decided_by": OFFICER,
        "decided_on": stockholm_today().isoformat(),
        "oldest_reference_on": (notified_on - timedelta(days=500)).isoformat(),
    }
    for item in MANAGER_ITEMS:
        if item.key in missing:
            answer[item.key] = {"result": AssessmentChoice.missing, "note": f"{item.key} saknas"}
        elif item.key in failing:
            answer[item.key] = {
                "result": AssessmentChoice.failing,
                "note": f"{item.key} uppfylls ej",
            }
        else:
            answer[item.key] = {"result": AssessmentChoice.approved, "note": ""}
    return answer


def _decision(*, approve: bool, grounds: list[str] | None = None, motivation: str = "") -> dict:  # type: ignore[type-arg]
    return {
        "outcome": "Godkänn den verksamhetsansvariga"
        if approve
        else "Godkänn inte (avtalet går till hävning)",
        "grounds": grounds or [],
        "motivation": motivation,
        "decided_by": OFFICER,
        "decided_on": stockholm_today().isoformat(),
    }


def _case(stack: Stack, contract: Contract) -> BusinessManager:
    def found() -> BusinessManager | None:
        with Session(stack.engine) as session:
            return session.exec(
                select(BusinessManager).where(
                    BusinessManager.contract_id == contract.id,
                    BusinessManager.full_name == NAME,
                )
            ).first()

    return wait_until("the manager case", found, 30)


def _trail(stack: Stack, entity_id: uuid.UUID) -> list[tuple[str, str | None]]:
    with Session(stack.engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_id == str(entity_id))
            .order_by(col(AuditEvent.id))
        ).all()
    times = [event.at for event in events]
    assert times == sorted(times), "audit events out of order"
    return [(event.action, event.to_status) for event in events]


def _no_name_in_prefect(stack: Stack, run_ids: list[uuid.UUID]) -> None:
    """The name is in the registering run's parameters only: not in names, logs, artifacts."""
    assert NAME not in stack.log()
    with stack.client() as client:
        for run_id in run_ids:
            assert NAME not in (client.read_flow_run(run_id).name or "")
        for artifact in client.read_artifacts():
            assert NAME not in str(artifact.data) and NAME not in (artifact.description or "")
        logs = client.read_logs()
        assert all(NAME not in log.message for log in logs)


def test_manager_approved_after_completion_replaces_the_current_one(stack: Stack) -> None:
    contract, provider_email = _contract(stack)
    form = _notification(contract)
    notified = date.fromisoformat(form["notified_on"])
    run = stack.start(MANAGER_FLOW, NEW_MANAGER, {"notification": form})

    stack.wait_paused(run, "provning-1")
    manager = _case(stack, contract)
    number = case_no(manager.id)
    assert stack.read(run).name == f"verksamhetsansvarig {number} · Prövning, omgång 1"
    description = stack.form_description(run, "provning-1")
    assert case_no(contract.id) in description and NAME not in description
    with Session(stack.engine) as session:
        deadline = session.exec(select(Obligation).where(Obligation.subject_id == manager.id)).one()
    assert deadline.kind is ObligationKind.decision_deadline
    assert deadline.due_on == load_policy("salem").decision_due(notified)

    # References approved without their date: refused, asked again with the reason on top.
    undated = _vetting(notified) | {"oldest_reference_on": None}
    stack.resume(run, undated)
    stack.wait_paused(run, "provning-1-forsok-2")
    again = stack.form_description(run, "provning-1-forsok-2")
    assert again.startswith("> **Svaret kunde inte sparas.**")
    assert "Äldsta referensens datum" in again

    # The CV is missing: the provider is asked for exactly that.
    stack.resume(run, _vetting(notified, missing=("cv",)))
    stack.wait_paused(run, "komplettering-1")
    [request] = stack.wait_mail(provider_email, 1)
    assert "Komplettering om verksamhetsansvarig" in str(request.message["Subject"])
    text = _text(request.message)
    assert "Meritförteckning med betyg och intyg" in text and "cv saknas" in text
    assert "Utbildning" not in text and NAME not in text

    stack.resume(
        run,
        {
            "outcome": "Kompletteringen har kommit in",
            "received_on": stockholm_today().isoformat(),
            "registered_by": OFFICER,
        },
    )
    stack.wait_paused(run, "provning-2")
    stack.resume(run, _vetting(notified))
    stack.wait_paused(run, "beslut")
    stack.resume(run, _decision(approve=True))
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]

    letters = stack.wait_mail(provider_email, 2)
    [confirmation] = [m.message for m in letters if "godkänd" in str(m.message["Subject"])]
    assert "verksamhetsansvarig godkänd" in str(confirmation["Subject"])
    assert "ersätter den som tidigare var godkänd" in _text(confirmation)
    with Session(stack.engine) as session:
        managers = {
            m.full_name: m.status
            for m in session.exec(
                select(BusinessManager).where(BusinessManager.contract_id == contract.id)
            ).all()
        }
        stored = session.get(Obligation, deadline.id)
        assert stored is not None
    assert stored.status is ObligationStatus.fulfilled, (
        _trail(stack, deadline.id),
        _trail(stack, manager.id),
        stack.log()[-3000:],
    )
    assert managers == {NAME: ManagerStatus.approved, "Tidigare Ansvarig": ManagerStatus.replaced}
    assert _trail(stack, manager.id) == [
        ("notified", "proposed"),
        ("flow_run_attached", None),
        ("status_changed", "under_review"),
        ("vetted", None),
        ("completion_received", None),
        ("vetted", None),
        ("status_changed", "approved"),
    ]
    assert ("business_manager_approved", None) in _trail(stack, contract.id)
    _no_name_in_prefect(stack, [run])


def test_manager_rejected_and_contract_ended_by_the_committee(stack: Stack) -> None:
    contract, provider_email = _contract(stack, customers=7)
    form = _notification(contract, change="Ytterligare verksamhetsansvarig")
    notified = date.fromisoformat(form["notified_on"])
    run = stack.start(MANAGER_FLOW, NEW_MANAGER, {"notification": form})
    stack.wait_paused(run, "provning-1")
    manager = _case(stack, contract)

    stack.resume(run, _vetting(notified, failing=("exclusion_conviction",)))
    stack.wait_paused(run, "beslut")
    # Approving a manager with a failing item is refused and asked again.
    stack.resume(run, _decision(approve=True))
    stack.wait_paused(run, "beslut-forsok-2")
    assert "kan inte godkännas" in stack.form_description(run, "beslut-forsok-2")
    stack.resume(
        run,
        _decision(
            approve=False,
            grounds=["Uteslutning: dom som vunnit laga kraft för brott i yrkesutövningen"],
            motivation="Dom för brott i yrkesutövningen enligt belastningsregistret.",
        ),
    )
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]

    [rejection] = stack.wait_mail(provider_email, 1)
    assert "godkänns inte" in str(rejection.message["Subject"])
    letter = _text(rejection.message)
    assert "exclusion_conviction uppfylls ej" in letter and "belastningsregistret" in letter
    assert "hävs avtalet" in letter and NAME not in letter

    def proposal_with_run() -> Proposal | None:
        with Session(stack.engine) as session:
            found = session.exec(
                select(Proposal).where(Proposal.contract_id == contract.id)
            ).first()
            return found if found is not None and found.flow_run_id is not None else None

    proposal = wait_until("the termination proposal's review run", proposal_with_run, 60)
    assert proposal.kind is ProposalKind.end_manager_rejected
    assert proposal.ground == str(manager.id)
    review = proposal.flow_run_id
    assert review is not None
    stack.wait_paused(review, "beslut")
    text = stack.form_description(review, "beslut")
    assert "verksamhetsansvarig" in text and "nämnden" in text and NAME not in text

    # The officer alone may not end the contract (seed 002 §4.5): asked again.
    last_day = stockholm_today() + timedelta(days=30)
    alone = {"outcome": "Avsluta avtalet", "last_day": last_day.isoformat(), "decided_by": "Eva"}
    stack.resume(review, alone)
    stack.wait_paused(review, "beslut-forsok-2")
    assert "Beslutande organ" in stack.form_description(review, "beslut-forsok-2")
    stack.resume(
        review,
        alone
        | {
            "decision_body": "Nämnden",
            "meeting_on": stockholm_today().isoformat(),
            "paragraph": "§ 12",
        },
    )
    ended = stack.wait_final(review)
    assert ended.state is not None and ended.state.is_completed(), stack.log()[-3000:]

    with Session(stack.engine) as session:
        stored = session.get(Contract, contract.id)
        assert stored is not None
        assert (stored.status, stored.end_kind, stored.ended_on) == (
            ContractStatus.ended,
            ContractEndKind.havning,
            last_day,
        )
        decided = session.get(Proposal, proposal.id)
        assert decided is not None and decided.status is ProposalStatus.accepted
        kept = session.exec(
            select(BusinessManager)
            .where(BusinessManager.full_name == "Tidigare Ansvarig")
            .where(BusinessManager.contract_id == contract.id)
        ).one()
        assert kept.status is ManagerStatus.approved  # additional: nobody was replaced
    letters = stack.wait_mail(provider_email, 2)
    [end_letter] = [m.message for m in letters if "hävs" in str(m.message["Subject"])]
    end_text = _text(end_letter)
    assert "inte godkändes" in end_text and "§ 12" in end_text and "Nämnden" in end_text
    staff = load_policy("salem").mail.staff_recipient

    def omval() -> EmailMessage | None:
        for received in stack.mail_to(staff):
            if case_no(contract.id) in str(received.message["Subject"]) or case_no(
                contract.id
            ) in _text(received.message):
                if "7 enligt senaste räkningen" in _text(received.message):
                    return received.message
        return None

    wait_until("the staff letter about omval with the customer count", omval, 60)
    assert _trail(stack, manager.id) == [
        ("notified", "proposed"),
        ("flow_run_attached", None),
        ("status_changed", "under_review"),
        ("vetted", None),
        ("status_changed", "rejected"),
    ]
    contract_trail = _trail(stack, contract.id)
    assert contract_trail[-1] == ("status_changed", "ended")
    _no_name_in_prefect(stack, [run, review])


def test_lost_run_is_continued_from_the_database(stack: Stack) -> None:
    contract, provider_email = _contract(stack)
    form = _notification(contract)
    notified = date.fromisoformat(form["notified_on"])
    run = stack.start(MANAGER_FLOW, NEW_MANAGER, {"notification": form})
    stack.wait_paused(run, "provning-1")
    manager = _case(stack, contract)
    stack.resume(run, _vetting(notified))
    stack.wait_paused(run, "beslut")

    with stack.client() as client:  # the run is lost (cancelled by hand)
        client.set_flow_run_state(run, Cancelled(), force=True)
    number = case_no(manager.id)
    resumed = stack.start(MANAGER_FLOW, CONTINUE_MANAGER, {"case_number": number})
    stack.wait_paused(resumed, "beslut")  # the vetting is stored: not asked again
    assert stack.read(resumed).name == f"verksamhetsansvarig {number} · Beslut"
    stack.resume(resumed, _decision(approve=True))
    done = stack.wait_final(resumed)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    stack.wait_mail(provider_email, 1)
    with Session(stack.engine) as session:
        stored = session.get(BusinessManager, manager.id)
        assert stored is not None and stored.status is ManagerStatus.approved
        assert stored.flow_run_id == resumed
    trail = _trail(stack, manager.id)
    assert trail.count(("flow_run_attached", None)) == 2
    assert trail.count(("vetted", None)) == 1
    assert len(stack.mail_to(provider_email)) == 1  # the confirmation only, once
    with stack.client() as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"verksamhetsansvarig-{number.lower()}"])
            )
        )
    # Every version of the key is kept; the last one tells the outcome.
    assert any(f"{number}: godkänd" in str(artifact.data) for artifact in arts)


def test_sweep_reminds_the_case_officer_across_christmas(stack: Stack) -> None:
    contract, _ = _contract(stack)
    # Notified Monday 16 November 2026: Salem's six weeks (seed 002 §8.2) end Monday
    # 28 December. Five working days before it, counted by hand past juldagen (25th),
    # julafton (24th, not a working day) and the weekend: 23, 22, 21, 18, 17 December.
    form = _notification(contract, notified_on="2026-11-16")
    officer = form["case_officer_email"]
    run = stack.start(MANAGER_FLOW, NEW_MANAGER, {"notification": form})
    stack.wait_paused(run, "provning-1")
    manager = _case(stack, contract)
    with Session(stack.engine) as session:
        deadline = session.exec(select(Obligation).where(Obligation.subject_id == manager.id)).one()
    assert deadline.due_on == date(2026, 12, 28)

    def sweep(day: str) -> None:
        started = stack.start("compliance-sweep", COMPLIANCE_SWEEP, {"as_of": day})
        final = stack.wait_final(started, timeout=180)
        assert final.state is not None and final.state.is_completed(), stack.log()[-3000:]

    sweep("2026-12-16")
    sweep("2026-12-17")
    [before] = stack.wait_mail(officer, 1)
    subject = str(before.message["Subject"])
    assert "Påminnelse" in subject and case_no(manager.id) in subject
    assert "Det är 5 arbetsdagar kvar" in _text(before.message)
    assert f"/runs/flow-run/{run}" in _text(before.message)
    sweep("2026-12-17")  # the same day again: nothing new
    sweep("2026-12-28")
    on_the_day = stack.wait_mail(officer, 2)[1].message
    assert "i dag" in _text(on_the_day)
    sweep("2026-12-29")
    overdue = stack.wait_mail(officer, 3)[2].message
    assert "Försenat" in str(overdue["Subject"])
    assert len(stack.mail_to(officer)) == 3
