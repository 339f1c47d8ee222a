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

import httpx
import pytest
from icalendar import Calendar
from sqlmodel import Session, col, select

from models.application import Application, ApplicationStatus
from models.audit import AuditEvent
from models.clock import today as stockholm_today
from models.contract import Contract, ContractStatus
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox import OutgoingEmail
from models.policy import load_policy
from models.sv_format import case_no
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
from tests.factories import org_number
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
    # The run's name says which step waits (issue 15): the run list and the worklist.
    assert stack.read(run).name == f"ansökan {number} · Steg 1, omgång 1"
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
    # The same summary is on the run page (Artifacts), which the UI always shows.
    artifacts = httpx.post(
        f"{stack.api_url}/artifacts/filter",
        json={"artifacts": {"key": {"any_": [f"ansokan-{number.lower()}"]}}},
        timeout=10,
    ).json()
    assert artifacts and "arbetsdagar kvar" in artifacts[0]["data"]
    assert artifacts[0]["flow_run_id"] == str(run)

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
            "received_on": stockholm_today().isoformat(),
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
    ics = attachments[0].get_payload(decode=True)
    assert isinstance(ics, bytes)
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
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
        {"provider_signed_on": stockholm_today().isoformat(), "registered_by": "Handläggare Test"},
    )
    stack.wait_paused(signing, "signatures-1")
    stack.resume(
        signing,
        {
            "municipality_signed_on": stockholm_today().isoformat(),
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
    # One case summary per form asked, none added by the replays after each resume.
    summaries = httpx.post(
        f"{stack.api_url}/artifacts/filter",
        json={"artifacts": {"key": {"any_": [f"ansokan-{number.lower()}"]}}},
        timeout=10,
    ).json()
    assert len(summaries) == 6  # step1-1, completion-1, step1-2, meeting-1, step2, decision


def test_failing_item_rejection_with_appeal_route_and_refused_answers(stack: Stack) -> None:
    form = application_form()
    received = date.fromisoformat(form["received_on"])
    applicant = form["contact_email"]
    run = register(stack, form)
    stack.wait_paused(run, "step1-1")

    # The server checks the schema: an answer without the items is refused and the run waits on.
    reason = stack.refused(run, {"decided_by": "Handläggare Test"})
    assert "required" in reason or "validation" in reason.lower()
    assert stack.read(run).state.is_paused()  # type: ignore[union-attr]

    # The flow checks what a schema cannot: a failing item needs a note.
    answer = step1_answer(received, failing=("exclusion_unpaid_taxes",))
    answer["exclusion_unpaid_taxes"]["note"] = ""
    stack.resume(run, answer)
    stack.wait_paused(run, "step1-1-forsok-2")
    description = stack.form_description(run, "step1-1-forsok-2")
    assert description.startswith("> **Svaret kunde inte sparas.**")
    assert "obetalda skatter" in description and "anteckningen" in description

    stack.resume(
        run,
        answer
        | {"exclusion_unpaid_taxes": {"result": "Uppfylls inte", "note": "Skuld hos Kronofogden"}},
    )
    stack.wait_paused(run, "decision")
    # An approval with a failing item is refused (LOV 9 kap.: reasons, requirements met).
    stack.resume(run, decision_answer(approve=True))
    stack.wait_paused(run, "decision-forsok-2")
    ground = "Uteslutning: obetalda skatter eller socialförsäkringsavgifter"
    stack.resume(
        run,
        decision_answer(
            approve=False,
            grounds=[ground],
            motivation="Sökanden har skulder hos Kronofogden och uppfyller inte LOV 7 kap. 1 §.",
        ),
    )
    final = stack.wait_final(run)
    assert final.state is not None and final.state.is_completed()

    letters = stack.wait_mail(applicant, 2)
    rejection = _by_subject(letters, "eslut")[0]
    for body in (_text(rejection), _html(rejection)):
        assert ground in body and "Skuld hos Kronofogden" in body
        assert "förvaltningsrätt" in body and "3 veckor" in body
        assert "10 kap. 1 §" in body
    with Session(stack.engine) as session:
        stored = application_of(stack, form["org_number"])
        assert stored.status is ApplicationStatus.rejected
        assert stored.decision_reason and "Kronofogden" in stored.decision_reason
        assert (
            session.exec(select(Contract).where(Contract.application_id == stored.id)).first()
            is None
        )
        deadline = session.exec(
            select(Obligation).where(
                Obligation.subject_id == stored.id,
                Obligation.kind == ObligationKind.decision_deadline,
            )
        ).one()
        assert deadline.status is ObligationStatus.fulfilled
        decision = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity_id == str(stored.id), AuditEvent.to_status == "rejected"
            )
        ).one()
        assert decision.actor == "Handläggare Test"
        assert decision.details["grounds"] == ["exclusion_unpaid_taxes"]
    assert len(stack.mail_to(applicant)) == 2  # the receipt and the decision, nothing else


