"""Certificates on request: 住民票の写しの交付 (a certificate of residence), with its fee paid
online through 政府共通決済.

The request (:data:`RESIDENCE_CERTIFICATE`) is a procedure definition with a fee (¥300, as
municipal fee ordinances commonly set it): the form is prefilled from the register through the
mesh, the applicant pays (``kiban.blocks.payments.do_start_fee``; the procedures engine refuses
to submit until the fee gate says it is paid), signs with the card, and the municipality's
counter issues it (``procedures.residence_certificate.issue``): the register issues the
certificate (``residents.issue_certificate``, audited) and its number is the application's
output, which the applicant sees and can print from the portal.
"""

from __future__ import annotations

from kiban.life_events.certificates.definitions import (
    FEE,
    RESIDENCE_CERTIFICATE,
    RESIDENCE_CERTIFICATE_DEF,
    fee_gate,
    register,
    start_fee,
)

__all__ = [
    "FEE",
    "RESIDENCE_CERTIFICATE",
    "RESIDENCE_CERTIFICATE_DEF",
    "fee_gate",
    "register",
    "start_fee",
]
