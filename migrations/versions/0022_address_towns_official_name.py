"""Address: each town's official spelling beside the postal one.

``address_towns.official_name`` is the Address Base Registry's spelling of a town whose
postal (KEN_ALL) name differs from it only by variant characters (藪/薮, 﨑/崎); ``name`` stays
the postal spelling, which the town's id is made from, and the normalizer answers with the
official one. ``only_chome`` says the registry has the town only with its 丁目 (no bare
town), so that a number written right after it can only be its 丁目.

Revision ID: 0022_address_towns_official_name
Revises: 0019_identity_oidc_sectors
Create Date: 2026-12-07 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_address_towns_official_name"
down_revision: str | None = "0019_identity_oidc_sectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("address_towns") as batch:
        batch.add_column(sa.Column("official_name", sa.String(length=128), nullable=True))
        batch.add_column(
            sa.Column("only_chome", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("address_towns") as batch:
        batch.drop_column("only_chome")
        batch.drop_column("official_name")
