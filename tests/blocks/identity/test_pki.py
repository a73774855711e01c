"""Issuing cards: the CA hierarchy, the two certificates, the basic four, verification."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from sqlalchemy.orm import Session

from kiban.blocks import identity, residents
from kiban.blocks.identity import pki
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform.settings import get_settings
from tests.blocks.identity.conftest import OFFICIAL, IssuedCard, new_key, spki

AUTH = identity.CertificateKind.AUTH
_DER = serialization.Encoding.DER
SIGNING = identity.CertificateKind.SIGNING


def _load(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _chain(kind: identity.CertificateKind) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(identity.ca_chain_pem(kind).encode())


def test_both_certificates_chain_to_the_root_through_their_own_ca(issued: IssuedCard) -> None:
    root = _load(identity.root_ca_pem())
    root.verify_directly_issued_by(root)
    for kind, pem in ((AUTH, issued.card.auth_certificate.pem),
                      (SIGNING, issued.card.signing_certificate.pem)):  # fmt: skip
        issuing, chain_root = _chain(kind)
        assert chain_root == root
        issuing.verify_directly_issued_by(root)
        certificate = _load(pem)
        certificate.verify_directly_issued_by(issuing)
        assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
        assert certificate.public_key().key_size == 2048  # type: ignore[union-attr]
        constraints = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
        assert constraints.ca
        assert constraints.path_length == 0
    # The two issuing CAs are different CAs.
    assert _chain(AUTH)[0].subject != _chain(SIGNING)[0].subject


def test_signing_certificate_carries_the_basic_four(
    session: Session, issued: IssuedCard, resident: residents.PersonRead
) -> None:
    certificate = _load(issued.card.signing_certificate.pem)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    values = {o.type_id: o.value for o in san.get_values_for_type(x509.OtherName)}
    # Each value is a DER UTF8String (tag 0x0C) under kiban's documented OIDs.
    assert (
        values[pki.OID_NAME]
        == b"\x0c" + bytes([len("山田　花子".encode())]) + "山田　花子".encode()
    )
    assert values[pki.OID_BIRTH_DATE] == b"\x0c\x0819820203"
    assert values[pki.OID_SEX] == b"\x0c\x012"
    assert resident.address.text.encode() in values[pki.OID_ADDRESS]
    readable = san.get_values_for_type(x509.DirectoryName)[0]
    assert readable.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "山田　花子"

    four = pki.read_basic_four(certificate)
    assert four == identity.BasicFour(
        name="山田　花子",
        name_kana="ヤマダ　ハナコ",
        birth_date=date(1982, 2, 3),
        sex="female",
        address=resident.address.text,
    )
    verified = identity.verify_certificate(session, certificate.public_bytes(_DER), kind=SIGNING)
    assert verified.basic_four == four
    assert verified.person_id == resident.id
    assert verified.card_id == issued.card.id

    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment  # nonRepudiation
    assert not usage.key_cert_sign


def test_auth_certificate_names_no_one(session: Session, issued: IssuedCard) -> None:
    certificate = _load(issued.card.auth_certificate.pem)
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    subject_text = certificate.subject.rfc4514_string()
    assert "山田" not in subject_text
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        issued.card.auth_certificate.serial
    )
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not usage.content_commitment
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    verified = identity.verify_certificate(session, certificate.public_bytes(_DER), kind=AUTH)
    assert verified.basic_four is None


def test_certificates_point_at_the_crl_and_ocsp_of_their_ca(issued: IssuedCard) -> None:
    base = get_settings().base_url
    for kind, pem in ((AUTH, issued.card.auth_certificate.pem),
                      (SIGNING, issued.card.signing_certificate.pem)):  # fmt: skip
        certificate = _load(pem)
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert [n.value for n in points[0].full_name or []] == [f"{base}/pki/crl/{kind}.crl"]
        access = certificate.extensions.get_extension_for_class(
            x509.AuthorityInformationAccess
        ).value
        urls = {a.access_method.dotted_string: a.access_location.value for a in access}
        assert urls["1.3.6.1.5.5.7.48.1"] == f"{base}/pki/ocsp/{kind}"
        assert urls["1.3.6.1.5.5.7.48.2"] == f"{base}/pki/ca/{kind}.crt"


def test_validity_ends_on_the_fifth_birthday_within_the_card(issued: IssuedCard) -> None:
    card = issued.card
    today = clock.today_jst()
    fifth = pki.birthday_after(date(1982, 2, 3), today, years=5)
    assert today + timedelta(days=365 * 4) < fifth <= today + timedelta(days=365 * 5 + 2)
    assert card.auth_certificate.not_after.date() == fifth
    assert card.signing_certificate.not_after.date() == fifth
    # An adult's card lasts until the tenth birthday after issue.
    assert card.expires_on == pki.birthday_after(date(1982, 2, 3), today, years=10)
    assert card.expires_on.month == 2
    assert card.expires_on.day == 3


def test_birthdays_after_a_date() -> None:
    assert pki.birthday_after(date(1990, 6, 1), date(2026, 5, 31), years=1) == date(2026, 6, 1)
    assert pki.birthday_after(date(1990, 6, 1), date(2026, 6, 1), years=1) == date(2027, 6, 1)
    assert pki.birthday_after(date(2000, 2, 29), date(2026, 1, 1), years=5) == date(2030, 3, 1)
    assert pki.birthday_after(date(2000, 2, 29), date(2026, 1, 1), years=3) == date(2028, 2, 29)


def test_a_second_active_card_is_refused(
    session: Session, issued: IssuedCard, resident: residents.PersonRead
) -> None:
    with pytest.raises(KibanError) as caught:
        identity.issue_card(
            session,
            resident.id,
            auth_public_key=spki(new_key()),
            signing_public_key=spki(new_key()),
            actor=OFFICIAL,
        )
    assert (caught.value.code, caught.value.status, caught.value.field) == (
        "identity.card_exists",
        409,
        "person_id",
    )
    session.rollback()
    assert identity.get_card_by_person(session, resident.id) == issued.card


@pytest.mark.parametrize(
    ("auth", "field"),
    [(b"not a key", "auth_public_key"), (None, "signing_public_key")],
)
def test_bad_public_keys_are_refused_by_field(
    session: Session, resident: residents.PersonRead, auth: bytes | None, field: str
) -> None:
    key = new_key()
    with pytest.raises(KibanError) as caught:
        identity.issue_card(
            session,
            resident.id,
            auth_public_key=auth if auth is not None else spki(key),
            # The same key twice is refused too: the two keys of a card are independent.
            signing_public_key=spki(key),
            actor=OFFICIAL,
        )
    assert (caught.value.code, caught.value.status, caught.value.field) == (
        "identity.invalid_public_key",
        422,
        field,
    )
    session.rollback()
    assert identity.get_card_by_person(session, resident.id) is None


def test_verify_signature_checks_the_card_key(session: Session, issued: IssuedCard) -> None:
    der = _load(issued.card.auth_certificate.pem).public_bytes(_DER)
    challenge = b"challenge-123"
    signature = issued.auth_key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())
    verified = identity.verify_signature(session, der, challenge, signature, kind=AUTH)
    assert verified.serial == issued.card.auth_certificate.serial
    with pytest.raises(KibanError) as caught:
        identity.verify_signature(session, der, b"another challenge", signature, kind=AUTH)
    assert (caught.value.code, caught.value.field) == ("identity.signature_invalid", "signature")
    # The auth certificate does not pass as a signing certificate (another CA).
    with pytest.raises(KibanError) as caught:
        identity.verify_signature(session, der, challenge, signature, kind=SIGNING)
    assert (caught.value.code, caught.value.field) == (
        "identity.certificate_invalid",
        "certificate",
    )


def test_verify_certificate_rejects_expired_and_foreign_certificates(
    session: Session, issued: IssuedCard
) -> None:
    der = _load(issued.card.auth_certificate.pem).public_bytes(_DER)
    later = issued.card.auth_certificate.not_after + timedelta(seconds=1)
    with pytest.raises(KibanError) as caught:
        identity.verify_certificate(session, der, kind=AUTH, at=later)
    assert caught.value.code == "identity.certificate_expired"
    with pytest.raises(KibanError) as caught:
        identity.verify_certificate(session, b"\x30\x03garbage", kind=AUTH)
    assert caught.value.code == "identity.certificate_invalid"


def test_reissue_supersedes_the_old_certificate(session: Session, issued: IssuedCard) -> None:
    old = issued.card.signing_certificate
    card = identity.reissue_certificate(
        session, issued.card.id, SIGNING, public_key=spki(new_key()), actor=OFFICIAL
    )
    session.commit()
    assert card.signing_certificate.serial != old.serial
    assert card.signing_certificate.status == "good"
    assert card.auth_certificate == issued.card.auth_certificate
    with pytest.raises(KibanError) as caught:
        identity.verify_certificate(session, _load(old.pem).public_bytes(_DER), kind=SIGNING)
    assert caught.value.code == "identity.certificate_revoked"


def test_pin_unlock_token_is_signed_by_the_issuing_ca(session: Session, issued: IssuedCard) -> None:
    token = identity.authorize_pin_unlock(session, issued.card.id, AUTH, actor=OFFICIAL)
    session.commit()
    ca_key = _chain(AUTH)[0].public_key()
    claims = jwt.decode(token, RSAKey.import_key(ca_key), algorithms=["RS256"]).claims  # type: ignore[arg-type]
    assert claims["card_number"] == issued.card.card_number
    assert claims["kind"] == "auth"
    assert claims["purpose"] == "pin-unlock"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["jti"]
    # The signing CA's key does not verify it.
    signing_ca_key = _chain(SIGNING)[0].public_key()
    with pytest.raises(JoseError):
        jwt.decode(token, RSAKey.import_key(signing_ca_key), algorithms=["RS256"])  # type: ignore[arg-type]


_CHILD = """
import json
from kiban.blocks import identity
print(json.dumps([identity.root_ca_pem(), identity.ca_chain_pem(identity.CertificateKind.AUTH),
                  identity.ca_chain_pem(identity.CertificateKind.SIGNING)]))
"""


def test_ca_certificates_are_made_once_and_shared_by_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an empty data directory, when two processes start at once,
    monkeypatch.setenv("KIBAN_DATA_DIR", str(tmp_path / "shared"))
    get_settings.cache_clear()
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [json.loads(child.communicate(timeout=60)[0]) for child in children]
    # then both see the same CA certificates, and so does this process afterwards.
    assert outputs[0] == outputs[1]
    assert len({*outputs[0]}) == 3
    assert identity.root_ca_pem() == outputs[0][0]
    assert identity.ca_chain_pem(SIGNING) == outputs[0][2]
