"""The file key store: keys are created once, encrypted at rest, and shared between instances."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kiban.platform.keys import FileKeyStore, get_key_store


def _public(key: object) -> bytes:
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_a_key_is_created_once_and_read_back_by_another_store(tmp_path: Path) -> None:
    first = FileKeyStore(tmp_path, "secret").get_or_create("oidc-es256", "ec-p256")
    again = FileKeyStore(tmp_path, "secret").get_or_create("oidc-es256", "ec-p256")
    assert _public(first) == _public(again)
    assert (tmp_path / "oidc-es256.pem").stat().st_mode & 0o777 == 0o600


def test_keys_are_encrypted_at_rest(tmp_path: Path) -> None:
    FileKeyStore(tmp_path, "secret").get_or_create("root-ca", "rsa-2048")
    pem = (tmp_path / "root-ca.pem").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem
    with pytest.raises(ValueError, match="password"):
        FileKeyStore(tmp_path, "wrong").get_or_create("root-ca", "rsa-2048")


def test_key_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid key name"):
        FileKeyStore(tmp_path, "secret").get_or_create("../escape", "ec-p256")


def test_the_process_store_lives_in_the_data_directory() -> None:
    store = get_key_store()
    store.get_or_create("test-key", "ed25519")
    assert store.exists("test-key")
