"""Procedures: applications as a hash-chained action journal, tasks and prefill sources.

Revision ID: 0014_procedures
Revises: 0013_notifications
Create Date: 2026-11-26 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0014_procedures"
down_revision: str | None = "0013_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
