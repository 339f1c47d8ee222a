"""Stable keys for what staff pick in a form: stored rows hold keys, not Swedish labels (issue 14).

Until now the value of each choice was the Swedish text the form shows, and that
text went into the database: a reworded label would have needed a migration.
This one rewrites the stored labels to the keys the code now writes:

- `lex_sarah_case.category` and `.closure_kind` (columns);
- the step-1 and step-2 findings in `application.checklist` and the rounds in
  `business_manager.vetting` (JSON columns);
- in `audit_event.details`, the findings (`results`) of the vetting events and
  the deciding body (`decision.body`) of terminations, notices and proposals.

The audit log is append-only (triggers since 0001). Its old rows are rewritten
here, with the triggers dropped for this transaction only and made again
exactly as 0001 made them, rather than read through a label table: the map is
one-to-one (the downgrade restores every label), it changes codes and never who
did what, when or why, and a reader of the log then needs one vocabulary for
every row, with no table of past labels that has to live as long as the log.

The maps are frozen here, not imported: the app's labels may change later, and
this migration must still read the labels of the rows it was written for.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Step-1 findings (Assessment) and step-2 findings (RoutineAssessment) share "Godkänd".
FINDING = {
    "Godkänd": "approved",
    "Saknas, begär komplettering": "missing",
    "Uppfylls inte": "failing",
    "Lämnas senast vid start": "at_start",
    "Inte godkänd": "not_approved",
}
CATEGORY = {"Missförhållande": "wrong", "Påtaglig risk för missförhållande": "risk"}
CLOSURE = {"Beslut": "decision", "Ställningstagande": "position"}
DECIDING_BODY = {
    "Nämnden": "committee",
    "Nämndens ordförande (delegation)": "chair",
    "Ej tillämpligt": "not_applicable",
}

Map = Mapping[str, str]


def _inverse(mapping: Map) -> dict[str, str]:
    return {key: label for label, key in mapping.items()}


def _item_results(items: Any, finding: Map) -> None:
    """{"item key": {"result": ..., "note": ...}}: the result rewritten in place."""
    if isinstance(items, dict):
        for value in items.values():
            if isinstance(value, dict) and value.get("result") in finding:
                value["result"] = finding[value["result"]]


def _checklist(data: Any, finding: Map) -> Any:
    for round_ in data.get("step1") or []:
        _item_results(round_.get("items"), finding)
    if isinstance(data.get("step2"), dict):
        _item_results(data["step2"].get("items"), finding)
    return data


def _vetting(data: Any, finding: Map) -> Any:
    for round_ in data.get("rounds") or []:
        _item_results(round_.get("items"), finding)
    return data


def _details(data: Any, finding: Map, body: Map) -> Any:
    results = data.get("results")
    if isinstance(results, dict):
        data["results"] = {key: finding.get(value, value) for key, value in results.items()}
    decision = data.get("decision")
    if isinstance(decision, dict) and decision.get("body") in body:
        decision["body"] = body[decision["body"]]
    return data


def _rewrite_json(
    table: str, key: str, column: str, change: Callable[[Any], Any], *mentions: str
) -> None:
    """Read each row's JSON, change it, and write back only the rows that changed.

    `mentions`: read only the rows whose JSON text names one of these keys.
    """
    rows = sa.table(table, sa.column(key), sa.column(column, sa.JSON()))
    connection = op.get_bind()
    query = sa.select(rows.c[key], rows.c[column])
    if mentions:
        text = sa.cast(rows.c[column], sa.Text())
        query = query.where(sa.or_(*(text.like(f'%"{name}"%') for name in mentions)))
    for row_key, data in connection.execute(query).all():
        if not isinstance(data, dict):
            continue
        new = change(copy.deepcopy(data))
        if new != data:
            connection.execute(rows.update().where(rows.c[key] == row_key).values({column: new}))


def _rewrite_column(table: str, column: str, mapping: Map) -> None:
    rows = sa.table(table, sa.column(column, sa.String()))
    for old, new in mapping.items():
        op.execute(rows.update().where(rows.c[column] == old).values({column: new}))


def _drop_audit_triggers() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
    op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")


def _make_audit_append_only() -> None:
    """The triggers of 0001, as 0001 made them."""
    if op.get_context().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
    )


def _rewrite(finding: Map, category: Map, closure: Map, body: Map) -> None:
    _rewrite_column("lex_sarah_case", "category", category)
    _rewrite_column("lex_sarah_case", "closure_kind", closure)
    _rewrite_json("application", "id", "checklist", lambda data: _checklist(data, finding))
    _rewrite_json("business_manager", "id", "vetting", lambda data: _vetting(data, finding))
    _drop_audit_triggers()
    _rewrite_json(
        "audit_event",
        "id",
        "details",
        lambda data: _details(data, finding, body),
        "results",
        "decision",
    )
    _make_audit_append_only()


def upgrade() -> None:
    _rewrite(FINDING, CATEGORY, CLOSURE, DECIDING_BODY)


def downgrade() -> None:
    _rewrite(_inverse(FINDING), _inverse(CATEGORY), _inverse(CLOSURE), _inverse(DECIDING_BODY))
