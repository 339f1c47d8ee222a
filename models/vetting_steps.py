"""What every vetting step's store does the same way, for an application and a manager.

Pure: no database. A step is recorded once: a replayed or repeated call finds
it stored and changes nothing, and a first call is refused unless the case is
in the status that takes the step. A checklist round is stored with its items'
stable keys, and a round with missing items gives the provider a reply-by date
(policy: working days from the assessment) and a letter listing exactly them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from models.calendar import add_working_days
from models.forms.vetting import ASSESSMENT, with_keys
from models.policy import Policy
from models.vetting import Item, as_date, missing_items, stored_round


class HasStatus(Protocol):
    @property
    def status(self) -> Any: ...


def recorded_before(done: bool, case: HasStatus, expected: StrEnum, refusal: str) -> bool:
    """True when an earlier attempt stored the step (`done`): the caller returns what it stored.

    Otherwise the case must be in status `expected` to take the step.

    Raises:
        ValueError: "<refusal> in status <status>" when it is not.
    """
    if done:
        return True
    if case.status is not expected:
        raise ValueError(f"{refusal} in status {case.status}")
    return False


def assessed_round(
    round_no: int, answer: Mapping[str, Any], checklist: Sequence[Item], dates: Sequence[str]
) -> tuple[dict[str, Any], str]:
    """The round a checked form records, as stored, and its outcome.

    The outcome is "complete", "missing" or "failing" (models/vetting.py round_outcome).
    """
    record = stored_round(round_no, with_keys(answer, checklist, ASSESSMENT), checklist, dates)
    return record, str(record["outcome"])


def completion_request(
    policy: Policy, record: Mapping[str, Any], labels: Mapping[str, Item]
) -> tuple[date, dict[str, Any]]:
    """The reply-by date for a round with missing items, and the letter's context asking
    for them (the items, the date, where to send them)."""
    reply_by = add_working_days(
        as_date(record["decided_on"]), policy.application.completion_reply_working_days
    )
    letter = {
        "items": missing_items(record, labels),
        "reply_by": reply_by,
        "submit_to": policy.mail.address_for("procurement"),
    }
    return reply_by, letter
