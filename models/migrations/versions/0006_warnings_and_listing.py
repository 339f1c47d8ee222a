"""Warnings (contract_warning) and the contract's public listing and no-choice rotation.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The policy whose contract.no_choice_rotation was true when this revision was
#: written (policies/huddinge.toml; Salem, Stockholm, Strängnäs and the default were
#: false). Frozen here, not read from policies/ through models/policy.py, so that a
#: later change to either cannot change what this upgrade does; from this revision
#: on, the flag is each contract's own column.
NO_CHOICE_ROTATION_POLICY = "huddinge"


def upgrade() -> None:
    op.create_table(
        "contract_warning",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("municipality_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("clauses", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("remedy_by", sa.Date(), nullable=False),
        sa.Column("action_plan_required", sa.Boolean(), nullable=False),
        sa.Column("action_plan_due", sa.Date(), nullable=True),
        sa.Column("action_plan_received_on", sa.Date(), nullable=True),
        sa.Column("follow_up_dates", sa.JSON(), nullable=False),
        sa.Column("proposal_id", sa.Uuid(), nullable=True),
        sa.Column("termination_proposal_id", sa.Uuid(), nullable=True),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"]),
        sa.ForeignKeyConstraint(["municipality_id"], ["municipality.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contract_warning", schema=None) as batch_op:
        batch_op.create_index("ix_contract_warning_contract_id", ["contract_id"], unique=False)
        batch_op.create_index("ix_contract_warning_provider_id", ["provider_id"], unique=False)
        batch_op.create_index(
            "ix_contract_warning_municipality_id", ["municipality_id"], unique=False
        )
        batch_op.create_index("ix_contract_warning_status", ["status"], unique=False)

    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("publicly_listed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "in_no_choice_rotation", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    # Contracts in force before this revision were on the public list; the rotation
    # (ickeval) is set for those of the municipalities whose policy had it.
    op.execute(
        "UPDATE contract SET publicly_listed = true WHERE status IN ('active', 'notice_given')"
    )
    op.execute(
        "UPDATE contract SET in_no_choice_rotation = true "
        "WHERE status IN ('active', 'notice_given') AND municipality_id IN "
        f"(SELECT id FROM municipality WHERE policy_name = '{NO_CHOICE_ROTATION_POLICY}')"
    )


def downgrade() -> None:
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_column("in_no_choice_rotation")
        batch_op.drop_column("publicly_listed")
    op.drop_table("contract_warning")
