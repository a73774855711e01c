"""Event topics and audit tags of the payments block."""

from __future__ import annotations

from typing import Final

# Outbox topics (payloads carry ids, codes and amounts, never account numbers or names).
ACCOUNT_CHANGED: Final = "payments.account_changed"
OBLIGATION_ADDED: Final = "payments.obligation_added"
BATCH_APPROVED: Final = "payments.batch_approved"
LINE_PAID: Final = "payments.line_paid"
LINE_RETURNED: Final = "payments.line_returned"
OBLIGATIONS_HELD: Final = "payments.obligations_held"

# Audit tags, ``source:subject:action``.
AUDIT_ACCOUNT_REGISTERED: Final = "payments:account:registered"
AUDIT_OBLIGATIONS_ADDED: Final = "payments:obligation:added"
AUDIT_BATCH_BUILT: Final = "payments:batch:built"
AUDIT_BATCH_APPROVED: Final = "payments:batch:approved"
AUDIT_BATCH_EXPORTED: Final = "payments:batch:exported"
AUDIT_FILE_ISSUED: Final = "payments:batch:file_issued"
AUDIT_RESULT_IMPORTED: Final = "payments:batch:result_imported"
AUDIT_BANKS_LOADED: Final = "payments:banks:loaded"

# Fees (政府共通決済).
FEE_PAID: Final = "payments.fee_paid"
FEE_REFUNDED: Final = "payments.fee_refunded"
AUDIT_FEE_STARTED: Final = "payments:fee:started"
AUDIT_FEE_PAID: Final = "payments:fee:paid"
AUDIT_FEE_FAILED: Final = "payments:fee:failed"
AUDIT_FEE_REFUNDED: Final = "payments:fee:refunded"

# Holds (a death).
AUDIT_OBLIGATIONS_HELD: Final = "payments:obligation:held"
