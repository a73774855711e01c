"""Tables of the reference agencies, one set per agency, each keyed only by its agency code.

Every agency knows a person only by the code the mesh gave it (機関別符号): no table here holds
kiban's internal person id or the individual number, and no table of one agency refers to
another's. Each main table also holds the address the agency has on file, which the agency
updates when the mesh delivers an address change (``address_changed_on``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, IdMixin, TimestampMixin

CODE_LENGTH = 64
ADDRESS_LENGTH = 256


class _OnFile(IdMixin, TimestampMixin):
    """The agency code (unique within the agency) and the address the agency has on file."""

    agency_code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    address_changed_on: Mapped[date | None]


class PensionRecord(_OnFile, Base):
    """日本年金機構: a person's pension record (年金記録)."""

    __tablename__ = "agencies_pension_records"

    pension_number: Mapped[str] = mapped_column(String(10), unique=True)  # 基礎年金番号
    category: Mapped[str] = mapped_column(String(8))  # 第1号, 第2号 or 第3号被保険者
    enrolled_on: Mapped[date]
    contribution_months: Mapped[int]
    exempt_months: Mapped[int]
    expected_annual_benefit_yen: Mapped[int]
    stopped_on: Mapped[date | None]  # 受給権の消滅: the holder died.


class TaxTaxpayer(_OnFile, Base):
    """税務署: a taxpayer and the office that handles them."""

    __tablename__ = "agencies_tax_taxpayers"

    tax_office: Mapped[str] = mapped_column(String(64))


class TaxIncome(IdMixin, TimestampMixin, Base):
    """税務署: a taxpayer's income and deductions for one year (所得・控除)."""

    __tablename__ = "agencies_tax_incomes"
    __table_args__ = (UniqueConstraint("agency_code", "year"),)

    agency_code: Mapped[str] = mapped_column(String(CODE_LENGTH), index=True)
    year: Mapped[int]
    salary_income_yen: Mapped[int] = mapped_column(BigInteger)
    business_income_yen: Mapped[int] = mapped_column(BigInteger)
    basic_deduction_yen: Mapped[int] = mapped_column(BigInteger)
    social_insurance_deduction_yen: Mapped[int] = mapped_column(BigInteger)
    dependants_deduction_yen: Mapped[int] = mapped_column(BigInteger)


class InsurerMember(_OnFile, Base):
    """健康保険: an insured person and their eligibility (資格)."""

    __tablename__ = "agencies_insurer_members"

    insurer_number: Mapped[str] = mapped_column(String(8))  # 保険者番号
    symbol: Mapped[str] = mapped_column(String(16))  # 記号
    number: Mapped[str] = mapped_column(String(16))  # 番号
    eligible_from: Mapped[date]
    eligible_until: Mapped[date | None]
    copay_percent: Mapped[int]


class LicenceHolder(_OnFile, Base):
    """運転免許: a driving licence, its status and the address written on it."""

    __tablename__ = "agencies_licence_holders"

    licence_number: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # valid, suspended, revoked, expired
    categories: Mapped[list[Any]]
    colour: Mapped[str] = mapped_column(String(8))  # gold, blue, green
    issued_on: Mapped[date]
    expires_on: Mapped[date]


class BankAccount(_OnFile, Base):
    """A bank: a customer's ordinary account. The reference bank stands for the Zengin network,
    so its accounts carry the bank code of any Zengin member bank."""

    __tablename__ = "agencies_bank_accounts"

    bank_code: Mapped[str] = mapped_column(String(4), default="0999", server_default="0999")
    branch_code: Mapped[str] = mapped_column(String(3))
    account_type: Mapped[str] = mapped_column(String(16))  # ordinary, current
    account_number: Mapped[str] = mapped_column(String(7))
    balance_yen: Mapped[int] = mapped_column(BigInteger)
    holder_kana: Mapped[str | None] = mapped_column(String(30))  # 口座名義 (Zengin kana)
    closed: Mapped[bool] = mapped_column(default=False, server_default=false())


class ElectricityContract(_OnFile, Base):
    """An electricity company: a supply contract at the customer's address."""

    __tablename__ = "agencies_electricity_contracts"

    supply_point_number: Mapped[str] = mapped_column(String(22), unique=True)  # 供給地点特定番号
    plan: Mapped[str] = mapped_column(String(32))
    contract_amperes: Mapped[int]


class HospitalPatient(_OnFile, Base):
    """A maternity hospital: a mother in its care, known by its agency code, with the
    municipality the register gives for her (where the 出生証明書 goes)."""

    __tablename__ = "agencies_hospital_patients"

    lg_code: Mapped[str] = mapped_column(String(6))


class HospitalBirth(IdMixin, TimestampMixin, Base):
    """A maternity hospital: one birth and its 出生証明書 (the facts a physician or midwife
    certifies), the mother by the hospital's agency code; the child has no name yet."""

    __tablename__ = "agencies_hospital_births"

    certificate_number: Mapped[str] = mapped_column(String(16), unique=True)
    agency_code: Mapped[str] = mapped_column(String(CODE_LENGTH), index=True)  # the mother's
    born_at: Mapped[str] = mapped_column(String(32))  # ISO date and time, Japan time
    place: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    weight_grams: Mapped[int]
    sex: Mapped[str] = mapped_column(String(8))
    sent_to: Mapped[str | None] = mapped_column(String(256))  # the municipal service
    message_id: Mapped[str | None] = mapped_column(String(64))


class PhysicianCertificate(_OnFile, Base):
    """A physician's office: the death certificates (死亡診断書) it made, by its agency code.

    ``address`` is the deceased's last address as the physician wrote it on the certificate.
    """

    __tablename__ = "agencies_physician_certificates"

    died_at: Mapped[datetime]
    place_kind: Mapped[str] = mapped_column(String(16))  # hospital, clinic, home, elderly_home
    place: Mapped[str] = mapped_column(String(256))
    cause_category: Mapped[str] = mapped_column(String(32))  # illness, external, unknown
    physician: Mapped[str] = mapped_column(String(64))
    certified_on: Mapped[date]
