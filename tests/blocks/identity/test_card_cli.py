"""``kiban card``: issuing into the card reader, showing, losing, unlocking and resetting PINs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from kiban.blocks import identity, residents
from kiban.cardreader.errors import PinLocked, WrongPin
from kiban.cardreader.store import CardStore
from kiban.cli import app
from kiban.kernel.errors import KibanError
from kiban.platform.settings import get_settings

runner = CliRunner()


def _run(*args: str) -> Result:
    return runner.invoke(app, ["card", *args])


def _issue(person: residents.PersonRead, cards: Path | None = None) -> str:
    extra = ["--cards", str(cards)] if cards is not None else []
    result = _run(
        "issue", "--person-id", str(person.id), "--auth-pin", "1234",
        "--signing-pin", "ABC123", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _verifies(store: CardStore, card_number: str, kind: str, pin: str) -> None:
    """The card signs with ``kind`` under ``pin`` and the certificate's key verifies it."""
    signature = store.sign(card_number, kind, pin, b"hello")
    key = x509.load_der_x509_certificate(store.certificate_der(card_number, kind)).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, b"hello", padding.PKCS1v15(), hashes.SHA256())


def test_issue_writes_the_card_into_the_default_reader_directory(
    session: Session, resident: residents.PersonRead
) -> None:
    card_number = _issue(resident)
    assert len(card_number) == 12
    assert card_number.isdigit()
    store = CardStore(get_settings().data_dir / "cards")
    [info] = store.cards()
    assert info.card_number == card_number
    card = identity.get_card_by_person(session, resident.id)
    assert card is not None
    assert card.card_number == card_number
    # The card holds the keys of the certificates the server issued.
    assert store.certificate_der(card_number, "signing") == x509.load_pem_x509_certificate(
        card.signing_certificate.pem.encode()
    ).public_bytes(serialization.Encoding.DER)
    _verifies(store, card_number, "auth", "1234")
    _verifies(store, card_number, "signing", "ABC123")
    session.rollback()  # SQLite: end this session's transaction before the CLI writes.

    shown = _run("show", "--person-id", str(resident.id), "--format", "json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["card_number"] == card_number
    assert data["auth_certificate"]["status"] == "good"
    assert "pem" not in data["signing_certificate"]


def test_issue_refuses_a_bad_pin_and_issues_nothing(
    session: Session, resident: residents.PersonRead, tmp_path: Path
) -> None:
    result = _run(
        "issue", "--person-id", str(resident.id), "--auth-pin", "12345",
        "--signing-pin", "ABC123", "--cards", str(tmp_path / "cards"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "auth" in result.output
    assert identity.get_card_by_person(session, resident.id) is None
    assert CardStore(tmp_path / "cards").cards() == []


def test_export_writes_the_pem_files(resident: residents.PersonRead, tmp_path: Path) -> None:
    _issue(resident, tmp_path / "cards")
    result = _run("export", "--person-id", str(resident.id), "--dir", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        "auth.pem",
        "ca-auth.pem",
        "ca-signing.pem",
        "chain-auth.pem",
        "chain-signing.pem",
        "root.pem",
        "signing.pem",
    ]
    chain = (tmp_path / "out" / "chain-signing.pem").read_text()
    assert chain == identity.ca_chain_pem(identity.CertificateKind.SIGNING)
    assert chain.startswith((tmp_path / "out" / "ca-signing.pem").read_text())


def test_show_and_export_name_a_person_without_a_card(resident: residents.PersonRead) -> None:
    result = _run("show", "--person-id", str(resident.id))
    assert result.exit_code == 1
    assert "person_id" in result.output
    assert _run("show", "--person-id", "not-a-uuid").exit_code == 1


def test_lost_revokes_both(
    session: Session, resident: residents.PersonRead, tmp_path: Path
) -> None:
    _issue(resident, tmp_path / "cards")
    result = _run("lost", "--person-id", str(resident.id))
    assert result.exit_code == 0, result.output
    card = identity.get_card_by_person(session, resident.id)
    assert card is not None
    assert card.status == "lost"
    assert card.auth_certificate.status == card.signing_certificate.status == "revoked"
    session.rollback()  # SQLite: end this session's transaction before the CLI writes.
    again = _run("lost", "--person-id", str(resident.id))
    assert again.exit_code == 1
    assert "not active" in again.output


def test_unlock_resets_a_locked_pin(resident: residents.PersonRead, tmp_path: Path) -> None:
    card_number = _issue(resident, tmp_path / "cards")
    store = CardStore(tmp_path / "cards")
    for _ in range(2):
        with pytest.raises(WrongPin):
            store.sign(card_number, "auth", "0000", b"x")
    with pytest.raises((WrongPin, PinLocked)):
        store.sign(card_number, "auth", "0000", b"x")
    with pytest.raises(PinLocked):
        store.sign(card_number, "auth", "1234", b"x")

    result = _run(
        "unlock",
        "--person-id",
        str(resident.id),
        "--kind",
        "auth",
        "--cards",
        str(tmp_path / "cards"),
    )
    assert result.exit_code == 0, result.output
    _verifies(store, card_number, "auth", "1234")


def test_reset_pin_replaces_the_key_and_supersedes_the_certificate(
    session: Session, resident: residents.PersonRead, tmp_path: Path
) -> None:
    card_number = _issue(resident, tmp_path / "cards")
    before = identity.get_card_by_person(session, resident.id)
    assert before is not None
    session.rollback()  # SQLite: end this session's transaction before the CLI writes.
    result = _run(
        "reset-pin", "--person-id", str(resident.id), "--kind", "signing",
        "--new-pin", "NEWPIN99", "--cards", str(tmp_path / "cards"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    store = CardStore(tmp_path / "cards")
    _verifies(store, card_number, "signing", "NEWPIN99")
    with pytest.raises(WrongPin):
        store.sign(card_number, "signing", "ABC123", b"x")
    session.expire_all()
    after = identity.get_card_by_person(session, resident.id)
    assert after is not None
    assert after.signing_certificate.serial != before.signing_certificate.serial
    assert after.auth_certificate == before.auth_certificate
    # The old certificate is revoked as superseded.
    old = x509.load_pem_x509_certificate(before.signing_certificate.pem.encode())
    with pytest.raises(KibanError) as caught:
        identity.verify_certificate(
            session,
            old.public_bytes(serialization.Encoding.DER),
            kind=identity.CertificateKind.SIGNING,
        )
    assert caught.value.code == "identity.certificate_revoked"
