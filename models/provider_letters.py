"""Letters to the provider a case is about: addressed, greeted and signed one way.

Every letter lovflow writes to a provider goes to the provider's address from
the policy's sender, greets the company by name and says in its footer why it
came (by default: the provider has a contract with the municipality; an
application's letters say it applied). `letter_to_provider` is that one way;
`CaseLetters` adds what every letter of one case says (the procurement
address, the case number) and keys each message once per case,
"<case type>:<case id>:<message>", so a replayed step queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict, Unpack

from sqlmodel import Session

from models.audit import Audited
from models.email_queue import Attachment, enqueue_email
from models.policy import Policy
from models.provider import Provider
from models.provider_case import ProviderCase, provider_of


def contract_reason(policy: Policy) -> str:
    """The footer's "why you got this" for a provider under contract."""
    return f"ni har avtal om hemtjänst med {policy.municipality}"


class Addressed(TypedDict):
    """What a letter about a case says besides whom it goes to: the outbox key (one letter
    per key), the template, its context, the municipality it is filed under, attachments."""

    municipality_id: str
    key: str
    template: str
    context: Mapping[str, Any]
    attachments: NotRequired[Sequence[Attachment]]


def case_letter(
    session: Session, case: Audited, policy: Policy, *, to: str, **letter: Unpack[Addressed]
) -> None:
    """Queue a letter about `case` to `to` once per key, from the policy's sender (in the
    caller's transaction)."""
    enqueue_email(
        session,
        key=letter["key"],
        template=letter["template"],
        context={"municipality": policy.municipality} | dict(letter["context"]),
        recipients=[to],
        sender=policy.mail.sender,
        case_type=case.ENTITY_TYPE,
        case_id=case.id,
        municipality_id=letter["municipality_id"],
        attachments=letter.get("attachments", ()),
    )


def letter_to_provider(
    session: Session,
    case: Audited,
    policy: Policy,
    *,
    provider: Provider,
    **letter: Unpack[Addressed],
) -> None:
    """`case_letter` to `provider`, greeting the company, with the contract as the reason."""
    greeting = {"company_name": provider.name, "reason": contract_reason(policy)}
    letter["context"] = greeting | dict(letter["context"])
    case_letter(session, case, policy, to=provider.email, **letter)


def letter_about(
    session: Session,
    case: ProviderCase,
    policy: Policy,
    *,
    key: str,
    template: str,
    context: Mapping[str, Any],
) -> None:
    """`letter_to_provider` for a case row that names its provider and municipality."""
    letter_to_provider(
        session,
        case,
        policy,
        provider=provider_of(session, case),
        municipality_id=case.municipality_id,
        key=key,
        template=template,
        context=context,
    )


@dataclass(frozen=True)
class CaseLetters:
    case: Audited
    municipality_id: str
    provider: Provider
    policy: Policy
    #: What every letter of the case says besides the greeting (the footer's reason, ...);
    #: a contract's letters each give their own reason.
    common: Mapping[str, Any] = field(default_factory=dict)

    def queue(
        self,
        session: Session,
        message: str,
        template: str,
        context: Mapping[str, Any],
        attachments: Sequence[Attachment] = (),
    ) -> None:
        """Queue `template` in the caller's transaction, once per `message` of the case."""
        case, policy = self.case, self.policy
        letter_to_provider(
            session,
            case,
            policy,
            provider=self.provider,
            municipality_id=self.municipality_id,
            key=f"{case.ENTITY_TYPE}:{case.id}:{message}",
            template=template,
            context={
                "contact_email": policy.mail.address_for("procurement"),
                "case_id": case.id,
            }
            | dict(self.common)
            | dict(context),
            attachments=attachments,
        )
