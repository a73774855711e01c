"""The programmatic client: the same fields the reader's redirect carries, without a browser."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kiban.cardreader.client import sign_challenge
from kiban.cardreader.errors import InvalidKind, InvalidPin, WrongPin
from kiban.cardreader.store import CardStore
from kiban.kernel.errors import ValidationFailed
from tests.cardreader.conftest import AUTH_PIN, SIGNING_PIN

CHALLENGE = "Zm9vYmFyYmF6cXV4cXV1eA.challenge-1"


def _b64(text: str) -> bytes:
    assert "=" not in text
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check(fields: dict[str, str], kind: str, store: CardStore, card: str) -> None:
    certificate_der = _b64(fields[f"{kind}_certificate"])
    assert certificate_der == store.certificate_der(card, kind)
    public_key = x509.load_der_x509_certificate(certificate_der).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(
        _b64(fields[f"{kind}_signature"]), CHALLENGE.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_auth_only(store: CardStore, card: str) -> None:
    fields = sign_challenge(store, card, {"auth": AUTH_PIN}, CHALLENGE, ["auth"])
    assert set(fields) == {"auth_certificate", "auth_signature"}
    _check(fields, "auth", store, card)


def test_auth_and_signing(store: CardStore, card: str) -> None:
    fields = sign_challenge(
        store, card, {"auth": AUTH_PIN, "signing": SIGNING_PIN}, CHALLENGE, ["signing", "auth"]
    )
    assert list(fields) == [
        "auth_certificate",
        "auth_signature",
        "signing_certificate",
        "signing_signature",
    ]
    _check(fields, "auth", store, card)
    _check(fields, "signing", store, card)


def test_bad_input(store: CardStore, card: str) -> None:
    with pytest.raises(InvalidPin) as missing:
        sign_challenge(store, card, {"auth": AUTH_PIN}, CHALLENGE, ["auth", "signing"])
    assert missing.value.field == "signing_pin"
    with pytest.raises(InvalidKind):
        sign_challenge(store, card, {"signing": SIGNING_PIN}, CHALLENGE, ["signing"])
    with pytest.raises(ValidationFailed) as challenge:
        sign_challenge(store, card, {"auth": AUTH_PIN}, "short", ["auth"])
    assert challenge.value.field == "challenge"
    # A malformed signing PIN is caught before the auth PIN is tried.
    with pytest.raises(InvalidPin):
        sign_challenge(
            store, card, {"auth": "0000", "signing": "x"}, CHALLENGE, ["auth", "signing"]
        )
    assert store.card(card).auth.tries_left == 3


def test_a_wrong_pin_is_counted(store: CardStore, card: str) -> None:
    with pytest.raises(WrongPin) as raised:
        sign_challenge(store, card, {"auth": "0000"}, CHALLENGE, ["auth"])
    assert raised.value.tries_left == 2
