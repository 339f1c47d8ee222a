"""Flow `mail-check`: send one test letter, so staff and the IT operator can see
that e-mail leaves lovflow (and, in the embedded set-up, lands in var/mail/)."""

from __future__ import annotations

import uuid

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field, field_validator

from flows.parameters import parameter
from models.db import session_scope
from models.email_queue import enqueue_email
from models.policy import load_policy
from models.settings import get_settings
from models.validation import normalise_email
from tasks.email_delivery import deliver_outbox


class MailCheckInput(BaseModel):
    recipient: str = Field(
        title="Mottagare",
        description="E-postadress som testbrevet skickas till.",
        max_length=254,
    )

    @field_validator("recipient")
    @classmethod
    def _check(cls, value: str) -> str:
        try:
            return normalise_email(value)
        except ValueError:
            raise ValueError(
                "Mottagare: ange en giltig e-postadress, t.ex. namn@kommun.se"
            ) from None


@flow(name="mail-check", flow_run_name="mail-check")
async def send_test_letter(check: MailCheckInput = parameter("Testbrev")) -> dict[str, int]:
    """Queue one test letter from the default municipality and deliver the outbox."""
    settings = get_settings()
    policy = load_policy(settings.policy)
    letter_id = uuid.uuid4()
    with session_scope() as session:
        enqueue_email(
            session,
            key=f"mail-check:{letter_id}",
            template="outbox-test",
            context={
                "municipality": policy.municipality,
                "case_id": letter_id,
                "reason": "någon testade kommunens e-post i lovflow.",
            },
            recipients=[check.recipient],
            sender=policy.mail.sender,
            case_type="mail_check",
            case_id=letter_id,
            municipality_id=None,
        )
    get_run_logger().info("Queued test letter %s", letter_id)
    return await deliver_outbox()
