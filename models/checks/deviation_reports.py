"""Monthly deviation reports: the month's obligation per contract, its reminders, its receipt.

Rules (domain.md §4): Huddinge wants the report "senast första vardagen varje
månad" (seed 000), Salem "senast den 10:e varje månad" (seed 002 §6.8); the
policy's `deviation_report_due` gives the date, and its
`reminder_offsets_working_days` (default -5, 0, +1, +5) the reminder ladder.

Set-based: creating a month's obligations is one INSERT ... SELECT per
municipality (the due date depends on its policy), and finding the reminders
is one query, however many contracts there are. Each reminder has an outbox
key per contract, month and step, so sweeping twice, re-running a day or two
sweeps at once send it once.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, func, literal, or_
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.base import utcnow
from models.calendar import (
    add_months,
    add_working_days,
    month_name,
    working_days_between,
)
from models.contract import Contract, ContractStatus
from models.monthly_report import MonthlyReport
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.periods import previous_period
from models.policy import Policy, load_policy
from models.provider import Provider
from models.provider_case import fulfil_if_open, policy_of
from models.reminder_ladder import Ladder, Track, queue_ladder
from models.reminders import Rung, Step, by_offset, place

OBLIGATION = cast(Table, Obligation.__table__)  # type: ignore[attr-defined]

#: Contracts that owe a report for a month they were in force.
REPORTING = (ContractStatus.active, ContractStatus.notice_given, ContractStatus.interim_terminated)

#: How far from its due date a reminder can fall: 5 working days, plus a holiday
#: season, is well inside this.
_LADDER_REACH = timedelta(days=40)


def ensure_obligations(session: Session, as_of: date) -> int:
    """Create the deviation-report obligations of this month and last for every reporting contract.

    This month's exists from its first day, so the reminder before the due date
    (which falls in the month itself when the report is due early in the next,
    as in Huddinge) has an obligation to hang on; last month's is made too in case
    the sweep did not run on the first days of the month. A contract owes the
    report for a month if it had started by the month's last day and had not
    ended before its first. Idempotent (the obligation's unique key); returns
    how many rows were added.
    """
    this_month = (as_of.year, as_of.month)
    return sum(
        _ensure_month(session, year, month) for year, month in (previous_period(as_of), this_month)
    )


def _ensure_month(session: Session, year: int, month: int) -> int:
    first = date(year, month, 1)
    last_day = add_months(first, 1) - timedelta(days=1)
    period = f"{year:04d}-{month:02d}"
    dialect = session.get_bind().dialect.name
    # Ids made by the database: gen_random_uuid() on PostgreSQL (13+); on SQLite,
    # 32 random hex digits, the form SQLAlchemy stores a UUID in there.
    new_uuid: Any = (
        func.gen_random_uuid()
        if dialect == "postgresql"
        else func.lower(func.hex(func.randomblob(16)))
    )
    now = utcnow()
    added = 0
    for municipality in session.exec(select(Municipality)).all():
        policy = load_policy(municipality.policy_name)
        due = policy.deviation_report_due(year, month)
        source = core_select(
            new_uuid,
            literal(ObligationKind.deviation_report.value),
            col(Contract.municipality_id),
            col(Contract.provider_id),
            literal(Contract.ENTITY_TYPE),
            col(Contract.id),
            literal(period),
            literal(due),
            literal(ObligationStatus.open.value),
            literal(now),
            literal(now),
        ).where(
            col(Contract.municipality_id) == municipality.id,
            col(Contract.status).in_([status.value for status in REPORTING]),
            col(Contract.starts_on) <= last_day,
            or_(col(Contract.ended_on).is_(None), col(Contract.ended_on) >= first),
        )
        columns = [
            "id", "kind", "municipality_id", "provider_id", "subject_type", "subject_id",
            "period", "due_on", "status", "created_at", "updated_at",
        ]  # fmt: skip
        insert: Any = (postgresql if dialect == "postgresql" else sqlite).insert(OBLIGATION)
        statement = insert.from_select(columns, source).on_conflict_do_nothing(
            index_elements=["kind", "subject_type", "subject_id", "period"]
        )
        # preserve_rowcount: psycopg reports -1 for INSERT ... SELECT otherwise.
        result = session.execute(statement.execution_options(preserve_rowcount=True))
        added += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    return added


def reminder_rungs(policy: Policy) -> tuple[Rung, ...]:
    """The ladder around the due date, in working days (policy; default -5, 0, +1, +5)."""
    return by_offset(policy.deviation_report.reminder_offsets_working_days)


def reminder_steps(policy: Policy, due: date) -> list[Step]:
    """The ladder's rungs on the calendar for a report due on `due`."""
    return place(reminder_rungs(policy), due)


#: (contract id, period, due date, provider's name and address, policy name).
ReportRow = tuple[uuid.UUID, str, date, str, str, str]


def _open_reports(session: Session, as_of: date) -> list[ReportRow]:
    """The open obligations whose ladder can have a step by `as_of`, columns only.

    The first step comes at most the largest "before" offset ahead of the due
    date, so one query finds them all, however many contracts.
    """
    names = {m.id: m.policy_name for m in session.exec(select(Municipality))}
    ahead = max(
        [0]
        + [
            -offset
            for name in names.values()
            for offset in load_policy(name).deviation_report.reminder_offsets_working_days
        ]
    )
    rows = session.execute(
        core_select(
            col(Obligation.subject_id),
            col(Obligation.municipality_id),
            col(Obligation.period),
            col(Obligation.due_on),
            col(Provider.name),
            col(Provider.email),
        )
        .join(Provider, col(Provider.id) == col(Obligation.provider_id))
        .where(
            col(Obligation.kind) == ObligationKind.deviation_report,
            col(Obligation.status) == ObligationStatus.open,
            col(Obligation.due_on) >= as_of - _LADDER_REACH,
            col(Obligation.due_on) <= add_working_days(as_of, ahead),
        )
    ).all()
    return [
        (contract_id, period, due_on, name, email, names[municipality_id])
        for contract_id, municipality_id, period, due_on, name, email in rows
    ]


@lru_cache(maxsize=1024)
def _late(due_on: date, as_of: date) -> int:
    # One count per due date, however many contracts share it.
    return max(working_days_between(due_on, as_of), 0)


def _context(policy: Policy, row: ReportRow, as_of: date) -> dict[str, Any]:
    _, period, due_on, name, _, _ = row
    return {
        "company_name": name,
        "month": month_name(period),
        "due_on": due_on,
        "working_days_late": _late(due_on, as_of),
        "submit_to": policy.mail.address_for("deviation_report"),
        "reason": (
            f"ni har avtal om hemtjänst med {policy.municipality} och ska "
            "rapportera avvikelser varje månad"
        ),
    }


DEVIATION_REPORTS: Ladder[ReportRow] = Ladder(
    rows=_open_reports,
    policy_name=lambda row: row[5],
    key=lambda row: f"deviation-report:{row[0]}:{row[1]}",
    case=lambda row: (Contract.ENTITY_TYPE, row[0]),
    tracks=(
        Track(
            template="deviation-report-reminder",
            rungs=lambda policy, row: reminder_rungs(policy),
            start=lambda row: row[2],
            recipient=lambda policy, row: row[4],
            context=_context,
        ),
    ),
)


def queue_reminders(session: Session, as_of: date) -> int:
    """Queue the day's reminders about deviation reports not yet received; return how many."""
    return queue_ladder(session, DEVIATION_REPORTS, as_of)


def register_report(
    session: Session,
    *,
    contract_id: uuid.UUID,
    period: str,
    received_on: date,
    days_without_help: int,
    missed_visit_minutes: int,
    meals_delivered: int,
    registered_by: str,
) -> MonthlyReport:
    """Store a received report and fulfil the month's obligation (reminders stop).

    A report after the due date is stored as late, with the number of working
    days (lag 1930:173 counting: received the working day after = 1). The same
    month registered twice is refused, naming the month: nothing is overwritten.
    """
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise ValueError(f"contract: no contract with id {contract_id}")
    year, month = (int(part) for part in period.split("-"))
    due = policy_of(session, contract).deviation_report_due(year, month)
    existing = session.exec(
        select(MonthlyReport).where(
            MonthlyReport.contract_id == contract_id, MonthlyReport.period == period
        )
    ).first()
    if existing is not None:
        raise ValueError(f"period: the report for {period} is already registered")
    report = MonthlyReport(
        contract_id=contract_id,
        provider_id=contract.provider_id,
        municipality_id=contract.municipality_id,
        period=period,
        received_on=received_on,
        due_on=due,
        late_working_days=max(working_days_between(due, received_on), 0),
        days_without_help=days_without_help,
        missed_visit_minutes=missed_visit_minutes,
        meals_delivered=meals_delivered,
        registered_by=registered_by,
    )
    session.add(report)
    fulfil_if_open(
        session,
        contract,
        ObligationKind.deviation_report,
        period=period,
        actor=registered_by,
        on=received_on,
        reason="avvikelserapport inkommen" + (" (sen)" if report.late_working_days else ""),
        details={"late_working_days": report.late_working_days},
    )
    return report
