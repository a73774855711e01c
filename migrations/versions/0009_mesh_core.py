"""Mesh: members, subsystems, services, grants, agency codes, subscriptions.

Revision ID: 0009_mesh_core
Revises: 0008_address_abr
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0009_mesh_core"
down_revision: str | None = "0008_address_abr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mesh_members",
        sa.Column("xroad_id", sa.String(length=80), nullable=False),
        sa.Column("instance", sa.String(length=16), nullable=False),
        sa.Column("member_class", sa.String(length=8), nullable=False),
        sa.Column("member_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_members")),
        sa.UniqueConstraint("xroad_id", name=op.f("uq_mesh_members_xroad_id")),
    )

    op.create_table(
        "mesh_subsystems",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("xroad_id", sa.String(length=120), nullable=False),
        sa.Column("subsystem_code", sa.String(length=40), nullable=False),
        sa.Column("key_name", sa.String(length=100), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["mesh_members.id"],
            name=op.f("fk_mesh_subsystems_member_id_mesh_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_subsystems")),
        sa.UniqueConstraint("xroad_id", name=op.f("uq_mesh_subsystems_xroad_id")),
    )
    with op.batch_alter_table("mesh_subsystems", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mesh_subsystems_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "mesh_services",
        sa.Column("subsystem_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=120), nullable=False),
        sa.Column("xroad_id", sa.String(length=200), nullable=False),
        sa.Column("service_code", sa.String(length=60), nullable=False),
        sa.Column(
            "openapi",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("endpoint_url", sa.String(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subsystem_id"],
            ["mesh_subsystems.id"],
            name=op.f("fk_mesh_services_subsystem_id_mesh_subsystems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_services")),
        sa.UniqueConstraint("xroad_id", name=op.f("uq_mesh_services_xroad_id")),
    )
    with op.batch_alter_table("mesh_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mesh_services_subsystem_id"), ["subsystem_id"], unique=False
        )

    op.create_table(
        "mesh_grants",
        sa.Column("client", sa.String(length=120), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.String(length=300), nullable=False),
        sa.Column(
            "items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_grants")),
    )
    with op.batch_alter_table("mesh_grants", schema=None) as batch_op:
        batch_op.create_index("ix_mesh_grants_client_service", ["client", "service"], unique=False)

    op.create_table(
        "mesh_agency_codes",
        sa.Column("member", sa.String(length=80), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_agency_codes")),
        sa.UniqueConstraint("member", "code", name=op.f("uq_mesh_agency_codes_member_code")),
        sa.UniqueConstraint(
            "member", "person_id", name=op.f("uq_mesh_agency_codes_member_person_id")
        ),
    )

    op.create_table(
        "mesh_subscriptions",
        sa.Column("subsystem", sa.String(length=120), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("endpoint_url", sa.String(length=500), nullable=True),
        sa.Column("handler", sa.String(length=120), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_subscriptions")),
        sa.UniqueConstraint(
            "subsystem", "event_type", name=op.f("uq_mesh_subscriptions_subsystem_event_type")
        ),
    )
    with op.batch_alter_table("mesh_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mesh_subscriptions_event_type"), ["event_type"], unique=False
        )

    op.create_table(
        "mesh_deliveries",
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["mesh_subscriptions.id"],
            name=op.f("fk_mesh_deliveries_subscription_id_mesh_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_deliveries")),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name=op.f("uq_mesh_deliveries_subscription_id_event_id")
        ),
    )
    with op.batch_alter_table("mesh_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mesh_deliveries_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("mesh_deliveries")
    op.drop_table("mesh_subscriptions")
    op.drop_table("mesh_agency_codes")
    op.drop_table("mesh_grants")
    op.drop_table("mesh_services")
    op.drop_table("mesh_subsystems")
    op.drop_table("mesh_members")
