"""The outbox: render a letter and queue it, once per idempotency key.

A letter is never sent straight from a flow. `enqueue_email` renders it and
stores it in `outgoing_email` in the caller's transaction, under an idempotency
key, so the letter exists exactly when the decision it reports exists, and a
re-run of the flow finds the key and adds nothing. Delivery
(tasks/email_delivery.py) later sends the queued rows.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any, NotRequired, TypedDict, Unpack

from sqlmodel import Session

from models import outbox_sql
from models.base import new_id, utcnow
from models.email_message import split_content_type
from models.email_render import render_email
from models.outbox import OutboxStatus
from models.validation import normalise_email

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


class Letter(TypedDict):
    """What a letter is queued with: `enqueue_email`'s and `outbox_values`' keywords."""

    key: str
    template: str
    context: Mapping[str, Any]
    recipients: Sequence[str]
    sender: str
    case_type: str
    case_id: uuid.UUID | None
    municipality_id: NotRequired[str | None]
    attachments: NotRequired[Sequence[Attachment]]


def enqueue_email(session: Session, **letter: Unpack[Letter]) -> uuid.UUID:
    """Render a letter and queue it in the outbox, once per idempotency key.

    The row is added in the caller's transaction and is not committed here, so
    the letter is queued if and only if the caller's change is committed. A
    second call with the same key (a retry, a re-run, a concurrent sweep) adds
    nothing and returns the existing row's id, even if the context differs.

    Args:
        session: the caller's session; the caller commits.
        key: idempotency key naming (case, message, period), e.g.
            "application:<id>:application-received".
        template: folder name under templates/email.
        context: template variables (see `render_email`).
        recipients: e-mail addresses; validated and de-duplicated.
        sender: the From address; its domain also names the Message-ID.
        case_type: "application", "contract", ...
        case_id: the case the letter belongs to, if any.
        municipality_id: the municipality that sends the letter, if known.
        attachments: files to attach, e.g. a text/calendar invitation.

    Returns:
        The id of the outbox row (new, or the one already queued under `key`).

    Raises:
        ValueError: bad key, template, address or attachment type.
    """
    values = outbox_values(**letter)
    stored_id = outbox_sql.insert_if_absent(session, values)
    if stored_id != values["id"]:
        logger.info("Outbox key already queued as %s; nothing added", stored_id)
    return stored_id


def enqueue_many(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Queue many rendered letters (from `outbox_values`) in one statement; skip known keys.

    The daily sweep's path, in the caller's transaction; `outbox_sql.count_ids`
    tells how many of them the database kept.
    """
    outbox_sql.insert_many_if_absent(session, rows)


def outbox_values(**letter: Unpack[Letter]) -> dict[str, Any]:
    """Validate and render one letter into an outbox row (not stored). See `enqueue_email`."""
    key, template, context = letter["key"], letter["template"], letter["context"]
    recipients, sender = letter["recipients"], letter["sender"]
    municipality_id = letter.get("municipality_id")
    attachments = letter.get("attachments", ())
    key = key.strip()
    if not key or len(key) > 300:
        raise ValueError("idempotency key must be 1 to 300 characters")
    # De-duplicated ignoring case: local parts are case-sensitive on paper, but no
    # real mailbox differs by case alone, and a letter twice looks like a fault.
    unique: dict[str, str] = {}
    for address in recipients:
        normalised = normalise_email(address)
        unique.setdefault(normalised.casefold(), normalised)
    addresses = list(unique.values())
    if not addresses:
        raise ValueError("an e-mail needs at least one recipient")
    sender = normalise_email(sender)
    stored_attachments = [_attachment_record(item) for item in attachments]
    rendered = render_email(template, context)
    if len(rendered.subject) > 500:
        raise ValueError(f"subject of {template!r} is longer than 500 characters")

    row_id = new_id()
    now = utcnow()
    return {
        "id": row_id,
        "idempotency_key": key,
        "case_type": letter["case_type"],
        "case_id": letter["case_id"],
        "municipality_id": municipality_id,
        "template": template,
        "sender": sender,
        "recipients": addresses,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "attachments": stored_attachments,
        # Fixed now, so a resend after a crash carries the same Message-ID and the
        # receiving side (and we) can recognise it. The row id makes it unique.
        "message_id": make_msgid(idstring=row_id.hex, domain=sender.rsplit("@", 1)[1]),
        "status": OutboxStatus.queued,
        "attempts": 0,
        "next_attempt_at": now,
        "queued_at": now,
    }


def _attachment_record(item: Attachment) -> dict[str, Any]:
    split_content_type(item.content_type)  # fail at enqueue, not at delivery
    if not item.filename or "/" in item.filename or "\\" in item.filename:
        raise ValueError(f"attachment file name must be a plain name: {item.filename!r}")
    return {
        "filename": item.filename,
        "content_type": item.content_type,
        "data_b64": base64.b64encode(item.data).decode("ascii"),
    }
