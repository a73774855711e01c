"""Revocation status published two ways: DER CRLs and an OCSP responder (RFC 6960).

Both answer from ``identity_certificates``, so a revocation is visible in the next CRL fetch
and the next OCSP answer, with nothing to regenerate. Each issuing CA signs its own CRL and its
own OCSP responses (RFC 6960 §2.6 allows the CA itself as the responder), so a client needs
only the issuer's certificate to check them.
"""

from __future__ import annotations

from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import OCSPExtensionOID
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks.identity.models import Certificate, CertificateKind, CertificateStatus
from kiban.blocks.identity.pki import CertificateAuthority, issuing_ca
from kiban.kernel import clock

CRL_LIFETIME = timedelta(hours=24)
"""How long a CRL stays current (its nextUpdate); a fresh one is made on every fetch."""
OCSP_LIFETIME = timedelta(hours=1)
"""How long an OCSP answer may be cached (its nextUpdate)."""

_REASONS = {flag.value: flag for flag in x509.ReasonFlags}


def _reason(name: str | None) -> x509.ReasonFlags:
    return _REASONS.get(name or "", x509.ReasonFlags.unspecified)


def build_crl(session: Session, kind: CertificateKind) -> bytes:
    """The current CRL of the CA that issues ``kind`` certificates, DER.

    It lists every revoked certificate of that kind that has not expired yet (RFC 5280 §3.3
    lets a CRL drop a certificate once it has expired), each with its reason. The CRL number
    is the issue time in seconds, which only grows.
    """
    ca = issuing_ca(kind)
    now = clock.now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now)
        .next_update(now + CRL_LIFETIME)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    revoked = session.scalars(
        select(Certificate)
        .where(
            Certificate.kind == kind,
            Certificate.status == CertificateStatus.REVOKED,
            Certificate.not_after > now,
        )
        .order_by(Certificate.revoked_at, Certificate.serial)
    )
    for row in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(row.serial, 16))
            .revocation_date(row.revoked_at or now)
            .add_extension(x509.CRLReason(_reason(row.revocation_reason)), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _issuer_hashes(
    ca: CertificateAuthority, algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    """(issuerNameHash, issuerKeyHash) of ``ca`` under ``algorithm`` (RFC 6960 §4.1.1)."""
    name = hashes.Hash(algorithm)
    name.update(ca.certificate.subject.public_bytes())
    key_bits = ca.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    key = hashes.Hash(algorithm)
    key.update(key_bits)
    return name.finalize(), key.finalize()


def _failure(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


def respond(session: Session, kind: CertificateKind, request_der: bytes) -> bytes:
    """The DER OCSP response to ``request_der`` sent to the ``kind`` responder.

    A request that does not parse gets ``malformedRequest``; one about a certificate from
    another issuer gets ``unauthorized`` (RFC 6960 §2.3). A serial this CA never issued is
    ``unknown``. A nonce in the request is echoed in the response.
    """
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        algorithm = request.hash_algorithm
    except (ValueError, TypeError):
        return _failure(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    ca = issuing_ca(kind)
    name_hash, key_hash = _issuer_hashes(ca, algorithm)
    if (request.issuer_name_hash, request.issuer_key_hash) != (name_hash, key_hash):
        return _failure(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    serial = f"{request.serial_number:X}"
    row = session.scalar(
        select(Certificate).where(Certificate.serial == serial, Certificate.kind == kind)
    )
    now = clock.now()
    if row is None:
        status, revoked_at, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
        certificate = None
    else:
        certificate = x509.load_pem_x509_certificate(row.pem.encode())
        if row.status is CertificateStatus.REVOKED:
            status, revoked_at = ocsp.OCSPCertStatus.REVOKED, row.revoked_at or now
            reason = _reason(row.revocation_reason)
        else:
            status, revoked_at, reason = ocsp.OCSPCertStatus.GOOD, None, None
    builder = ocsp.OCSPResponseBuilder()
    if certificate is not None:
        builder = builder.add_response(
            cert=certificate,
            issuer=ca.certificate,
            algorithm=algorithm,
            cert_status=status,
            this_update=now,
            next_update=now + OCSP_LIFETIME,
            revocation_time=revoked_at,
            revocation_reason=reason,
        )
    else:
        builder = builder.add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number,
            algorithm=algorithm,
            cert_status=status,
            this_update=now,
            next_update=now + OCSP_LIFETIME,
            revocation_time=None,
            revocation_reason=None,
        )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, ca.certificate).certificates(
        [ca.certificate]
    )
    try:
        nonce = request.extensions.get_extension_for_oid(OCSPExtensionOID.NONCE)
    except x509.ExtensionNotFound:
        pass
    else:
        builder = builder.add_extension(nonce.value, critical=nonce.critical)
    response = builder.sign(ca.key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)
