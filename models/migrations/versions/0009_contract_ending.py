"""Staff ending a contract as a stored case (`contract_ending`), run by the case runner.

"Avsluta avtal" runs read where they stand from this row, not from the
contract's status, which is `active` again after a reversed interim
termination. A contract already interim-terminated when this runs was waiting
for its investigation's end: it gets a case at that step, so starting the
deployment again (or resuming the run that waits) asks for the investigation,
as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ending = op.create_table(
        "contract_ending",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contract_ending", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_ending_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contract_ending_status"), ["status"], unique=False)

    contract = sa.table("contract", sa.column("id", sa.Uuid()), sa.column("status", sa.String()))
    waiting = op.get_bind().execute(
        sa.select(contract.c.id).where(contract.c.status == "interim_terminated")
    )
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "contract_id": contract_id,
            "action": "interim",
            "status": "investigation",
            "flow_run_id": None,
            "created_at": now,
            "updated_at": now,
        }
        for (contract_id,) in waiting
    ]
    if rows:
        op.bulk_insert(ending, rows)


def downgrade() -> None:
    with op.batch_alter_table("contract_ending", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_ending_status"))
        batch_op.drop_index(batch_op.f("ix_contract_ending_contract_id"))
    op.drop_table("contract_ending")
