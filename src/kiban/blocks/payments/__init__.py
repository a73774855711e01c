"""Payments: public-fund receiving accounts (公金受取口座), obligations, batches approved by two
officials, Zengin 総合振込 transfer files, the bank's results, a double-entry ledger and
reconciliation to the yen.

The seam other blocks use (the benefits block above all):

- :func:`do_add_obligations` records what the state owes: one :class:`ObligationCreate` per
  programme × person × period, idempotently (the same triple again is ignored; the count of new
  ones is returned), each posted appropriation → payable in the ledger.
- :func:`do_hold_obligations_of` holds a dead payee's obligations not yet with the bank, with a
  reason (:func:`list_held_of` reads them back).
- :func:`get_active_account` is the person's bank-verified receiving account, or None (tell
  them to register one; their obligation waits, payable, for a later batch).
- :func:`do_build_batch` makes a draft batch of every payable obligation of a programme and
  payer whose payee has an active account (409 ``payments.nothing_to_pay`` when none has).
  :func:`do_approve_batch` by two officials other than the maker freezes it (account versions,
  total) and the ledger moves it in_transit; :func:`transfer_file` writes the Zengin file;
  :func:`do_import_result` applies the bank's answer per line (paid, or returned: back to
  payable, an inbox notice to the person, paid once in a later batch); :func:`reconcile`
  compares bank and ledger. :func:`batch_lines` shows each line with the account version it used,
and :func:`list_failures` every returned line with its follow-up (told, corrected, paid later).

Fees (政府共通決済, :mod:`kiban.blocks.payments.fees`): :func:`do_start_fee` opens a payment
intent with the provider (a :class:`FeeProvider`; the local reference provider by default),
:func:`do_check_fee` asks the provider and books a capture once, :func:`do_refund_fee` refunds
(official), :func:`reconcile_fees` compares a day's settlement report with the ledger.

Receiving accounts (:func:`do_register_account`) are versioned and verified with the bank
through the mesh, so each verification shows in the person's "who used my data".
"""

from __future__ import annotations

from kiban.blocks.payments.adapters import TransferBank
from kiban.blocks.payments.adapters.fee_provider import (
    DECLINING_CARDS,
    FeeProvider,
    LocalPayProvider,
    PaymentRefused,
    ProviderPayment,
    ProviderRefund,
    parse_settlement,
)
from kiban.blocks.payments.banks import Loaded, banks_loaded, do_load_banks, list_version
from kiban.blocks.payments.batches import (
    do_approve_batch,
    do_build_batch,
    do_import_result,
    do_mark_exported,
    get_batch,
    list_batches,
    list_payments,
    reconcile,
    transfer_file,
)
from kiban.blocks.payments.errors import (
    AccountNotFound,
    BankUnavailable,
    BatchNotFound,
    BatchStateConflict,
    FeeAlreadyPaid,
    FeeNotFound,
    FeeStateConflict,
    InvalidAccount,
    InvalidFee,
    InvalidKana,
    InvalidObligation,
    InvalidTransferFile,
    NothingToPay,
    ProviderUnavailable,
    RefundTooLarge,
    SameOfficial,
    UnknownBank,
)
from kiban.blocks.payments.events import (
    ACCOUNT_CHANGED,
    AUDIT_FILE_ISSUED,
    BATCH_APPROVED,
    FEE_PAID,
    FEE_REFUNDED,
    LINE_PAID,
    LINE_RETURNED,
    OBLIGATION_ADDED,
    OBLIGATIONS_HELD,
)
from kiban.blocks.payments.fees import (
    REFUNDED_NOTICE,
    do_check_fee,
    do_refund_fee,
    do_start_fee,
    fee_paid,
    fee_provider,
    fees_of_application,
    get_fee,
    list_fees,
    local_provider,
    paid_fee,
    reconcile_fees,
)
from kiban.blocks.payments.followup import FailureRead, LineView, batch_lines, list_failures
from kiban.blocks.payments.holds import HoldResult, do_hold_obligations_of, list_held_of
from kiban.blocks.payments.kana import to_zengin
from kiban.blocks.payments.ledger import ACCOUNTS as LEDGER_ACCOUNTS
from kiban.blocks.payments.ledger import FEE_ACCOUNTS as FEE_LEDGER_ACCOUNTS
from kiban.blocks.payments.ledger import balances as ledger_balances
from kiban.blocks.payments.ledger import total as ledger_total
from kiban.blocks.payments.schemas import (
    AccountCreate,
    AccountRead,
    BankRead,
    BatchDetail,
    BatchRead,
    BranchRead,
    FeeDifference,
    FeeRead,
    FeeReconcileReport,
    FeeRefundRead,
    LineRead,
    ObligationCreate,
    ObligationRead,
    PaymentRead,
    ReconcileReport,
)
from kiban.blocks.payments.service import (
    APPROVALS_NEEDED,
    RETURNED_NOTICE,
    SUBSYSTEM,
    VERIFY_BASIS,
    VERIFY_ITEMS,
    VERIFY_TASK,
    do_add_obligations,
    do_register_account,
    get_active_account,
    get_active_accounts,
    get_bank,
    get_branch,
    list_accounts,
    list_banks,
    list_branches,
    list_obligations,
    register_payments_member,
)
from kiban.blocks.payments.zengin import Header as ZenginHeader
from kiban.blocks.payments.zengin import Transfer as ZenginTransfer
from kiban.blocks.payments.zengin import TransferFile as ZenginFile
from kiban.blocks.payments.zengin import parse as parse_transfer_file
from kiban.blocks.payments.zengin import split_records
from kiban.blocks.payments.zengin import with_results as transfer_results

