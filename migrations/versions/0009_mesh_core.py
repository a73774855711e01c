"""Mesh: members, subsystems, services, grants, agency codes, subscriptions.

Revision ID: 0009_mesh_core
Revises: 0008_address_abr
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009_mesh_core"
down_revision: str | None = "0008_address_abr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
