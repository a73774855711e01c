"""Audit tags of the staff block (``staff:<subject>:<action>``)."""

from __future__ import annotations

from typing import Final

ACCOUNT_CREATED: Final = "staff:account:created"
ACCOUNT_SUSPENDED: Final = "staff:account:suspended"
ACCOUNT_REINSTATED: Final = "staff:account:reinstated"
ACCOUNT_CLOSED: Final = "staff:account:closed"
ACCOUNT_GRANTED: Final = "staff:account:granted"
ACCOUNT_REVOKED: Final = "staff:account:revoked"
KEY_CREATED: Final = "staff:account:key_created"
KEY_REVOKED: Final = "staff:account:key_revoked"
ORGANISATIONS_SYNCED: Final = "staff:organisation:synced"
SIGN_IN: Final = "staff:office:sign_in"
SIGN_IN_FAILED: Final = "staff:office:sign_in_failed"
