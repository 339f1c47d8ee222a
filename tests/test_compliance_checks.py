"""The daily sweep's checks on real dates, on SQLite and PostgreSQL.

Inactivity (Salem 002 §4.5 hävs; Stockholm 003 upphör; warnings at 9 and 11
months), Stockholm's 24-month low-volume rule, three late reports in a year,
the 6-month reminder before a term ends and its decision, the end of a
contract whose term or notice has run out, the copies due at start, the
per-provider overview, and two sweeps at once. Each walks `as_of` day by day
so the letters' dates are the days a daily sweep would send them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from deployments.reference_data import sync_municipalities
from models.audit import AuditEvent
from models.contract import Contract, ContractEndKind, ContractStatus
from models.customer_count import CustomerCount
from models.forms.fields import DecisionBody
from models.forms.proposal import EndForm, EndOutcome
from models.monthly_report import MonthlyReport
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox import OutgoingEmail
from models.periods import contract_age_months, months_without_customers
from models.proposal import Proposal, ProposalKind, ProposalStatus
from models.provider import Provider
from tasks.compliance_checks import run_checks
from tasks.compliance_overview import provider_ref, rows
from tasks.proposal_store import ProposalView, apply_decision, end_problems, load_proposal
from tests.concurrency import run_at_once
from tests.factories import make_provider


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def make_contract(
    session: Session, municipality: str, starts_on: date, ends_on: date, **provider: Any
) -> Contract:
    contract = Contract(
        provider_id=make_provider(session, **provider).id,
        municipality_id=municipality,
        status=ContractStatus.active,
        services=["service"],
        capacity_hours_per_month=200,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    session.add(contract)
    session.flush()
    return contract


def count(session: Session, contract: Contract, period: str, customers: int) -> None:
    session.add(
        CustomerCount(
            contract_id=contract.id,
            provider_id=contract.provider_id,
            municipality_id=contract.municipality_id,
            period=period,
            customers=customers,
            performed_minutes=customers * 600,
            registered_by="test",
        )
    )


def months(first: str, last: str) -> list[str]:
    year, month = (int(part) for part in first.split("-"))
    found = []
    while f"{year:04d}-{month:02d}" <= last:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def sweep_days(engine: Engine, first: date, last: date) -> dict[str, date]:
    """Run the checks for every day; return each outbox key with the day it was queued."""
    sent: dict[str, date] = {}
    for day in days(first, last):
        with Session(engine) as session:
            run_checks(session, day)
            session.commit()
            for key in session.exec(select(OutgoingEmail.idempotency_key)).all():
                sent.setdefault(key, day)
    return sent


def proposals(engine: Engine) -> list[Proposal]:
    with Session(engine) as session:
        return list(session.exec(select(Proposal).order_by(col(Proposal.proposed_on))).all())


@pytest.fixture
def municipalities(engine: Engine) -> None:
    with Session(engine) as session:
        sync_municipalities(session)
        session.commit()


# --------------------------------------------------------------------------- pure rules


def test_streak_starts_after_the_last_month_with_customers() -> None:
    assert months_without_customers(date(2025, 1, 1), "2025-03", "2025-12") == ("2025-04", 9)
    # Started mid-month: the first whole month counts, not the part month.
    assert months_without_customers(date(2025, 1, 15), None, "2025-12") == ("2025-02", 11)
    assert months_without_customers(date(2025, 1, 1), "2025-12", "2025-12") == ("2026-01", 0)
    # Across New Year.
    assert months_without_customers(date(2024, 6, 1), "2024-11", "2025-10") == ("2024-12", 11)


def test_contract_age_in_whole_months() -> None:
    """A month is run when its anniversary (lag 1930:173 § 1) is reached by the end of the day."""
    assert contract_age_months(date(2024, 3, 15), date(2026, 3, 13)) == 23
    assert contract_age_months(date(2024, 3, 15), date(2026, 3, 14)) == 24
    # From 31 January the first month ends on the month's last day: 29 February
    # in a leap year, 28 February otherwise.
    assert contract_age_months(date(2024, 1, 31), date(2024, 2, 27)) == 0
    assert contract_age_months(date(2024, 1, 31), date(2024, 2, 28)) == 1
    assert contract_age_months(date(2023, 1, 31), date(2023, 2, 27)) == 1
    assert contract_age_months(date(2023, 1, 31), date(2023, 2, 26)) == 0


def test_sole_traders_are_not_shown_by_their_personnummer() -> None:
    import uuid

    provider_id = uuid.UUID("1a2b3c4d-0000-0000-0000-000000000000")
    assert provider_ref("556677-8899", provider_id) == "556677-8899"
    # A sole trader's organisation number is the owner's personnummer (month 01-12).
    assert provider_ref("460101-1234", provider_id) == "enskild firma 1A2B3C4D"


# --------------------------------------------------------------------------- inactivity


def test_salem_inactivity_ladder_warns_at_9_and_11_and_proposes_at_12(
    engine: Engine, municipalities: None
) -> None:
    with Session(engine) as session:
        contract = make_contract(session, "salem", date(2025, 1, 1), date(2026, 12, 31))
        busy = make_contract(session, "salem", date(2025, 1, 1), date(2026, 12, 31))
        for period in months("2025-01", "2026-03"):
            count(session, contract, period, 3 if period <= "2025-03" else 0)
            count(session, busy, period, 12)
        session.commit()
        contract_id, busy_id = contract.id, busy.id

    sent = sweep_days(engine, date(2025, 12, 1), date(2026, 4, 30))

    warnings = {key: day for key, day in sent.items() if key.startswith("inactivity:")}
    # April 2025 is the first month without customers: 9 months are reached with
    # December's count, judged from 1 January; 11 with February's, from 1 March.
    assert warnings == {
        f"inactivity:{contract_id}:2025-04:warning-9": date(2026, 1, 1),
        f"inactivity:{contract_id}:2025-04:warning-11": date(2026, 3, 1),
    }
    [proposal] = proposals(engine)
    assert proposal.kind is ProposalKind.end_inactivity
    assert proposal.contract_id == contract_id and proposal.contract_id != busy_id
    assert proposal.proposed_on == date(2026, 4, 1)  # March's count makes 12 months
    assert proposal.details["consequence"] == "havning"
    assert proposal.details["since_month"] == "april 2025"
    with Session(engine) as session:
        letter = session.exec(
            select(OutgoingEmail).where(
                OutgoingEmail.idempotency_key == f"inactivity:{contract_id}:2025-04:warning-11"
            )
        ).one()
    assert "april 2025" in letter.subject + letter.body_text
    assert "hävs" in letter.body_text and "förfrågningsunderlaget §4.5" in letter.body_text


def test_nothing_is_judged_before_the_municipality_has_entered_the_month(
    engine: Engine, municipalities: None
) -> None:
    with Session(engine) as session:
        contract = make_contract(session, "salem", date(2025, 1, 1), date(2026, 12, 31))
        # Counts only up to November 2025, all zero: December is not entered yet.
        for period in months("2025-01", "2025-11"):
            count(session, contract, period, 0)
        session.commit()
    sent = sweep_days(engine, date(2026, 1, 1), date(2026, 1, 31))
    assert not [key for key in sent if key.startswith("inactivity:")]
    assert proposals(engine) == []


def test_customers_coming_back_start_a_new_streak(engine: Engine, municipalities: None) -> None:
    with Session(engine) as session:
        contract = make_contract(session, "salem", date(2025, 1, 1), date(2027, 12, 31))
        for period in months("2025-01", "2026-09"):
            # 9 months without (Jan-Sep 2025), customers in October, then none again.
            count(session, contract, period, 2 if period == "2025-10" else 0)
        session.commit()
        contract_id = contract.id
    sent = sweep_days(engine, date(2025, 10, 1), date(2026, 10, 5))
    keys = sorted(key for key in sent if key.startswith("inactivity:"))
    assert keys == [
        f"inactivity:{contract_id}:2025-01:warning-9",
        f"inactivity:{contract_id}:2025-11:warning-11",
        f"inactivity:{contract_id}:2025-11:warning-9",
    ]
    assert sent[f"inactivity:{contract_id}:2025-01:warning-9"] == date(2025, 10, 1)
    assert sent[f"inactivity:{contract_id}:2025-11:warning-9"] == date(2026, 8, 1)
    assert [p.ground for p in proposals(engine)] == []  # 11 months by September 2026


def test_stockholm_contract_ends_without_notice_once_staff_confirm(
    engine: Engine, municipalities: None
) -> None:
    with Session(engine) as session:
        contract = make_contract(session, "stockholm", date(2025, 2, 1), date(2027, 1, 31))
        for period in months("2025-02", "2026-01"):
            count(session, contract, period, 0)
        session.commit()
        contract_id = contract.id
    sweep_days(engine, date(2026, 2, 1), date(2026, 2, 2))
    [proposal] = proposals(engine)
    assert proposal.details["consequence"] == "upphor"
    view = load_proposal.fn(str(proposal.id))
    answer = EndForm(
        outcome=EndOutcome.end,
        last_day=date(2026, 2, 2),
        meeting_on=date(2026, 2, 2),
        decided_by="Handläggare A",
    )
    # Upphör needs no decision body: the contract ends by itself (seed 003).
    assert end_problems(view, answer) == []
    assert apply_decision.fn(proposal.id, answer.model_dump(mode="json"), date(2026, 2, 2)) == (
        "accepted"
    )
    with Session(engine) as session:
        stored = session.get(Contract, contract_id)
        assert stored is not None
        assert (stored.status, stored.end_kind, stored.ended_on) == (
            ContractStatus.ended,
            ContractEndKind.upphor,
            date(2026, 2, 2),
        )
        keys = set(session.exec(select(OutgoingEmail.idempotency_key)).all())
    assert {f"contract:{contract_id}:ended", f"contract:{contract_id}:ended:staff"} <= keys


def test_salem_termination_needs_the_decision_body(engine: Engine, municipalities: None) -> None:
    with Session(engine) as session:
        contract = make_contract(session, "salem", date(2025, 1, 1), date(2026, 12, 31))
        for period in months("2025-01", "2025-12"):
            count(session, contract, period, 0)
        session.commit()
        contract_id = contract.id
    sweep_days(engine, date(2026, 1, 2), date(2026, 1, 2))
    [proposal] = proposals(engine)
    view: ProposalView = load_proposal.fn(str(proposal.id))
    officer_alone = EndForm(
        outcome=EndOutcome.end,
        last_day=date(2026, 1, 31),
        meeting_on=date(2026, 1, 29),
        decided_by="Handläggare A",
    )
    [problem] = end_problems(view, officer_alone)
    assert "Beslutande organ, Paragraf" in problem and "nämnden" in problem
    before_start = officer_alone.model_copy(update={"last_day": date(2024, 12, 31)})
    assert any("före avtalets start" in text for text in end_problems(view, before_start))
    decided = officer_alone.model_copy(
        update={
            "decision_body": DecisionBody.committee,
            "meeting_on": date(2026, 1, 28),
            "paragraph": "§ 12",
        }
    )
    assert end_problems(view, decided) == []
    apply_decision.fn(proposal.id, decided.model_dump(mode="json"), date(2026, 1, 29))
    with Session(engine) as session:
        stored = session.get(Contract, contract_id)
        assert stored is not None and stored.end_kind is ContractEndKind.havning
        events = session.exec(
            select(AuditEvent).where(AuditEvent.entity_id == str(contract_id))
        ).all()
        [ended] = [event for event in events if event.to_status == "ended"]
        assert ended.details is not None
        # The audit log keeps the body's key (issue 14); the letter names it in Swedish.
        assert ended.details["decision"] == {
            "body": "committee",
            "meeting_on": "2026-01-28",
            "paragraph": "§ 12",
        }
        letter = session.exec(
            select(OutgoingEmail).where(
                OutgoingEmail.idempotency_key == f"contract:{contract_id}:ended"
            )
        ).one()
        assert "§ 12" in letter.body_text and "Avtalet hävs" in letter.body_text
        assert "Nämnden beslutade" in letter.body_text
        # Future obligations are cancelled; the reports for months in force are still owed.
        open_kinds = {
            (o.kind, o.period)
            for o in session.exec(
                select(Obligation).where(
                    Obligation.subject_id == contract_id,
                    Obligation.status == ObligationStatus.open,
                )
            ).all()
        }
        assert all(kind is ObligationKind.deviation_report for kind, _ in open_kinds)
        assert all(period <= "2026-01" for _, period in open_kinds)


def test_stockholm_few_customers_after_24_months(engine: Engine, municipalities: None) -> None:
    with Session(engine) as session:
        few = make_contract(session, "stockholm", date(2024, 3, 15), date(2028, 3, 14))
        many = make_contract(session, "stockholm", date(2024, 3, 15), date(2028, 3, 14))
        salem = make_contract(session, "salem", date(2024, 3, 15), date(2028, 3, 14))
        for period in months("2024-03", "2026-04"):
            count(session, few, period, 4)
            count(session, many, period, 6)
            count(session, salem, period, 1)  # Salem has no such rule
        session.commit()
        few_id = few.id
    sweep_days(engine, date(2026, 3, 1), date(2026, 5, 5))
    [proposal] = proposals(engine)
    assert (proposal.kind, proposal.contract_id) == (ProposalKind.notice_low_volume, few_id)
    # March 2026 is the first month that ends 24 months after 15 March 2024.
    assert proposal.proposed_on == date(2026, 4, 1)
    assert proposal.details == {
        "customers": 4,
        "contract_months": 24,
        "judged_month": "mars 2026",
    }


# --------------------------------------------------------------------------- late reports


def test_three_late_reports_in_a_year_propose_a_warning_once(
    engine: Engine, municipalities: None
) -> None:
    with Session(engine) as session:
        contract = make_contract(session, "huddinge", date(2025, 1, 1), date(2026, 12, 31))
        for period, received, late in [
            ("2025-03", date(2025, 4, 3), 2),
            ("2025-06", date(2025, 7, 2), 1),
            ("2025-08", date(2025, 9, 1), 0),
            ("2025-10", date(2025, 11, 4), 2),
        ]:
            session.add(
                MonthlyReport(
                    contract_id=contract.id,
                    provider_id=contract.provider_id,
                    municipality_id="huddinge",
                    period=period,
                    received_on=received,
                    due_on=received,
                    late_working_days=late,
                    days_without_help=0,
                    missed_visit_minutes=0,
                    meals_delivered=0,
                    registered_by="test",
                )
            )
        session.commit()
    sweep_days(engine, date(2025, 11, 3), date(2025, 11, 10))
    [proposal] = proposals(engine)
    assert proposal.kind is ProposalKind.warning_late_reports
    assert proposal.proposed_on == date(2025, 11, 4)  # the day the third late one came in
    assert proposal.details["late_reports"] == 3
    assert proposal.ground == "2025-10"
    # A year later the first late report has left the 12-month window.
    sweep_days(engine, date(2026, 4, 6), date(2026, 4, 6))
    assert len(proposals(engine)) == 1


# --------------------------------------------------------------------------- contract term


def test_term_end_is_proposed_6_months_before_and_the_contract_then_ends(
    engine: Engine, municipalities: None
) -> None:
    with Session(engine) as session:
        contract = make_contract(session, "salem", date(2025, 6, 1), date(2027, 5, 31))
        session.commit()
        contract_id = contract.id
    sweep_days(engine, date(2026, 11, 27), date(2026, 12, 1))
    [proposal] = proposals(engine)
    assert proposal.kind is ProposalKind.contract_term
    assert proposal.proposed_on == date(2026, 11, 30)  # 31 May 2027 − 6 months
    answer = {"outcome": "Låt avtalet löpa ut", "note": "", "decided_by": "Handläggare A"}
    apply_decision.fn(proposal.id, answer, date(2026, 12, 2))
    sent = sweep_days(engine, date(2027, 5, 31), date(2027, 6, 1))
    with Session(engine) as session:
        stored = session.get(Contract, contract_id)
        assert stored is not None
        assert (stored.status, stored.ended_on, stored.end_kind) == (
            ContractStatus.ended,
            date(2027, 5, 31),
            ContractEndKind.expiry,
        )
    assert sent[f"contract:{contract_id}:ended"] == date(2027, 6, 1)
    assert f"contract:{contract_id}:term-ends:2027-05-31" in sent


def test_extension_moves_the_end_a_year_and_asks_again_next_time(
    engine: Engine, municipalities: None
) -> None:
    with Session(engine) as session:
        contract = make_contract(session, "salem", date(2024, 3, 1), date(2026, 2, 28))
        session.commit()
        contract_id = contract.id
    sweep_days(engine, date(2025, 8, 28), date(2025, 8, 28))
    [proposal] = proposals(engine)
    answer = {"outcome": "Förläng avtalet", "note": "", "decided_by": "Handläggare A"}
    apply_decision.fn(proposal.id, answer, date(2025, 9, 1))
    with Session(engine) as session:
        stored = session.get(Contract, contract_id)
        assert stored is not None and stored.ends_on == date(2027, 2, 28)
        letter = session.exec(
            select(OutgoingEmail).where(
                OutgoingEmail.idempotency_key == f"contract:{contract_id}:extended:2027-02-28"
            )
        ).one()
        assert "28 februari 2027" in letter.body_text
    sweep_days(engine, date(2026, 3, 1), date(2026, 3, 1))  # nothing ends: extended
    sweep_days(engine, date(2026, 8, 28), date(2026, 8, 28))
    assert [(p.ground, p.status) for p in proposals(engine)] == [
        ("2026-02-28", ProposalStatus.accepted),
        ("2027-02-28", ProposalStatus.open),
    ]


def test_notice_ends_the_contract_after_the_notice_period(
    engine: Engine, municipalities: None
) -> None:
    from models.contract_end import give_notice

    with Session(engine) as session:
        contract = make_contract(session, "stockholm", date(2024, 1, 1), date(2027, 12, 31))
        last = give_notice(
            session,
            contract,
            given_on=date(2026, 8, 31),
            ground="test",
            actor="Handläggare A",
            decision={"body": "committee", "meeting_on": "2026-08-25", "paragraph": "§ 3"},
        )
        session.commit()
        contract_id = contract.id
    assert last == date(2027, 2, 28)  # 31 August + 6 months, the month's last day
    sweep_days(engine, date(2027, 2, 28), date(2027, 3, 1))
    with Session(engine) as session:
        stored = session.get(Contract, contract_id)
        assert stored is not None
        assert (stored.status, stored.ended_on, stored.end_kind) == (
            ContractStatus.ended,
            date(2027, 2, 28),
            ContractEndKind.uppsagning_municipality,
        )


# --------------------------------------------------------------------------- other obligations


def test_copies_due_at_start_are_chased_then_escalated(
    engine: Engine, municipalities: None
) -> None:
    with Session(engine) as session:
        contract = make_contract(session, "salem", date(2026, 3, 2), date(2028, 3, 1))
        obligation = Obligation(
            kind=ObligationKind.insurance_copy,
            municipality_id="salem",
            provider_id=contract.provider_id,
            subject_type="contract",
            subject_id=contract.id,
            due_on=date(2026, 3, 2),
        )
        session.add(obligation)
        session.commit()
        base = f"obligation:{obligation.id}"
    sent = sweep_days(engine, date(2026, 2, 20), date(2026, 3, 31))
    got = {key: day for key, day in sent.items() if key.startswith(base)}
    assert got == {
        f"{base}:due": date(2026, 3, 2),
        f"{base}:after-5": date(2026, 3, 9),
        f"{base}:staff-after-10": date(2026, 3, 16),
    }


# --------------------------------------------------------------------------- overview, races


def test_overview_counts_per_provider(engine: Engine, municipalities: None) -> None:
    with Session(engine) as session:
        contract = make_contract(
            session, "huddinge", date(2026, 1, 1), date(2027, 12, 31), org_number="556677-8899"
        )
        for due, status in [
            (date(2026, 3, 2), ObligationStatus.open),
            (date(2026, 4, 1), ObligationStatus.open),
            (date(2026, 2, 2), ObligationStatus.fulfilled),
        ]:
            session.add(
                Obligation(
                    kind=ObligationKind.deviation_report,
                    municipality_id="huddinge",
                    provider_id=contract.provider_id,
                    subject_type="contract",
                    subject_id=contract.id,
                    period=due.isoformat()[:7],
                    due_on=due,
                    status=status,
                )
            )
        session.commit()
        [row] = rows(session, date(2026, 3, 10))
    assert row == {
        "Utförare": "556677-8899",
        "Kommun": "Huddinge kommun",
        "Försenade": 1,
        "Äldsta försenade frist": "2026-03-02",
        "Kommande": 1,
        "Nästa frist": "2026-04-01",
        "Klara": 1,
        "Förslag att besluta": 0,
    }


def test_two_sweeps_at_once_queue_each_letter_and_proposal_once(
    engine: Engine, municipalities: None
) -> None:
    with Session(engine) as session:
        for n in range(6):
            contract = make_contract(session, "salem", date(2025, 1, 1), date(2026, 6, 30))
            for period in months("2025-01", "2026-02"):
                count(session, contract, period, 0 if n % 2 else 5)
        session.commit()

    def sweep() -> dict[str, int]:
        with Session(engine) as session:
            counts = run_checks(session, date(2026, 3, 3))
            session.commit()
            return counts

    first, second = run_at_once(sweep)
    with Session(engine) as session:
        keys = session.exec(select(OutgoingEmail.idempotency_key)).all()
        stored = session.exec(select(Proposal)).all()
    assert len(keys) == len(set(keys))
    # 3 providers without customers since January 2025: 14 months, proposals;
    # all 6 terms end on 30 June, within 6 months.
    assert sorted(p.kind.value for p in stored) == ["contract_term"] * 6 + ["end_inactivity"] * 3
    assert first["new_proposals"] + second["new_proposals"] == 9
    # February's deviation report is due Tue 10 March in Salem: 5 working days
    # before is 3 March. Six reminders in all, each counted by the sweep that queued it.
    reminders = [key for key in keys if key.startswith("deviation-report:")]
    assert len(reminders) == 6
    assert first["deviation_reminders"] + second["deviation_reminders"] == 6


def test_a_provider_is_never_named_in_the_overview(engine: Engine, municipalities: None) -> None:
    with Session(engine) as session:
        contract = make_contract(
            session, "salem", date(2026, 1, 1), date(2027, 12, 31), name="Anna Anderssons Omsorg"
        )
        run_checks(session, date(2026, 2, 2))
        session.commit()
        provider = session.get(Provider, contract.provider_id)
        assert provider is not None
        table = rows(session, date(2026, 2, 2))
    assert table and "Anna" not in repr(table)
