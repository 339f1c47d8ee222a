"""Att göra: every human step that waits, one row each, in every kommun (issue 15).

The case runner (flows/case_runner.py) is the one place that knows when a case
starts to wait: just before a run suspends for a form it names the run by the
step ("ansökan 14E931BA · steg 2") and gives it three labels, keys and ids only:
the case (`<entity type>:<id>`), the step's Swedish name, and whether the last
answer was refused. Prefect keeps them on the run, so the list of waiting runs is
the API's list of Paused runs (a Suspended run is one), with no window of days
and no table of ours that could fall out of step: a run that is answered,
cancelled or crashed leaves the list the moment its state changes.

This module turns those runs into rows: it looks the cases up in the app
database (kommun by name, the provider, the responsible case officer (models/case_officer.py),
the earliest open obligation as the deadline) and sorts them by deadline. The
page that shows them is deployments/staff_page.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from models.application import Application
from models.business_manager import BusinessManager
from models.calendar import working_days_between
from models.case_officer import CASE_TABLES, officers
from models.contract import Contract
from models.contract_ending import ContractEnding
from models.lex_sarah import LexSarahCase
from models.municipality import Municipality
from models.obligation import Obligation, ObligationStatus
from models.proposal import Proposal
from models.provider import Provider
from models.sv_format import case_no
from models.validation import is_sole_trader
from models.warning import ContractWarning

#: Between the case and the step in a waiting run's name.
WAITING_MARK = " · "
#: The end of a run's name after a refused answer: the form waits to be corrected.
REFUSED = "rätta svaret"

CASE_LABEL = "lovflow.case"
#: A run that waits for its own parameters to be corrected (no case exists yet):
#: the deployment it was started from.
CORRECTION_LABEL = "lovflow.correction"
STEP_LABEL = "lovflow.step"
REFUSED_LABEL = "lovflow.refused"

#: The kind staff read in the worklist, by the case's entity type (its table is
#: models/case_officer.CASE_TABLES).
KINDS: dict[str, str] = {
    Application.ENTITY_TYPE: "ansökan",
    Contract.ENTITY_TYPE: "avtal",
    BusinessManager.ENTITY_TYPE: "verksamhetsansvarig",
    ContractWarning.ENTITY_TYPE: "varning",
    ContractEnding.ENTITY_TYPE: "avslut",
    LexSarahCase.ENTITY_TYPE: "lex Sarah",
    Proposal.ENTITY_TYPE: "förslag",
}


def run_labels(
    entity: str, case_id: uuid.UUID, step: str, refused: bool
) -> dict[str, bool | int | float | str]:
    """The labels a waiting run carries: ids and the step's name, never a person."""
    return {
        CASE_LABEL: f"{entity}:{case_id}",
        STEP_LABEL: step,
        REFUSED_LABEL: "ja" if refused else "nej",
    }


def waiting_name(base: str, step: str, refused: bool) -> str:
    """A waiting run's name: "<base> · <step>", then " · rätta svaret" after a refusal
    (no step: a run that waits for its own parameters)."""
    return WAITING_MARK.join([base, *([step] if step else []), *([REFUSED] if refused else [])])


def base_name(name: str) -> str:
    """A run's name without what `waiting_name` added."""
    return name.split(WAITING_MARK)[0]


def correction_labels(deployment: str) -> dict[str, bool | int | float | str]:
    """The labels of a run that asks for its own parameters again (flows/parameter_check.py)."""
    return {CORRECTION_LABEL: deployment, STEP_LABEL: "Rätta uppgifterna", REFUSED_LABEL: "ja"}


@dataclass(frozen=True)
class WaitingRun:
    """A Paused run as the Prefect API gives it."""

    run_id: uuid.UUID
    name: str
    labels: Mapping[str, Any]
    #: When it began to wait (the Paused state's timestamp).
    since: datetime


@dataclass(frozen=True)
class WorkItem:
    """One row of the worklist."""

    run_id: uuid.UUID
    kind: str
    case_no: str
    municipality: str
    provider: str
    step: str
    refused: bool
    deadline: date | None
    #: Working days from today to the deadline; negative: overdue by that many.
    days_left: int | None
    officer: str
    since: datetime

    @property
    def deadline_text(self) -> str:
        if self.days_left is None:
            return ""
        if self.days_left < 0:
            return f"{-self.days_left} arbetsdagar sen"
        if self.days_left == 0:
            return "i dag"
        return f"{self.days_left} arbetsdagar kvar"


