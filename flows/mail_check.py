"""Flow `mail-check`: send one test letter, so staff and the IT operator can see
that e-mail leaves lovflow (and, in the embedded set-up, lands in var/mail/)."""

from __future__ import annotations

import uuid

from prefect import flow, get_run_logger
from pydantic import BaseModel, ConfigDict, Field, field_validator

from flows.parameter_check import checked, validated_in_run
from flows.parameters import parameter
from models.db import session_scope
from models.email_queue import enqueue_email
from models.forms.registration import EMAIL_SHAPE, whole
from models.policy import load_policy
from models.settings import get_settings
from models.validation import normalise_email
from tasks.email_delivery import deliver_outbox


class MailCheckInput(BaseModel):
    # Titled: a refused address is asked for again in a form of these fields, and the
    # form shows the model's title ("MailCheckInput" otherwise).
    model_config = ConfigDict(title="Testbrev", extra="forbid")

    recipient: str = Field(
        title="Mottagare",
        description="E-postadress som testbrevet skickas till.",
        max_length=254,
        # The shape, for the Run form; `_check` says the rest in Swedish.
        json_schema_extra={"pattern": whole(EMAIL_SHAPE)},
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


@validated_in_run
@flow(name="mail-check", flow_run_name="mail-check")
async def send_test_letter(check: MailCheckInput = parameter("Testbrev")) -> dict[str, int]:
    """Queue one test letter from the default municipality and deliver the outbox.

    An address that is refused is asked for again (flows/parameter_check.py).
    """
    check = await checked(MailCheckInput, check)
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
