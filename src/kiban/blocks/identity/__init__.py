"""Identity (公的個人認証 and sign-in): the card PKI, the OpenID Connect provider and business
accounts. The facade other blocks, the web layer and the CLI use.

Card PKI: a root CA and two issuing CAs (signing 署名用, authentication 利用者証明用) certify
RSA-2048 keys that the card (the virtual card reader) made; the server never sees a card's
private key. The resident register's events revoke certificates by the card rules (an address
or name change revokes the signing certificate, death both); CRLs and an OCSP responder publish
the status (``/pki/...``, see :mod:`kiban.blocks.identity.api`).

Error codes: ``identity.card_not_found`` (404), ``identity.card_exists`` (409),
``identity.card_not_active`` (409), ``identity.not_resident`` (409),
``identity.invalid_public_key`` (422), ``identity.certificate_invalid`` (401),
``identity.certificate_revoked`` (401), ``identity.certificate_expired`` (401),
``identity.signature_invalid`` (401), and ``residents.person_not_found`` (404) from the register.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from kiban.blocks.identity import pki, service
from kiban.blocks.identity.events import (
    CARD_ISSUED,
    CARD_LOST,
    CERTIFICATE_ISSUED,
    CERTIFICATE_REVOKED,
    PIN_UNLOCK_AUTHORIZED,
)
from kiban.blocks.identity.models import CertificateKind
from kiban.blocks.identity.schemas import (
    BasicFour,
    CardRead,
    CertificateRead,
    VerifiedCertificate,
)

__all__ = [
    "CARD_ISSUED",
    "CARD_LOST",
    "CERTIFICATE_ISSUED",
    "CERTIFICATE_REVOKED",
    "PIN_UNLOCK_AUTHORIZED",
    "BasicFour",
    "CardRead",
    "CertificateKind",
    "CertificateRead",
    "VerifiedCertificate",
    "authorize_pin_unlock",
    "ca_chain_pem",
    "get_card",
    "get_card_by_number",
    "get_card_by_person",
    "issue_card",
    "reissue_certificate",
    "report_card_lost",
    "root_ca_pem",
    "verify_certificate",
    "verify_signature",
]


def issue_card(
    session: Session,
    person_id: uuid.UUID,
    *,
    auth_public_key: bytes,
    signing_public_key: bytes,
    actor: str,
) -> CardRead:
    """Issue a card to a resident: certify the two RSA-2048 public keys (DER
    SubjectPublicKeyInfo) the card made. ``identity.card_exists`` if the person already holds
    an active card; ``identity.not_resident``; ``identity.invalid_public_key``."""
    card = service.do_issue_card(
        session,
        person_id,
        auth_public_key=auth_public_key,
        signing_public_key=signing_public_key,
        actor=actor,
    )
    return service.to_read(session, card)


def reissue_certificate(
    session: Session,
    card_id: uuid.UUID,
    kind: CertificateKind,
    *,
    public_key: bytes,
    actor: str,
) -> CardRead:
    """Certify a new key pair of ``kind`` for an active card (PIN forgotten, or renewal after an
    address change); the previous certificate of that kind is revoked (superseded) if good."""
    card = service.do_reissue_certificate(
        session, card_id, CertificateKind(kind), public_key=public_key, actor=actor
    )
    return service.to_read(session, card)


def get_card(session: Session, card_id: uuid.UUID) -> CardRead:
    """A card and its current certificates; ``identity.card_not_found``."""
    return service.to_read(session, service.get_card(session, card_id))


def get_card_by_person(session: Session, person_id: uuid.UUID) -> CardRead | None:
    """The person's active card, else the card issued to them last, else ``None``."""
    card = service.get_card_by_person(session, person_id)
    return None if card is None else service.to_read(session, card)


def get_card_by_number(session: Session, card_number: str) -> CardRead:
    """The card with this 12-digit number; ``identity.card_not_found``."""
    return service.to_read(session, service.get_card_by_number(session, card_number))


def report_card_lost(session: Session, card_id: uuid.UUID, *, actor: str) -> CardRead:
    """The card was lost: it becomes ``lost`` and both certificates are revoked
    (keyCompromise). ``identity.card_not_active`` if it is not active."""
    return service.to_read(session, service.do_report_card_lost(session, card_id, actor=actor))


def verify_certificate(
    session: Session,
    certificate_der: bytes,
    *,
    kind: CertificateKind,
    at: datetime | None = None,
) -> VerifiedCertificate:
    """Check a card certificate (chain to the CA of ``kind``, key usage, registration here,
    validity period and revocation at ``at``). ``identity.certificate_invalid``,
    ``identity.certificate_revoked``, ``identity.certificate_expired`` (401, field
    ``certificate``)."""
    return service.verify_certificate(session, certificate_der, kind=CertificateKind(kind), at=at)


def verify_signature(
    session: Session,
    certificate_der: bytes,
    data: bytes,
    signature: bytes,
    *,
    kind: CertificateKind,
) -> VerifiedCertificate:
    """As :func:`verify_certificate`, then the RSA PKCS#1 v1.5 SHA-256 ``signature`` over
    ``data``: ``identity.signature_invalid`` (401, field ``signature``)."""
    return service.verify_signature(
        session, certificate_der, data, signature, kind=CertificateKind(kind)
    )


def authorize_pin_unlock(
    session: Session, card_id: uuid.UUID, kind: CertificateKind, *, actor: str
) -> str:
    """An official unlocks a locked PIN: a compact JWS (RS256, signed by the issuing CA of
    ``kind``) with claims ``card_number, kind, jti, iat, exp (+10 min), purpose="pin-unlock"``
    that the card reader checks against the CA certificate it holds. Audited."""
    return service.do_authorize_pin_unlock(session, card_id, CertificateKind(kind), actor=actor)


def ca_chain_pem(kind: CertificateKind) -> str:
    """The issuing CA certificate of ``kind`` followed by the root's, PEM."""
    return pki.chain_pem(CertificateKind(kind))


def root_ca_pem() -> str:
    """The root CA certificate, PEM."""
    return pki.get_ca("root").pem
