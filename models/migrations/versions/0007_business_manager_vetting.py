"""Business manager vetting: new or additional, case officer, findings, the run (issue 5).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("business_manager", schema=None) as batch_op:
        # Rows from applications are the provider's first manager: not additional.
        batch_op.add_column(
            sa.Column("additional", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("registered_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("case_officer_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("vetting", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("flow_run_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("business_manager", schema=None) as batch_op:
        batch_op.drop_column("flow_run_id")
        batch_op.drop_column("vetting")
        batch_op.drop_column("case_officer_email")
        batch_op.drop_column("registered_by")
        batch_op.drop_column("additional")
