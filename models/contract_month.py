"""What a provider's figures for one contract and one month are tied to.

The monthly deviation report (models/monthly_report.py) and the customer count
(models/customer_count.py) are both one row per contract and month; their
tables start with the same keys, declared here once.
"""

from __future__ import annotations

import uuid

from sqlmodel import Field, SQLModel

from models.base import new_id


class ContractMonthRow(SQLModel):
    """The keys of a contract's row for one month (not a table: its subclasses are)."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    contract_id: uuid.UUID = Field(foreign_key="contract.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="provider.id", index=True)
