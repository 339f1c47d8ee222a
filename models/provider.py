"""A provider (utförare): a company that applies for, or holds, a LOV contract.

A provider may hold applications and contracts in several municipalities, so it
is not tied to one. The organisation number is unique and Luhn-checked.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, new_id, utcnow
from models.validation import normalise_email, normalise_org_number


class ProviderBase(SQLModel):
    name: str = Field(min_length=1, max_length=200, description="Företagets namn")
    org_number: str = Field(max_length=11, description="Organisationsnummer, NNNNNN-NNNN")
    email: str = Field(max_length=254, description="E-post dit kommunens brev skickas")

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("company name must not be empty")
        return value

    _check_org_number = field_validator("org_number")(normalise_org_number)
    _check_email = field_validator("email")(normalise_email)


class ProviderCreate(ProviderBase):
    """Validated input for a new provider (table models skip validation on init)."""


class Provider(ProviderBase, table=True):
    __tablename__ = "provider"
    ENTITY_TYPE: ClassVar[str] = "provider"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    org_number: str = Field(max_length=11, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
