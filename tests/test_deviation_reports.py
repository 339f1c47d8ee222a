"""Monthly deviation reports: a year of daily sweeps on real dates, on SQLite and PostgreSQL.

Two providers with active contracts, one under Huddinge (due the first working
day of the next month, seed 000) and one under Salem (the 10th, rolled forward,
seed 002 §6.8), swept every day of 2026. Checks the obligations made, every
reminder's date (Easter, Ascension, midsummer, trettondagen), that nothing goes
out twice, and that a received report stops its month's reminders.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from deployments.reference_data import sync_municipalities
from models.checks.deviation_reports import ensure_obligations, queue_reminders, register_report
from models.contract import Contract, ContractStatus
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox import OutgoingEmail
from tests.factories import make_provider


@pytest.fixture
def contracts(engine: Engine) -> dict[str, Contract]:
    with Session(engine, expire_on_commit=False) as session:
        sync_municipalities(session)
        made = {}
        for municipality in ("huddinge", "salem"):
            provider = make_provider(session)
            contract = Contract(
                provider_id=provider.id,
                municipality_id=municipality,
                status=ContractStatus.active,
                services=["service"],
                capacity_hours_per_month=200,
                starts_on=date(2025, 6, 1),
                ends_on=date(2027, 5, 31),
            )
            session.add(contract)
            made[municipality] = contract
        session.commit()
        return made


def _sweep(engine: Engine, day: date) -> int:
    with Session(engine) as session:
        ensure_obligations(session, day)
        count = queue_reminders(session, day)
        session.commit()
        return count


def _keys(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(OutgoingEmail.idempotency_key)).all())


def _by_contract(sent: dict[str, date], contract: Contract) -> dict[tuple[str, str], date]:
    """(period, step) -> the sweep day that queued the reminder, for one contract."""
    found = {}
    for key, day in sent.items():
        _, contract_id, period, step = key.split(":")
        if contract_id == str(contract.id):
            found[(period, step)] = day
    return found


def test_a_year_of_daily_sweeps(engine: Engine, contracts: dict[str, Contract]) -> None:
    sent: dict[str, date] = {}
    day = date(2026, 1, 1)
    while day <= date(2026, 12, 31):
        # Salem's provider sends April's report one working day late.
        if day == date(2026, 5, 12):
            with Session(engine) as session:
                report = register_report(
                    session,
                    contract_id=contracts["salem"].id,
                    period="2026-04",
                    received_on=day,
                    days_without_help=2,
                    missed_visit_minutes=90,
                    meals_delivered=310,
                    registered_by="Handläggare Test",
                )
                session.commit()
                assert report.late_working_days == 1
                assert report.due_on == date(2026, 5, 11)  # the 10th is a Sunday
        _sweep(engine, day)
        assert _sweep(engine, day) == 0  # a second sweep the same day sends nothing
        for key in _keys(engine) - sent.keys():
            sent[key] = day
        day += timedelta(days=1)

    huddinge = _by_contract(sent, contracts["huddinge"])
    salem = _by_contract(sent, contracts["salem"])
    # The sweep sends each step on its day: Easter for Huddinge's March report,
    # New Year and trettondagen for Salem's December report.
    assert {
        step: huddinge[("2026-03", step)] for step in ("before-5", "due", "after-1", "after-5")
    } == {
        "before-5": date(2026, 3, 25),
        "due": date(2026, 4, 1),
        "after-1": date(2026, 4, 2),
        "after-5": date(2026, 4, 10),
    }
    # Salem's December 2025 report, with New Year and trettondagen in its ladder.
    assert {
        step: salem[("2025-12", step)] for step in ("before-5", "due", "after-1", "after-5")
    } == {
        "before-5": date(2026, 1, 2),
        "due": date(2026, 1, 12),
        "after-1": date(2026, 1, 13),
        "after-5": date(2026, 1, 19),
    }
    # December 2025 to November 2026: four steps each, every one once; December
    # 2026's first reminder falls before New Year (22 Dec Huddinge, 30 Dec Salem).
    assert len(huddinge) == 49
    assert huddinge[("2026-12", "before-5")] == date(2026, 12, 22)
    # Salem's April report came in on 12 May before that day's sweep: its two
    # reminders after the due date were not needed.
    assert len(salem) == 48 - 2 + 1
    assert salem[("2026-12", "before-5")] == date(2026, 12, 30)
    assert salem[("2026-04", "due")] == date(2026, 5, 11)
    assert ("2026-04", "after-1") not in salem and ("2026-04", "after-5") not in salem
    assert Counter(step for _, step in huddinge) == {
        "before-5": 13,
        "due": 12,
        "after-1": 12,
        "after-5": 12,
    }
    with Session(engine) as session:
        obligations = session.exec(
            select(Obligation).where(Obligation.kind == ObligationKind.deviation_report)
        ).all()
        due = {(o.subject_id, o.period): o.due_on for o in obligations}
        fulfilled = [o.period for o in obligations if o.status is ObligationStatus.fulfilled]
    assert len(obligations) == 26  # 2025-12 to 2026-12, per contract
    assert fulfilled == ["2026-04"]
    h, s = contracts["huddinge"].id, contracts["salem"].id
    # Huddinge: "första vardagen" (domain.md §3.2 lists 2026's).
    assert [due[(h, f"2026-{m:02d}")] for m in range(1, 12)] == [
        date(2026, 2, 2),
        date(2026, 3, 2),
        date(2026, 4, 1),
        date(2026, 5, 4),
        date(2026, 6, 1),
        date(2026, 7, 1),
        date(2026, 8, 3),
        date(2026, 9, 1),
        date(2026, 10, 1),
        date(2026, 11, 2),
        date(2026, 12, 1),
    ]
    # Salem: the 10th, rolled to a working day (UNVERIFIED rule, domain.md §3.2).
    assert due[(s, "2025-12")] == date(2026, 1, 12)
    assert due[(s, "2026-04")] == date(2026, 5, 11)
    assert due[(s, "2026-09")] == date(2026, 10, 12)


@pytest.mark.parametrize(
    ("policy", "period", "expected"),
    [
        # Easter: skärtorsdag is a working day, långfredag to annandag påsk are not.
        (
            "huddinge",
            (2026, 3),
            {"before-5": "2026-03-25", "due": "2026-04-01", "after-1": "2026-04-02",
             "after-5": "2026-04-10"},
        ),
        # Midsummer week and July.
        (
            "huddinge",
            (2026, 6),
            {"before-5": "2026-06-24", "due": "2026-07-01", "after-1": "2026-07-02",
             "after-5": "2026-07-08"},
        ),
        # New Year and trettondagen; the 10th of January 2026 is a Saturday.
        (
            "salem",
            (2025, 12),
            {"before-5": "2026-01-02", "due": "2026-01-12", "after-1": "2026-01-13",
             "after-5": "2026-01-19"},
        ),
        # Kristi himmelsfärd, Thursday 14 May 2026.
        (
            "salem",
            (2026, 4),
            {"before-5": "2026-05-04", "due": "2026-05-11", "after-1": "2026-05-12",
             "after-5": "2026-05-19"},
        ),
    ],
)  # fmt: skip
def test_reminder_ladder_dates(
    policy: str, period: tuple[int, int], expected: dict[str, str]
) -> None:
    from models.checks.deviation_reports import reminder_steps
    from models.policy import load_policy

    rules = load_policy(policy)
    steps = reminder_steps(rules, rules.deviation_report_due(*period))
    assert {step.name: step.on.isoformat() for step in steps} == expected


def test_same_month_registered_twice_is_refused(
    engine: Engine, contracts: dict[str, Contract]
) -> None:
    values = {
        "contract_id": contracts["huddinge"].id,
        "period": "2026-05",
        "received_on": date(2026, 6, 1),
        "days_without_help": 0,
        "missed_visit_minutes": 0,
        "meals_delivered": 12,
        "registered_by": "Handläggare Test",
    }
    with Session(engine) as session:
        first = register_report(session, **values)  # type: ignore[arg-type]
        session.commit()
        assert first.late_working_days == 0
    with (
        Session(engine) as session,
        pytest.raises(ValueError, match="period: the report for 2026-05"),
    ):
        register_report(session, **values | {"meals_delivered": 99})  # type: ignore[arg-type]
