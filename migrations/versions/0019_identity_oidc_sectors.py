"""OpenID provider: approved sectors, and each client's ID token signing algorithm.

- ``identity_oidc_sectors``: the sectors an operator approved (OpenID Connect Core §8.1) with
  the redirect URIs that belong to each; a client names a sector other than its redirect URIs'
  host only when the sector lists every redirect URI of the client.
- ``identity_oidc_clients.id_token_signed_response_alg``: RS256 for new registrations; the
  clients registered before this migration were receiving ES256 tokens and keep ES256.

Revision ID: 0019_identity_oidc_sectors
Revises: 0018_residents_read_records
Create Date: 2026-12-07 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0019_identity_oidc_sectors"
down_revision: str | None = "0018_residents_read_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_oidc_sectors",
        sa.Column("sector_identifier", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "redirect_uris",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("approved_by", sa.String(length=128), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oidc_sectors")),
        sa.UniqueConstraint(
            "sector_identifier", name=op.f("uq_identity_oidc_sectors_sector_identifier")
        ),
    )
    # Existing registrations keep the algorithm their tokens were signed with; the server
    # default fills them and is dropped at once, so new rows take the model's RS256.
    with op.batch_alter_table("identity_oidc_clients") as batch:
        batch.add_column(
            sa.Column(
                "id_token_signed_response_alg",
                sa.String(length=8),
                nullable=False,
                server_default="ES256",
            )
        )
    with op.batch_alter_table("identity_oidc_clients") as batch:
        batch.alter_column("id_token_signed_response_alg", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("identity_oidc_clients") as batch:
        batch.drop_column("id_token_signed_response_alg")
    op.drop_table("identity_oidc_sectors")
