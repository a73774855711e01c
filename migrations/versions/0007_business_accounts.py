"""Corporations registry and business accounts.

Revision ID: 0007_business_accounts
Revises: 0006_identity_oidc
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_business_accounts"
down_revision: str | None = "0006_identity_oidc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
