"""`[mail]`: the addresses a municipality sends from and to."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from models.policy.section import Section
from models.validation import normalise_email

MailPurpose = Literal["staff", "deviation_report", "lex_sarah", "procurement"]


class MailPolicy(Section):
    """Addresses the municipality sends from and to."""

    sender: str = Field(
        description=(
            "From address of every message lovflow sends for the municipality. Required: no "
            "municipality's seed names a sending address, so each file sets one (a placeholder "
            "under .invalid until the municipality gives its own)."
        )
    )
    staff_recipient: str = Field(
        description=(
            "Shared inbox of the municipality's case officers: staff reminders go here. Required."
        )
    )
    deviation_report_recipient: str | None = Field(
        default=None,
        description=(
            "Where providers send the monthly deviation report (Huddinge: kundfaktura@huddinge.se, "
            "seed 000). Default None: no address in the seeds, so staff_recipient is used."
        ),
    )
    lex_sarah_recipient: str | None = Field(
        default=None,
        description=(
            "Where providers send lex Sarah reports and investigations (Huddinge: sof@huddinge.se, "
            "seed 000). Default None: no address in the seeds, so staff_recipient is used."
        ),
    )
    procurement_recipient: str | None = Field(
        default=None,
        description=(
            "Procurement unit for contract changes, new IVO permits and new managers (Huddinge: "
            "upphandling@huddinge.se, seed 000). Default None: staff_recipient is used."
        ),
    )

    @field_validator(
        "sender",
        "staff_recipient",
        "deviation_report_recipient",
        "lex_sarah_recipient",
        "procurement_recipient",
    )
    @classmethod
    def _check_address(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)

    def address_for(self, purpose: MailPurpose) -> str:
        """The address for `purpose`, falling back to staff_recipient when none is set."""
        specific = {
            "staff": None,
            "deviation_report": self.deviation_report_recipient,
            "lex_sarah": self.lex_sarah_recipient,
            "procurement": self.procurement_recipient,
        }[purpose]
        return specific or self.staff_recipient

    def placeholders(self) -> list[str]:
        """Keys whose address is a placeholder under the reserved .invalid domain (RFC 2606).

        Mail to or from such an address can never be delivered; a deployment
        should replace them before it sends real mail.
        """
        return [
            key
            for key, value in self.model_dump().items()
            if isinstance(value, str) and value.endswith(".invalid")
        ]
