"""Vetting and signing: the driving flow run, the case officer's e-mail, the contract text.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_officer_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("flow_run_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_html", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("municipality_signatory", sa.String(length=200), nullable=True)
        )
        batch_op.add_column(sa.Column("flow_run_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_column("flow_run_id")
        batch_op.drop_column("municipality_signatory")
        batch_op.drop_column("document_html")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("flow_run_id")
        batch_op.drop_column("case_officer_email")
