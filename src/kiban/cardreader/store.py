"""Software My Number cards: one JSON file per card, private keys sealed under their PINs.

A card holds two RSA-2048 key pairs, as the real card does: the authentication key (利用者証明用,
4-digit PIN, 3 tries) and the signing key (署名用, 6–16 upper-case letters and digits, 5 tries).
Each private key is stored only encrypted with AES-256-GCM under a key derived from its PIN with
scrypt, so the file alone does not give a key away, and a PIN is checked by trying to open its
key. The retry counters live in the same file. A try is counted and written to disk (temporary
file, fsync, rename) *before* the PIN is checked, as a smart card does, so neither a restart nor
a crash at the wrong moment gives an attacker a free guess; a correct PIN then resets the
counter. docs/adr/0006-virtual-card-reader.md describes the file format and its limits.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from kiban.cardreader.errors import (
    CardExists,
    CardFileDamaged,
    CardNotFound,
    CertificateMismatch,
    InvalidCardNumber,
    InvalidKind,
    InvalidPin,
    PinLocked,
    UnlockRejected,
    WrongPin,
)
from kiban.kernel import clock

logger = logging.getLogger(__name__)

FORMAT: Final = "kiban-card"
FORMAT_VERSION: Final = 1
SUFFIX: Final = ".card"
AUTH: Final = "auth"
SIGNING: Final = "signing"
KINDS: Final[tuple[str, ...]] = (AUTH, SIGNING)
MAX_TRIES: Final[dict[str, int]] = {AUTH: 3, SIGNING: 5}
UNLOCK_PURPOSE: Final = "pin-unlock"
KEY_SIZE: Final = 2048

# scrypt cost: 2**14 with r=8 is the usual interactive-login setting (about 60 ms and 16 MiB).
# The parameters are stored per key, so a later version can raise them for new keys; the limits
# keep a tampered file from making the reader allocate gigabytes.
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_SCRYPT_N_RANGE: Final = (2**10, 2**20)
_SCRYPT_R_RANGE: Final = (1, 16)
_SCRYPT_P_RANGE: Final = (1, 4)

_CARD_NUMBER: Final = re.compile(r"[0-9]{12}")
_PIN_RULES: Final = {AUTH: re.compile(r"[0-9]{4}"), SIGNING: re.compile(r"[A-Z0-9]{6,16}")}

# Holder names in the signing certificate's subjectAltName, as otherName values: kiban's card
# PKI (kiban.blocks.identity.pki.OID_NAME, under kiban's UUID arc) and JPKI's own arc. The reader
# must not import the identity block, so the identifiers are repeated here.
NAME_OIDS: Final = frozenset(
    {
        "2.25.328280542481469624650436322389677264769.1.1",
        "1.2.392.200149.8.5.5.1",
    }
)


def check_kind(kind: str) -> str:
    """``kind`` if it names one of the card's keys (``auth``, ``signing``)."""
    if kind not in KINDS:
        raise InvalidKind(kind)
    return kind


def check_card_number(card_number: str) -> str:
    """``card_number`` if it is 12 digits (it also names the card's file, so nothing else)."""
    if not isinstance(card_number, str) or not _CARD_NUMBER.fullmatch(card_number):
        raise InvalidCardNumber
    return card_number


def check_pin(kind: str, pin: str) -> str:
    """``pin`` if it follows the rule for ``kind``; a malformed PIN is not counted as a try."""
    if not isinstance(pin, str) or not _PIN_RULES[check_kind(kind)].fullmatch(pin):
        raise InvalidPin(kind)
    return pin


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True)
class NewCardKeys:
    """The two private keys of a new card, made in the reader; only the public halves leave."""

    auth_key: rsa.RSAPrivateKey
    signing_key: rsa.RSAPrivateKey

    @property
    def auth_public_der(self) -> bytes:
        """The authentication public key as DER SubjectPublicKeyInfo."""
        return _spki(self.auth_key)

    @property
    def signing_public_der(self) -> bytes:
        """The signing public key as DER SubjectPublicKeyInfo."""
        return _spki(self.signing_key)

    def key(self, kind: str) -> rsa.RSAPrivateKey:
        return self.auth_key if check_kind(kind) == AUTH else self.signing_key


