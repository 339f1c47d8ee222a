"""The data model on a real database: validation, state machines, audit log, constraints."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlmodel import Session, select

from models.application import Application, ApplicationStatus
from models.audit import AuditEvent, record_event
from models.contract import ContractStatus
from models.obligation import NO_PERIOD, Obligation, ObligationKind
from models.provider import Provider, ProviderCreate
from models.state_machine import ConcurrentChange, IllegalTransition, change_status
from models.validation import normalise_org_number
from tests.factories import make_application, make_contract, make_municipality, make_provider


def _events(session: Session, entity_id: object) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.entity_id == str(entity_id)).order_by(AuditEvent.id)  # type: ignore[arg-type]
    return list(session.exec(query))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("556036-0793", "556036-0793"),  # a real, public organisation number
        ("5560360793", "556036-0793"),
        ("16556036-0793", "556036-0793"),
        (" 212000-0365 ", "212000-0365"),  # Strängnäs kommun, seed 001
    ],
)
def test_org_number_is_normalised(raw: str, expected: str) -> None:
    assert normalise_org_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("556036-0794", "check digit"),
        ("55603607", "10 digits"),
        ("55603-60793x", "10 digits"),
        ("", "10 digits"),
    ],
)
def test_bad_org_number_names_the_rule(raw: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        normalise_org_number(raw)


def test_provider_create_names_the_bad_field() -> None:
    with pytest.raises(ValidationError) as excinfo:
        ProviderCreate(name="Omsorg AB", org_number="556036-0793", email="not-an-address")
    assert excinfo.value.errors()[0]["loc"] == ("email",)
    with pytest.raises(ValidationError) as excinfo:
        ProviderCreate(name="  ", org_number="556036-0793", email="a@b.se")
    assert excinfo.value.errors()[0]["loc"] == ("name",)


def test_org_number_is_unique(session: Session) -> None:
    make_provider(session, org_number="556036-0793")
    session.commit()
    with pytest.raises(IntegrityError):
        make_provider(session, org_number="5560360793")
    session.rollback()
    assert len(session.exec(select(Provider)).all()) == 1


def test_legal_transition_is_audited_in_the_same_transaction(session: Session) -> None:
    application = make_application(session)
    session.commit()
    change_status(
        session, application, ApplicationStatus.step1_review, actor="staff:anna", reason="start"
    )
    session.commit()

    stored = session.get(Application, application.id)
    assert stored is not None and stored.status is ApplicationStatus.step1_review
    [event] = _events(session, application.id)
    assert (event.actor, event.from_status, event.to_status, event.reason) == (
        "staff:anna",
        "received",
        "step1_review",
        "start",
    )
    assert event.entity_type == "application"
    assert event.at.tzinfo is not None


def test_rolled_back_transition_leaves_no_audit_event(session: Session) -> None:
    application = make_application(session)
    session.commit()
    change_status(session, application, ApplicationStatus.step1_review, actor="staff:anna")
    session.rollback()
    session.expire_all()
    stored = session.get(Application, application.id)
    assert stored is not None and stored.status is ApplicationStatus.received
    assert _events(session, application.id) == []


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (ApplicationStatus.received, ApplicationStatus.approved),  # skips both vetting steps
        (ApplicationStatus.rejected, ApplicationStatus.approved),  # a final status
        (ApplicationStatus.step1_review, ApplicationStatus.received),
    ],
)
def test_illegal_application_transition_is_refused(
    session: Session, start: ApplicationStatus, target: ApplicationStatus
) -> None:
    application = make_application(session, status=start)
    session.commit()
    with pytest.raises(IllegalTransition, match=f"from '{start}' to '{target}'"):
        change_status(session, application, target, actor="staff:anna")
    session.rollback()
    session.expire_all()
    stored = session.get(Application, application.id)
    assert stored is not None and stored.status is start
    assert _events(session, application.id) == []


def test_contract_needs_signatures_before_it_is_active(session: Session) -> None:
    contract = make_contract(session)
    session.commit()
    with pytest.raises(
        IllegalTransition, match="allowed from 'draft': cancelled, sent_for_signature"
    ):
        change_status(session, contract, ContractStatus.active, actor="staff:anna")
    session.rollback()
    change_status(session, contract, ContractStatus.sent_for_signature, actor="staff:anna")
    change_status(
        session,
        contract,
        ContractStatus.active,
        actor="staff:anna",
        provider_signed_on=date(2026, 3, 10),
        municipality_signed_on=date(2026, 3, 11),
    )
    session.commit()
    session.expire_all()
    stored = session.get(type(contract), contract.id)
    assert stored is not None
    assert stored.status is ContractStatus.active
    assert stored.municipality_signed_on == date(2026, 3, 11)
    assert [e.to_status for e in _events(session, contract.id)] == ["sent_for_signature", "active"]


def test_concurrent_change_is_detected(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as first:
        application = make_application(first)
        first.commit()
    application_id = application.id
    with Session(engine, expire_on_commit=False) as second:
        copy = second.get(Application, application_id)
        assert copy is not None
        change_status(second, copy, ApplicationStatus.step1_review, actor="staff:bo")
        second.commit()
    with Session(engine) as first:
        # `application` still says "received": the stored row no longer does.
        first.add(application)
        with pytest.raises(ConcurrentChange, match="changed by someone else"):
            change_status(first, application, ApplicationStatus.withdrawn, actor="staff:anna")
        first.rollback()
    with Session(engine) as check:
        stored = check.get(Application, application_id)
        assert stored is not None and stored.status is ApplicationStatus.step1_review


def test_audit_log_is_append_only(session: Session) -> None:
    record_event(session, actor="system:test", entity_type="x", entity_id="1", action="noted")
    session.commit()
    for statement in ("UPDATE audit_event SET actor = 'forger'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.exec(select(AuditEvent.actor)).all() == ["system:test"]


def test_audit_event_needs_an_actor(session: Session) -> None:
    with pytest.raises(ValueError, match="actor"):
        record_event(session, actor=" ", entity_type="x", entity_id="1", action="noted")


def test_obligation_is_unique_per_subject_and_period(session: Session) -> None:
    municipality = make_municipality(session)
    contract = make_contract(session)
    common: dict[str, Any] = {
        "kind": ObligationKind.deviation_report,
        "municipality_id": municipality.id,
        "subject_type": "contract",
        "subject_id": contract.id,
    }
    session.add(Obligation(**common, period="2026-05", due_on=date(2026, 6, 1)))
    session.add(Obligation(**common, period="2026-06", due_on=date(2026, 7, 1)))
    session.add(
        Obligation(
            **common | {"kind": ObligationKind.insurance_copy},
            period=NO_PERIOD,
            due_on=date(2026, 4, 1),
        )
    )
    session.commit()
    session.add(Obligation(**common, period="2026-05", due_on=date(2026, 6, 2)))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert len(session.exec(select(Obligation)).all()) == 3


def test_timestamps_come_back_as_aware_utc(session: Session) -> None:
    # 01:30 UTC on the night Sweden moves to summer time: stored and read back unchanged.
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    record_event(session, actor="system:test", entity_type="x", entity_id="1", action="noted")
    session.flush()
    session.commit()
    session.expire_all()
    event = session.exec(select(AuditEvent)).one()
    assert event.at.tzinfo is UTC
    provider = make_provider(session, org_number="556036-0793")
    provider.created_at = moment
    session.commit()
    session.expire_all()
    assert session.get(Provider, provider.id).created_at == moment  # type: ignore[union-attr]


def test_naive_datetime_is_refused(session: Session) -> None:
    provider = make_provider(session)
    provider.created_at = datetime(2026, 3, 29, 1, 30)  # no tzinfo
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
    session.rollback()
