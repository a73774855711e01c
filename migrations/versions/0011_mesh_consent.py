"""Mesh: consent artefacts and their status chain.

Revision ID: 0011_mesh_consent
Revises: 0010_mesh_records
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0011_mesh_consent"
down_revision: str | None = "0010_mesh_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
