"""Notifications: notice templates, the inbox and each notice's delivery lifecycle.

Revision ID: 0013_notifications
Revises: 0012_agencies
Create Date: 2026-11-26 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0013_notifications"
down_revision: str | None = "0012_agencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
