"""Card files: PIN rules, retry counters that survive a restart, sealed keys, signatures."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kiban.cardreader.errors import (
    CardExists,
    CardFileDamaged,
    CardNotFound,
    CertificateMismatch,
    InvalidCardNumber,
    InvalidKind,
    InvalidPin,
    PinLocked,
    WrongPin,
)
from kiban.cardreader.store import CardStore, NewCardKeys, new_private_key
from tests.cardreader.conftest import AUTH_PIN, CARD_NUMBER, SIGNING_PIN, Pki, SaveCard


def _verify(store: CardStore, kind: str, data: bytes, signature: bytes) -> None:
    certificate = x509.load_der_x509_certificate(store.certificate_der(CARD_NUMBER, kind))
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "", " 1234", "1234\n", "１２３４"])
def test_the_auth_pin_is_exactly_four_digits(store: CardStore, card: str, pin: str) -> None:
    with pytest.raises(InvalidPin) as raised:
        store.sign(card, "auth", pin, b"x")
    assert raised.value.field == "auth_pin"
    assert "4 digits" in raised.value.message_en
    assert "4桁" in raised.value.message_ja
    # A malformed PIN never reaches the card, so it costs no try.
    assert store.card(card).auth.tries_left == 3


@pytest.mark.parametrize("pin", ["ABC12", "A" * 17, "abc123", "ABC-123", "ABC 123"])
def test_the_signing_pin_is_6_to_16_upper_case_letters_and_digits(
    store: CardStore, card: str, pin: str
) -> None:
    with pytest.raises(InvalidPin) as raised:
        store.sign(card, "signing", pin, b"x")
    assert raised.value.field == "signing_pin"
    assert "6 to 16" in raised.value.message_en
    assert store.card(card).signing.tries_left == 5


def test_saving_checks_the_pins_and_numbers(
    store: CardStore, pki: Pki, card_keys: NewCardKeys
) -> None:
    certificates = pki.card_certificates(card_keys)
    common = {
        "auth_certificate_pem": certificates["auth"],
        "signing_certificate_pem": certificates["signing"],
        "auth_chain_pem": pki.chain_pem("auth"),
        "signing_chain_pem": pki.chain_pem("signing"),
    }
    with pytest.raises(InvalidPin):
        store.save(
            card_keys, card_number=CARD_NUMBER, auth_pin="12", signing_pin="ABC123", **common
        )
    with pytest.raises(InvalidPin):
        store.save(card_keys, card_number=CARD_NUMBER, auth_pin="1234", signing_pin="abc", **common)
    with pytest.raises(InvalidCardNumber):
        store.save(
            card_keys, card_number="../../etc/x", auth_pin="1234", signing_pin="ABC123", **common
        )
    assert store.cards() == []


def test_a_certificate_must_belong_to_the_key_and_the_chain(
    store: CardStore, pki: Pki, card_keys: NewCardKeys
) -> None:
    certificates = pki.card_certificates(card_keys)
    swapped = {
        "auth_certificate_pem": certificates["signing"],
        "signing_certificate_pem": certificates["auth"],
        "auth_chain_pem": pki.chain_pem("auth"),
        "signing_chain_pem": pki.chain_pem("signing"),
    }
    with pytest.raises(CertificateMismatch) as raised:
        store.save(
            card_keys, card_number=CARD_NUMBER, auth_pin="1234", signing_pin="ABC123", **swapped
        )
    assert raised.value.field == "auth_certificate"
    wrong_chain = {
        "auth_certificate_pem": certificates["auth"],
        "signing_certificate_pem": certificates["signing"],
        "auth_chain_pem": pki.chain_pem("signing"),  # The auth CA is not in it.
        "signing_chain_pem": pki.chain_pem("signing"),
    }
    with pytest.raises(CertificateMismatch):
        store.save(
            card_keys, card_number=CARD_NUMBER, auth_pin="1234", signing_pin="ABC123", **wrong_chain
        )


def test_a_card_is_not_overwritten(save_card: SaveCard) -> None:
    save_card()
    with pytest.raises(CardExists):
        save_card()


def test_signatures_verify_with_the_certificates_key(store: CardStore, card: str) -> None:
    data = "チャレンジ-challenge".encode()
    for kind, pin in (("auth", AUTH_PIN), ("signing", SIGNING_PIN)):
        signature = store.sign(card, kind, pin, data)
        _verify(store, kind, data, signature)
        with pytest.raises(InvalidSignature):
            _verify(store, kind, data + b"!", signature)
    # Each slot signs with its own key.
    auth_signature = store.sign(card, "auth", AUTH_PIN, data)
    with pytest.raises(InvalidSignature):
        _verify(store, "signing", data, auth_signature)


def test_three_wrong_auth_pins_lock_the_card_across_a_restart(store: CardStore, card: str) -> None:
    tries = []
    for _ in range(3):
        with pytest.raises(WrongPin) as raised:
            store.sign(card, "auth", "9999", b"x")
        tries.append(raised.value.tries_left)
    assert tries == [2, 1, 0]
    assert "locked" in str(raised.value.message_en)

    restarted = CardStore(store.directory)  # A new process reads the same files.
    assert restarted.card(card).auth.locked
    with pytest.raises(PinLocked) as locked:
        restarted.sign(card, "auth", AUTH_PIN, b"x")  # Even the right PIN.
    assert "ロック" in locked.value.message_ja
    assert "municipal office" in locked.value.message_en
    # The signing PIN is separate and still works.
    assert restarted.sign(card, "signing", SIGNING_PIN, b"x")


def test_the_signing_pin_locks_after_five(store: CardStore, card: str) -> None:
    for expected in (4, 3, 2, 1, 0):
        with pytest.raises(WrongPin) as raised:
            store.sign(card, "signing", "WRONG1", b"x")
        assert raised.value.tries_left == expected
    with pytest.raises(PinLocked):
        CardStore(store.directory).sign(card, "signing", SIGNING_PIN, b"x")


def test_a_correct_pin_resets_the_counter(store: CardStore, card: str) -> None:
    for _ in range(2):
        with pytest.raises(WrongPin):
            store.sign(card, "auth", "0000", b"x")
    assert store.card(card).auth.tries_left == 1
    store.sign(card, "auth", AUTH_PIN, b"x")
    assert CardStore(store.directory).card(card).auth.tries_left == 3


def test_a_try_is_on_disk_before_the_pin_is_checked(
    store: CardStore, card: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate the reader being killed while it checks the PIN (after it has counted the try):
    # the try stays counted, so killing the process cannot be used to guess for free.
    import kiban.cardreader.store as module  # noqa: PLC0415 - the function being interrupted.

    def crash(*_args: object) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(module, "_unseal", crash)
    with pytest.raises(SystemExit):
        store.sign(card, "auth", "9999", b"x")
    monkeypatch.undo()
    assert CardStore(store.directory).card(card).auth.tries_left == 2


def test_the_file_does_not_hold_a_private_key_in_clear(
    store: CardStore, card: str, card_keys: NewCardKeys
) -> None:
    raw = store.path(card).read_bytes()
    for key in (card_keys.auth_key, card_keys.signing_key):
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        private = key.private_numbers()
        for secret in (
            der,
            base64.b64encode(der),
            private.d.to_bytes(256, "big"),
            private.p.to_bytes(128, "big"),
            str(private.d).encode(),
        ):
            assert secret not in raw
            assert secret[:32] not in raw
    assert b"PRIVATE KEY" not in raw
    assert AUTH_PIN.encode() not in raw.replace(CARD_NUMBER.encode(), b"")
    assert SIGNING_PIN.encode() not in raw


def test_the_file_format(store: CardStore, card: str) -> None:
    path = store.path(card)
    assert path.name == f"{card}.card"
    assert path.stat().st_mode & 0o077 == 0  # Only the owner may read it.
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "kiban-card"
    assert data["version"] == 1
    assert data["card_number"] == card
    for kind, tries in (("auth", 3), ("signing", 5)):
        slot = data["keys"][kind]
        assert slot["certificate"].startswith("-----BEGIN CERTIFICATE-----")
        assert slot["chain"].count("BEGIN CERTIFICATE") == 2
        assert slot["pin"] == {"tries_left": tries, "max_tries": tries}
        assert slot["private_key"]["kdf"] == "scrypt"
        assert slot["private_key"]["cipher"] == "aes-256-gcm"
    # No temporary files are left behind.
    assert sorted(p.name for p in store.directory.iterdir() if not p.name.endswith(".lock")) == [
        path.name
    ]


def test_a_damaged_or_unknown_file_is_reported_not_used(store: CardStore, card: str) -> None:
    path = store.path(card)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["version"] = 99
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CardFileDamaged) as raised:
        store.sign(card, "auth", AUTH_PIN, b"x")
    assert "99" in raised.value.message_en
    assert store.cards() == []  # Skipped in the list, not fatal.
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CardFileDamaged):
        store.card(card)


def test_unknown_card_and_kind(store: CardStore, card: str) -> None:
    with pytest.raises(CardNotFound) as raised:
        store.sign("999999999999", "auth", AUTH_PIN, b"x")
    assert raised.value.field == "card_number"
    with pytest.raises(InvalidKind):
        store.sign(card, "other", AUTH_PIN, b"x")
    with pytest.raises(InvalidCardNumber):
        store.certificate_der("12345", "auth")


def test_cards_lists_holder_and_counters(store: CardStore, save_card: SaveCard) -> None:
    save_card()
    save_card("210987654321", holder=None)
    with pytest.raises(WrongPin):
        store.sign("210987654321", "signing", "WRONG1", b"x")
    listed = store.cards()
    by_number = {c.card_number: c for c in listed}
    assert by_number[CARD_NUMBER].holder_name == "山田 太郎"
    assert by_number["210987654321"].holder_name is None
    assert by_number["210987654321"].signing.tries_left == 4
    assert not by_number["210987654321"].signing.locked
    assert [c.card_number for c in listed] == sorted(by_number)


def test_change_pin(store: CardStore, card: str) -> None:
    with pytest.raises(WrongPin):
        store.change_pin(card, "auth", "0000", "5678")
    with pytest.raises(InvalidPin):
        store.change_pin(card, "auth", AUTH_PIN, "56789")
    store.change_pin(card, "auth", AUTH_PIN, "5678")
    assert store.card(card).auth.tries_left == 3
    with pytest.raises(WrongPin):
        store.sign(card, "auth", AUTH_PIN, b"x")
    _verify(store, "auth", b"x", store.sign(card, "auth", "5678", b"x"))


def test_replace_key_after_a_reissue(store: CardStore, card: str, pki: Pki) -> None:
    for _ in range(3):
        with pytest.raises(WrongPin):
            store.sign(card, "auth", "0000", b"x")
    new_key = new_private_key()
    certificate = pki.auth.certify(new_key.public_key(), x509.Name([]))
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    # A certificate from another CA, or for another key, is refused.
    foreign = pki.signing.certify(new_key.public_key(), x509.Name([]))
    with pytest.raises(CertificateMismatch):
        store.replace_key(
            card, "auth", new_key, foreign.public_bytes(serialization.Encoding.PEM).decode(), "4321"
        )
    with pytest.raises(CertificateMismatch):
        store.replace_key(card, "auth", new_private_key(), pem, "4321")
    assert store.card(card).auth.locked

    store.replace_key(card, "auth", new_key, pem, "4321")
    assert store.card(card).auth.tries_left == 3
    assert store.certificate_der(card, "auth") == certificate.public_bytes(
        serialization.Encoding.DER
    )
    _verify(store, "auth", b"x", store.sign(card, "auth", "4321", b"x"))


def test_a_sealed_key_only_opens_in_its_own_card(store: CardStore, save_card: SaveCard) -> None:
    # Both cards have the same auth PIN. Copying card A's sealed key into card B's file does
    # not give card B a key that opens with that PIN: the sealing is bound to card and slot.
    save_card()
    save_card("210987654321")
    source = json.loads(store.path(CARD_NUMBER).read_text(encoding="utf-8"))
    target_path = store.path("210987654321")
    target = json.loads(target_path.read_text(encoding="utf-8"))
    target["keys"]["auth"]["private_key"] = source["keys"]["auth"]["private_key"]
    target_path.write_text(json.dumps(target), encoding="utf-8")
    with pytest.raises(WrongPin):
        store.sign("210987654321", "auth", AUTH_PIN, b"x")
    assert store.sign(CARD_NUMBER, "auth", AUTH_PIN, b"x")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["keys"]["auth"].pop("pin"),
        lambda d: d["keys"]["auth"]["pin"].update(tries_left="3"),
        lambda d: d["keys"]["auth"]["pin"].update(tries_left=99),
        lambda d: d["keys"]["signing"].update(certificate=None),
        lambda d: d.update(card_number="210987654321"),
        lambda d: d.pop("keys"),
    ],
)
def test_an_incomplete_file_is_damaged(store: CardStore, card: str, damage: Any) -> None:
    path = store.path(card)
    data = json.loads(path.read_text(encoding="utf-8"))
    damage(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CardFileDamaged):
        store.sign(card, "auth", AUTH_PIN, b"x")
    assert store.cards() == []
