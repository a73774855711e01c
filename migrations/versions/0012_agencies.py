"""Reference agencies: tables keyed by agency code.

Revision ID: 0012_agencies
Revises: 0011_mesh_consent
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012_agencies"
down_revision: str | None = "0011_mesh_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
