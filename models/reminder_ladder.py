"""The one reminder-ladder mechanism: a ladder is a declaration, `queue_ladder` runs it.

A `Ladder` says which rows (one set-based query for all open cases), which
policy each row follows, the outbox key of its case and the case its letters
are filed under, and its tracks. A `Track` is one letter: its rungs (names and
working-day offsets from the policy, models/reminders.py), the date they count
from, the template, the recipient and the letter's context. The sweep sends,
per row and track, the latest rung whose day has come, once per
`<case key>:<rung name>` (the outbox key), so a missed day is caught up and
two sweeps at once send one letter.

The seven ladders are declared beside their rules: decisions and signatures
(models/checks/case_reminders.py), business managers' decisions
(models/checks/manager_reminders.py), deviation reports (models/checks/deviation_reports.py),
copies and follow-ups (models/checks/obligation_reminders.py), lex Sarah
(tasks/lex_sarah_checks.py) and warnings (models/checks/warning_reminders.py). Five of
them run over a `CaseRow` (an open obligation, its case, the case's provider and
municipality): `open_case_obligations` is their one query, and `case_ladder` files
each row's letters under its case and follows its municipality's policy.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar, cast

from prefect.settings import PREFECT_UI_URL
from sqlmodel import Session, col, select

from models.audit import Audited
from models.email_queue import enqueue_many, outbox_values
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox_sql import count_ids, known_keys
from models.policy import Policy, load_policy
from models.provider import Provider
from models.provider_case import ProviderCase
from models.reminders import Letter, Rung, Step, current_step, place

Row = TypeVar("Row")
Subject = TypeVar("Subject", bound=Audited)
Case = TypeVar("Case", bound=ProviderCase)


def _always(_row: object) -> bool:
    return True


def obligation_due(row: Any) -> date:
    """The due date of the row's obligation, for rows that begin with it (most ladders)."""
    return cast(Obligation, row[0]).due_on


def staff_inbox(policy: Policy, _row: object) -> str:
    """The municipality's shared inbox for case officers (policy `mail.staff_recipient`)."""
    return policy.mail.staff_recipient


@dataclass(frozen=True)
class Track(Generic[Row]):
    """One letter of a ladder: the rungs it is sent on, to whom, with what."""

    #: The template under templates/email/.
    template: str
    #: The rungs, in order, from the row's policy (the names end the outbox key).
    rungs: Callable[[Policy, Row], Sequence[Rung]]
    recipient: Callable[[Policy, Row], str]
    #: The letter's context, beside the municipality and the case id.
    context: Callable[[Policy, Row, date], dict[str, object]]
    #: The date the offsets count from: the obligation's due date unless said otherwise
    #: (the day a contract went out).
    start: Callable[[Row], date] = obligation_due
    #: Whether the row has this track at all (e.g. only copies the provider owes).
    applies: Callable[[Row], bool] = _always
    #: Offset 0 falls on the next working day when the date is not one (lex Sarah).
    roll_on_the_day: bool = False


@dataclass(frozen=True)
class Ladder(Generic[Row]):
    """Which rows, under which policy and outbox key, with which tracks."""

    #: One query for every open case that can have a rung on `as_of`.
    rows: Callable[[Session, date], Iterable[Row]]
    #: The policy name (policies/<name>.toml) the row follows.
    policy_name: Callable[[Row], str]
    #: The outbox key of the row's case; each letter's key is `<key>:<rung name>`.
    key: Callable[[Row], str]
    #: (case type, case id) the letters are filed under.
    case: Callable[[Row], tuple[str, uuid.UUID]]
    tracks: tuple[Track[Row], ...]


# --------------------------------------------------------------------------- case ladders

#: A row of most ladders: an open obligation, the case it is on, the case's provider and
#: municipality.
CaseRow = tuple[Obligation, Subject, Provider, Municipality]


def open_case_obligations(
    session: Session, table: type[Case], kinds: Sequence[ObligationKind], *where: Any
) -> list[CaseRow[Case]]:
    """The open obligations of `kinds` on cases of `table` that also meet `where`, each with
    its case, provider and municipality: one query for every case."""
    case: Any = table  # a table class; its columns are typed by SQLModel, not by the protocol
    query = (
        select(Obligation, case, Provider, Municipality)
        .join(case, col(case.id) == col(Obligation.subject_id))
        .join(Provider, col(Provider.id) == col(case.provider_id))
        .join(Municipality, col(Municipality.id) == col(case.municipality_id))
        .where(
            col(Obligation.kind).in_([kind.value for kind in kinds]),
            Obligation.status == ObligationStatus.open,
            *where,
        )
    )
    return cast(list[CaseRow[Case]], list(session.exec(query).all()))


