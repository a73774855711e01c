"""The file key store: keys are created once, encrypted at rest, and shared between instances."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
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


def test_threads_creating_one_key_at_once_all_get_that_key(tmp_path: Path) -> None:
    # Checkpointer threads and request threads of one process may ask for a new key together;
    # each must read a whole key, and the same one.
    for attempt in range(20):
        directory = tmp_path / str(attempt)
        barrier = threading.Barrier(8)

        def create(directory: Path = directory, barrier: threading.Barrier = barrier) -> bytes:
            store = FileKeyStore(directory, "secret")
            barrier.wait()
            return _public(store.get_or_create("shared", "ec-p256"))

        with ThreadPoolExecutor(8) as pool:
            publics = set(pool.map(lambda _: create(), range(8)))
        assert len(publics) == 1
        assert sorted(p.name for p in directory.iterdir()) == ["shared.pem"]
