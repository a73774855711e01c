"""Event topics and audit tags of the identity block.

Payloads carry internal ids (card id, person id) and certificate serials, never the individual
number.
"""

from __future__ import annotations

CARD_ISSUED = "identity.card_issued"
"""A card was issued: ``{card_id, person_id, card_number}``."""
CARD_LOST = "identity.card_lost"
"""A card was reported lost: ``{card_id, person_id}``."""
CERTIFICATE_ISSUED = "identity.certificate_issued"
"""A certificate was issued (with a card or as a reissue): ``{card_id, serial, kind}``."""
CERTIFICATE_REVOKED = "identity.certificate_revoked"
"""A certificate was revoked: ``{card_id, serial, kind, reason}`` (RFC 5280 reason names)."""
PIN_UNLOCK_AUTHORIZED = "identity.pin_unlock_authorized"
"""An official authorized unlocking a PIN: ``{card_id, kind}``."""

AUDIT_SOURCE = "identity"
