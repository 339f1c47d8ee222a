"""E-mail: render Swedish letters from templates, queue them in the outbox, deliver them.

A letter is never sent straight from a flow. `enqueue_email` renders it and
stores it in `outgoing_email` in the caller's transaction, under an idempotency
key, so the letter exists exactly when the decision it reports exists, and a
re-run of the flow finds the key and adds nothing. `deliver_pending` (the
`deliver-outbox` task) later claims queued rows and sends them over one SMTP
connection per batch. An SMTP outage only delays letters: they stay queued.

Templates live in templates/email/<name>/{subject.txt, body.txt, body.html} and
extend templates/email/_base/ (municipality header, signature, and a footer that
says why the reader got the letter).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import Any, Literal

import aiosmtplib
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.base import new_id, utcnow
from models.db import get_engine
from models.outbox import OutboxStatus, OutgoingEmail
from models.paths import PROJECT_ROOT
from models.settings import Settings, get_settings
from models.sv_format import case_no, sv_date, sv_time
from models.validation import normalise_email
from tasks import outbox_sql
from tasks.smtp_secret import SmtpPasswordError, smtp_password

logger = logging.getLogger(__name__)

EMAIL_TEMPLATES = PROJECT_ROOT / "templates" / "email"

#: Folder names are English kebab-case; the pattern also keeps names out of _base
#: and out of other folders ("../").
_TEMPLATE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

#: Delay before a message that failed temporarily is tried again: one minute,
#: doubling with each attempt, at most an hour.
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)

#: SMTP reply code for "service not available, closing channel": the server is
#: hanging up, so the rest of the batch cannot go over this connection.
_SMTP_CLOSING = 421

_MAX_ERROR_CHARS = 2000


# --------------------------------------------------------------------------- rendering


@lru_cache(maxsize=1)
def email_environment() -> Environment:
    """The Jinja environment for e-mail templates (built once per process)."""
    env = Environment(
        loader=FileSystemLoader(EMAIL_TEMPLATES),
        # Templates change only with a new release (and a restart): without the
        # file check on every get_template, a day's 10,000 letters render ~15% faster.
        auto_reload=False,
        # HTML-escape only the .html parts: escaping a subject or the plain-text
        # part would show "&amp;" to the reader.
        autoescape=select_autoescape(
            enabled_extensions=("html",),
            disabled_extensions=("txt",),
            default_for_string=False,
            default=False,
        ),
        # A missing variable is a bug in the caller, never an empty gap in a letter.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["sv_date"] = sv_date
    env.filters["sv_time"] = sv_time
    env.filters["case_no"] = case_no
    return env


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None


def render_email(template: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render the subject, plain-text and (if present) HTML parts of a letter.

    Args:
        template: folder name under templates/email, e.g. "application-received".
        context: template variables; every letter needs `municipality` (display name) and
            `reason` (the footer's "Du får det här brevet eftersom ...").

    Returns:
        The subject on one line, the text body, and the HTML body or None.

    Raises:
        ValueError: the template does not exist.
        jinja2.UndefinedError: the context lacks a variable the template uses.
    """
    if not _TEMPLATE_NAME.match(template):
        raise ValueError(f"unknown e-mail template {template!r}")
    env = email_environment()
    try:
        subject_tpl = env.get_template(f"{template}/subject.txt")
        text_tpl = env.get_template(f"{template}/body.txt")
    except TemplateNotFound:
        raise ValueError(f"unknown e-mail template {template!r}") from None
    try:
        html_tpl = env.get_template(f"{template}/body.html")
    except TemplateNotFound:
        html_tpl = None
    # A subject is one header line: a newline in it would end the header.
    subject = " ".join(subject_tpl.render(context).split())
    text = _tidy_text(text_tpl.render(context))
    html = html_tpl.render(context).strip() + "\n" if html_tpl is not None else None
    return RenderedEmail(subject=subject, text=text, html=html)


