"""Identity: OpenID Connect provider (clients, authorization requests, codes, tokens, consents).

Revision ID: 0006_identity_oidc
Revises: 0005_identity_pki
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_identity_oidc"
down_revision: str | None = "0005_identity_pki"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
