"""A provider's monthly deviation report (avvikelserapport) for one contract and month.

The report is the basis of the customers' fees: days without help, missed
visits and meals delivered (Huddinge, seed 000: due "senast första vardagen
varje månad"; Salem, seed 002 §6.8: "senast den 10:e varje månad"). One row per
contract and month; registering it fulfils the month's `deviation_report`
obligation and stops its reminders. Counts only: no customer is named.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from models.base import UTCDateTime, utcnow
from models.contract_month import ContractMonthRow


class MonthlyReport(ContractMonthRow, table=True):
    __tablename__ = "monthly_report"
    __table_args__ = (UniqueConstraint("contract_id", "period", name="uq_monthly_report"),)
    ENTITY_TYPE: ClassVar[str] = "monthly_report"

    municipality_id: str = Field(foreign_key="municipality.id", max_length=40)
    #: The month the report covers, "2026-05".
    period: str = Field(max_length=7, index=True)
    received_on: date
    due_on: date
    #: Working days after the due date (0 when on time).
    late_working_days: int = Field(default=0, ge=0)
    days_without_help: int = Field(ge=0)
    missed_visit_minutes: int = Field(ge=0)
    meals_delivered: int = Field(ge=0)
    registered_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
