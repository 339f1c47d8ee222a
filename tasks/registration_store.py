"""Storing monthly reports and customer counts: each row in its own transaction, refusals kept.

A figure belongs to the contract that was in force in its month, found by the
provider's organisation number or the contract number (models/contract_lookup.py).
Each row is stored in its own short transaction: a refused row stores nothing
(a report and the fulfilled obligation go in together or not at all) and the
good rows are kept. A row already stored, or repeated in the same text, is
refused as a duplicate, never overwritten. The rules themselves live with the
records: a report's lateness in working days after the policy's due date and
the month's obligation in models/checks/deviation_reports.py (domain.md §4: Huddinge
seed 000, Salem seed 002 §6.8), one count per contract and month in
models/customer_counts.py.

What is returned names contracts by their 8-character number and holds only
figures, never an organisation number (an enskild firma's is a personnummer):
the flows put it in run names, logs and artifacts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, select

from models.calendar import month_name
from models.checks.deviation_reports import register_report
from models.contract import Contract
from models.contract_lookup import RegistrationRefused, contract_for
from models.csv_rows import (
    COUNT_LAYOUT,
    REPORT_LAYOUT,
    CustomerCountRow,
    Layout,
    MonthlyReportRow,
    Refusal,
)
from models.customer_counts import register_count
from models.db import session_scope
from models.monthly_report import MonthlyReport
from models.sv_format import case_no


@dataclass(frozen=True)
class StoredRow:
    """A stored report or count: the line it came from and what was stored (figures only)."""

    line: int
    contract_no: str
    period: str
    cells: tuple[str, ...]
    late_working_days: int = 0


@dataclass
class ImportResult:
    stored: list[StoredRow] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


R = TypeVar("R", MonthlyReportRow, CustomerCountRow)


def _store_rows(
    rows: Sequence[tuple[int, R]],
    layout: Layout,
    *,
    municipality: str,
    engine: Engine | None,
    store: Callable[[Session, Contract, int, R], StoredRow],
) -> ImportResult:
    """Store each row in its own transaction; a refused row stores nothing."""
    result = ImportResult()
    seen: dict[tuple[uuid.UUID, str], int] = {}
    for line, row in rows:
        try:
            with session_scope(engine) as session:
                contract = contract_for(session, municipality, row.provider, row.period)
                key = (contract.id, row.period)
                if key in seen:
                    number = case_no(contract.id)
                    raise RegistrationRefused(
                        "period",
                        f"contract {number} and {row.period} are already on line {seen[key]}",
                        f"dubblett: avtal {number}, {month_name(row.period)} finns redan på "
                        f"rad {seen[key]}",
                    )
                stored = store(session, contract, line, row)
        except RegistrationRefused as refusal:
            result.refused.append(Refusal(line, layout.title(refusal.field), refusal.swedish))
            continue
        except IntegrityError:
            # Another run stored the same contract and month between our check and insert.
            result.refused.append(
                Refusal(
                    line,
                    layout.title("period"),
                    f"{month_name(row.period)} registrerades samtidigt av en annan körning; "
                    "inget skrevs över",
                )
            )
            continue
        except SQLAlchemyError as error:
            # The database error's text can hold the query's parameters (an
            # organisation number): say where it stopped, not what it said.
            raise RuntimeError(
                f"rad {line}: databasfel ({type(error).__name__}); raderna före den är sparade"
            ) from None
        seen[key] = line
        result.stored.append(stored)
    return result


def _hours(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def store_monthly_reports(
    rows: Sequence[tuple[int, MonthlyReportRow]],
    *,
    municipality: str,
    registered_by: str,
    engine: Engine | None = None,
) -> ImportResult:
    """Store reports (each with its month's obligation fulfilled); refuse duplicates."""

    def store(session: Session, contract: Contract, line: int, row: MonthlyReportRow) -> StoredRow:
        number = case_no(contract.id)
        existing = session.exec(
            select(MonthlyReport).where(
                MonthlyReport.contract_id == contract.id, MonthlyReport.period == row.period
            )
        ).first()
        if existing is not None:
            raise RegistrationRefused(
                "period",
                f"the report for {row.period} is already registered for contract {number}",
                f"rapporten för {month_name(row.period)} är redan registrerad för avtal "
                f"{number}; inget skrevs över",
            )
        report = register_report(
            session,
            contract_id=contract.id,
            period=row.period,
            received_on=row.received_on,
            days_without_help=row.days_without_help,
            missed_visit_minutes=row.missed_visit_minutes,
            meals_delivered=row.meals_delivered,
            registered_by=registered_by,
        )
        session.flush()
        return StoredRow(
            line=line,
            contract_no=number,
            period=row.period,
            cells=(
                row.received_on.isoformat(),
                f"{report.late_working_days} arbetsdagar" if report.late_working_days else "nej",
                str(row.days_without_help),
                _hours(row.missed_visit_minutes),
                str(row.meals_delivered),
            ),
            late_working_days=report.late_working_days,
        )

    return _store_rows(rows, REPORT_LAYOUT, municipality=municipality, engine=engine, store=store)


def store_customer_counts(
    rows: Sequence[tuple[int, CustomerCountRow]],
    *,
    municipality: str,
    registered_by: str,
    engine: Engine | None = None,
) -> ImportResult:
    """Store counts; refuse duplicates and months outside the contract."""

    def store(session: Session, contract: Contract, line: int, row: CustomerCountRow) -> StoredRow:
        register_count(
            session,
            contract_id=contract.id,
            period=row.period,
            customers=row.customers,
            performed_minutes=row.performed_minutes,
            registered_by=registered_by,
        )
        return StoredRow(
            line=line,
            contract_no=case_no(contract.id),
            period=row.period,
            cells=(str(row.customers), _hours(row.performed_minutes)),
        )

    return _store_rows(rows, COUNT_LAYOUT, municipality=municipality, engine=engine, store=store)


@task(name="store-monthly-reports", cache_policy=NO_CACHE, persist_result=False)
def save_monthly_reports(
    rows: list[tuple[int, MonthlyReportRow]], municipality: str, registered_by: str
) -> ImportResult:
    return store_monthly_reports(rows, municipality=municipality, registered_by=registered_by)


@task(name="store-customer-counts", cache_policy=NO_CACHE, persist_result=False)
def save_customer_counts(
    rows: list[tuple[int, CustomerCountRow]], municipality: str, registered_by: str
) -> ImportResult:
    return store_customer_counts(rows, municipality=municipality, registered_by=registered_by)