def _tidy_text(text: str) -> str:
    # Optional blocks ({% if %}) leave runs of blank lines and trailing spaces.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# --------------------------------------------------------------------------- enqueue


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def enqueue_email(
    session: Session,
    *,
    key: str,
    template: str,
    context: Mapping[str, Any],
    recipients: Sequence[str],
    sender: str,
    case_type: str,
    case_id: uuid.UUID | None,
    municipality_id: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> uuid.UUID:
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
    values = outbox_values(
        key=key,
        template=template,
        context=context,
        recipients=recipients,
        sender=sender,
        case_type=case_type,
        case_id=case_id,
        municipality_id=municipality_id,
        attachments=attachments,
    )
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


def outbox_values(
    *,
    key: str,
    template: str,
    context: Mapping[str, Any],
    recipients: Sequence[str],
    sender: str,
    case_type: str,
    case_id: uuid.UUID | None,
    municipality_id: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> dict[str, Any]:
    """Validate and render one letter into an outbox row (not stored). See `enqueue_email`."""
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
        "case_type": case_type,
        "case_id": case_id,
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
    _split_content_type(item.content_type)  # fail at enqueue, not at delivery
    if not item.filename or "/" in item.filename or "\\" in item.filename:
        raise ValueError(f"attachment file name must be a plain name: {item.filename!r}")
    return {
        "filename": item.filename,
        "content_type": item.content_type,
        "data_b64": base64.b64encode(item.data).decode("ascii"),
    }


def _split_content_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    """("text", "calendar", {"method": "REQUEST"}) from "text/calendar; method=REQUEST"."""
    main, *param_parts = (part.strip() for part in content_type.split(";"))
    maintype, _, subtype = main.partition("/")
    if not maintype or not subtype or " " in main:
        raise ValueError(f"not a MIME type: {content_type!r}")
    params: dict[str, str] = {}
    for part in param_parts:
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"bad parameter in MIME type: {content_type!r}")
        params[name.strip()] = value.strip().strip('"')
    return maintype.lower(), subtype.lower(), params


# --------------------------------------------------------------------------- building


def build_message(row: OutgoingEmail) -> EmailMessage:
    """The MIME message for an outbox row: text, then HTML, then attachments.

    Plain text comes first because mail clients show the last alternative they
    can render. Bodies are quoted-printable: 7-bit safe through any relay, and
    Swedish letters stay readable in the raw source. The Date is the time the
    letter was queued (when it was written), which also makes a resend identical.
    """
    message = EmailMessage()
    message["From"] = row.sender
    message["To"] = ", ".join(row.recipients)
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.queued_at)
    message["Message-ID"] = row.message_id
    # RFC 3834: tells autoresponders (out-of-office) not to answer a robot.
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = "sv"
    message.set_content(row.body_text, charset="utf-8", cte="quoted-printable")
    if row.body_html is not None:
        message.add_alternative(
            row.body_html, subtype="html", charset="utf-8", cte="quoted-printable"
        )
    for item in row.attachments:
        maintype, subtype, params = _split_content_type(item["content_type"])
        message.add_attachment(
            base64.b64decode(item["data_b64"], validate=True),
            maintype=maintype,
            subtype=subtype,
            filename=item["filename"],
            params=params,
        )
    return message


# --------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DeliveryReport:
    """What one `deliver_pending` run did, in message counts."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            claimed=self.claimed + other.claimed,
            sent=self.sent + other.sent,
            deferred=self.deferred + other.deferred,
            failed=self.failed + other.failed,
        )

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


class _ConnectFailed(Exception):
    """No SMTP connection could be opened (after the configured retries)."""


def retry_delay(attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th failed attempt."""
    factor: int = 2 ** min(max(attempts - 1, 0), 16)
    return min(RETRY_BASE * factor, RETRY_CAP)


async def deliver_pending(
    *,
    settings: Settings | None = None,
    engine: Engine | None = None,
    limit: int | None = None,
) -> DeliveryReport:
    """Send queued letters, batch by batch, until none is due (or `limit` is reached).

    Each batch is claimed in one committed UPDATE (status 'sending', a fresh
    claim token, attempts + 1), so concurrent runs never share a message, and
    sent over one SMTP connection. After each message the server accepts, the
    row is marked 'sent' and committed at once.

    Crash window: if the process dies after the server accepted a message but
    before that commit, the row stays 'sending' and is claimed again once
    `outbox_lease_seconds` have passed, so that one message can be sent twice
    (with the same Message-ID). Every other message of the batch is either
    committed as sent or never went out. A run also renews its lease while it
    works, so a slow batch is not taken over by another run.

    Outcomes per message: accepted → 'sent'; a temporary failure (4xx, lost
    connection, timeout) → back to 'queued' with a growing delay (`retry_delay`),
    or 'failed' once it has had `outbox_max_attempts` attempts; a permanent
    refusal (5xx) → 'failed'. If no connection can be opened, every claimed row
    goes back to 'queued', whatever its attempts: an outage never loses a letter.

    Args:
        settings: SMTP and outbox settings (default: `get_settings()`).
        engine: the app database (default: `get_engine()`).
        limit: claim at most this many messages in this run.

    Returns:
        Counts of messages claimed, sent, deferred and failed.
    """
    settings = settings or get_settings()
    engine = engine or get_engine()
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    total = DeliveryReport()
    while limit is None or total.claimed < limit:
        size = settings.outbox_batch_size
        if limit is not None:
            size = min(size, limit - total.claimed)
        claim = await asyncio.to_thread(
            outbox_sql.claim_batch, engine, limit=size, lease=lease, now=utcnow()
        )
        if not claim.rows:
            break
        logger.info("Claimed %d outbox messages (claim %s)", len(claim.rows), claim.token)
        report, keep_going = await _deliver_batch(claim, settings=settings, engine=engine)
        total = total + report
        if not keep_going:
            break
    logger.info(
        "Outbox delivery done: claimed=%d sent=%d deferred=%d failed=%d",
        total.claimed,
        total.sent,
        total.deferred,
        total.failed,
    )
    return total


