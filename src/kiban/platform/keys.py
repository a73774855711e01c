"""Signing keys of the system (CA keys, the OpenID provider's key, mesh members' keys).

A :class:`KeyStore` hands out a named private key, creating it on first use. The embedded
default, :class:`FileKeyStore`, keeps each key as a PKCS#8 PEM file under
``<data_dir>/keys/`` (mode 0600), encrypted with ``KIBAN_SECRET_KEY``; a PKCS#11/HSM store
would implement the same Protocol (ARCHITECTURE.md §4). Keys are linked into place only
once whole, so threads or processes starting at once all end up with the same key.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from kiban.platform.settings import get_settings

KeyKind = Literal["rsa-2048", "rsa-3072", "ec-p256", "ed25519"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


class KeyStore(Protocol):
    """Named private keys that never leave the store except as signatures or public keys."""

    def get_or_create(self, name: str, kind: KeyKind) -> PrivateKey:
        """The key called ``name``, created as ``kind`` if it does not exist yet."""
        ...

    def exists(self, name: str) -> bool:
        """Whether a key called ``name`` exists."""
        ...


def generate_key(kind: KeyKind) -> PrivateKey:
    """A new private key of the given kind."""
    if kind == "rsa-2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa-3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if kind == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def create_file_once(path: Path, data: bytes) -> None:
    """Create ``path`` (mode 0600) holding ``data`` unless it exists already.

    The bytes go to a temporary file of their own and are then linked into place, so a reader
    never sees a half-written file, and when threads or processes race, the first link wins and
    every caller then reads that file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def reencrypt_keys(directory: Path, old: str, new: str) -> int:
    """Re-encrypt, from ``old`` to ``new``, every private key in ``directory`` that opens with
    ``old``; returns how many. Each file is replaced whole (a reader sees the old or the new),
    and a key that does not open with ``old`` is left alone, so running it twice is harmless."""
    moved = 0
    for path in sorted(directory.glob("*.pem")):
        pem = path.read_bytes()
        if b"ENCRYPTED PRIVATE KEY" not in pem:
            continue
        try:
            key = serialization.load_pem_private_key(pem, old.encode())
        except (ValueError, TypeError):
            continue
        fresh = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(new.encode()),
        )
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(fresh)
        os.replace(tmp, path)
        moved += 1
    return moved


class FileKeyStore:
    """Keys as encrypted PEM files in one directory (the embedded default)."""

    def __init__(self, directory: Path, passphrase: str) -> None:
        self.directory = directory
        self._passphrase = passphrase.encode()
        self._cache: dict[str, PrivateKey] = {}
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ValueError(f"invalid key name {name!r}")
        return self.directory / f"{name}.pem"

    def exists(self, name: str) -> bool:
        return name in self._cache or self._path(name).exists()

    def get_or_create(self, name: str, kind: KeyKind) -> PrivateKey:
        if name in self._cache:
            return self._cache[name]
        path = self._path(name)
        with self._lock:
            if name in self._cache:
                return self._cache[name]
            if not path.exists():
                self._create(path, kind)
            key = serialization.load_pem_private_key(path.read_bytes(), self._passphrase)
            if not isinstance(
                key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
            ):
                raise TypeError(f"unsupported key type in {path}")
            self._cache[name] = key
            return key

    def _create(self, path: Path, kind: KeyKind) -> None:
        pem = generate_key(kind).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        )
        create_file_once(path, pem)


@lru_cache(maxsize=8)
def _store_for(directory: Path, passphrase: str) -> FileKeyStore:
    return FileKeyStore(directory, passphrase)


_resolved_dirs: dict[Path, Path] = {}


def get_key_store() -> KeyStore:
    """The key store of this process: files under ``<data_dir>/keys``."""
    settings = get_settings()
    # Resolving walks the file system, and signing paths ask for the store on every request.
    directory = _resolved_dirs.get(settings.data_dir)
    if directory is None:
        directory = _resolved_dirs[settings.data_dir] = (settings.data_dir / "keys").resolve()
    return _store_for(directory, settings.secret_key)