__all__ = [
    "ACCOUNT_CHANGED",
    "APPROVALS_NEEDED",
    "AUDIT_FILE_ISSUED",
    "BATCH_APPROVED",
    "DECLINING_CARDS",
    "FEE_LEDGER_ACCOUNTS",
    "FEE_PAID",
    "FEE_REFUNDED",
    "LEDGER_ACCOUNTS",
    "LINE_PAID",
    "LINE_RETURNED",
    "OBLIGATIONS_HELD",
    "OBLIGATION_ADDED",
    "REFUNDED_NOTICE",
    "RETURNED_NOTICE",
    "SUBSYSTEM",
    "VERIFY_BASIS",
    "VERIFY_ITEMS",
    "VERIFY_TASK",
    "AccountCreate",
    "AccountNotFound",
    "AccountRead",
    "BankRead",
    "BankUnavailable",
    "BatchDetail",
    "BatchNotFound",
    "BatchRead",
    "BatchStateConflict",
    "BranchRead",
    "FailureRead",
    "FeeAlreadyPaid",
    "FeeDifference",
    "FeeNotFound",
    "FeeProvider",
    "FeeRead",
    "FeeReconcileReport",
    "FeeRefundRead",
    "FeeStateConflict",
    "HoldResult",
    "InvalidAccount",
    "InvalidFee",
    "InvalidKana",
    "InvalidObligation",
    "InvalidTransferFile",
    "LineRead",
    "LineView",
    "Loaded",
    "LocalPayProvider",
    "NothingToPay",
    "ObligationCreate",
    "ObligationRead",
    "PaymentRead",
    "PaymentRefused",
    "ProviderPayment",
    "ProviderRefund",
    "ProviderUnavailable",
    "ReconcileReport",
    "RefundTooLarge",
    "SameOfficial",
    "TransferBank",
    "UnknownBank",
    "ZenginFile",
    "ZenginHeader",
    "ZenginTransfer",
    "banks_loaded",
    "batch_lines",
    "do_add_obligations",
    "do_approve_batch",
    "do_build_batch",
    "do_check_fee",
    "do_hold_obligations_of",
    "do_import_result",
    "do_load_banks",
    "do_mark_exported",
    "do_refund_fee",
    "do_register_account",
    "do_start_fee",
    "fee_paid",
    "fee_provider",
    "fees_of_application",
    "get_active_account",
    "get_active_accounts",
    "get_bank",
    "get_batch",
    "get_branch",
    "get_fee",
    "ledger_balances",
    "ledger_total",
    "list_accounts",
    "list_banks",
    "list_batches",
    "list_branches",
    "list_failures",
    "list_fees",
    "list_held_of",
    "list_obligations",
    "list_payments",
    "list_version",
    "local_provider",
    "paid_fee",
    "parse_settlement",
    "parse_transfer_file",
    "reconcile",
    "reconcile_fees",
    "register_payments_member",
    "split_records",
    "to_zengin",
    "transfer_file",
    "transfer_results",
]
