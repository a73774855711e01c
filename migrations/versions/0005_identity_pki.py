"""Identity: card PKI (cards, certificates, revocation).

Revision ID: 0005_identity_pki
Revises: 0004_address_geo
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005_identity_pki"
down_revision: str | None = "0004_address_geo"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