def provider_text(provider: Provider) -> str:
    """The company's name, or for an enskild firma a short id, never its personnummer."""
    if is_sole_trader(provider.org_number):
        return f"enskild firma {case_no(provider.id)}"
    return provider.name


def case_of_run(run: WaitingRun) -> tuple[str, uuid.UUID] | None:
    entity, _, case_id = str(run.labels.get(CASE_LABEL, "")).partition(":")
    if entity not in KINDS:
        return None
    try:
        return entity, uuid.UUID(case_id)
    except ValueError:
        return None


def case_rows(session: Session, entity: str, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
    table: Any = CASE_TABLES[entity]  # every case table has an `id` column
    found = session.exec(select(table).where(col(table.id).in_(set(ids)))).all()
    return {row.id: row for row in found}


def _deadlines(session: Session, cases: Iterable[tuple[str, uuid.UUID]]) -> dict[uuid.UUID, date]:
    """The earliest open obligation of each case (its decision deadline, say)."""
    ids = {case_id for _, case_id in cases}
    rows = session.exec(
        select(Obligation).where(
            col(Obligation.subject_id).in_(ids), Obligation.status == ObligationStatus.open
        )
    ).all()
    earliest: dict[uuid.UUID, date] = {}
    for row in rows:
        if row.subject_id not in earliest or row.due_on < earliest[row.subject_id]:
            earliest[row.subject_id] = row.due_on
    return earliest


def work_items(session: Session, runs: Sequence[WaitingRun], as_of: date) -> list[WorkItem]:
    """The worklist: one row per waiting run of a known case, by deadline, then by age."""
    cases = {run.run_id: found for run in runs if (found := case_of_run(run)) is not None}
    rows: dict[uuid.UUID, Any] = {}
    for entity in {entity for entity, _ in cases.values()}:
        rows |= case_rows(session, entity, [cid for e, cid in cases.values() if e == entity])
    # Cases that keep no kommun or provider of their own: the contract's.
    contract_ids = {
        row.contract_id
        for row in rows.values()
        if getattr(row, "contract_id", None) and not hasattr(row, "municipality_id")
    }
    contracts = {
        c.id: c
        for c in session.exec(select(Contract).where(col(Contract.id).in_(contract_ids))).all()
    }
    municipalities = {m.id: m.name for m in session.exec(select(Municipality)).all()}
    provider_ids = {getattr(row, "provider_id", None) for row in rows.values()} | {
        c.provider_id for c in contracts.values()
    }
    providers = {
        p.id: p
        for p in session.exec(
            select(Provider).where(col(Provider.id).in_(provider_ids - {None}))
        ).all()
    }
    deadlines = _deadlines(session, cases.values())
    responsible = officers(session, rows.values())
    items: list[WorkItem] = []
    for run in runs:
        if run.run_id not in cases or cases[run.run_id][1] not in rows:
            continue
        entity, case_id = cases[run.run_id]
        row = rows[case_id]
        # The row that keeps the kommun and the provider: the case, or its contract.
        owner: Any = row if hasattr(row, "municipality_id") else contracts.get(row.contract_id)
        provider = providers.get(getattr(owner, "provider_id", None) or row.provider_id)
        due = deadlines.get(case_id)
        items.append(
            WorkItem(
                run_id=run.run_id,
                kind=KINDS[entity],
                case_no=case_no(case_id),
                municipality=municipalities.get(getattr(owner, "municipality_id", ""), ""),
                provider=provider_text(provider) if provider is not None else "",
                step=str(run.labels.get(STEP_LABEL, "")),
                refused=run.labels.get(REFUSED_LABEL) == "ja",
                deadline=due,
                days_left=_days_left(as_of, due),
                officer=responsible[case_id].shown,
                since=run.since,
            )
        )
    items += [_correction(run) for run in runs if run.run_id not in cases and _corrects(run)]
    return sorted(items, key=lambda item: (item.deadline or date.max, item.since))


def _corrects(run: WaitingRun) -> bool:
    return bool(run.labels.get(CORRECTION_LABEL))


def _correction(run: WaitingRun) -> WorkItem:
    """A start whose parameters were refused: no case, kommun or deadline yet."""
    return WorkItem(
        run_id=run.run_id,
        kind=str(run.labels[CORRECTION_LABEL]),
        case_no="–",
        municipality="",
        provider="",
        step=str(run.labels.get(STEP_LABEL, "")),
        refused=True,
        deadline=None,
        days_left=None,
        officer="",
        since=run.since,
    )


def _days_left(as_of: date, due: date | None) -> int | None:
    """Working days after `as_of` up to `due`; negative once it has passed."""
    return None if due is None else working_days_between(as_of, due)
