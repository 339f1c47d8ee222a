"""A provider's number of customers and hours performed in one month, under one contract.

The inactivity rules read these counts: Salem ends the contract of a provider
that "saknar uppdrag under en period av 12 månader" (seed 002 §4.5),
Stockholm's contract "upphör" when the provider "saknar kunder efter 12
månader", and Stockholm gives notice to a provider with "fem eller färre kunder
efter 24 månader" (seed 003). One row per contract and month; counts only, no
customer is named.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from models.base import UTCDateTime, utcnow
from models.contract_month import ContractMonthRow


class CustomerCount(ContractMonthRow, table=True):
    __tablename__ = "customer_count"
    __table_args__ = (UniqueConstraint("contract_id", "period", name="uq_customer_count"),)
    ENTITY_TYPE: ClassVar[str] = "customer_count"

    municipality_id: str = Field(foreign_key="municipality.id", max_length=40, index=True)
    #: The month counted, "2026-05".
    period: str = Field(max_length=7, index=True)
    customers: int = Field(ge=0)
    #: Hours performed in the month, kept in minutes so that sums stay exact.
    performed_minutes: int = Field(ge=0)
    registered_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
