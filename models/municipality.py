"""A municipality (kommun) that runs a LOV customer-choice system, and the policy it uses."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class Municipality(SQLModel, table=True):
    __tablename__ = "municipality"

    #: Short key, the same as the policy file name: "huddinge", "salem", ...
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    policy_name: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
