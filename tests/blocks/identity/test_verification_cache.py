"""The caches behind card-certificate verification never answer for what can change.

The lasting part of a check (issuer signature, key usage, the registered certificate) is kept
per process; the revocation status is read from the register on every check. These tests show
that a revocation written elsewhere — another engine, another process — refuses the very next
check, that expiry and a foreign CA are still refused after the certificate was cached.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy.orm import Session

from kiban.blocks import identity
from kiban.blocks.identity import pki
from kiban.kernel.errors import KibanError
from kiban.platform import db
from tests.blocks.identity.conftest import OFFICIAL, IssuedCard, new_key

AUTH = identity.CertificateKind.AUTH
SIGNING = identity.CertificateKind.SIGNING


def _der(pem: str) -> bytes:
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


def _code(session: Session, der: bytes, kind: identity.CertificateKind = AUTH) -> str:
    with pytest.raises(KibanError) as caught:
        identity.verify_certificate(session, der, kind=kind)
    return caught.value.code


def test_a_revocation_by_another_engine_refuses_the_next_check(
    session: Session, issued: IssuedCard, database_url: str
) -> None:
    der = _der(issued.card.auth_certificate.pem)
    for _ in range(2):  # The second check comes from the cache.
        assert identity.verify_certificate(session, der, kind=AUTH).card_id == issued.card.id
    session.commit()
    other = db.make_engine(database_url)
    try:
        with db.transaction(other) as elsewhere:
            identity.report_card_lost(elsewhere, issued.card.id, actor=OFFICIAL)
    finally:
        other.dispose()
    assert _code(session, der) == "identity.certificate_revoked"
    challenge = b"kiban-challenge"
    signature = issued.auth_key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(KibanError) as caught:
        identity.verify_signature(session, der, challenge, signature, kind=AUTH)
    assert caught.value.code == "identity.certificate_revoked"


_REVOKE = """
import sys, uuid
from kiban.blocks import identity
from kiban.platform.db import transaction
with transaction() as session:
    identity.report_card_lost(session, uuid.UUID(sys.argv[1]), actor="official:test")
"""


def test_a_revocation_by_another_process_refuses_the_next_check(
    session: Session, issued: IssuedCard
) -> None:
    der = _der(issued.card.signing_certificate.pem)
    verified = identity.verify_certificate(session, der, kind=SIGNING)
    assert verified.basic_four is not None
    assert verified.basic_four.name == "山田　花子"
    session.commit()
    subprocess.run(
        [sys.executable, "-c", _REVOKE, str(issued.card.id)], check=True, env=dict(os.environ)
    )
    assert _code(session, der, SIGNING) == "identity.certificate_revoked"


def test_an_expired_certificate_is_refused_after_a_cached_check(
    session: Session, issued: IssuedCard
) -> None:
    der = _der(issued.card.auth_certificate.pem)
    identity.verify_certificate(session, der, kind=AUTH)
    later = issued.card.auth_certificate.not_after + timedelta(seconds=1)
    earlier = issued.card.auth_certificate.not_before - timedelta(seconds=1)
    for when in (later, earlier):
        with pytest.raises(KibanError) as caught:
            identity.verify_certificate(session, der, kind=AUTH, at=when)
        assert caught.value.code == "identity.certificate_expired"
    # And the cached certificate still passes now.
    assert identity.verify_certificate(session, der, kind=AUTH).serial == (
        issued.card.auth_certificate.serial
    )


def test_a_certificate_from_another_ca_is_refused_after_the_real_one_was_cached(
    session: Session, issued: IssuedCard
) -> None:
    der = _der(issued.card.auth_certificate.pem)
    identity.verify_certificate(session, der, kind=AUTH)
    genuine = x509.load_der_x509_certificate(der)
    # Another CA under the very same name re-signs the same certificate (same serial, key,
    # subject and extensions): only the issuer signature tells them apart.
    impostor_key = new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)
        .issuer_name(genuine.issuer)
        .public_key(genuine.public_key())
        .serial_number(genuine.serial_number)
        .not_valid_before(genuine.not_valid_before_utc)
        .not_valid_after(genuine.not_valid_after_utc)
    )
    for extension in genuine.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    forged = builder.sign(impostor_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    assert _code(session, forged) == "identity.certificate_invalid"
    # The auth certificate is not a signing certificate, cached or not.
    assert _code(session, der, SIGNING) == "identity.certificate_invalid"


def test_the_cache_is_keyed_by_the_issuing_ca(session: Session, issued: IssuedCard) -> None:
    """A check cached under one CA does not answer for another CA's check of the same bytes
    (here: the same certificate asked as the other kind, whose CA is another)."""
    der = _der(issued.card.signing_certificate.pem)
    identity.verify_certificate(session, der, kind=SIGNING)
    assert pki.issuing_ca(AUTH).fingerprint != pki.issuing_ca(SIGNING).fingerprint
    assert _code(session, der, AUTH) == "identity.certificate_invalid"