async def _deliver_batch(
    claim: outbox_sql.Claim, *, settings: Settings, engine: Engine
) -> tuple[DeliveryReport, bool]:
    """Send one claimed batch. Returns the counts and whether to try another batch."""
    rows = claim.rows
    token = claim.token
    try:
        smtp = await _connect(settings)
    except _ConnectFailed as exc:
        now = utcnow()
        deferred = await asyncio.to_thread(
            outbox_sql.defer,
            engine,
            token=token,
            retry_at=[(row.id, now + retry_delay(row.attempts)) for row in rows],
            error=_clip(f"could not connect to the SMTP server: {exc}"),
        )
        logger.warning("SMTP server unreachable; %d messages stay queued", deferred)
        return DeliveryReport(claimed=len(rows), deferred=deferred), False

    sent = deferred = failed = 0
    keep_going = True
    held = {row.id for row in rows}
    # Renew the lease well before it runs out; monotonic, as wall clocks jump.
    renew_every = settings.outbox_lease_seconds / 3
    renewed = time.monotonic()
    try:
        for index, row in enumerate(rows):
            if time.monotonic() - renewed > renew_every:
                held = await asyncio.to_thread(
                    outbox_sql.renew_claim, engine, token=token, now=utcnow()
                )
                renewed = time.monotonic()
            if row.id not in held:
                logger.warning("Claim on outbox message %s was taken over; skipped", row.id)
                continue
            outcome = await _send_one(smtp, row)
            if outcome.kind == "sent":
                ok = await asyncio.to_thread(
                    outbox_sql.mark_sent,
                    engine,
                    row_id=row.id,
                    token=token,
                    now=utcnow(),
                    note=outcome.error,
                )
                if not ok:
                    logger.warning("Outbox message %s was sent but its claim was lost", row.id)
                sent += 1
            elif outcome.kind == "failed" or (row.attempts >= settings.outbox_max_attempts):
                error = outcome.error or "unknown error"
                if outcome.kind != "failed":
                    error = f"gave up after {row.attempts} attempts: {error}"
                await asyncio.to_thread(
                    outbox_sql.mark_failed, engine, row_id=row.id, token=token, error=_clip(error)
                )
                logger.warning("Outbox message %s failed (%s)", row.id, outcome.code or "-")
                failed += 1
            else:
                await asyncio.to_thread(
                    outbox_sql.defer,
                    engine,
                    token=token,
                    retry_at=[(row.id, utcnow() + retry_delay(row.attempts))],
                    error=_clip(outcome.error or "temporary failure"),
                )
                logger.info("Outbox message %s deferred (%s)", row.id, outcome.code or "-")
                deferred += 1
            if outcome.connection_lost:
                untried = [later.id for later in rows[index + 1 :] if later.id in held]
                released = await asyncio.to_thread(
                    outbox_sql.release_untried, engine, token=token, row_ids=untried
                )
                logger.warning(
                    "SMTP connection lost; %d untried messages returned to the queue", released
                )
                deferred += released
                keep_going = False
                break
    finally:
        # Reached with rows still claimed only if something unexpected was raised
        # (a bug, a cancelled task): queue them again rather than wait for the lease.
        leftovers = await asyncio.to_thread(outbox_sql.held_rows, engine, token=token)
        if leftovers:
            now = utcnow()
            await asyncio.to_thread(
                outbox_sql.defer,
                engine,
                token=token,
                retry_at=[(row_id, now + retry_delay(attempts)) for row_id, attempts in leftovers],
                error="delivery interrupted",
            )
            logger.warning(
                "Delivery interrupted; %d messages returned to the queue", len(leftovers)
            )
        await _close(smtp)
    report = DeliveryReport(claimed=len(rows), sent=sent, deferred=deferred, failed=failed)
    return report, keep_going


