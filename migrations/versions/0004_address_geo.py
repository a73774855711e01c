"""Address: representative coordinates of towns and their 丁目.

Revision ID: 0004_address_geo
Revises: 0003_residents
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_address_geo"
down_revision: str | None = "0003_residents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    with op.batch_alter_table("address_towns") as batch:
        batch.add_column(sa.Column("lat", sa.Double(), nullable=True))
        batch.add_column(sa.Column("lng", sa.Double(), nullable=True))
        batch.add_column(sa.Column("chomes", json, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("address_towns") as batch:
        batch.drop_column("chomes")
        batch.drop_column("lng")
        batch.drop_column("lat")
