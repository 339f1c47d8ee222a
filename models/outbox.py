"""Outgoing e-mail (the outbox): every letter is stored before it is sent.

Render, insert with a unique idempotency key, deliver, mark sent. The key
(case, message, period, step) makes a re-run or a second sweep a no-op; the
claim columns let two delivery runs share the queue without sending a message
twice; a delivery that dies leaves its claim to expire after a lease.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, enum_field, id_field, json_field, timestamp_field


class OutboxStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class OutgoingEmail(SQLModel, table=True):
    __tablename__ = "outgoing_email"
    __table_args__ = (Index("ix_outgoing_email_ready", "status", "next_attempt_at"),)

    id: uuid.UUID = id_field()
    idempotency_key: str = Field(max_length=300, unique=True)
    #: The case the letter belongs to: ("application", id), ("contract", id), ...
    case_type: str = Field(max_length=40)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    municipality_id: str | None = Field(default=None, foreign_key="municipality.id", max_length=40)
    template: str = Field(max_length=80)
    sender: str = Field(max_length=254)
    recipients: list[str] = json_field()
    subject: str = Field(max_length=500)
    body_text: str = Field(sa_type=Text)
    body_html: str | None = Field(default=None, sa_type=Text)
    #: [{"filename": ..., "content_type": "text/calendar", "data_b64": ...}]
    attachments: list[dict[str, Any]] = json_field(list)
    #: Our own Message-ID, fixed at enqueue time so a resend is recognisable.
    message_id: str = Field(max_length=200, unique=True)
    status: OutboxStatus = enum_field(OutboxStatus, OutboxStatus.queued)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_attempt_at: datetime = timestamp_field()
    queued_at: datetime = timestamp_field()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
