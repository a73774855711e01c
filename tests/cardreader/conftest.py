"""A tiny CA hierarchy (root, auth CA, signing CA) made here with ``cryptography``, so the
reader's tests do not depend on the identity block (the reader must not import it either)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import RSAKey

from kiban.cardreader.store import CardStore, NewCardKeys
from kiban.kernel import clock

NAME_OID = x509.ObjectIdentifier("2.25.328280542481469624650436322389677264769.1.1")
CARD_NUMBER = "123456789012"
AUTH_PIN = "1234"
SIGNING_PIN = "ABC123"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _utf8_der(text: str) -> bytes:
    body = text.encode("utf-8")
    assert len(body) < 128
    return bytes([0x0C, len(body)]) + body


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Authority:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return _pem(self.certificate)

    def certify(
        self,
        public_key: rsa.RSAPublicKey,
        subject: x509.Name,
        *,
        ca: bool = False,
        holder: str | None = None,
    ) -> x509.Certificate:
        now = clock.now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if holder is not None:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.OtherName(NAME_OID, _utf8_der(holder))]),
                critical=False,
            )
        return builder.sign(self.key, hashes.SHA256())

    def unlock_token(self, **overrides: Any) -> str:
        """A PIN-unlock token as the identity block makes it (compact JWS, RS256)."""
        now = int(clock.now().timestamp())
        claims: dict[str, Any] = {
            "card_number": CARD_NUMBER,
            "kind": "auth",
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + 600,
            "purpose": "pin-unlock",
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jws.serialize_compact(
            {"alg": "RS256", "typ": "JWT"},
            json.dumps(claims).encode(),
            RSAKey.import_key(self.key),
        )


@dataclass
class Pki:
    root: Authority
    auth: Authority
    signing: Authority

    def ca(self, kind: str) -> Authority:
        return self.auth if kind == "auth" else self.signing

    def chain_pem(self, kind: str) -> str:
        return self.ca(kind).pem + self.root.pem

    def card_certificates(
        self, keys: NewCardKeys, holder: str | None = "山田 太郎"
    ) -> dict[str, str]:
        serial_subject = _name(uuid.uuid4().hex)
        auth = self.auth.certify(keys.auth_key.public_key(), serial_subject)
        signing = self.signing.certify(keys.signing_key.public_key(), serial_subject, holder=holder)
        return {"auth": _pem(auth), "signing": _pem(signing)}


@pytest.fixture(scope="session")
def pki() -> Pki:
    root_key = _key()
    root_certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Root CA"))
        .issuer_name(_name("Test Root CA"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(clock.now() - timedelta(minutes=5))
        .not_valid_after(clock.now() + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    root = Authority(root_key, root_certificate)
    intermediates = {}
    for kind in ("auth", "signing"):
        key = _key()
        intermediates[kind] = Authority(
            key, root.certify(key.public_key(), _name(f"Test {kind} CA"), ca=True)
        )
    return Pki(root=root, auth=intermediates["auth"], signing=intermediates["signing"])


@pytest.fixture(scope="session")
def card_keys() -> NewCardKeys:
    """One pair of card keys for the whole run: RSA key generation is the slow part."""
    return CardStore.new_keys()


SaveCard = Callable[..., Path]


@pytest.fixture
def store(tmp_path: Path) -> CardStore:
    return CardStore(tmp_path / "cards")


@pytest.fixture
def save_card(store: CardStore, pki: Pki, card_keys: NewCardKeys) -> SaveCard:
    def save(
        card_number: str = CARD_NUMBER,
        *,
        holder: str | None = "山田 太郎",
        keys: NewCardKeys | None = None,
    ) -> Path:
        keys = keys or card_keys
        certificates = pki.card_certificates(keys, holder)
        return store.save(
            keys,
            card_number=card_number,
            auth_certificate_pem=certificates["auth"],
            signing_certificate_pem=certificates["signing"],
            auth_chain_pem=pki.chain_pem("auth"),
            signing_chain_pem=pki.chain_pem("signing"),
            auth_pin=AUTH_PIN,
            signing_pin=SIGNING_PIN,
        )

    return save


@pytest.fixture
def card(save_card: SaveCard) -> str:
    """A card in the store, with the PINs AUTH_PIN and SIGNING_PIN."""
    save_card()
    return CARD_NUMBER
