"""Monthly customer counts and the proposals staff decide (förslag).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_count",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("municipality_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("performed_minutes", sa.Integer(), nullable=False),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"]),
        sa.ForeignKeyConstraint(["municipality_id"], ["municipality.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "period", name="uq_customer_count"),
    )
    with op.batch_alter_table("customer_count", schema=None) as batch_op:
        batch_op.create_index("ix_customer_count_contract_id", ["contract_id"], unique=False)
        batch_op.create_index("ix_customer_count_provider_id", ["provider_id"], unique=False)
        batch_op.create_index(
            "ix_customer_count_municipality_id", ["municipality_id"], unique=False
        )
        batch_op.create_index("ix_customer_count_period", ["period"], unique=False)

    op.create_table(
        "proposal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("municipality_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("ground", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"]),
        sa.ForeignKeyConstraint(["municipality_id"], ["municipality.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "contract_id", "ground", name="uq_proposal_ground"),
    )
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.create_index("ix_proposal_kind", ["kind"], unique=False)
        batch_op.create_index("ix_proposal_municipality_id", ["municipality_id"], unique=False)
        batch_op.create_index("ix_proposal_provider_id", ["provider_id"], unique=False)
        batch_op.create_index("ix_proposal_contract_id", ["contract_id"], unique=False)
        batch_op.create_index("ix_proposal_status", ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("proposal")
    op.drop_table("customer_count")