def test_bad_registration_is_asked_again_naming_the_field_and_stores_nothing(
    stack: Stack,
) -> None:
    # Issue 15: bad parameters never end as a Failed run. The right shape (the Run
    # form's pattern lets it through) with a wrong check digit: the run asks again.
    form = application_form(org_number="556677-8890")
    run = register(stack, form)
    waiting = stack.wait_paused(run, "parametrar")
    assert waiting.name == "ansökan · rätta svaret"
    description = stack.form_description(run, "parametrar")
    assert "Organisationsnummer: inte ett giltigt organisationsnummer" in description
    assert "556677-8890" not in description and "556677-8890" not in stack.log()
    assert "556677-8890" not in str(waiting.state.message if waiting.state else "")

    def stored() -> Application | None:
        with Session(stack.engine) as session:
            return session.exec(
                select(Application).where(
                    Application.case_officer_email == form["case_officer_email"]
                )
            ).first()

    assert stored() is None
    assert stack.mail_to(form["contact_email"]) == []
    # It is in the worklist, although no case exists yet (labelled by its deployment).
    assert stack.read(run).labels.get("lovflow.correction") == "Registrera ansökan"

    # The corrected number: everything else as typed; the case is registered and waits.
    stack.resume(run, form | {"org_number": org_number()})
    stack.wait_paused(run, "step1-1")
    assert stored() is not None
    stack.wait_mail(form["contact_email"], 1)


def test_restart_lost_run_and_double_registration_send_nothing_twice(stack: Stack) -> None:
    form = application_form()
    received = date.fromisoformat(form["received_on"])
    applicant = form["contact_email"]
    run = register(stack, form)
    stack.wait_paused(run, "step1-1")
    stack.resume(run, step1_answer(received))
    stack.wait_paused(run, "meeting-1")

    # The serving process restarts while the run waits: nothing holds the wait.
    # Once the run's process has ended (it lingers a moment after the run turned
    # Suspended), and resumed only once the run is seen waiting again after the
    # restart: CI once resumed in between and was refused "not paused" (a flake).
    stack.wait_idle()
    stack.restart_serving()
    stack.wait_paused(run, "meeting-1")
    meeting = meeting_answer()
    stack.resume(run, meeting)
    stack.wait_paused(run, "step2")
    stack.wait_mail(applicant, 2)

    # The same application registered again (a double click): same case, no new letter.
    again = register(stack, form)
    stack.wait_paused(again, "step2")
    assert stack.wait_final(run).state.is_cancelled()  # type: ignore[union-attr]

    # That run is lost (cancelled by hand); "Fortsätt ansökan" continues from the stored status.
    with stack.client() as client:
        from prefect.states import Cancelled

        client.set_flow_run_state(again, Cancelled(), force=True)
    number = case_no(application_of(stack, form["org_number"]).id)
    resumed = stack.start("application-vetting", "Fortsätt ansökan", {"case_number": number})
    stack.wait_paused(resumed, "step2")
    assert stack.read(resumed).name == f"ansökan {number} · Steg 2"
    stack.resume(resumed, step2_answer(date.fromisoformat(meeting["meeting_on"])))
    stack.wait_paused(resumed, "decision")
    stack.resume(resumed, decision_answer(approve=True))
    stack.wait_final(resumed)
    stack.wait_mail(applicant, 3)

    templates = Counter(
        str(m.message["Subject"]).split("]", 1)[1].split("(")[0].strip()
        for m in stack.mail_to(applicant)
    )
    assert sum(templates.values()) == 3, templates  # receipt, invitation, approval
    with Session(stack.engine) as session:
        stored = application_of(stack, form["org_number"])
        assert stored.flow_run_id == resumed
        runs = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity_id == str(stored.id), AuditEvent.action == "flow_run_attached"
            )
        ).all()
        assert len(runs) == 3  # the first run, the double registration, "Fortsätt ansökan"


