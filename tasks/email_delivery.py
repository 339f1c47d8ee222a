"""Outbox delivery: claim queued letters in batches and send them over SMTP.

`deliver_pending` (the `deliver-outbox` task) claims queued rows and sends them
over one SMTP connection per batch, with retries and backoff. An SMTP outage
only delays letters: they stay queued.

The SMTP password comes from settings, or from a Prefect Secret block named in
settings. `LOVFLOW_SMTP_PASSWORD` wins when set. Otherwise
`LOVFLOW_SMTP_PASSWORD_BLOCK` names a Secret block (created in the UI under
Blocks, or with `Secret(value=...).save(name)`), read through the Prefect API
when delivery connects, so the password lives in Prefect's database and in no
file or environment on the worker machines. The value is returned to the SMTP
login only: never logged, never a parameter, never in an artifact.
"""

from __future__ import annotations

import asyncio
import binascii
import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import aiosmtplib
from prefect import task
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE
from sqlalchemy.engine import Engine

from models import outbox_sql
from models.base import utcnow
from models.db import get_engine
from models.email_message import build_message
from models.outbox import OutgoingEmail
from models.settings import Settings, get_settings

logger = logging.getLogger(__name__)

#: Delay before a message that failed temporarily is tried again: one minute,
#: doubling with each attempt, at most an hour.
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)

#: SMTP reply code for "service not available, closing channel": the server is
#: hanging up, so the rest of the batch cannot go over this connection.
_SMTP_CLOSING = 421

_MAX_ERROR_CHARS = 2000


class SmtpPasswordError(RuntimeError):
    """The Secret block named by LOVFLOW_SMTP_PASSWORD_BLOCK cannot be read."""


async def smtp_password(settings: Settings) -> str:
    """The password for the SMTP login ("" if none is configured)."""
    if settings.smtp_password is not None:
        return settings.smtp_password.get_secret_value()
    if not settings.smtp_password_block:
        return ""
    try:
        block: Secret[str] = await Secret.aload(settings.smtp_password_block)
    except (ValueError, RuntimeError) as exc:
        # Prefect raises ValueError for a missing block; the message names only the block.
        raise SmtpPasswordError(
            f"LOVFLOW_SMTP_PASSWORD_BLOCK: cannot read Secret block "
            f"{settings.smtp_password_block!r} ({type(exc).__name__})"
        ) from None
    return str(block.get())


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
