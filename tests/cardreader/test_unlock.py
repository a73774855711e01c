"""Unlocking a locked PIN with a token the issuing CA signed (what a municipal official hands
out), and everything such a token must not be able to do."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from kiban.cardreader.errors import PinLocked, UnlockRejected, WrongPin
from kiban.cardreader.store import CardStore
from kiban.kernel import clock
from tests.cardreader.conftest import AUTH_PIN, SIGNING_PIN, Authority, Pki


def _lock(store: CardStore, card: str, kind: str = "auth") -> None:
    wrong = "0000" if kind == "auth" else "WRONG1"
    for _ in range(3 if kind == "auth" else 5):
        with pytest.raises(WrongPin):
            store.sign(card, kind, wrong, b"x")
    assert store.card(card).pin(kind).locked


def test_a_valid_token_unlocks_and_survives_a_restart(
    store: CardStore, card: str, pki: Pki
) -> None:
    _lock(store, card)
    store.unlock(card, "auth", pki.auth.unlock_token())
    restarted = CardStore(store.directory)
    assert restarted.card(card).auth.tries_left == 3
    assert restarted.sign(card, "auth", AUTH_PIN, b"x")


def test_the_signing_pin_is_unlocked_by_the_signing_ca(
    store: CardStore, card: str, pki: Pki
) -> None:
    _lock(store, card, "signing")
    with pytest.raises(UnlockRejected):
        # Signed by the auth CA: not the CA of the signing certificate.
        store.unlock(card, "signing", pki.auth.unlock_token(kind="signing"))
    store.unlock(card, "signing", pki.signing.unlock_token(kind="signing"))
    assert store.sign(card, "signing", SIGNING_PIN, b"x")


def test_a_token_from_another_ca_is_refused(store: CardStore, card: str, pki: Pki) -> None:
    _lock(store, card)
    stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger = Authority(stranger_key, pki.auth.certificate)  # Same name, different key.
    for token in (stranger.unlock_token(), pki.root.unlock_token(), pki.signing.unlock_token()):
        with pytest.raises(UnlockRejected) as raised:
            store.unlock(card, "auth", token)
        assert raised.value.field == "token"
        assert "issuing CA" in raised.value.message_en
    with pytest.raises(PinLocked):
        store.sign(card, "auth", AUTH_PIN, b"x")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(clock.now().timestamp()) - 1}, "expired"),
        ({"exp": None}, "expiry"),
        ({"card_number": "999999999999"}, "another card"),
        ({"kind": "signing"}, "other PIN"),
        ({"purpose": "login"}, "not a PIN-unlock"),
        ({"purpose": None}, "not a PIN-unlock"),
        ({"jti": None}, "token id"),
        ({"jti": ""}, "token id"),
    ],
)
def test_claims_are_checked(
    store: CardStore, card: str, pki: Pki, claims: dict[str, object], reason: str
) -> None:
    _lock(store, card)
    with pytest.raises(UnlockRejected) as raised:
        store.unlock(card, "auth", pki.auth.unlock_token(**claims))
    assert reason in raised.value.message_en
    assert "ロック解除トークン" in raised.value.message_ja
    assert store.card(card).auth.locked


def test_a_token_works_once(store: CardStore, card: str, pki: Pki) -> None:
    token = pki.auth.unlock_token()
    _lock(store, card)
    store.unlock(card, "auth", token)
    _lock(store, card)
    with pytest.raises(UnlockRejected) as raised:
        CardStore(store.directory).unlock(card, "auth", token)  # Also after a restart.
    assert "already been used" in raised.value.message_en
    assert store.card(card).auth.locked


def test_other_algorithms_and_garbage_are_refused(store: CardStore, card: str, pki: Pki) -> None:
    _lock(store, card)
    now = int(clock.now().timestamp())
    claims = {
        "card_number": card,
        "kind": "auth",
        "jti": "j1",
        "exp": now + 600,
        "purpose": "pin-unlock",
    }
    ps256 = jwt.encode(
        {"alg": "PS256"}, claims, RSAKey.import_key(pki.auth.key), algorithms=["PS256"]
    )
    for token in (ps256, "not-a-token", "", "a.b.c"):
        with pytest.raises(UnlockRejected):
            store.unlock(card, "auth", token)
    assert store.card(card).auth.locked