def case_ladder(
    table: type[Subject],
    *,
    rows: Callable[[Session, date], Iterable[CaseRow[Subject]]],
    key: Callable[[CaseRow[Subject]], str],
    tracks: tuple[Track[CaseRow[Subject]], ...],
) -> Ladder[CaseRow[Subject]]:
    """A ladder of `CaseRow`s: each row follows its municipality's policy, and its letters
    are filed under its case, a row of `table`."""
    return Ladder(
        rows=rows,
        policy_name=lambda row: row[3].policy_name,
        key=key,
        case=lambda row: (table.ENTITY_TYPE, row[1].id),
        tracks=tracks,
    )


def provider_inbox(_policy: Policy, row: CaseRow[Any]) -> str:
    """The address of the provider a `CaseRow`'s case is about."""
    return row[2].email


def ladder_letters(session: Session, ladder: Ladder[Row], as_of: date) -> list[Letter]:
    """The letters the ladder's rows are due on `as_of`, known ones included.

    A row's rungs are placed on the calendar once per rungs and date, however
    many rows share them (a month's deviation reports all do).
    """
    placed: dict[tuple[tuple[Rung, ...], date, bool], Step | None] = {}
    letters: list[Letter] = []
    for row in ladder.rows(session, as_of):
        policy = load_policy(ladder.policy_name(row))
        for track in ladder.tracks:
            if not track.applies(row):
                continue
            where = (tuple(track.rungs(policy, row)), track.start(row), track.roll_on_the_day)
            if where not in placed:
                rungs, start, roll = where
                placed[where] = current_step(place(rungs, start, roll_on_the_day=roll), as_of)
            step = placed[where]
            if step is None:
                continue
            case_type, case_id = ladder.case(row)
            letters.append(
                Letter(
                    key=f"{ladder.key(row)}:{step.name}",
                    template=track.template,
                    policy=policy,
                    recipient=track.recipient(policy, row),
                    case_type=case_type,
                    case_id=case_id,
                    context=track.context(policy, row, as_of),
                )
            )
    return letters


def queue_ladder(session: Session, ladder: Ladder[Row], as_of: date) -> int:
    """Queue the ladder's letters due on `as_of` that are not queued yet; return how many."""
    return queue_new(session, ladder_letters(session, ladder, as_of))


def run_url(flow_run_id: uuid.UUID | None) -> str | None:
    """The Prefect UI page of a run, for a letter's link; None without a UI or a run."""
    base = PREFECT_UI_URL.value()
    if not base or flow_run_id is None:
        return None
    # /v2/: the V2 UI staff get. A V1 path ("/runs/...") opens the old UI, which
    # the README no longer describes; only the neutral "/" follows the UI setting.
    return f"{base.rstrip('/')}/v2/runs/flow-run/{flow_run_id}"


#: Letters rendered and inserted per round: bounds memory (a rendered letter is
#: about 5 KB) on a day with very many letters.
CHUNK = 5000


def queue_new(session: Session, letters: list[Letter]) -> int:
    """Queue the letters whose key is not in the outbox yet; return how many were added.

    One query finds the keys already queued, so known letters are not rendered
    again; the rest are rendered and inserted CHUNK at a time (an executemany
    whose ON CONFLICT still settles a race with a concurrent sweep), and one
    query counts what the database kept.
    """
    if not letters:
        return 0
    known = known_keys(session, [letter.key for letter in letters])
    new = list({letter.key: letter for letter in letters if letter.key not in known}.values())
    ids = []
    for start in range(0, len(new), CHUNK):
        rows = [
            outbox_values(
                key=letter.key,
                template=letter.template,
                context={"municipality": letter.policy.municipality, "case_id": letter.case_id}
                | letter.context,
                recipients=[letter.recipient],
                sender=letter.policy.mail.sender,
                case_type=letter.case_type,
                case_id=letter.case_id,
            )
            for letter in new[start : start + CHUNK]
        ]
        enqueue_many(session, rows)
        ids += [row["id"] for row in rows]
    return count_ids(session, ids)
