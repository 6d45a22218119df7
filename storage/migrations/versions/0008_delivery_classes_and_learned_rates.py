"""delivery classes, fair keys and learned workspace rates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivery_class", sa.String(length=8), server_default="bulk", nullable=False)
        )
        batch_op.add_column(
            sa.Column("fair_key", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("reply_to_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "delivery_rates",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=128), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("ceiling", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "workspace", name=op.f("pk_delivery_rates")),
    )


def downgrade() -> None:
    op.drop_table("delivery_rates")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("reply_to_at")
        batch_op.drop_column("fair_key")
        batch_op.drop_column("delivery_class")
