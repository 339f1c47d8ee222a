"""The responsible officer of every case, "Byt handläggare", and the worklist's rows (issue 15).

Off the stack: the rows are built from runs as the Prefect API gives them
(`WaitingRun`), against a real app database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select
from stdnum import luhn

from models.application import Application
from models.audit import AuditEvent
from models.contract_ending import ContractEnding, EndingAction, EndingStatus
from models.forms.officer import OfficerChange
from models.obligation import Obligation, ObligationKind
from models.provider import Provider
from models.sv_format import case_no
from models.worklist import REFUSED_LABEL, WaitingRun, correction_labels, run_labels, work_items
from tasks.officer_store import OfficerRefused, change_officer
from tests.factories import make_application, make_contract, make_provider


def _waiting(entity: str, case_id: uuid.UUID, step: str, since: datetime) -> WaitingRun:
    return WaitingRun(
        run_id=uuid.uuid4(),
        name=f"x {case_no(case_id)}",
        labels=run_labels(entity, case_id, step, refused=False),
        since=since,
    )


def _provider_case(session: Session) -> tuple[Application, ContractEnding]:
    application = make_application(
        session,
        municipality_id="salem",
        case_officer="Anna Handläggare",
        case_officer_email="anna@salem.example",
    )
    contract = make_contract(
        session,
        municipality_id="salem",
        provider_id=application.provider_id,
        application_id=application.id,
    )
    ending = ContractEnding(
        contract_id=contract.id, action=EndingAction.interim, status=EndingStatus.interim
    )
    session.add(ending)
    session.flush()
    return application, ending


def test_every_case_about_the_contract_has_the_applications_officer(session: Session) -> None:
    application, ending = _provider_case(session)
    session.add(
        Obligation(
            kind=ObligationKind.decision_deadline,
            municipality_id="salem",
            provider_id=application.provider_id,
            subject_type=Application.ENTITY_TYPE,
            subject_id=application.id,
            due_on=date(2027, 1, 12),
        )
    )
    session.commit()
    since = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    runs = [
        _waiting(ContractEnding.ENTITY_TYPE, ending.id, "Interimistisk hävning", since),
        _waiting(Application.ENTITY_TYPE, application.id, "Steg 1, omgång 1", since),
        # a run labelled for a case that is gone, and one of no case: left out
        _waiting(Application.ENTITY_TYPE, uuid.uuid4(), "Steg 2", since),
        WaitingRun(run_id=uuid.uuid4(), name="mail-check", labels={}, since=since),
    ]
    items = work_items(session, runs, date(2026, 12, 4))
    assert [item.kind for item in items] == ["ansökan", "avslut"]  # by deadline; none last
    applied, ended = items
    assert applied.officer == ended.officer == "Anna Handläggare"
    assert applied.municipality == ended.municipality == "Salem kommun"  # the factory's name
    # Fri 4 Dec 2026 to Tue 12 Jan 2027: 24, 25, 26 Dec and 1, 6 Jan are holidays.
    assert applied.deadline == date(2027, 1, 12) and applied.days_left == 22
    assert applied.deadline_text == "22 arbetsdagar kvar"
    assert ended.deadline is None and ended.deadline_text == ""
    assert applied.step == "Steg 1, omgång 1" and not applied.refused


def test_a_deadline_passed_reads_as_working_days_late(session: Session) -> None:
    application, _ = _provider_case(session)
    session.add(
        Obligation(
            kind=ObligationKind.decision_deadline,
            municipality_id="salem",
            provider_id=application.provider_id,
            subject_type=Application.ENTITY_TYPE,
            subject_id=application.id,
            due_on=date(2026, 12, 23),  # Wednesday before Christmas
        )
    )
    session.commit()
    run = WaitingRun(
        run_id=uuid.uuid4(),
        name="x",
        labels=run_labels(Application.ENTITY_TYPE, application.id, "Beslut", refused=True),
        since=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert run.labels[REFUSED_LABEL] == "ja"
    [item] = work_items(session, [run], date(2026, 12, 28))  # Monday after
    # 24, 25 and 26 December are not working days: only the 28th counts.
    assert item.days_left == -1 and item.deadline_text == "1 arbetsdagar sen"
    assert item.refused


def test_a_sole_trader_is_shown_by_a_short_id_never_its_number(session: Session) -> None:
    body = "780412123"  # a personnummer's first nine digits: born 12 April 1978
    provider = make_provider(
        session, org_number=f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"
    )
    application = make_application(session, provider_id=provider.id)
    session.commit()
    run = _waiting(Application.ENTITY_TYPE, application.id, "Steg 1", datetime.now(UTC))
    [item] = work_items(session, [run], date(2026, 12, 4))
    assert item.provider == f"enskild firma {case_no(provider.id)}"
    assert provider.org_number not in item.provider and provider.name not in item.provider


def test_byt_handlaggare_moves_the_application_and_its_contracts_cases(
    session: Session,
) -> None:
    application, ending = _provider_case(session)
    contract_id = ending.contract_id
    session.commit()
    change = OfficerChange(
        case=case_no(contract_id),  # by the contract's number: its application changes
        officer="Bo Nyman",
        officer_email="Bo.Nyman@Salem.example",
        changed_by="Chef Ansvarig",
    )
    changed = change_officer.fn(change)
    assert changed.application_no == case_no(application.id)
    assert (changed.before, changed.after) == ("Anna Handläggare", "Bo Nyman")
    session.expire_all()
    stored = session.get(Application, application.id)
    assert stored is not None and stored.case_officer == "Bo Nyman"
    assert stored.case_officer_email == "Bo.Nyman@salem.example"  # the domain folded
    [event] = session.exec(
        select(AuditEvent).where(AuditEvent.action == "case_officer_changed")
    ).all()
    assert event.actor == "Chef Ansvarig" and event.entity_id == str(application.id)
    assert event.details == {
        "from": "Anna Handläggare",
        "to": "Bo Nyman",
        "to_email": "Bo.Nyman@salem.example",
    }
    run = _waiting(ContractEnding.ENTITY_TYPE, ending.id, "Beslut", datetime.now(UTC))
    [item] = work_items(session, [run], date(2026, 12, 4))
    assert item.officer == "Bo Nyman"


def test_byt_handlaggare_refuses_a_number_that_finds_nothing_in_swedish(
    session: Session,
) -> None:
    contract = make_contract(session)  # entered without an application
    session.commit()
    for number, said in [
        ("0" * 8, "ingen ansökan eller inget avtal"),
        (case_no(contract.id), "kom inte från en ansökan"),
    ]:
        change = OfficerChange(
            case=number, officer="Bo Nyman", officer_email="bo@salem.example", changed_by="Chef"
        )
        with pytest.raises(OfficerRefused) as refused:
            change_officer.fn(change)
        assert said in refused.value.swedish and refused.value.swedish.startswith("Ärendenummer")
    assert (
        session.exec(select(AuditEvent).where(AuditEvent.action == "case_officer_changed")).all()
        == []
    )
    assert session.exec(select(Provider)).first() is not None


def test_the_change_form_refuses_a_malformed_number_or_address_before_a_run() -> None:
    schema = OfficerChange.model_json_schema()
    assert schema["title"] == "Byt handläggare"
    assert (
        schema["properties"]["case"]["pattern"] and schema["properties"]["officer_email"]["pattern"]
    )
    assert all(prop.get("title") for prop in schema["properties"].values())


def test_a_start_whose_parameters_wait_to_be_corrected_is_in_the_worklist(
    session: Session,
) -> None:
    run = WaitingRun(
        run_id=uuid.uuid4(),
        name="ansökan · rätta svaret",
        labels=correction_labels("Registrera ansökan"),
        since=datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
    )
    [item] = work_items(session, [run], date(2026, 12, 4))
    assert (item.kind, item.case_no, item.step) == ("Registrera ansökan", "–", "Rätta uppgifterna")
    assert item.refused and item.deadline is None
