"""Monthly reports and customer counts in the database, on SQLite and PostgreSQL.

`register_count`'s rules, `contract_for`'s lookups, and the import functions the
flows call (without Prefect): good rows stored, each refused row storing
nothing, obligations fulfilled for the reports stored, duplicates refused
within a text and against what is stored, and a row that fails half-way (a
concurrent insert, a crash after the obligation was updated) leaving no trace.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from deployments.reference_data import sync_municipalities
from flows.monthly_registration import COUNTS, import_markdown
from models.audit import AuditEvent
from models.checks.deviation_reports import ensure_obligations
from models.contract import Contract, ContractStatus
from models.contract_lookup import RegistrationRefused, contract_for
from models.csv_rows import parse_customer_counts, parse_monthly_reports
from models.customer_count import CustomerCount
from models.customer_counts import register_count
from models.forms.registration import (
    CountImportForm,
    CustomerCountForm,
    MonthlyReportForm,
    form_problems,
)
from models.monthly_report import MonthlyReport
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.provider import Provider
from models.sv_format import case_no
from tasks.registration_store import store_customer_counts, store_monthly_reports
from tests.factories import make_provider, org_number

TODAY = date(2026, 6, 15)
COUNT_HEADER = "utförare;månad;antal_kunder;utförda_timmar"
REPORT_HEADER = "utförare;månad;inkom;dagar_utan_hjälp;missade_besök_minuter;matportioner"


@dataclass
class World:
    """Salem: A active since June 2025; B ended 31 March 2026 with a successor from April.
    C has a contract in Huddinge only. D was never signed."""

    a: Provider
    b: Provider
    c: Provider
    d: Provider
    a_salem: Contract
    b_old: Contract
    b_new: Contract
    c_huddinge: Contract
    d_draft: Contract


def _contract(session: Session, provider: Provider, municipality: str, **values: Any) -> Contract:
    contract = Contract(
        provider_id=provider.id,
        municipality_id=municipality,
        services=["service"],
        capacity_hours_per_month=200,
        **values,
    )
    session.add(contract)
    return contract


@pytest.fixture
def world(engine: Engine) -> World:
    rng = random.Random(2026)
    with Session(engine, expire_on_commit=False) as session:
        sync_municipalities(session)
        a, b, c, d = (make_provider(session, org_number=org_number(rng)) for _ in range(4))
        active = ContractStatus.active
        made = World(
            a=a,
            b=b,
            c=c,
            d=d,
            a_salem=_contract(session, a, "salem", status=active, starts_on=date(2025, 6, 1)),
            b_old=_contract(
                session,
                b,
                "salem",
                status=ContractStatus.ended,
                starts_on=date(2024, 4, 1),
                ended_on=date(2026, 3, 31),
            ),
            b_new=_contract(session, b, "salem", status=active, starts_on=date(2026, 4, 1)),
            c_huddinge=_contract(session, c, "huddinge", status=active, starts_on=date(2025, 1, 1)),
            d_draft=_contract(session, d, "salem"),
        )
        ensure_obligations(session, date(2026, 6, 1))  # May's and June's reports are owed
        session.commit()
        return made


# --------------------------------------------------------------------------- register_count


def test_register_count_stores_one_per_contract_and_month(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        count = register_count(
            session,
            contract_id=world.a_salem.id,
            period="2026-05",
            customers=37,
            performed_minutes=74070,
            registered_by="Handläggare Test",
        )
        session.commit()
        assert (count.provider_id, count.municipality_id) == (world.a.id, "salem")
    with Session(engine) as session, pytest.raises(ValueError, match=r"^period: ") as refused:
        register_count(
            session,
            contract_id=world.a_salem.id,
            period="2026-05",
            customers=1,
            performed_minutes=1,
            registered_by="Någon Annan",
        )
    assert isinstance(refused.value, RegistrationRefused)
    assert "redan registrerat" in refused.value.swedish
    with Session(engine) as session:
        stored = session.exec(select(CustomerCount)).all()
    assert [(c.customers, c.performed_minutes, c.registered_by) for c in stored] == [
        (37, 74070, "Handläggare Test")  # nothing overwritten
    ]


@pytest.mark.parametrize(
    ("contract", "period", "swedish"),
    [
        ("a_salem", "2025-05", "hade inte börjat gälla i maj 2025 (startade 2025-06-01)"),
        ("b_old", "2026-04", "upphörde 2026-03-31, före april 2026"),
        ("d_draft", "2026-05", "hade inte börjat gälla i maj 2026"),
    ],
)
def test_register_count_refuses_a_month_outside_the_contract(
    engine: Engine, world: World, contract: str, period: str, swedish: str
) -> None:
    contract_id = getattr(world, contract).id
    with Session(engine) as session, pytest.raises(ValueError, match=r"^period: ") as refused:
        register_count(
            session,
            contract_id=contract_id,
            period=period,
            customers=1,
            performed_minutes=60,
            registered_by="Handläggare Test",
        )
    assert isinstance(refused.value, RegistrationRefused)
    assert swedish in refused.value.swedish


def test_register_count_accepts_a_contracts_first_and_last_month(
    engine: Engine, world: World
) -> None:
    with Session(engine) as session:
        for contract_id, period in ((world.a_salem.id, "2025-06"), (world.b_old.id, "2026-03")):
            register_count(
                session,
                contract_id=contract_id,
                period=period,
                customers=0,
                performed_minutes=0,
                registered_by="Handläggare Test",
            )
        session.commit()
        assert len(session.exec(select(CustomerCount)).all()) == 2


# --------------------------------------------------------------------------- contract_for


def test_contract_for_by_organisation_number_in_any_spelling(engine: Engine, world: World) -> None:
    digits = world.a.org_number.replace("-", "")
    with Session(engine) as session:
        for ref in (world.a.org_number, digits, f"16{digits}", f" {digits[:6]} {digits[6:]} "):
            assert contract_for(session, "salem", ref, "2026-05").id == world.a_salem.id
        # B's two contracts: the one in force in the month.
        assert contract_for(session, "salem", world.b.org_number, "2026-03").id == world.b_old.id
        assert contract_for(session, "salem", world.b.org_number, "2026-04").id == world.b_new.id


def test_contract_for_by_contract_number_or_id(engine: Engine, world: World) -> None:
    number = case_no(world.a_salem.id)
    with Session(engine) as session:
        for ref in (number, number.lower(), f"avtal {number}", str(world.a_salem.id).upper()):
            assert contract_for(session, "salem", ref, "2026-05").id == world.a_salem.id


@pytest.mark.parametrize(
    ("who", "municipality", "period", "english", "swedish"),
    [
        (
            "a",
            "salem",
            "2025-05",
            "provider: no contract in force in 2025-05 for {org} in salem",
            "utföraren hade inget avtal i Salems kommun som gällde i maj 2025 (avtal {no} gällde",
        ),
        (
            "c",
            "salem",
            "2026-05",
            "provider: no contract in force in 2026-05 for {org} in salem",
            "utföraren hade inget avtal i Salems kommun som gällde i maj 2026",
        ),
        (
            "d",
            "salem",
            "2026-05",
            "provider: no contract in force in 2026-05 for {org} in salem",
            "utföraren hade inget avtal",
        ),
    ],
)
def test_contract_for_refuses_by_organisation_number(
    engine: Engine,
    world: World,
    who: str,
    municipality: str,
    period: str,
    english: str,
    swedish: str,
) -> None:
    provider = getattr(world, who)
    with Session(engine) as session, pytest.raises(RegistrationRefused) as refused:
        contract_for(session, municipality, provider.org_number, period)
    number = case_no(world.a_salem.id)
    assert str(refused.value) == english.format(org=provider.org_number)
    assert refused.value.swedish.startswith(swedish.format(no=number))
    assert provider.org_number not in refused.value.swedish


def test_contract_for_refuses_unknown_and_foreign_references(engine: Engine, world: World) -> None:
    stranger = org_number(random.Random(1))
    huddinge_no = case_no(world.c_huddinge.id)
    cases = [
        (stranger, "no provider with organisation number", "ingen utförare med det"),
        ("0000000X", "neither an organisation number", "ska vara ett organisationsnummer"),
        (huddinge_no, f"contract {huddinge_no} is not salem's", "hör inte till Salems kommun"),
        (case_no(world.b_old.id), "was not in force in 2026-05", "gällde inte i maj 2026"),
        (str(uuid.uuid4()), "no contract with id", "inget avtal med nummer"),
    ]
    with Session(engine) as session:
        for ref, english, swedish in cases:
            with pytest.raises(RegistrationRefused) as refused:
                contract_for(session, "salem", ref, "2026-05")
            assert str(refused.value).startswith("provider: ")
            assert english in str(refused.value) and swedish in refused.value.swedish


def test_contract_for_refuses_two_contracts_in_force(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        overlap = _contract(
            session, world.a, "salem", status=ContractStatus.active, starts_on=date(2026, 5, 20)
        )
        session.commit()
        with pytest.raises(RegistrationRefused, match="2 contracts in force") as refused:
            contract_for(session, "salem", world.a.org_number, "2026-05")
        assert case_no(overlap.id) in refused.value.swedish
        # The contract number settles it.
        assert contract_for(session, "salem", case_no(overlap.id), "2026-05").id == overlap.id


# --------------------------------------------------------------------------- imports


def test_import_counts_stores_good_rows_and_refuses_the_rest(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        register_count(
            session,
            contract_id=world.a_salem.id,
            period="2026-03",
            customers=30,
            performed_minutes=6000,
            registered_by="Tidigare",
        )
        session.commit()
    a, b = world.a.org_number, world.b.org_number
    text = "\n".join(
        [
            COUNT_HEADER,
            f"{a};2026-05;37;1234,5",  # 2 stored
            f"{b};2026-03;4;12:30",  # 3 stored: B's old contract
            f"{b};2026-04;5;20",  # 4 stored: B's new contract
            f"{a};2026-05;38;1234,5",  # 5 duplicate of line 2
            f"{a};2026-03;31;100",  # 6 already registered
            f"{world.c.org_number};2026-05;1;1",  # 7 Huddinge's provider
            f"{org_number(random.Random(3))};2026-05;1;1",  # 8 unknown provider
            f"{a};2025-05;1;1",  # 9 before the contract
            f"{a};2026-05;x;1",  # 10 bad number
            f"avtal {case_no(world.b_old.id)};2026-04;1;1",  # 11 after the contract ended
        ]
    )
    parsed = parse_customer_counts(text, today=TODAY)
    result = store_customer_counts(
        parsed.rows, municipality="salem", registered_by="Handläggare Test", engine=engine
    )
    refused = sorted([*parsed.refused, *result.refused])
    assert [s.line for s in result.stored] == [2, 3, 4]
    assert [(r.line, r.field) for r in refused] == [
        (5, "månad"),
        (6, "månad"),
        (7, "utförare"),
        (8, "utförare"),
        (9, "utförare"),
        (10, "antal_kunder"),
        (11, "utförare"),
    ]
    reasons = {r.line: r.reason for r in refused}
    assert reasons[5].endswith("finns redan på rad 2")
    assert "redan registrerat" in reasons[6] and "inget skrevs över" in reasons[6]
    for refusal in refused:
        assert a not in refusal.reason and b not in refusal.reason
    with Session(engine) as session:
        stored = session.exec(select(CustomerCount).order_by(col(CustomerCount.period))).all()
    assert sorted((c.contract_id, c.period, c.customers, c.performed_minutes) for c in stored) == (
        sorted(
            [
                (world.a_salem.id, "2026-03", 30, 6000),
                (world.a_salem.id, "2026-05", 37, 74070),
                (world.b_old.id, "2026-03", 4, 750),
                (world.b_new.id, "2026-04", 5, 1200),
            ]
        )
    )
    markdown = import_markdown(COUNTS, "Salems kommun", result, refused)
    assert "| 5 | månad | dubblett: avtal" in markdown
    assert a not in markdown and b not in markdown
    assert f"| 2 | {case_no(world.a_salem.id)} | 2026-05 | 37 | 1234:30 |" in markdown


def test_import_reports_fulfils_the_obligations_of_the_stored_rows(
    engine: Engine, world: World
) -> None:
    a = world.a.org_number
    text = "\n".join(
        [
            REPORT_HEADER,
            f"{a};2026-05;2026-06-03;2;90;120",  # on time (due 10 June)
            f"{case_no(world.b_new.id)};2026-05;2026-06-12;0;0;40",  # two working days late
            f"{a};2026-05;2026-06-04;0;0;0",  # duplicate in the text
            f"{world.c.org_number};2026-05;2026-06-01;0;0;0",  # not Salem's
        ]
    )
    parsed = parse_monthly_reports(text, today=TODAY)
    result = store_monthly_reports(
        parsed.rows, municipality="salem", registered_by="Handläggare Test", engine=engine
    )
    assert [(s.line, s.late_working_days) for s in result.stored] == [(2, 0), (3, 2)]
    assert [(r.line, r.field) for r in result.refused] == [(4, "månad"), (5, "utförare")]
    with Session(engine) as session:
        reports = session.exec(select(MonthlyReport)).all()
        obligations = {
            (o.subject_id, o.period): o.status
            for o in session.exec(
                select(Obligation).where(Obligation.kind == ObligationKind.deviation_report)
            ).all()
        }
    assert sorted((r.contract_id, r.received_on, r.late_working_days) for r in reports) == sorted(
        [(world.a_salem.id, date(2026, 6, 3), 0), (world.b_new.id, date(2026, 6, 12), 2)]
    )
    assert obligations[(world.a_salem.id, "2026-05")] is ObligationStatus.fulfilled
    assert obligations[(world.b_new.id, "2026-05")] is ObligationStatus.fulfilled
    assert obligations[(world.a_salem.id, "2026-06")] is ObligationStatus.open
    assert obligations[(world.c_huddinge.id, "2026-05")] is ObligationStatus.open
    # The same text again stores nothing and overwrites nothing.
    again = store_monthly_reports(
        parsed.rows, municipality="salem", registered_by="Någon Annan", engine=engine
    )
    assert again.stored == [] and all("redan registrerad" in r.reason for r in again.refused[:3])


@pytest.fixture
def on_flush() -> Iterator[list[Any]]:
    """Run a hook inside the next flush of any session (for faults a real run can meet)."""
    hooks: list[Any] = []

    def before(session: Session, *_: Any) -> None:
        if hooks and hooks[0][0] == "before":
            hooks.pop(0)[1](session)

    def after(session: Session, *_: Any) -> None:
        if hooks and hooks[0][0] == "after":
            hooks.pop(0)[1](session)

    event.listen(Session, "before_flush", before)
    event.listen(Session, "after_flush", after)
    yield hooks
    event.remove(Session, "before_flush", before)
    event.remove(Session, "after_flush", after)


def _traces(engine: Engine, contract_id: uuid.UUID) -> tuple[int, ObligationStatus, int]:
    with Session(engine) as session:
        reports = session.exec(
            select(func.count()).where(col(MonthlyReport.contract_id) == contract_id)
        ).one()
        obligation = session.exec(
            select(Obligation).where(
                Obligation.subject_id == contract_id, Obligation.period == "2026-05"
            )
        ).one()
        events = session.exec(
            select(func.count()).where(
                col(AuditEvent.entity_type) == "obligation",
                col(AuditEvent.entity_id) == str(obligation.id),
            )
        ).one()
    return reports, obligation.status, events


def test_a_report_stored_concurrently_is_refused_and_nothing_is_half_stored(
    engine: Engine, world: World, on_flush: list[Any]
) -> None:
    """Another run inserts the same month between our check and our insert."""

    def concurrent(_: Session) -> None:
        with Session(engine) as other:
            other.add(
                MonthlyReport(
                    contract_id=world.a_salem.id,
                    provider_id=world.a.id,
                    municipality_id="salem",
                    period="2026-05",
                    received_on=date(2026, 6, 2),
                    due_on=date(2026, 6, 10),
                    days_without_help=0,
                    missed_visit_minutes=0,
                    meals_delivered=0,
                    registered_by="Annan körning",
                )
            )
            other.commit()

    on_flush.append(("before", concurrent))
    parsed = parse_monthly_reports(
        f"{REPORT_HEADER}\n{world.a.org_number};2026-05;2026-06-03;2;90;120\n", today=TODAY
    )
    result = store_monthly_reports(
        parsed.rows, municipality="salem", registered_by="Handläggare Test", engine=engine
    )
    assert result.stored == []
    assert [(r.line, r.field) for r in result.refused] == [(2, "månad")]
    assert "samtidigt" in result.refused[0].reason
    # Only the other run's report; our obligation change was rolled back with our insert.
    assert _traces(engine, world.a_salem.id) == (1, ObligationStatus.open, 0)


def test_a_row_that_fails_after_fulfilling_its_obligation_leaves_no_trace(
    engine: Engine, world: World, on_flush: list[Any]
) -> None:
    """A crash after the report and the obligation's change were written, before commit."""

    def crash(session: Session) -> None:
        if any(isinstance(o, AuditEvent) for o in session.new):
            raise ConnectionError("the database went away")
        on_flush.insert(0, ("after", crash))  # not this flush: wait for the audit event

    a = world.a.org_number
    text = (
        f"{REPORT_HEADER}\n"
        f"{case_no(world.b_new.id)};2026-05;2026-06-03;0;0;1\n"
        f"{a};2026-05;2026-06-03;2;90;120\n"
    )
    parsed = parse_monthly_reports(text, today=TODAY)
    store_monthly_reports(
        parsed.rows[:1], municipality="salem", registered_by="Handläggare Test", engine=engine
    )
    on_flush.append(("after", crash))
    with pytest.raises(ConnectionError):
        store_monthly_reports(
            parsed.rows[1:], municipality="salem", registered_by="Handläggare Test", engine=engine
        )
    assert _traces(engine, world.a_salem.id) == (0, ObligationStatus.open, 0)
    assert _traces(engine, world.b_new.id)[:2] == (1, ObligationStatus.fulfilled)