def test_daily_sweep_reminds_the_case_officer_on_the_deadline(stack: Stack) -> None:
    form = application_form()
    run = register(stack, form)
    stack.wait_paused(run, "step1-1")
    due = load_policy("salem").decision_due(date.fromisoformat(form["received_on"]))
    sweep = stack.start("compliance-sweep", "Daglig kontroll", {"as_of": due.isoformat()})
    final = stack.wait_final(sweep)
    assert final.state is not None and final.state.is_completed()
    reminder = stack.wait_mail(form["case_officer_email"], 1)[0].message
    number = case_no(application_of(stack, form["org_number"]).id)
    assert number in str(reminder["Subject"])
    assert "i dag" in _text(reminder) or "idag" in _text(reminder)
    again = stack.start("compliance-sweep", "Daglig kontroll", {"as_of": due.isoformat()})
    stack.wait_final(again)
    assert len(stack.mail_to(form["case_officer_email"])) == 1  # the same day again: nothing


def test_serving_restart_while_several_runs_wait_every_run_finishes(stack: Stack) -> None:
    """Three cases wait at different forms when serve restarts (a deploy, a reboot):
    each is resumed afterwards and runs to its end, each letter sent once."""
    forms = [application_form() for _ in range(3)]
    runs = [register(stack, form) for form in forms]
    for run in runs:
        stack.wait_paused(run, "step1-1")
    received = [date.fromisoformat(form["received_on"]) for form in forms]
    # Case 0 waits at step 1, case 1 at the meeting, case 2 at the decision.
    stack.resume(runs[1], step1_answer(received[1]))
    stack.resume(runs[2], step1_answer(received[2], failing=("f_tax",)))
    stack.wait_paused(runs[1], "meeting-1")
    stack.wait_paused(runs[2], "decision")
    stack.wait_idle()

    stack.restart_serving()
    waiting = {runs[0]: "step1-1", runs[1]: "meeting-1", runs[2]: "decision"}
    for run, key in waiting.items():
        stack.wait_paused(run, key)  # still waiting, at the same form

    stack.resume(
        runs[2],
        decision_answer(
            approve=False, grounds=["F-skatt"], motivation="Sökanden saknar F-skattsedel."
        ),
    )
    meeting = meeting_answer()
    stack.resume(runs[1], meeting)
    stack.resume(runs[0], step1_answer(received[0], failing=("f_tax",)))
    stack.wait_paused(runs[1], "step2")
    stack.resume(runs[1], step2_answer(date.fromisoformat(meeting["meeting_on"])))
    stack.wait_paused(runs[0], "decision")
    stack.wait_paused(runs[1], "decision")
    for run in runs[:2]:
        stack.resume(
            run,
            decision_answer(
                approve=False, grounds=["F-skatt"], motivation="Sökanden saknar F-skattsedel."
            ),
        )
    for run in runs:
        final = stack.wait_final(run)
        assert final.state is not None and final.state.is_completed(), final.state

    statuses = {application_of(stack, form["org_number"]).status for form in forms}
    assert statuses == {ApplicationStatus.rejected}
    # receipt + rejection; receipt + invitation + rejection; receipt + rejection: each once.
    for form, count in zip(forms, (2, 3, 2), strict=True):
        letters = stack.wait_mail(form["contact_email"], count)
        ids = Counter(m.message_id for m in letters)
        assert len(letters) == count and max(ids.values()) == 1, ids
