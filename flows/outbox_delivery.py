"""Flow `outbox-delivery`: send every queued e-mail.

Served every few minutes. Safe to run twice at once and to re-run after a
crash: the outbox claims each message before sending and marks it sent right
after the SMTP server accepts it (tasks/email_delivery.py).
"""

from __future__ import annotations

from prefect import flow

from tasks.email_delivery import deliver_outbox


@flow(name="outbox-delivery", log_prints=False)
async def deliver_queued_email() -> dict[str, int]:
    """Deliver queued e-mail over one SMTP connection per batch; return the counts."""
    return await deliver_outbox()