# --------------------------------------------------------------------------- forms


def test_forms_name_the_field_in_swedish() -> None:
    with pytest.raises(Exception) as refused:
        MonthlyReportForm.model_validate(
            {
                "municipality": "uppsala",
                "provider": "123",
                "period": "maj",
                "received_on": "2026-06-03",
                "days_without_help": 0,
                "missed_visit_hours": 0,
                "missed_visit_minutes": 75,
                "meals_delivered": 0,
                "registered_by": " ",
            }
        )
    problems = form_problems(refused.value, MonthlyReportForm)  # type: ignore[arg-type]
    assert [p.split(":")[0] for p in problems] == [
        "Kommun",
        "Utförare",
        "Månad",
        "Missade besök, minuter",
        "Registrerad av",
    ]
    assert "123" not in " ".join(problems)


def test_a_count_form_becomes_a_checked_row() -> None:
    form = CustomerCountForm(
        municipality="salem",
        provider="avtal 9f4f7ca2",
        period="2026-5",
        customers=12,
        performed_hours=340.55,
        registered_by="  Handläggare   Test ",
    )
    row = form.row(TODAY)
    assert (row.provider, row.period, row.performed_minutes) == ("9F4F7CA2", "2026-05", 20433)
    assert form.registered_by == "Handläggare Test"
    with pytest.raises(Exception, match="har inte börjat"):
        form.model_copy(update={"period": "2026-07"}).row(TODAY)
    assert CountImportForm(municipality="salem", csv="", registered_by="Test Testsson").csv == ""
