"""Monthly deviation reports (avvikelserapporter).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monthly_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("municipality_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("late_working_days", sa.Integer(), nullable=False),
        sa.Column("days_without_help", sa.Integer(), nullable=False),
        sa.Column("missed_visit_minutes", sa.Integer(), nullable=False),
        sa.Column("meals_delivered", sa.Integer(), nullable=False),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"]),
        sa.ForeignKeyConstraint(["municipality_id"], ["municipality.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "period", name="uq_monthly_report"),
    )
    with op.batch_alter_table("monthly_report", schema=None) as batch_op:
        batch_op.create_index("ix_monthly_report_contract_id", ["contract_id"], unique=False)
        batch_op.create_index("ix_monthly_report_provider_id", ["provider_id"], unique=False)
        batch_op.create_index("ix_monthly_report_period", ["period"], unique=False)


def downgrade() -> None:
    op.drop_table("monthly_report")
