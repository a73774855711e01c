"""Address: Address Base Registry tables and town versions.

Revision ID: 0008_address_abr
Revises: 0007_business_accounts
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008_address_abr"
down_revision: str | None = "0007_business_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
