"""Mesh: access records (情報提供等記録) and signed checkpoints.

Revision ID: 0010_mesh_records
Revises: 0009_mesh_core
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010_mesh_records"
down_revision: str | None = "0009_mesh_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
