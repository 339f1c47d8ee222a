"""Lex Sarah rules on real calendar dates, the case's state machine, the form checks,
and the sweep's reminders, escalations and proposals against a real database
(SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from deployments.reference_data import sync_municipalities
from models.audit import AuditEvent
from models.contract import Contract, ContractStatus
from models.forms.lex_sarah import (
    AssessmentForm,
    CategoryChoice,
    ClosureChoice,
    ClosureForm,
    DescriptionForm,
    IvoForm,
    LexSarahReport,
    Seriousness,
    assessment_problems,
    closure_problems,
    ivo_problems,
    report_problems,
)
from models.lex_sarah import LexSarahCase, LexSarahStatus
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox import OutgoingEmail
from models.policy import load_policy
from models.proposal import Proposal, ProposalKind
from models.state_machine import IllegalTransition, change_status
from models.sv_format import case_no
from tasks import lex_sarah_checks
from tasks.compliance_checks import run_checks
from tasks.lex_sarah_store import (
    register,
    store_assessment,
    store_closure,
    store_description,
    store_ivo,
)
from tests.factories import make_provider

HUDDINGE = load_policy("huddinge").lex_sarah
SECRET = "Kunden Karin Karlsson föll"

# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 3, 2), date(2026, 3, 16)),  # an ordinary Monday
        (date(2026, 12, 10), date(2026, 12, 28)),  # julafton, juldagen, a weekend
        (date(2026, 12, 17), date(2027, 1, 4)),  # nyårsafton, nyårsdagen, a weekend
        (date(2026, 12, 20), date(2027, 1, 4)),  # Sunday 3 January, over the year end
        (date(2026, 6, 5), date(2026, 6, 22)),  # midsommarafton
        (date(2026, 3, 20), date(2026, 4, 7)),  # långfredag, Easter, annandag påsk
        (date(2026, 7, 17), date(2026, 7, 31)),  # July is no holiday
        (date(2028, 2, 15), date(2028, 2, 29)),  # leap day, a Tuesday
        (date(2027, 2, 14), date(2027, 3, 1)),  # 28 February 2027 is a Sunday
    ],
)
def test_investigation_is_followed_up_14_calendar_days_on_a_working_day(
    received: date, due: date
) -> None:
    assert HUDDINGE.investigation_due(received) == due


def test_ivo_confirmation_is_followed_up_14_days_after_the_assessment() -> None:
    assert HUDDINGE.ivo_confirmation_due(date(2026, 4, 21)) == date(2026, 5, 5)
    # 2026-05-14 is Kristi himmelfärd: + 14 from 30 April.
    assert HUDDINGE.ivo_confirmation_due(date(2026, 4, 30)) == date(2026, 5, 15)


def test_days_and_rolling_come_from_the_policy_file(tmp_path: Path) -> None:
    text = (Path("policies") / "huddinge.toml").read_text(encoding="utf-8")
    (tmp_path / "local.toml").write_text(
        text + "\n[lex_sarah]\ninvestigation_follow_up_days = 10\nroll_forward = false\n",
        encoding="utf-8",
    )
    rule = load_policy("local", directory=tmp_path).lex_sarah
    assert rule.investigation_due(date(2026, 12, 14)) == date(2026, 12, 24)  # julafton kept
    assert "lex_sarah.investigation_follow_up_days" in load_policy("huddinge").defaulted_fields()


def test_every_policy_file_says_the_days_are_local_practice() -> None:
    for name in ("huddinge", "salem", "stockholm", "strangnas"):
        text = (Path("policies") / f"{name}.toml").read_text(encoding="utf-8")
        assert "LOCAL PRACTICE" in text and "utan dröjsmål" in text, name


# --------------------------------------------------------------------------- form checks


def _report(**changes: object) -> LexSarahReport:
    values: dict[str, object] = {
        "municipality": "huddinge",
        "provider": "avtal 1A2B3C4D",
        "category": CategoryChoice.wrong,
        "event_on": date(2026, 5, 4),
        "provider_received_on": date(2026, 5, 5),
        "received_on": date(2026, 5, 6),
        "registered_by": "Handläggare",
    }
    return LexSarahReport.model_validate(values | changes)


def test_report_dates_out_of_order_are_refused_naming_the_field() -> None:
    assert report_problems(_report(), date(2026, 5, 6)) == []
    problems = report_problems(
        _report(provider_received_on=date(2026, 5, 3), received_on=date(2026, 5, 2)),
        date(2026, 5, 6),
    )
    assert problems[0].startswith("Utföraren fick rapporten: kan inte vara före händelsedatum")
    assert problems[1].startswith("Kom in till kommunen: kan inte vara före")
    future = report_problems(_report(), date(2026, 5, 5))
    assert future == ["Kom in till kommunen: kan inte ligga i framtiden (6 maj 2026)."]


def test_the_report_form_has_no_free_text_field() -> None:
    # Its values become the run's parameters, which Prefect keeps.
    assert set(LexSarahReport.model_fields) == {
        "municipality",
        "provider",
        "category",
        "event_on",
        "provider_received_on",
        "received_on",
        "registered_by",
    }


def test_assessment_checks_dates_and_the_municipality_action() -> None:
    answer = AssessmentForm(
        investigation_received_on=date(2026, 5, 4),
        serious=Seriousness.serious,
        assessed_on=date(2026, 5, 3),
        assessed_by="Handläggare",
    )
    problems = assessment_problems(answer, date(2026, 5, 6), date(2026, 5, 20))
    assert [p.split(":")[0] for p in problems] == [
        "Utredningen kom in",
        "Bedömd",
        "Kommunens åtgärd",
    ]


def test_ivo_and_closure_checks_name_their_fields() -> None:
    ivo = IvoForm(
        notified_on=date(2026, 5, 1), received_on=date(2026, 4, 30), registered_by="Handläggare"
    )
    assert [p.split(":")[0] for p in ivo_problems(ivo, date(2026, 5, 4), date(2026, 5, 20))] == [
        "Utföraren anmälde till IVO",
        "Kopian kom in",
    ]
    closure = ClosureForm(
        closure=ClosureChoice.position,
        closed_on=date(2026, 6, 1),
        measures="Ny rutin.",
        closed_by="Handläggare",
    )
    assert closure_problems(closure, date(2026, 5, 4), date(2026, 5, 20)) == [
        "Datum för beslutet eller ställningstagandet: kan inte ligga i framtiden."
    ]


def test_free_text_fields_are_private_and_need_a_visible_character() -> None:
    assert DescriptionForm.PRIVATE == {"description", "persons"}
    assert ClosureForm.PRIVATE == {"measures"}
    schema = DescriptionForm.model_json_schema()
    assert schema["properties"]["description"]["pattern"] == r"\S"


# --------------------------------------------------------------------------- the case in the db


@pytest.fixture
def contract(engine: Engine) -> Contract:
    with Session(engine, expire_on_commit=False) as session:
        sync_municipalities(session)
        provider = make_provider(session)
        contract = Contract(
            provider_id=provider.id,
            municipality_id="huddinge",
            status=ContractStatus.active,
            services=["service"],
            capacity_hours_per_month=100,
            starts_on=date(2025, 1, 1),
            ends_on=date(2027, 12, 31),
        )
        session.add(contract)
        session.commit()
        return contract


def _register(contract: Contract, received: date) -> uuid.UUID:
    report = _report(
        provider=case_no(contract.id),
        event_on=received - timedelta(days=2),
        provider_received_on=received - timedelta(days=1),
        received_on=received,
    )
    registered = register.fn(report, uuid.uuid4())
    assert registered.case_id is not None, registered.refusal
    return registered.case_id


def _assess(case_id: uuid.UUID, on: date, serious: bool) -> None:
    store_assessment(
        case_id,
        AssessmentForm(
            investigation_received_on=on,
            serious=Seriousness.serious if serious else Seriousness.not_serious,
            municipality_action="Besök hos utföraren" if serious else "",
            assessed_on=on,
            assessed_by="Handläggare",
        ),
    )


def test_a_case_from_report_to_closure(engine: Engine, contract: Contract) -> None:
    case_id = _register(contract, date(2026, 12, 10))
    store_description(case_id, DescriptionForm(description=SECRET, persons="Karin"), "t")
    _assess(case_id, date(2026, 12, 21), serious=True)
    store_ivo(
        case_id,
        IvoForm(
            notified_on=date(2026, 12, 22),
            received_on=date(2026, 12, 23),
            registered_by="Handläggare",
        ),
    )
    store_closure(
        case_id,
        ClosureForm(
            closure=ClosureChoice.decision,
            closed_on=date(2027, 1, 8),
            measures="Ny rutin",
            closed_by="Handläggare",
        ),
    )
    with Session(engine) as session:
        case = session.get(LexSarahCase, case_id)
        assert case is not None and case.status is LexSarahStatus.closed
        assert (case.description, case.persons, case.serious) == (SECRET, "Karin", True)
        obligations = session.exec(
            select(Obligation).where(Obligation.subject_id == case_id).order_by(Obligation.kind)
        ).all()
        assert [(o.kind, o.due_on, o.status, o.fulfilled_on) for o in obligations] == [
            (
                ObligationKind.ivo_confirmation,
                date(2027, 1, 4),  # 21 Dec + 14 = 4 Jan, a Monday
                ObligationStatus.fulfilled,
                date(2026, 12, 23),
            ),
            (
                ObligationKind.lex_sarah_investigation,
                date(2026, 12, 28),
                ObligationStatus.fulfilled,
                date(2026, 12, 21),
            ),
        ]
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_id == str(case_id))
            .order_by(col(AuditEvent.id))
        ).all()
        assert [e.to_status for e in events] == [
            "reported",
            "investigating",
            "ivo_pending",
            "closing",
            "closed",
        ]
        # Nothing personal in the audit log or the letters.
        for event in session.exec(select(AuditEvent)).all():
            assert "Karin" not in f"{event.reason} {event.details} {event.actor}"
        letters = session.exec(select(OutgoingEmail)).all()
        assert sorted(letter.template for letter in letters) == [
            "lex-sarah-closed",
            "lex-sarah-ivo-request",
            "lex-sarah-received",
        ]
        for letter in letters:
            assert "Karin" not in letter.subject + letter.body_text
            assert case_no(case_id) in letter.subject


def test_the_state_machine_refuses_skipping_a_step(engine: Engine, contract: Contract) -> None:
    case_id = _register(contract, date(2026, 5, 6))
    with Session(engine) as session:
        case = session.get(LexSarahCase, case_id)
        assert case is not None
        with pytest.raises(IllegalTransition, match="'reported' to 'closed'"):
            change_status(session, case, LexSarahStatus.closed, actor="t")
    # Storing an answer for a step the case is not at changes nothing.
    store_closure(
        case_id,
        ClosureForm(
            closure=ClosureChoice.decision,
            closed_on=date(2026, 5, 8),
            measures="x",
            closed_by="Handläggare",
        ),
    )
    with Session(engine) as session:
        stored = session.get(LexSarahCase, case_id)
        assert stored is not None and stored.status is LexSarahStatus.reported


def test_registration_is_refused_without_a_contract_in_force(
    engine: Engine, contract: Contract
) -> None:
    refused = register.fn(_report(provider=case_no(contract.id), event_on=date(2024, 6, 3),
                                  provider_received_on=date(2024, 6, 3),
                                  received_on=date(2024, 6, 4)), uuid.uuid4())  # fmt: skip
    assert refused.case_id is None
    assert refused.refusal == f"Utförare: avtal {case_no(contract.id)} gällde inte i juni 2024."


def test_same_run_registers_once(engine: Engine, contract: Contract) -> None:
    run = uuid.uuid4()
    report = _report(provider=case_no(contract.id))
    first = register.fn(report, run)
    assert register.fn(report, run) == first
    with Session(engine) as session:
        assert len(session.exec(select(LexSarahCase)).all()) == 1


def _lex_keys(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(
            key
            for key in session.exec(select(OutgoingEmail.idempotency_key)).all()
            if ":lex_sarah_investigation:" in key or ":ivo_confirmation:" in key
        )


def test_overdue_investigation_ladder_over_the_year_end(engine: Engine, contract: Contract) -> None:
    # Received 10 December 2026: followed up Monday 28 December (after julafton).
    # +5 working days skips nyårsafton, nyårsdagen and trettondedag jul: 7 January.
    case_id = _register(contract, date(2026, 12, 10))
    store_description(case_id, DescriptionForm(description=SECRET), "t")
    sent: dict[str, date] = {}
    day = date(2026, 12, 20)
    while day <= date(2027, 1, 20):
        with Session(engine) as session:
            run_checks(session, day)
            session.commit()
        for key in _lex_keys(engine):
            sent.setdefault(key, day)
        day += timedelta(days=1)
    base = f"lex_sarah:{case_id}:lex_sarah_investigation"
    assert sent == {
        f"{base}:provider+0": date(2026, 12, 28),
        f"{base}:provider+5": date(2027, 1, 7),
        f"{base}:staff-escalation": date(2027, 1, 7),
    }


def test_a_received_investigation_stops_the_reminders(engine: Engine, contract: Contract) -> None:
    case_id = _register(contract, date(2026, 12, 10))
    store_description(case_id, DescriptionForm(description=SECRET), "t")
    _assess(case_id, date(2026, 12, 22), serious=False)
    with Session(engine) as session:
        assert lex_sarah_checks.queue_reminders(session, date(2027, 1, 7)) == 0


def test_serious_case_and_second_case_in_a_year_propose_a_follow_up(
    engine: Engine, contract: Contract
) -> None:
    first = _register(contract, date(2026, 2, 2))
    second = _register(contract, date(2026, 11, 2))  # within 12 months of the first
    third = _register(contract, date(2027, 12, 1))  # alone in its window
    store_description(third, DescriptionForm(description=SECRET), "t")
    with Session(engine) as session:
        grounds = lex_sarah_checks.grounds(session, date(2026, 11, 3))
    assert [(g.ground, g.details["cases_in_window"]) for g in grounds] == [(second.hex, 2)]
    with Session(engine) as session:
        run_checks(session, date(2026, 11, 3))
        run_checks(session, date(2026, 11, 4))  # again: nothing new
        session.commit()
        proposals = session.exec(select(Proposal)).all()
    assert [(p.kind, p.ground) for p in proposals] == [
        (ProposalKind.lex_sarah_follow_up, second.hex)
    ]
    assert proposals[0].details["serious"] == "nej eller inte bedömt ännu"
    _assess(third, date(2027, 12, 6), serious=True)
    with Session(engine) as session:
        grounds = lex_sarah_checks.grounds(session, date(2027, 12, 7))
    assert [(g.ground, g.details["serious"]) for g in grounds] == [(third.hex, "ja")]
    assert first not in {uuid.UUID(g.ground) for g in grounds}


def test_open_cases_table_has_numbers_dates_and_statuses_only(
    engine: Engine, contract: Contract
) -> None:
    case_id = _register(contract, date(2026, 12, 10))
    store_description(case_id, DescriptionForm(description=SECRET, persons="Karin"), "t")
    with Session(engine) as session:
        table = lex_sarah_checks.open_cases(session, date(2027, 1, 7))
    assert table == [
        {
            "Ärende": case_no(case_id),
            "Avtal": case_no(contract.id),
            "Kommun": "Huddinge kommun",
            "Händelsedatum": "2026-12-08",
            "Inkom": "2026-12-10",
            "Status": "väntar på utredningen",
            "Frist": "2026-12-28",
            "Försenad (arbetsdagar)": 5,
        }
    ]
