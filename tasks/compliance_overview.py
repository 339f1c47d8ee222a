"""The table staff read each morning: per provider and municipality, what is open, late, done.

One query over the obligations (grouped in the database) and one for the open
proposals, however many providers. No personal data: a provider appears by
its organisation number, except a sole trader (enskild firma), whose
organisation number is the owner's personnummer and so appears by its
8-character number instead.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import case, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from models.db import session_scope
from models.municipality import Municipality
from models.obligation import Obligation, ObligationStatus
from models.proposal import Proposal, ProposalStatus
from models.provider import Provider
from models.sv_format import case_no

_OPEN = ObligationStatus.open.value
_CLOSED = (ObligationStatus.fulfilled.value, ObligationStatus.waived.value)


def provider_ref(org_number: str, provider_id: uuid.UUID) -> str:
    """The organisation number of a legal person; a sole trader's 8-character number instead.

    A legal person's number has a third digit of 2 or more (the "month" 20-99);
    a sole trader uses a personnummer, whose month is 01-12 (Skatteverket SKV 709).
    """
    if org_number[2:3].isdigit() and int(org_number[2]) >= 2:
        return org_number
    return f"enskild firma {case_no(provider_id)}"


def rows(session: Session, as_of: date) -> list[dict[str, Any]]:
    """One row per provider and municipality with obligations, the most overdue first."""
    status = col(Obligation.status)
    due = col(Obligation.due_on)
    is_open = status == _OPEN
    grouped = session.execute(
        core_select(
            col(Obligation.provider_id),
            col(Obligation.municipality_id),
            col(Municipality.name),
            col(Provider.org_number),
            func.sum(case((is_open & (due < as_of), 1), else_=0)),
            func.min(case((is_open & (due < as_of), due))),
            func.sum(case((is_open & (due >= as_of), 1), else_=0)),
            func.min(case((is_open & (due >= as_of), due))),
            func.sum(case((status.in_(_CLOSED), 1), else_=0)),
        )
        .join(Provider, col(Provider.id) == col(Obligation.provider_id))
        .join(Municipality, col(Municipality.id) == col(Obligation.municipality_id))
        .group_by(
            col(Obligation.provider_id),
            col(Obligation.municipality_id),
            col(Municipality.name),
            col(Provider.org_number),
        )
    ).all()
    proposals = {
        (provider_id, municipality_id): count
        for provider_id, municipality_id, count in session.exec(
            select(col(Proposal.provider_id), col(Proposal.municipality_id), func.count())
            .where(Proposal.status == ProposalStatus.open)
            .group_by(col(Proposal.provider_id), col(Proposal.municipality_id))
        ).all()
    }
    table = []
    for (
        provider_id, municipality_id, municipality, org_number,
        overdue, oldest_overdue, coming, next_due, closed,
    ) in grouped:  # fmt: skip
        assert provider_id is not None  # joined to a provider
        table.append(
            {
                "Utförare": provider_ref(org_number, provider_id),
                "Kommun": municipality,
                "Försenade": int(overdue or 0),
                "Äldsta försenade frist": str(oldest_overdue or ""),
                "Kommande": int(coming or 0),
                "Nästa frist": str(next_due or ""),
                "Klara": int(closed or 0),
                "Förslag att besluta": proposals.get((provider_id, municipality_id), 0),
            }
        )
    table.sort(key=lambda row: (-row["Försenade"], row["Äldsta försenade frist"] or "9999"))
    return table


@task(name="compliance-overview", cache_policy=NO_CACHE, persist_result=False)
def overview(as_of: date) -> list[dict[str, Any]]:
    """The morning table (`rows`), for the sweep's artifact "efterlevnad"."""
    with session_scope() as session:
        return rows(session, as_of)
