"""Vetting and signing rules on real calendar dates, and the store steps on both databases.

The flows only orchestrate; what they store, when things fall due and which
letters go out is decided here, so these tests call the store tasks' bodies
(`.fn`) against a real database, SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from deployments.reference_data import sync_municipalities
from models.application import Application, ApplicationStatus
from models.checks.case_reminders import queue_decision_reminders, queue_signature_reminders
from models.contract import Contract, ContractStatus
from models.forms.vetting import ApplicationForm
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox import OutgoingEmail
from models.policy import load_policy
from models.vetting import STEP1_ITEMS, STEP2_ITEMS, Assessment, decision_problems, step1_problems
from tasks import application_intake, contract_store, vetting_store
from tests.case_steps import application_form, step1_answer

# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("policy", "received", "due"),
    [
        # seed 002 §8.2: 10 weeks for June-August; 6 weeks otherwise.
        ("salem", date(2026, 6, 15), date(2026, 8, 24)),
        ("salem", date(2026, 8, 31), date(2026, 11, 9)),
        ("salem", date(2026, 9, 1), date(2026, 10, 13)),
        # Received on a Sunday in May: 6 weeks end on Sunday 12 July, moved to Monday.
        ("salem", date(2026, 5, 31), date(2026, 7, 13)),
    ],
)
def test_decision_deadline_on_real_dates(policy: str, received: date, due: date) -> None:
    assert load_policy(policy).decision_due(received) == due


def _all_approved() -> dict[str, tuple[Assessment, str]]:
    return {item.key: (Assessment.approved, "") for item in STEP1_ITEMS}


@pytest.mark.parametrize(
    ("received", "issued", "ok"),
    [
        # SKV 4820 at most 3 months old on the received date (seed 002 §8.1); months end
        # on the same date number or the month's last day (lag 1930:173 § 1).
        (date(2026, 5, 31), date(2026, 2, 28), True),
        (date(2026, 5, 31), date(2026, 2, 27), False),
        (date(2028, 5, 31), date(2028, 2, 29), True),  # leap year
        (date(2028, 5, 31), date(2028, 2, 28), False),
        (date(2026, 6, 15), date(2026, 3, 15), True),
        (date(2026, 6, 15), date(2026, 6, 16), False),  # after the application
    ],
)
def test_tax_certificate_age(received: date, issued: date, ok: bool) -> None:
    problems = step1_problems(
        _all_approved(),
        received_on=received,
        tax_certificate_issued_on=issued,
        oldest_reference_on=received,
        tax_certificate_max_age_months=3,
        references_max_age_years=3,
    )
    assert (problems == []) is ok, problems
    if not ok:
        assert problems[0].startswith("Datum på SKV 4820:")


def test_references_at_most_three_years_old_across_a_leap_day() -> None:
    def problems(oldest: date) -> list[str]:
        return step1_problems(
            _all_approved(),
            received_on=date(2028, 2, 29),
            tax_certificate_issued_on=date(2028, 2, 1),
            oldest_reference_on=oldest,
            tax_certificate_max_age_months=3,
            references_max_age_years=3,
        )

    assert problems(date(2025, 2, 28)) == []
    assert problems(date(2025, 2, 27))[0].startswith("Äldsta referensens datum:")


def test_step1_needs_notes_and_allows_at_start_only_for_permit_and_insurance() -> None:
    results = _all_approved() | {
        "f_tax": (Assessment.missing, " "),
        "insurance": (Assessment.at_start, ""),
        "registration": (Assessment.at_start, ""),
    }
    problems = step1_problems(
        results,
        received_on=date(2026, 3, 2),
        tax_certificate_issued_on=date(2026, 2, 1),
        oldest_reference_on=date(2025, 1, 1),
        tax_certificate_max_age_months=3,
        references_max_age_years=3,
    )
    assert problems == [
        "Registreringsbevis från Bolagsverket: får inte lämnas vid start, bara tillstånd "
        "och ansvarsförsäkring får det.",
        "F-skatt: skriv i anteckningen vad som saknas.",
    ]


def test_decision_rules() -> None:
    step1 = {item.key: Assessment.approved.value for item in STEP1_ITEMS}
    step2 = {item.key: "approved" for item in STEP2_ITEMS}
    assert (
        decision_problems(approve=True, grounds=[], motivation="", step1=step1, step2=step2) == []
    )
    # Approval needs both steps, and every item approved.
    assert decision_problems(approve=True, grounds=[], motivation="", step1=step1, step2=None)
    step2_failing = step2 | {"routine_keys": "not_approved"}
    refused = decision_problems(
        approve=True, grounds=[], motivation="", step1=step1, step2=step2_failing
    )
    assert "Hantering av nycklar" in refused[0]
    # A rejection names a ground and gives reasons.
    assert decision_problems(
        approve=False, grounds=[], motivation="kort", step1=None, step2=None
    ) == [
        "Skäl för avslag: välj minst ett skäl.",
        "Motivering: skriv en motivering på minst 20 tecken; den står i beslutet.",
    ]
    assert (
        decision_problems(
            approve=False,
            grounds=["routine_keys"],
            motivation="Rutin för nycklar saknas helt.",
            step1=None,
            step2=None,
        )
        == []
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("org_number", "556677-8890", "Organisationsnummer: inte ett giltigt"),
        ("contact_email", "inte en adress", "E-post till sökanden: ange en giltig e-postadress"),
        ("municipality", "uppsala", "Kommun: 'uppsala' finns inte"),
        ("received_on", "2999-01-01", "Ansökan kom in: 2999-01-01 ligger i framtiden."),
        ("company_name", "   ", "Företagets namn: får inte vara tomt."),
    ],
)
def test_registration_form_names_the_field_in_swedish(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ApplicationForm.model_validate(application_form(**{field: value}))
    assert message in str(raised.value)


def test_registration_form_schema_refuses_what_it_can() -> None:
    schema = ApplicationForm.model_json_schema()
    # By name (issue 15): staff never see a policy key; the form stores the key.
    assert schema["properties"]["municipality"]["enum"] == [
        "Huddinge kommun",
        "Salems kommun",
        "Stockholms stad",
        "Strängnäs kommun",
    ]
    picked = ApplicationForm.model_validate(application_form(municipality="Strängnäs kommun"))
    assert picked.municipality == "strangnas"
    assert schema["properties"]["services"]["minItems"] == 1
    assert set(schema["required"]) >= {"org_number", "contact_email", "received_on"}


# --------------------------------------------------------------------------- store, real DB


@pytest.fixture
def municipalities(engine: Engine) -> None:
    with Session(engine) as session:
        sync_municipalities(session)
        session.commit()


def _register(received: str, **overrides: Any) -> Any:
    form = ApplicationForm.model_validate(application_form(received_on=received, **overrides))
    return form, application_intake.register.fn(form)


@pytest.mark.usefixtures("municipalities")
def test_register_stores_deadlines_and_is_idempotent(engine: Engine) -> None:
    form, application_id = _register("2026-06-15")
    assert application_intake.register.fn(form) == application_id  # a double click
    with Session(engine) as session:
        due = {
            o.kind: o.due_on
            for o in session.exec(
                select(Obligation).where(Obligation.subject_id == application_id)
            ).all()
        }
        letters = session.exec(select(OutgoingEmail)).all()
    assert due == {
        ObligationKind.decision_deadline: date(2026, 8, 24),
        ObligationKind.application_binding: date(2026, 9, 12),  # 90 days incl. day 1
    }
    assert [letter.template for letter in letters] == ["application-received"]


@pytest.mark.usefixtures("municipalities")
def test_completion_reply_by_counts_working_days_over_christmas(engine: Engine) -> None:
    _, application_id = _register("2025-12-01")
    vetting_store.start_step1.fn(application_id)
    answer = step1_answer(date(2025, 12, 1), missing=("f_tax",))
    answer["decided_on"] = "2025-12-19"
    assert vetting_store.record_step1.fn(application_id, 1, answer) == "missing"
    # Replaying the same round stores nothing new.
    assert vetting_store.record_step1.fn(application_id, 1, answer) == "missing"
    with Session(engine) as session:
        reply = session.exec(
            select(Obligation).where(Obligation.kind == ObligationKind.completion_reply)
        ).one()
        application = session.get(Application, application_id)
        requests = session.exec(
            select(OutgoingEmail).where(OutgoingEmail.template == "completion-request")
        ).all()
    # 10 working days from Friday 19 Dec 2025: julafton, juldagen, annandagen,
    # nyårsafton, nyårsdagen and trettondagen are not working days.
    assert reply.due_on == date(2026, 1, 12)
    assert application is not None
    assert application.status is ApplicationStatus.completion_requested
    assert len(requests) == 1 and "F-skatt" in requests[0].body_text
    assert "Kollektivavtal" not in requests[0].body_text


def _approved_contract(engine: Engine, municipality: str = "salem") -> Any:
    with Session(engine) as session:
        from tests.factories import make_application

        application = make_application(session, municipality_id=municipality)
        contract = Contract(
            application_id=application.id,
            provider_id=application.provider_id,
            municipality_id=municipality,
            services=["service"],
            capacity_hours_per_month=300,
        )
        session.add(contract)
        session.commit()
        return contract.id


def _signatures(**values: Any) -> dict[str, Any]:
    return {"registered_by": "Handläggare Test"} | values


@pytest.mark.usefixtures("municipalities")
def test_contract_becomes_active_only_with_both_signatures(engine: Engine) -> None:
    contract_id = _approved_contract(engine)
    contract_store.send_for_signature.fn(contract_id, date(2026, 12, 18))
    contract_store.send_for_signature.fn(contract_id, date(2026, 12, 18))  # replay: nothing
    view = contract_store.load_contract.fn(contract_id)
    assert view.sign_by == date(2026, 12, 29)  # 5 working days over Christmas
    status = contract_store.record_signatures.fn(
        contract_id, _signatures(provider_signed_on="2026-12-22")
    )
    assert status is ContractStatus.partially_signed
    status = contract_store.record_signatures.fn(
        contract_id,
        _signatures(municipality_signed_on="2026-12-23", municipality_signatory="Ordförande"),
    )
    assert status is ContractStatus.active
    with Session(engine) as session:
        contract = session.get(Contract, contract_id)
        assert contract is not None
        obligations = {
            o.kind: (o.due_on, o.status)
            for o in session.exec(
                select(Obligation).where(Obligation.subject_id == contract_id)
            ).all()
        }
        letters = [
            row.template
            for row in session.exec(select(OutgoingEmail).order_by(col(OutgoingEmail.queued_at)))
        ]
    # First working day after the later signature: julafton, juldagen, annandagen pass.
    assert contract.starts_on == date(2026, 12, 28)
    assert contract.ends_on == date(2028, 12, 27)  # two years (seed 002 §4.1)
    assert contract.document_html and "Salems kommun" in contract.document_html
    assert obligations[ObligationKind.contract_signature][1] is ObligationStatus.fulfilled
    assert obligations[ObligationKind.insurance_copy] == (date(2026, 12, 28), ObligationStatus.open)
    assert obligations[ObligationKind.contract_end] == (date(2028, 12, 27), ObligationStatus.open)
    assert ObligationKind.new_provider_follow_up not in obligations  # Salem has none
    assert letters == ["contract-for-signature", "contract-active"]


@pytest.mark.usefixtures("municipalities")
def test_stockholm_contract_from_a_leap_day_gets_its_follow_up(engine: Engine) -> None:
    contract_id = _approved_contract(engine, "stockholm")
    contract_store.send_for_signature.fn(contract_id, date(2028, 2, 1))
    contract_store.record_signatures.fn(
        contract_id,
        _signatures(
            provider_signed_on="2028-02-10",
            municipality_signed_on="2028-02-11",
            municipality_signatory="Avdelningschef",
            starts_on="2028-02-29",
        ),
    )
    with Session(engine) as session:
        contract = session.get(Contract, contract_id)
        follow_up = session.exec(
            select(Obligation).where(Obligation.kind == ObligationKind.new_provider_follow_up)
        ).one()
    assert contract is not None and contract.ends_on == date(2030, 2, 27)
    assert follow_up.due_on == date(2028, 8, 29)  # seed 003: after 6 months


@pytest.mark.usefixtures("municipalities")
def test_decision_reminders_daily_sweep_sends_each_step_once(engine: Engine) -> None:
    _register("2026-04-13")  # Salem: due Monday 2026-05-25 (6 weeks)
    sent: dict[date, int] = {}
    day = date(2026, 5, 1)
    while day <= date(2026, 6, 30):
        with Session(engine) as session:
            count = queue_decision_reminders(session, day)
            session.commit()
        if count:
            sent[day] = count
        day = date.fromordinal(day.toordinal() + 1)
    # 5 working days before (Kristi himmelsfärd 14 May is before the window), the day,
    # the working day after; nothing more however long the sweep runs.
    assert sent == {date(2026, 5, 18): 1, date(2026, 5, 25): 1, date(2026, 5, 26): 1}
    with Session(engine) as session:
        keys = [
            row.idempotency_key.rsplit(":", 1)[1]
            for row in session.exec(
                select(OutgoingEmail).where(OutgoingEmail.template == "staff-decision-reminder")
            )
        ]
    assert sorted(keys) == ["before", "due", "overdue"]


@pytest.mark.usefixtures("municipalities")
def test_signature_reminder_and_escalation_on_real_dates(engine: Engine) -> None:
    contract_id = _approved_contract(engine)
    contract_store.send_for_signature.fn(contract_id, date(2026, 12, 18))

    def sweep(day: date) -> int:
        with Session(engine) as session:
            count = queue_signature_reminders(session, day)
            session.commit()
            return count

    assert sweep(date(2026, 12, 28)) == 0
    assert sweep(date(2026, 12, 29)) == 1  # the provider is reminded on the sign-by date
    assert sweep(date(2026, 12, 29)) == 0  # a second sweep the same day sends nothing
    assert sweep(date(2027, 1, 14)) == 0
    assert sweep(date(2027, 1, 15)) == 1  # staff: unsigned 15 working days after sending
    contract_store.record_signatures.fn(
        contract_id,
        _signatures(
            provider_signed_on="2027-01-18",
            municipality_signed_on="2027-01-18",
            municipality_signatory="Ordförande",
        ),
    )
    assert sweep(date(2027, 1, 20)) == 0


@pytest.mark.usefixtures("municipalities")
def test_one_provider_applies_in_two_municipalities_each_under_its_policy(engine: Engine) -> None:
    form = application_form(received_on="2026-06-15")
    salem = application_intake.register.fn(ApplicationForm.model_validate(form))
    stockholm = application_intake.register.fn(
        ApplicationForm.model_validate(form | {"municipality": "stockholm"})
    )
    assert salem != stockholm
    with Session(engine) as session:
        rows = session.exec(select(Application)).all()
        deadlines = {
            o.subject_id: o.due_on
            for o in session.exec(
                select(Obligation).where(Obligation.kind == ObligationKind.decision_deadline)
            ).all()
        }
    assert len({row.provider_id for row in rows}) == 1
    assert deadlines[salem] == date(2026, 8, 24)  # Salem: 10 weeks in the summer
    assert deadlines[stockholm] == load_policy("stockholm").decision_due(date(2026, 6, 15))
