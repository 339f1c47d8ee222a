"""What every store does the same way for a case about one provider in one municipality.

A warning, a lex Sarah case, an application or a contract each name their
municipality and provider (and a warning or lex Sarah case its contract). From
those columns alone come the provider, the municipality's policy, the case's
obligations (one row per kind, case and period: added, found, fulfilled) and
the ground of a proposal about the case, so the stores ask these functions
instead of each spelling out the same columns.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol, TypedDict, TypeVar

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from models.audit import Audited
from models.case_lookup import CaseNotFound
from models.municipality import Municipality
from models.obligation import NO_PERIOD, Obligation, ObligationKind, ObligationStatus
from models.policy import Policy, load_policy
from models.provider import Provider
from models.state_machine import change_status


class InMunicipality(Protocol):
    """A row that belongs to one municipality (a case, a proposal, ...)."""

    @property
    def municipality_id(self) -> str: ...


class AboutProvider(Protocol):
    """A row about one provider (a case, a business manager, ...)."""

    @property
    def provider_id(self) -> uuid.UUID: ...


class ProviderCase(InMunicipality, AboutProvider, Audited, Protocol):
    """A case row the obligation table names by its kind and id (Contract, ContractWarning, ...)."""


class ContractCase(ProviderCase, Protocol):
    """A case about one contract (ContractWarning, LexSarahCase)."""

    @property
    def contract_id(self) -> uuid.UUID: ...


def municipality_of(session: Session, row: InMunicipality) -> Municipality:
    municipality = session.get(Municipality, row.municipality_id)
    if municipality is None:  # a foreign key: only a broken database gets here
        raise CaseNotFound(f"municipality {row.municipality_id!r} is not in the database")
    return municipality


def policy_of(session: Session, row: InMunicipality) -> Policy:
    """The rules of the municipality `row` belongs to."""
    return load_policy(municipality_of(session, row).policy_name)


def provider_of(session: Session, row: AboutProvider) -> Provider:
    """The provider `row` is about (whom its letters go to)."""
    provider = session.get(Provider, row.provider_id)
    assert provider is not None  # a foreign key
    return provider


Case = TypeVar("Case", bound=ProviderCase)


def load_for_update(
    session: Session, table: type[Case], case_id: uuid.UUID
) -> tuple[Case, Provider, Policy]:
    """The case a step changes, with its provider (the letter's addressee) and its policy.

    Raises:
        CaseNotFound: `table` has no row `case_id`.
    """
    case = session.get(table, case_id)
    if case is None:
        raise CaseNotFound(f"no {table.ENTITY_TYPE} with id {case_id}")
    return case, provider_of(session, case), policy_of(session, case)


def add_obligation(
    session: Session,
    case: ProviderCase,
    kind: ObligationKind,
    due_on: date,
    period: str = NO_PERIOD,
) -> Obligation:
    """What the case's provider (or staff) owes by `due_on`, added to the session."""
    obligation = Obligation(
        kind=kind,
        municipality_id=case.municipality_id,
        provider_id=case.provider_id,
        subject_type=case.ENTITY_TYPE,
        subject_id=case.id,
        period=period,
        due_on=due_on,
    )
    session.add(obligation)
    return obligation


def _obligations_of(case: Audited) -> SelectOfScalar[Obligation]:
    return select(Obligation).where(
        Obligation.subject_type == case.ENTITY_TYPE, Obligation.subject_id == case.id
    )


def find_obligation(
    session: Session, case: Audited, kind: ObligationKind, period: str = NO_PERIOD
) -> Obligation | None:
    """The case's obligation of `kind` for `period` (at most one: a unique key), whatever its
    status."""
    query = _obligations_of(case).where(Obligation.kind == kind, Obligation.period == period)
    return session.exec(query).first()


def open_obligations(session: Session, case: Audited) -> Sequence[Obligation]:
    """What the case still owes, of every kind."""
    query = _obligations_of(case).where(Obligation.status == ObligationStatus.open)
    return session.exec(query).all()


def fulfil_obligation(
    session: Session,
    obligation: Obligation,
    *,
    actor: str,
    on: date,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """The obligation was met on `on` (audited, with `reason` and `details`)."""
    change_status(
        session,
        obligation,
        ObligationStatus.fulfilled,
        actor=actor,
        reason=reason,
        details=details,
        fulfilled_on=on,
    )


def fulfil_if_open(
    session: Session,
    case: Audited,
    kind: ObligationKind,
    *,
    period: str = NO_PERIOD,
    actor: str,
    on: date,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """`fulfil_obligation` for the case's obligation of `kind` and `period`, if it has one
    still open (a replay, or staff closed it already: nothing changes)."""
    obligation = find_obligation(session, case, kind, period)
    if obligation is not None and obligation.status is ObligationStatus.open:
        fulfil_obligation(session, obligation, actor=actor, on=on, reason=reason, details=details)


class CaseGround(TypedDict):
    """The columns of a proposal (or a `Ground`) that name the case it is about."""

    contract_id: uuid.UUID
    provider_id: uuid.UUID
    municipality_id: str
    ground: str


def case_ground(case: ContractCase) -> CaseGround:
    """A proposal about `case` is grounded on the case itself (its id), so each case
    proposes at most once of each kind."""
    return CaseGround(
        contract_id=case.contract_id,
        provider_id=case.provider_id,
        municipality_id=case.municipality_id,
        ground=case.id.hex,
    )