def _spki(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def new_private_key() -> rsa.RSAPrivateKey:
    """A new RSA-2048 key, as on the real card (for :meth:`CardStore.replace_key`)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


@dataclass(frozen=True)
class PinStatus:
    """How many wrong tries a PIN has left; ``locked`` when none."""

    tries_left: int
    max_tries: int

    @property
    def locked(self) -> bool:
        return self.tries_left <= 0


@dataclass(frozen=True)
class CardInfo:
    """What the reader shows about a card without any PIN."""

    card_number: str
    holder_name: str | None
    auth: PinStatus
    signing: PinStatus

    def pin(self, kind: str) -> PinStatus:
        return self.auth if check_kind(kind) == AUTH else self.signing


# --- Certificates -----------------------------------------------------------------------------


def _load_certificate(pem: str, field: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise CertificateMismatch(
            "証明書を PEM として読めません。", "The certificate is not readable PEM.", field=field
        ) from exc


def _load_chain(pem: str, field: str) -> list[x509.Certificate]:
    try:
        chain = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise CertificateMismatch(
            "CA 証明書チェーンを PEM として読めません。",
            "The CA certificate chain is not readable PEM.",
            field=field,
        ) from exc
    return chain


def issuing_ca(certificate: x509.Certificate, chain: list[x509.Certificate]) -> x509.Certificate:
    """The certificate in ``chain`` that signed ``certificate``."""
    for candidate in chain:
        if candidate.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    raise CertificateMismatch(
        "証明書を発行した CA がチェーンにありません。",
        "The chain does not hold the CA that issued the certificate.",
    )


def _check_certificate(
    kind: str, key: rsa.RSAPrivateKey, certificate_pem: str, chain_pem: str
) -> None:
    """The certificate is for ``key`` and was issued by a CA in the chain."""
    certificate = _load_certificate(certificate_pem, f"{kind}_certificate")
    if key.key_size != KEY_SIZE:
        raise CertificateMismatch(
            "カードの鍵は RSA-2048 です。", "Card keys are RSA-2048.", field=f"{kind}_key"
        )
    if _spki(key) != certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise CertificateMismatch(
            "証明書の公開鍵がカードの鍵と一致しません。",
            "The certificate's public key is not the card's key.",
            field=f"{kind}_certificate",
        )
    issuing_ca(certificate, _load_chain(chain_pem, f"{kind}_chain"))


_STRING_TAGS: Final = {
    0x0C: "utf-8",  # UTF8String
    0x13: "ascii",  # PrintableString
    0x16: "ascii",  # IA5String
    0x14: "latin-1",  # TeletexString, read as Latin-1
    0x1E: "utf-16-be",  # BMPString
}


def _der_string(data: bytes) -> str | None:
    """The text of a DER-encoded ASN.1 string (or of one wrapped in an explicit tag)."""
    if len(data) < 2:
        return None
    tag, length, offset = data[0], data[1], 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[2 : 2 + size], "big") if 0 < size <= 4 else -1
        offset = 2 + size
    content = data[offset : offset + length]
    if length < 0 or len(content) != length:
        return None
    if tag & 0xE0 == 0xA0:  # A context-specific constructed wrapper: look inside.
        return _der_string(content)
    try:
        return content.decode(_STRING_TAGS[tag])
    except (KeyError, UnicodeDecodeError):
        return None


def holder_name(certificate: x509.Certificate) -> str | None:
    """The holder's name from the signing certificate's subjectAltName, if it carries one."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id.dotted_string in NAME_OIDS:
            name = _der_string(other.value)
            if name:
                return name
    # Otherwise the common name of a directoryName entry, which kiban also writes there.
    for directory in san.get_values_for_type(x509.DirectoryName):
        for attribute in directory.get_attributes_for_oid(NameOID.COMMON_NAME):
            if isinstance(attribute.value, str) and attribute.value:
                return attribute.value
    return None


# --- Sealed private keys ----------------------------------------------------------------------


def _aad(card_number: str, kind: str) -> bytes:
    # Binds a sealed key to its card and slot, so keys cannot be swapped between slots or files.
    return f"{FORMAT}/{FORMAT_VERSION}/{card_number}/{kind}".encode("ascii")


def _kek(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(pin.encode("ascii"))


def _seal(key: rsa.RSAPrivateKey, pin: str, aad: bytes) -> dict[str, Any]:
    salt, nonce = os.urandom(16), os.urandom(12)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ciphertext = AESGCM(_kek(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(nonce, der, aad)
    return {
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": _b64(salt),
        "cipher": "aes-256-gcm",
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
    }


def _in_range(value: Any, bounds: tuple[int, int]) -> int:
    if not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        raise ValueError("scrypt parameter out of range")
    return value


def _unseal(sealed: dict[str, Any], pin: str, aad: bytes) -> rsa.RSAPrivateKey | None:
    """The private key, or ``None`` when ``pin`` does not open it."""
    if sealed.get("kdf") != "scrypt" or sealed.get("cipher") != "aes-256-gcm":
        raise ValueError("unknown key protection")
    kek = _kek(
        pin,
        _unb64(sealed["salt"]),
        _in_range(sealed["n"], _SCRYPT_N_RANGE),
        _in_range(sealed["r"], _SCRYPT_R_RANGE),
        _in_range(sealed["p"], _SCRYPT_P_RANGE),
    )
    try:
        der = AESGCM(kek).decrypt(_unb64(sealed["nonce"]), _unb64(sealed["ciphertext"]), aad)
    except InvalidTag:
        return None
    # AES-GCM has authenticated these bytes as the key this reader sealed (and checked when it
    # was made), so the costly RSA consistency check (~100 ms) would only repeat itself.
    key = serialization.load_der_private_key(
        der, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the sealed key is not an RSA key")
    return key


def _slot_complete(slot: Any, kind: str) -> bool:
    """Whether a key slot read from a file has every part, of the right type."""
    if not isinstance(slot, dict):
        return False
    counter = slot.get("pin")
    tries = counter.get("tries_left") if isinstance(counter, dict) else None
    return (
        isinstance(slot.get("certificate"), str)
        and isinstance(slot.get("chain"), str)
        and isinstance(slot.get("private_key"), dict)
        and isinstance(slot.get("used_unlock_tokens", {}), dict)
        and isinstance(tries, int)
        and not isinstance(tries, bool)
        and 0 <= tries <= MAX_TRIES[kind]
    )


# --- The store --------------------------------------------------------------------------------


class CardStore:
    """A directory of card files, ``<directory>/<card_number>.card``.

    Safe to use from several threads and processes at once: every change to a card happens
    under an exclusive lock on ``.<card_number>.lock`` and is written atomically.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._thread_lock = threading.RLock()

    # Keys ---------------------------------------------------------------------------------

    @staticmethod
    def new_keys() -> NewCardKeys:
        """Two new RSA-2048 private keys for a card about to be issued."""
        return NewCardKeys(auth_key=new_private_key(), signing_key=new_private_key())

    # Files --------------------------------------------------------------------------------

    def path(self, card_number: str) -> Path:
        """Where the file of ``card_number`` lives (whether or not it exists)."""
        return self.directory / f"{check_card_number(card_number)}{SUFFIX}"

    @contextlib.contextmanager
    def _locked(self, card_number: str) -> Iterator[None]:
        # Only the owner may list the cards (the files themselves are 0600 too).
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_path = self.directory / f".{card_number}.lock"
        with self._thread_lock, lock_path.open("a") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _load(self, card_number: str) -> dict[str, Any]:
        path = self.path(card_number)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise CardNotFound(card_number) from None
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise CardFileDamaged(card_number, "not JSON") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CardFileDamaged(card_number, "not a kiban card file")
        if data.get("version") != FORMAT_VERSION:
            raise CardFileDamaged(card_number, f"unknown version {data.get('version')!r}")
        keys = data.get("keys")
        if (
            data.get("card_number") != card_number
            or not isinstance(keys, dict)
            or not all(_slot_complete(keys.get(kind), kind) for kind in KINDS)
        ):
            raise CardFileDamaged(card_number, "incomplete")
        return data

    def _temporary(self, card_number: str, data: dict[str, Any]) -> Path:
        """``data`` written and flushed to disk in a new file beside the card's."""
        tmp = self.directory / f".{card_number}.{uuid.uuid4().hex}.tmp"
        body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def _sync_directory(self) -> None:
        # The rename itself is durable only once the directory entry is on disk.
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _write(self, card_number: str, data: dict[str, Any]) -> None:
        tmp = self._temporary(card_number, data)
        os.replace(tmp, self.path(card_number))
        self._sync_directory()

    # Issuing ------------------------------------------------------------------------------

    def save(
        self,
        keys: NewCardKeys,
        *,
        card_number: str,
        auth_certificate_pem: str,
        signing_certificate_pem: str,
        auth_chain_pem: str,
        signing_chain_pem: str,
        auth_pin: str,
        signing_pin: str,
    ) -> Path:
        """Write a new card: both keys sealed under their PINs, certificates, CA chains.

        Each certificate must be for its key and issued by a CA in its chain (issuing CA and
        root, PEM). Refuses (``CardExists``) to overwrite a card already in the reader.
        """
        check_card_number(card_number)
        pins = {AUTH: check_pin(AUTH, auth_pin), SIGNING: check_pin(SIGNING, signing_pin)}
        certificates = {AUTH: auth_certificate_pem, SIGNING: signing_certificate_pem}
        chains = {AUTH: auth_chain_pem, SIGNING: signing_chain_pem}
        for kind in KINDS:
            _check_certificate(kind, keys.key(kind), certificates[kind], chains[kind])
        data = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "card_number": card_number,
            "created_at": clock.now().isoformat(),
            "keys": {
                kind: {
                    "certificate": certificates[kind],
                    "chain": chains[kind],
                    "private_key": _seal(keys.key(kind), pins[kind], _aad(card_number, kind)),
                    "pin": {"tries_left": MAX_TRIES[kind], "max_tries": MAX_TRIES[kind]},
                    "used_unlock_tokens": {},
                }
                for kind in KINDS
            },
        }
        path = self.path(card_number)
        with self._locked(card_number):
            tmp = self._temporary(card_number, data)
            try:
                # A link fails when the card already exists, where a rename would replace it.
                os.link(tmp, path)
            except FileExistsError:
                raise CardExists(card_number) from None
            finally:
                tmp.unlink(missing_ok=True)
            self._sync_directory()
        return path

    # Reading ------------------------------------------------------------------------------

    def _info(self, card_number: str, data: dict[str, Any]) -> CardInfo:
        statuses = {
            kind: PinStatus(
                tries_left=int(data["keys"][kind]["pin"]["tries_left"]), max_tries=MAX_TRIES[kind]
            )
            for kind in KINDS
        }
        try:
            name = holder_name(_load_certificate(data["keys"][SIGNING]["certificate"], "x"))
        except CertificateMismatch:
            name = None
        return CardInfo(
            card_number=card_number,
            holder_name=name,
            auth=statuses[AUTH],
            signing=statuses[SIGNING],
        )

    def card(self, card_number: str) -> CardInfo:
        """One card's number, holder name and PIN counters."""
        return self._info(card_number, self._load(card_number))

    def cards(self) -> list[CardInfo]:
        """Every readable card in the directory, by card number. Damaged files are skipped
        (and logged) so that one bad file does not take the reader down."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            number = path.name.removesuffix(SUFFIX)
            if not _CARD_NUMBER.fullmatch(number):
                continue
            try:
                found.append(self.card(number))
            except (CardFileDamaged, CardNotFound):
                logger.warning("skipping unreadable card file %s", path)
        return found

    def certificate_pem(self, card_number: str, kind: str) -> str:
        """The certificate of one of the card's keys, PEM."""
        return str(self._load(card_number)["keys"][check_kind(kind)]["certificate"])

    def certificate_der(self, card_number: str, kind: str) -> bytes:
        """The certificate of one of the card's keys, DER."""
        pem = self.certificate_pem(card_number, kind)
        return _load_certificate(pem, f"{kind}_certificate").public_bytes(
            serialization.Encoding.DER
        )

    def chain_pem(self, card_number: str, kind: str) -> str:
        """The CA chain (issuing CA and root) stored with one of the card's keys, PEM."""
        return str(self._load(card_number)["keys"][check_kind(kind)]["chain"])

    # Using the PIN ------------------------------------------------------------------------

    def _open_key(
        self, card_number: str, data: dict[str, Any], kind: str, pin: str
    ) -> rsa.RSAPrivateKey:
        """The private key of ``kind``, counting the try. Call with the card's lock held."""
        slot = data["keys"][kind]
        counter = slot["pin"]
        tries_left = int(counter["tries_left"])
        if tries_left <= 0:
            raise PinLocked(kind)
        # Count the try on disk before checking the PIN, as a smart card does: killing the
        # reader after it has learnt the answer must not leave the try uncounted.
        counter["tries_left"] = tries_left - 1
        self._write(card_number, data)
        try:
            key = _unseal(slot["private_key"], pin, _aad(card_number, kind))
        except (KeyError, TypeError, ValueError) as exc:
            raise CardFileDamaged(card_number, "sealed key unreadable") from exc
        if key is None:
            raise WrongPin(kind, tries_left - 1)
        counter["tries_left"] = MAX_TRIES[kind]
        self._write(card_number, data)
        return key

    def sign(self, card_number: str, kind: str, pin: str, data: bytes) -> bytes:
        """``data`` signed with the card's ``kind`` key (RSA PKCS#1 v1.5, SHA-256).

        Raises ``InvalidPin`` (format; not counted), ``WrongPin`` (counted and saved, with
        ``tries_left``), ``PinLocked``, ``CardNotFound``.
        """
        check_kind(kind)
        check_pin(kind, pin)
        with self._locked(check_card_number(card_number)):
            key = self._open_key(card_number, self._load(card_number), kind, pin)
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def change_pin(self, card_number: str, kind: str, old_pin: str, new_pin: str) -> None:
        """Seal the ``kind`` key under ``new_pin``; ``old_pin`` is checked (and counted)."""
        check_kind(kind)
        check_pin(kind, old_pin)
        check_pin(kind, new_pin)
        with self._locked(check_card_number(card_number)):
            data = self._load(card_number)
            key = self._open_key(card_number, data, kind, old_pin)
            data["keys"][kind]["private_key"] = _seal(key, new_pin, _aad(card_number, kind))
            self._write(card_number, data)

    # What only the municipal office can authorise -----------------------------------------

    def unlock(self, card_number: str, kind: str, token: str) -> None:
        """Reset a locked (or any) PIN counter of ``kind``, authorised by an official.

        ``token`` is a compact JWS (RS256) signed by the CA that issued this card's ``kind``
        certificate, with the claims ``card_number``, ``kind``, ``purpose`` = ``pin-unlock``,
        ``exp`` and ``jti``. A token works once. Raises ``UnlockRejected`` naming the reason.
        """
        check_kind(kind)
        with self._locked(check_card_number(card_number)):
            data = self._load(card_number)
            slot = data["keys"][kind]
            certificate = _load_certificate(slot["certificate"], f"{kind}_certificate")
            ca = issuing_ca(certificate, _load_chain(slot["chain"], f"{kind}_chain"))
            ca_key = ca.public_key()
            if not isinstance(ca_key, rsa.RSAPublicKey):
                raise UnlockRejected("発行 CA の鍵が RSA ではありません。", "the CA key is not RSA")
            try:
                claims = jwt.decode(token, RSAKey.import_key(ca_key), algorithms=["RS256"]).claims
            except (JoseError, ValueError, TypeError) as exc:
                raise UnlockRejected(
                    "発行 CA の署名を確認できません。",
                    "its signature is not the issuing CA's.",
                ) from exc
            now = clock.now().timestamp()
            self._check_unlock_claims(claims, card_number, kind, now)
            used: dict[str, float] = {
                jti: expires
                for jti, expires in slot.get("used_unlock_tokens", {}).items()
                # An expired token is refused anyway, so its id need not be kept.
                if isinstance(expires, int | float) and expires > now
            }
            if claims["jti"] in used:
                raise UnlockRejected("すでに使われています。", "it has already been used.")
            used[claims["jti"]] = float(claims["exp"])
            slot["used_unlock_tokens"] = used
            slot["pin"]["tries_left"] = MAX_TRIES[kind]
            self._write(card_number, data)

    @staticmethod
    def _check_unlock_claims(
        claims: dict[str, Any], card_number: str, kind: str, now: float
    ) -> None:
        if claims.get("purpose") != UNLOCK_PURPOSE:
            raise UnlockRejected(
                "暗証番号のロック解除用ではありません。", "it is not a PIN-unlock token."
            )
        if claims.get("card_number") != card_number:
            raise UnlockRejected("別のカード用です。", "it is for another card.")
        if claims.get("kind") != kind:
            raise UnlockRejected("別の暗証番号用です。", "it is for the other PIN.")
        expires = claims.get("exp")
        if isinstance(expires, bool) or not isinstance(expires, int | float):
            raise UnlockRejected("有効期限がありません。", "it has no expiry time.")
        if expires <= now:
            raise UnlockRejected("有効期限が切れています。", "it has expired.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise UnlockRejected("トークン ID がありません。", "it has no token id (jti).")

    def replace_key(
        self,
        card_number: str,
        kind: str,
        new_private_key: rsa.RSAPrivateKey,
        certificate_pem: str,
        pin: str,
        *,
        chain_pem: str | None = None,
    ) -> None:
        """Put a new key (and its new certificate) into the ``kind`` slot under a new ``pin``.

        This is how a forgotten PIN is reset: the office reissues the certificate for a new key
        made here (``new_private_key()``). The certificate must be for ``new_private_key`` and
        issued by the slot's CA (or one in ``chain_pem``, which then replaces the stored chain),
        so only the CA can authorise the change. The counter starts full.
        """
        check_kind(kind)
        check_pin(kind, pin)
        with self._locked(check_card_number(card_number)):
            data = self._load(card_number)
            slot = data["keys"][kind]
            chain = chain_pem if chain_pem is not None else str(slot["chain"])
            _check_certificate(kind, new_private_key, certificate_pem, chain)
            slot["certificate"] = certificate_pem
            slot["chain"] = chain
            slot["private_key"] = _seal(new_private_key, pin, _aad(card_number, kind))
            slot["pin"]["tries_left"] = MAX_TRIES[kind]
            self._write(card_number, data)
