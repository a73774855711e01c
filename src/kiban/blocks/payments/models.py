"""Tables of the payments block: the Zengin bank and branch list, receiving accounts (versioned),
obligations, batches with their frozen lines and approvals, and the double-entry ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.kernel import clock
from kiban.platform.db import Base, IdMixin


class PaymentsBank(Base):
    """A financial institution of the Zengin code list (全銀協 金融機関コード)."""

    __tablename__ = "payments_banks"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kana: Mapped[str] = mapped_column(String(100))
    """The name in the Zengin character set (half-width katakana)."""


class PaymentsBranch(Base):
    """A branch of a bank in the Zengin code list."""

    __tablename__ = "payments_branches"

    bank_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kana: Mapped[str] = mapped_column(String(100))


class PaymentsAccount(IdMixin, Base):
    """One version of a person's public-fund receiving account (公金受取口座). A change writes a
    new version and closes the previous one (``valid_to``); only a version the bank verified is
    ever ``active``."""

    __tablename__ = "payments_accounts"
    __table_args__ = (UniqueConstraint("person_id", "version"),)

    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    version: Mapped[int]
    bank_code: Mapped[str] = mapped_column(String(4))
    branch_code: Mapped[str] = mapped_column(String(3))
    account_type: Mapped[str] = mapped_column(String(16))  # ordinary, current, savings
    account_number: Mapped[str] = mapped_column(String(7))
    holder_kana: Mapped[str] = mapped_column(String(30))
    # pending (not yet verified), active, refused (the bank said no), superseded.
    status: Mapped[str] = mapped_column(String(16))
    # The bank's answer: exists, name_mismatch, closed, no_such_account (None until asked).
    verification: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    valid_to: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(200))


class PaymentsObligation(IdMixin, Base):
    """A sum the state owes a person for one programme period (unique: paid at most once)."""

    __tablename__ = "payments_obligations"
    __table_args__ = (
        UniqueConstraint("programme", "person_id", "period"),
        Index("ix_payments_obligations_programme_status", "programme", "status"),
    )

    programme: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    payer: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(200))
    # payable, batched (on a line of an open batch), paid, held (not paid until released:
    # the payee died, and the sum is owed to the estate).
    status: Mapped[str] = mapped_column(String(16))
    returns: Mapped[int] = mapped_column(default=0)
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    held_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    actor: Mapped[str] = mapped_column(String(200))


class PaymentsBatch(IdMixin, Base):
    """A batch of transfers for one programme and payer: draft, approved (frozen), exported,
    settled (every line has the bank's result)."""

    __tablename__ = "payments_batches"

    number: Mapped[int] = mapped_column(unique=True)
    programme: Mapped[str] = mapped_column(String(64))
    payer: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    line_count: Mapped[int]
    total: Mapped[int] = mapped_column(BigInteger)
    maker: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    approved_at: Mapped[datetime | None]
    exported_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    transfer_date: Mapped[str | None] = mapped_column(String(4))  # MMDD of the file


class PaymentsLine(IdMixin, Base):
    """One transfer of a batch. ``open_obligation_id`` is set while the line awaits the bank and
    ``paid_obligation_id`` once it is paid: both are unique, so the database itself refuses an
    obligation on two open lines or paid twice."""

    __tablename__ = "payments_lines"
    __table_args__ = (UniqueConstraint("batch_id", "number"),)

    batch_id: Mapped[uuid.UUID] = mapped_column(index=True)
    number: Mapped[int]
    obligation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    open_obligation_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    paid_obligation_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    person_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    # The account version, and a copy of its fields, frozen when the batch is approved.
    account_id: Mapped[uuid.UUID | None]
    bank_code: Mapped[str | None] = mapped_column(String(4))
    branch_code: Mapped[str | None] = mapped_column(String(3))
    account_type: Mapped[str | None] = mapped_column(String(16))
    account_number: Mapped[str | None] = mapped_column(String(7))
    holder_kana: Mapped[str | None] = mapped_column(String(30))
    # pending, paid, no_such_account, name_mismatch, closed.
    result: Mapped[str] = mapped_column(String(32))


class PaymentsApproval(IdMixin, Base):
    """One official's approval of a batch; two different officials, neither the maker."""

    __tablename__ = "payments_approvals"
    __table_args__ = (UniqueConstraint("batch_id", "official"),)

    batch_id: Mapped[uuid.UUID] = mapped_column(index=True)
    official: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


class PaymentsPosting(IdMixin, Base):
    """One side of a double-entry ledger transaction: ``amount`` is signed (debit positive,
    credit negative) and the postings of one ``entry_id`` sum to zero."""

    __tablename__ = "payments_postings"
    __table_args__ = (
        # An entry is written once: a retried step finds its key taken.
        UniqueConstraint("entry_key", "ledger_account"),
        Index("ix_payments_postings_batch", "batch_id"),
    )

    entry_id: Mapped[uuid.UUID] = mapped_column(index=True)
    entry_key: Mapped[str] = mapped_column(String(200))
    ledger_account: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    obligation_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    batch_id: Mapped[uuid.UUID | None]
    fee_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    at: Mapped[datetime]


class PaymentsFee(IdMixin, Base):
    """One payment intent for a procedure's fee (政府共通決済): created, then succeeded or
    failed (final), and a succeeded one refunded in full or in part. A failed intent is kept; the
    applicant starts another. ``paid_application_id`` is set once the fee is paid and is unique,
    so the database itself refuses a second paid fee for one application."""

    __tablename__ = "payments_fees"

    application_id: Mapped[uuid.UUID] = mapped_column(index=True)
    paid_application_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    procedure: Mapped[str] = mapped_column(String(64))
    office: Mapped[str] = mapped_column(String(16), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(200))
    # created, succeeded, failed, refunded (some or all of it).
    status: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    next_url: Mapped[str] = mapped_column(String(500))
    method: Mapped[str | None] = mapped_column(String(16))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    failure: Mapped[str | None] = mapped_column(String(32))
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    paid_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(200))


class PaymentsFeeRefund(IdMixin, Base):
    """One refund of a fee by an official, as the provider made it (``provider_id`` unique)."""

    __tablename__ = "payments_fee_refunds"

    fee_id: Mapped[uuid.UUID] = mapped_column(index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    official: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime]
