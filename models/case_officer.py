"""The responsible case officer (ansvarig handläggare) of any case.

The application keeps the officer: the person who registered it, or whom
"Byt handläggare" named since (`Application.case_officer`, and the address
reminders go to, `case_officer_email`). Every later case about the provider's
contract (the contract, a warning, an ending, a lex Sarah report, a proposal)
has the officer of the application the contract came from, so one change moves
the whole provider to the new officer. A business manager's vetting keeps an
address of its own. A case with neither (a contract entered without an
application) has none: its letters go to the kommun's shared staff inbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from models.application import Application
from models.business_manager import BusinessManager
from models.contract import Contract
from models.contract_ending import ContractEnding
from models.lex_sarah import LexSarahCase
from models.proposal import Proposal
from models.warning import ContractWarning

#: The tables of the cases the case runner walks, by their entity type.
CASE_TABLES: dict[str, type[Any]] = {
    table.ENTITY_TYPE: table
    for table in (
        Application,
        Contract,
        BusinessManager,
        ContractWarning,
        ContractEnding,
        LexSarahCase,
        Proposal,
    )
}


@dataclass(frozen=True)
class Officer:
    """Who is responsible for a case: a name (may be empty) and an address (may be empty)."""

    name: str = ""
    email: str = ""

    @property
    def shown(self) -> str:
        """What staff read: the name, else the address."""
        return self.name or self.email


NOBODY = Officer()


def _of_application(application: Application | None) -> Officer:
    if application is None:
        return NOBODY
    return Officer(application.case_officer or "", application.case_officer_email or "")


def officers(session: Session, rows: Iterable[Any]) -> dict[uuid.UUID, Officer]:
    """The officer of each case row (by its id), in three queries whatever the count."""
    rows = list(rows)
    contract_ids = {row.contract_id for row in rows if getattr(row, "contract_id", None)}
    contracts = {
        contract.id: contract
        for contract in session.exec(select(Contract).where(col(Contract.id).in_(contract_ids)))
    }
    application_ids = {
        app_id for row in rows if (app_id := _application_id(row, contracts)) is not None
    }
    applications = {
        application.id: application
        for application in session.exec(
            select(Application).where(col(Application.id).in_(application_ids))
        )
    }
    found: dict[uuid.UUID, Officer] = {}
    for row in rows:
        own = getattr(row, "case_officer_email", None)
        inherited = _of_application(applications.get(_application_id(row, contracts)))  # type: ignore[arg-type]
        if isinstance(row, Application) or own is None:
            found[row.id] = inherited
        else:  # a business manager: its own address, the application's name if any
            found[row.id] = Officer(inherited.name, own)
    return found


def _application_id(row: Any, contracts: dict[uuid.UUID, Contract]) -> uuid.UUID | None:
    if isinstance(row, Application):
        return row.id
    if isinstance(row, Contract):
        return row.application_id
    if getattr(row, "application_id", None):
        return row.application_id  # type: ignore[no-any-return]
    contract = contracts.get(getattr(row, "contract_id", None))  # type: ignore[arg-type]
    return contract.application_id if contract is not None else None


def officer_of(session: Session, entity: str, case_id: uuid.UUID) -> Officer:
    """The officer of one case by its entity type and id (NOBODY for an unknown case)."""
    table = CASE_TABLES.get(entity)
    row = session.get(table, case_id) if table is not None else None
    return NOBODY if row is None else officers(session, [row])[row.id]
