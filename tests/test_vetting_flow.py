"""Application vetting and contract signing end to end, under a real served deployment.

Each test registers an application through "Registrera ansökan", answers every
form through the Prefect client (as the UI's Resume button does), and checks
the stored case, its audit trail and the letters a real SMTP server received.
Runs on the app database on SQLite and on PostgreSQL (tests/prefect_stack.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlmodel import Session, col, select

from models.application import Application, ApplicationStatus
from models.audit import AuditEvent
from models.contract import Contract, ContractStatus
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox import OutgoingEmail
from models.policy import load_policy
from tasks.email import case_no
from tests.case_steps import (
    application_form,
    application_of,
    contract_run,
    decision_answer,
    meeting_answer,
    register,
    step1_answer,
    step2_answer,
)
from tests.prefect_stack import Stack

pytestmark = pytest.mark.prefect


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _by_subject(messages: list, word: str) -> list[EmailMessage]:  # type: ignore[type-arg]
    return [m.message for m in messages if word in str(m.message["Subject"])]


def test_application_with_completion_to_active_contract(stack: Stack) -> None:
    form = application_form()
    received = date.fromisoformat(form["received_on"])
    applicant = form["contact_email"]
    run = register(stack, form)

    stack.wait_paused(run, "step1-1")
    application = application_of(stack, form["org_number"])
    number = case_no(application.id)
    assert stack.read(run).name == f"ansökan {number}"
    receipt = stack.wait_mail(applicant, 1)[0].message
    assert number in str(receipt["Subject"])
    policy = load_policy("salem")
    with Session(stack.engine) as session:
        deadlines = {
            o.kind: o.due_on
            for o in session.exec(
                select(Obligation).where(Obligation.subject_id == application.id)
            ).all()
        }
    assert deadlines == {
        ObligationKind.decision_deadline: policy.decision_due(received),
        ObligationKind.application_binding: policy.binding_ends(received),
    }
    description = stack.form_description(run, "step1-1")
    assert number in description and "Beslut senast" in description

    # Step 1, round 1: two items missing -> completion request listing exactly them.
    stack.resume(run, step1_answer(received, missing=("f_tax", "staff_list")))
    stack.wait_paused(run, "completion-1")
    request = _by_subject(stack.wait_mail(applicant, 2), "omplettering")[0]
    body = _text(request)
    assert "F-skatt" in body and "Förteckning över anställda och utbildning" in body
    assert "Kollektivavtal" not in body

    stack.resume(
        run,
        {
            "outcome": "Kompletteringen har kommit in",
            "received_on": date.today().isoformat(),
            "registered_by": "Handläggare Test",
        },
    )
    stack.wait_paused(run, "step1-2")
    assert "omgång 2" in stack.form_description(run, "step1-2")

    stack.resume(run, step1_answer(received))
    stack.wait_paused(run, "meeting-1")

    meeting = meeting_answer()
    stack.resume(run, meeting)
    stack.wait_paused(run, "step2")
    invitation = _by_subject(stack.wait_mail(applicant, 3), "öte")[0]
    attachments = [
        p for p in invitation.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    assert len(attachments) == 1
    event = Calendar.from_ical(attachments[0].get_payload(decode=True)).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert isinstance(start, datetime)
    assert start.date().isoformat() == meeting["meeting_on"]
    assert (start.hour, start.minute) == (9, 30)
    assert str(start.tzinfo) == "Europe/Stockholm"

    stack.resume(run, step2_answer(date.fromisoformat(meeting["meeting_on"])))
    stack.wait_paused(run, "decision")
    stack.resume(run, decision_answer(approve=True))
    final = stack.wait_final(run)
    assert final.state is not None and final.state.is_completed()

    contract_id, signing = contract_run(stack, application.id)
    stack.wait_paused(signing, "signatures-0")
    sent = _by_subject(stack.wait_mail(applicant, 5), "vtal")
    documents = [
        p for m in sent for p in m.iter_attachments() if p.get_content_type() == "text/html"
    ]
    assert len(documents) == 1
    document = documents[0].get_content()
    assert form["org_number"] in document and form["company_name"] in document

    stack.resume(
        signing,
        {"provider_signed_on": date.today().isoformat(), "registered_by": "Handläggare Test"},
    )
    stack.wait_paused(signing, "signatures-1")
    stack.resume(
        signing,
        {
            "municipality_signed_on": date.today().isoformat(),
            "municipality_signatory": "Ordförande Nämndsson",
            "registered_by": "Handläggare Test",
        },
    )
    done = stack.wait_final(signing)
    assert done.state is not None and done.state.is_completed()
    stack.wait_mail(applicant, 6)

    with Session(stack.engine) as session:
        stored = session.get(Application, application.id)
        contract = session.get(Contract, contract_id)
        assert stored is not None and contract is not None
        assert stored.status is ApplicationStatus.approved
        assert contract.status is ContractStatus.active
        assert contract.starts_on is not None and contract.ends_on is not None
        assert contract.document_html == document
        open_kinds = {
            o.kind
            for o in session.exec(
                select(Obligation).where(
                    Obligation.subject_id == contract_id,
                    Obligation.status == ObligationStatus.open,
                )
            ).all()
        }
        assert ObligationKind.contract_end in open_kinds
        trail = session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_id == str(application.id))
            .order_by(col(AuditEvent.id))
        ).all()
        actions = [(e.action, e.to_status) for e in trail if e.action != "flow_run_attached"]
        keys = Counter(
            row.template
            for row in session.exec(
                select(OutgoingEmail).where(col(OutgoingEmail.recipients).is_not(None))
            ).all()
            if applicant in row.recipients
        )
    assert actions == [
        ("registered", "received"),
        ("status_changed", "step1_review"),
        ("status_changed", "completion_requested"),
        ("status_changed", "step1_review"),
        ("status_changed", "step2_review"),
        ("meeting_booked", None),
        ("step2_recorded", None),
        ("status_changed", "approved"),
    ]
    # Every letter once, although the flow replayed from the top after each form.
    assert keys == Counter(
        {
            "application-received": 1,
            "completion-request": 1,
            "meeting-invitation": 1,
            "application-approved": 1,
            "contract-for-signature": 1,
            "contract-active": 1,
        }
    )
    assert len(stack.mail_to(applicant)) == 6
