"""Lex Sarah cases (the report's text and names live only here).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lex_sarah_case",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("municipality_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("event_on", sa.Date(), nullable=False),
        sa.Column("provider_received_on", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("registration_run_id", sa.Uuid(), nullable=True),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("persons", sa.Text(), nullable=True),
        sa.Column("investigation_received_on", sa.Date(), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=True),
        sa.Column("assessed_on", sa.Date(), nullable=True),
        sa.Column("assessed_by", sa.String(length=200), nullable=True),
        sa.Column("municipality_action", sa.Text(), nullable=True),
        sa.Column("ivo_notified_on", sa.Date(), nullable=True),
        sa.Column("ivo_confirmation_received_on", sa.Date(), nullable=True),
        sa.Column("closure_kind", sa.String(length=40), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("measures", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"]),
        sa.ForeignKeyConstraint(["municipality_id"], ["municipality.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("registration_run_id"),
    )
    with op.batch_alter_table("lex_sarah_case", schema=None) as batch_op:
        batch_op.create_index("ix_lex_sarah_case_municipality_id", ["municipality_id"])
        batch_op.create_index("ix_lex_sarah_case_provider_id", ["provider_id"])
        batch_op.create_index("ix_lex_sarah_case_contract_id", ["contract_id"])
        batch_op.create_index("ix_lex_sarah_case_received_on", ["received_on"])
        batch_op.create_index("ix_lex_sarah_case_status", ["status"])


def downgrade() -> None:
    op.drop_table("lex_sarah_case")
