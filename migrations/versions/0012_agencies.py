"""Reference agencies: tables keyed by agency code.

Revision ID: 0012_agencies
Revises: 0011_mesh_consent
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0012_agencies"
down_revision: str | None = "0011_mesh_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agencies_bank_accounts",
        sa.Column("branch_code", sa.String(length=3), nullable=False),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("account_number", sa.String(length=7), nullable=False),
        sa.Column("balance_yen", sa.BigInteger(), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("address_changed_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_bank_accounts")),
        sa.UniqueConstraint("agency_code", name=op.f("uq_agencies_bank_accounts_agency_code")),
    )
    op.create_table(
        "agencies_electricity_contracts",
        sa.Column("supply_point_number", sa.String(length=22), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("contract_amperes", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("address_changed_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_electricity_contracts")),
        sa.UniqueConstraint(
            "agency_code", name=op.f("uq_agencies_electricity_contracts_agency_code")
        ),
        sa.UniqueConstraint(
            "supply_point_number",
            name=op.f("uq_agencies_electricity_contracts_supply_point_number"),
        ),
    )
    op.create_table(
        "agencies_insurer_members",
        sa.Column("insurer_number", sa.String(length=8), nullable=False),
        sa.Column("symbol", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("eligible_from", sa.Date(), nullable=False),
        sa.Column("eligible_until", sa.Date(), nullable=True),
        sa.Column("copay_percent", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("address_changed_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_insurer_members")),
        sa.UniqueConstraint("agency_code", name=op.f("uq_agencies_insurer_members_agency_code")),
    )
    op.create_table(
        "agencies_licence_holders",
        sa.Column("licence_number", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("colour", sa.String(length=8), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("address_changed_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_licence_holders")),
        sa.UniqueConstraint("agency_code", name=op.f("uq_agencies_licence_holders_agency_code")),
        sa.UniqueConstraint(
            "licence_number", name=op.f("uq_agencies_licence_holders_licence_number")
        ),
    )
    op.create_table(
        "agencies_pension_records",
        sa.Column("pension_number", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("contribution_months", sa.Integer(), nullable=False),
        sa.Column("exempt_months", sa.Integer(), nullable=False),
        sa.Column("expected_annual_benefit_yen", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("address_changed_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_pension_records")),
        sa.UniqueConstraint("agency_code", name=op.f("uq_agencies_pension_records_agency_code")),
        sa.UniqueConstraint(
            "pension_number", name=op.f("uq_agencies_pension_records_pension_number")
        ),
    )
    op.create_table(
        "agencies_tax_incomes",
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("salary_income_yen", sa.BigInteger(), nullable=False),
        sa.Column("business_income_yen", sa.BigInteger(), nullable=False),
        sa.Column("basic_deduction_yen", sa.BigInteger(), nullable=False),
        sa.Column("social_insurance_deduction_yen", sa.BigInteger(), nullable=False),
        sa.Column("dependants_deduction_yen", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_tax_incomes")),
        sa.UniqueConstraint(
            "agency_code", "year", name=op.f("uq_agencies_tax_incomes_agency_code_year")
        ),
    )
    with op.batch_alter_table("agencies_tax_incomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agencies_tax_incomes_agency_code"), ["agency_code"], unique=False
        )

    op.create_table(
        "agencies_tax_taxpayers",
        sa.Column("tax_office", sa.String(length=64), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("address_changed_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_tax_taxpayers")),
        sa.UniqueConstraint("agency_code", name=op.f("uq_agencies_tax_taxpayers_agency_code")),
    )


def downgrade() -> None:
    op.drop_table("agencies_tax_taxpayers")
    with op.batch_alter_table("agencies_tax_incomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agencies_tax_incomes_agency_code"))

    op.drop_table("agencies_tax_incomes")
    op.drop_table("agencies_pension_records")
    op.drop_table("agencies_licence_holders")
    op.drop_table("agencies_insurer_members")
    op.drop_table("agencies_electricity_contracts")
    op.drop_table("agencies_bank_accounts")