@dataclass(frozen=True)
class _Outcome:
    kind: Literal["sent", "failed", "retry"]  # failed: permanent; retry: temporary
    error: str | None = None
    code: int | None = None
    connection_lost: bool = False


async def _send_one(smtp: aiosmtplib.SMTP, row: OutgoingEmail) -> _Outcome:
    """Send one message and classify what happened. Never raises for SMTP trouble."""
    try:
        message = build_message(row)
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        # A row we cannot turn into a message will not improve by waiting.
        return _Outcome("failed", error=f"cannot build message: {exc}")
    try:
        refused, _ = await smtp.send_message(message, sender=row.sender, recipients=row.recipients)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [item.code for item in exc.recipients]
        detail = "; ".join(f"{item.code} {item.message}" for item in exc.recipients)
        kind: Literal["failed", "retry"] = (
            "failed" if all(code >= 500 for code in codes) else "retry"
        )
        return _Outcome(
            kind,
            error=f"all recipients refused: {detail}",
            code=min(codes),
            connection_lost=_SMTP_CLOSING in codes,
        )
    except OSError as exc:
        # Disconnects and timeouts (aiosmtplib's are OSError subclasses): the server
        # may or may not have taken this message, and the connection is gone.
        return _Outcome("retry", error=f"connection lost: {exc!r}", connection_lost=True)
    except aiosmtplib.SMTPResponseException as exc:
        error = f"{exc.code} {exc.message}"
        if exc.code == _SMTP_CLOSING:
            return _Outcome("retry", error=error, code=exc.code, connection_lost=True)
        return _Outcome("failed" if exc.code >= 500 else "retry", error=error, code=exc.code)
    except (aiosmtplib.SMTPException, ValueError) as exc:
        # E.g. SMTPNotSupported (a non-ASCII address to a server without SMTPUTF8)
        # or an address aiosmtplib will not put on the wire: permanent.
        return _Outcome("failed", error=f"{type(exc).__name__}: {exc}")
    if refused:
        # Accepted for some recipients: it was sent, but note who did not get it.
        detail = "; ".join(f"{code} {text}" for code, text in refused.values())
        return _Outcome("sent", error=f"some recipients refused: {detail}")
    return _Outcome("sent")


async def _connect(settings: Settings) -> aiosmtplib.SMTP:
    """One connection for a batch, retried with exponential backoff."""
    delay = settings.smtp_backoff_seconds
    last_error = "no attempt made"
    password = ""
    if settings.smtp_username:
        try:
            password = await smtp_password(settings)
        except SmtpPasswordError as exc:
            # The letters stay queued: a missing block is fixed by an operator.
            raise _ConnectFailed(str(exc)) from None
    for attempt in range(1, settings.smtp_connect_attempts + 1):
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            timeout=settings.smtp_timeout_seconds,
            start_tls=settings.smtp_starttls,
        )
        try:
            await smtp.connect()
            if settings.smtp_username:
                await smtp.login(settings.smtp_username, password)
            return smtp
        except aiosmtplib.SMTPAuthenticationError as exc:
            await _close(smtp)
            # Wrong credentials do not fix themselves within seconds: no retry.
            # The server's reply is kept; the password never appears in it.
            raise _ConnectFailed(f"login refused: {exc.code}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            await _close(smtp)
            last_error = _describe_connect_error(exc)
            logger.warning(
                "SMTP connect attempt %d/%d failed: %s",
                attempt,
                settings.smtp_connect_attempts,
                last_error,
            )
        if attempt < settings.smtp_connect_attempts:
            await asyncio.sleep(delay)
            delay *= 2
    raise _ConnectFailed(last_error)


def _describe_connect_error(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.code}"
    # Connection errors name host, port and errno; nothing secret or personal.
    return f"{type(exc).__name__}: {exc}"


async def _close(smtp: aiosmtplib.SMTP) -> None:
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


# --------------------------------------------------------------------------- Prefect


# Never cached: a flow that persists its results would otherwise get a "Cached"
# delivery when it replays after a resume (same run, same inputs) and send nothing.
@task(
    name="deliver-outbox",
    retries=2,
    retry_delay_seconds=10,
    cache_policy=NO_CACHE,
    persist_result=False,
)
async def deliver_outbox() -> dict[str, int]:
    """Deliver every due letter in the outbox (see `deliver_pending`).

    An SMTP outage does not fail the task: the letters stay queued and the next
    run sends them. The Prefect retries cover database errors.

    Returns:
        {"claimed": n, "sent": n, "deferred": n, "failed": n}
    """
    report = await deliver_pending()
    return report.as_dict()
