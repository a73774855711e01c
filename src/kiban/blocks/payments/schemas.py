"""DTOs of the payments block (also the HTTP bodies)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AccountType = Literal["ordinary", "current", "savings"]
AccountStatus = Literal["pending", "active", "refused", "superseded"]
Verification = Literal["exists", "name_mismatch", "closed", "no_such_account"]
ObligationStatus = Literal["payable", "batched", "paid", "held"]
BatchStatus = Literal["draft", "approved", "exported", "settled"]
LineResult = Literal["pending", "paid", "no_such_account", "name_mismatch", "closed"]
FAILURES: tuple[LineResult, ...] = ("no_such_account", "name_mismatch", "closed")


class ObligationCreate(BaseModel):
    """A sum owed to a person for one programme period (what the benefits block hands over)."""

    model_config = ConfigDict(frozen=True)

    programme: str = Field(min_length=1, max_length=64, examples=["special-flat-2026"])
    period: str = Field(min_length=1, max_length=16, examples=["2026-12"])
    person_id: uuid.UUID
    amount: int = Field(gt=0, le=9_999_999_999, description="Yen")
    payer: str = Field(min_length=1, max_length=32, description="Payer organisation code")
    reason: str = Field(min_length=1, max_length=200)


class ObligationRead(BaseModel):
    id: uuid.UUID
    programme: str
    period: str
    person_id: uuid.UUID
    amount: int
    payer: str
    reason: str
    status: ObligationStatus
    returns: int = Field(description="How often the bank returned a transfer of it")
    created_at: datetime
    hold_reason: str | None = Field(
        default=None, description="Why a held obligation is not paid (status ``held``)"
    )


class AccountCreate(BaseModel):
    """A receiving account as the person registers it."""

    bank_code: str = Field(pattern=r"^[0-9]{4}$", examples=["0001"])
    branch_code: str = Field(pattern=r"^[0-9]{3}$", examples=["001"])
    account_type: AccountType = "ordinary"
    account_number: str = Field(pattern=r"^[0-9]{1,7}$", examples=["1234567"])
    holder_kana: str = Field(min_length=1, max_length=60, examples=["ﾔﾏﾀﾞ ﾀﾛｳ"])


class AccountRead(BaseModel):
    """One version of a receiving account."""

    id: uuid.UUID
    person_id: uuid.UUID
    version: int
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: AccountType
    account_number: str
    holder_kana: str
    status: AccountStatus
    verification: Verification | None
    created_at: datetime


class LineRead(BaseModel):
    number: int
    obligation_id: uuid.UUID
    person_id: uuid.UUID
    amount: int
    account_id: uuid.UUID | None
    bank_code: str | None
    branch_code: str | None
    result: LineResult


class BatchRead(BaseModel):
    """A payment batch; once approved its lines, account versions and total are frozen."""

    id: uuid.UUID
    number: int
    programme: str
    payer: str
    status: BatchStatus
    line_count: int
    total: int
    maker: str
    approvers: list[str]
    created_at: datetime
    approved_at: datetime | None
    exported_at: datetime | None
    settled_at: datetime | None


class BatchDetail(BatchRead):
    lines: list[LineRead]


class BankRead(BaseModel):
    code: str
    name: str
    kana: str


class BranchRead(BaseModel):
    bank_code: str
    code: str
    name: str
    kana: str


class PaymentRead(BaseModel):
    """One of the person's payments as "my payments" shows it."""

    obligation_id: uuid.UUID
    programme: str
    period: str
    amount: int
    reason: str
    state: Literal["expected", "paid", "returned", "held"]
    batch_number: int | None


class ReconcileReport(BaseModel):
    """A batch's bank results against the ledger, to the yen."""

    batch_number: int
    lines: int
    bank_paid: int
    bank_returned: int
    bank_pending: int
    ledger_paid: int
    ledger_returned: int
    ledger_in_transit: int
    differences: list[str]
    balances: dict[str, int]
    ledger_sum: int = Field(description="The sum of every posting: zero when the ledger balances")

    @property
    def reconciled(self) -> bool:
        return not self.differences and self.ledger_sum == 0


# --- fees (政府共通決済) -------------------------------------------------------------------------

FeeStatus = Literal["created", "succeeded", "failed", "refunded"]


class FeeRefundRead(BaseModel):
    """One refund of a fee."""

    id: uuid.UUID
    amount: int = Field(description="Yen")
    reason: str
    official: str
    at: datetime


class FeeRead(BaseModel):
    """A payment intent for a procedure's fee: ``created``, then ``succeeded`` or ``failed``;
    a succeeded one becomes ``refunded`` once any of it is refunded (``refunded`` says how
    much)."""

    id: uuid.UUID
    application_id: uuid.UUID
    procedure: str
    office: str
    person_id: uuid.UUID
    amount: int = Field(description="Yen")
    description: str
    status: FeeStatus
    provider_id: str
    next_url: str
    method: Literal["card", "bank_transfer"] | None
    card_last4: str | None
    failure: str | None
    refunded: int = Field(description="Yen refunded so far")
    created_at: datetime
    paid_at: datetime | None
    refunds: list[FeeRefundRead] = Field(default_factory=list)

    @property
    def refundable(self) -> int:
        """What is left to refund (nothing unless it was paid)."""
        return self.amount - self.refunded if self.status in ("succeeded", "refunded") else 0


class FeeDifference(BaseModel):
    """One capture or refund on which the provider's report and the ledger disagree."""

    kind: Literal["capture", "refund"]
    payment_id: str
    reference: str
    provider: int = Field(description="Yen in the settlement report (0: not there)")
    ledger: int = Field(description="Yen in the ledger (0: not there)")


class FeeReconcileReport(BaseModel):
    """A day's settlement report against the ledger, to the yen."""

    day: str
    report_lines: int
    provider_captured: int
    provider_refunded: int
    ledger_captured: int
    ledger_refunded: int
    differences: list[FeeDifference]
    balances: dict[str, int]
    ledger_total: int = Field(description="Sum of every posting: 0 when the ledger balances")
    reconciled: bool
