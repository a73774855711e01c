"""Signed mesh messages: compact JWS (Ed25519) with the signer's certificate in ``x5c``,
verified against a certificate or the mesh CA, and the body digests they bind."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from kiban.blocks.mesh.errors import MeshRefusal
from kiban.kernel import clock

ALG: Final = "Ed25519"
SIGNATURE_HEADER: Final = "X-Road-Signature"
JSON_TYPE: Final = "application/json"


# The protected header carries the signer's certificate (``x5c``); nothing else of the mesh's
# makes a header this big, so a longer one is refused before it is parsed.
MAX_HEADER_LENGTH: Final = 4096
_COMPACT = re.compile(r"^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})$")


# --- signing -----------------------------------------------------------------------------------


def digest(data: bytes | str) -> str:
    """Base64url SHA-256 without padding: the hashes messages carry."""
    raw = data.encode() if isinstance(data, str) else data
    return _b64(hashlib.sha256(raw).digest())


# ``json.dumps`` with options builds an encoder on every call; the mesh encodes several
# messages an exchange, all with these.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_body(body: Any) -> bytes:
    """The bytes of a JSON body as the mesh sends them (empty for None)."""
    if body is None:
        return b""
    return _encode_json(body).encode()


def decode_body(data: bytes) -> Any:
    return json.loads(data) if data else None


# base64url through binascii: base64's url-safe functions are Python wrappers around it that
# cost more than the conversion itself, several times a message.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = str.maketrans("-_", "+/")


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE).decode()


def _unb64(text: str) -> bytes:
    """Decode base64url without padding (ValueError if malformed)."""
    return binascii.a2b_base64(text.translate(_FROM_URLSAFE) + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class _Cert:
    subject: str
    x5c: str
    public: VerifyKey
    header: str  # The encoded protected header of a JWS this certificate's key signs.


@lru_cache(maxsize=4096)
def _load_cert(pem_or_der_b64: str) -> tuple[x509.Certificate, _Cert]:
    # Parsing a certificate costs more than checking a signature, and every message names one
    # of a few hundred: parsed once per process.
    if pem_or_der_b64.startswith("-----BEGIN"):
        cert = x509.load_pem_x509_certificate(pem_or_der_b64.encode())
    else:
        cert = x509.load_der_x509_certificate(base64.b64decode(pem_or_der_b64, validate=True))
    public = cert.public_key()
    if not isinstance(public, ed25519.Ed25519PublicKey):
        raise ValueError("mesh certificates certify Ed25519 keys")
    subject = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    header = {"alg": ALG, "typ": "xroad+jws", "x5c": [x5c]}
    encoded = _b64(json.dumps(header, separators=(",", ":")).encode())
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return cert, _Cert(str(subject), x5c, VerifyKey(raw), encoded)


# Keys are held as ``cryptography`` objects (the key store, certificates); the hot path signs
# and verifies with libsodium (PyNaCl), which does an Ed25519 verification in half the time of
# OpenSSL's and is stricter (canonical encodings, no small-order keys). The signatures are the
# same RFC 8032 signatures, so either library verifies the other's (a test checks).
_signers: dict[int, tuple[ed25519.Ed25519PrivateKey, SigningKey]] = {}


def _signer(key: ed25519.Ed25519PrivateKey) -> SigningKey:
    held = _signers.get(id(key))
    if held is None or held[0] is not key:
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        held = _signers[id(key)] = (key, SigningKey(raw))
    return held[1]


@lru_cache(maxsize=4096)
def _header(encoded: str) -> str:
    """The ``x5c`` certificate of a protected header, checked (ValueError if malformed): the
    algorithm must be the mesh's, and no extension may be marked critical (RFC 7515 §4.1.11:
    the mesh understands none). Cached: a signer sends the same header every time."""
    if len(encoded) > MAX_HEADER_LENGTH:
        raise ValueError("JWS header too long")
    try:
        header = json.loads(_unb64(encoded).decode())
    except ValueError as exc:
        raise ValueError("malformed JWS header") from exc
    x5c = header.get("x5c") if isinstance(header, dict) else None
    if (
        not isinstance(header, dict)
        or header.get("alg") != ALG
        or "crit" in header
        or not isinstance(x5c, list)
        or not x5c
        or not isinstance(x5c[0], str)
    ):
        raise ValueError("unsupported JWS header")
    return x5c[0]


def _split(token: str) -> tuple[str, str, str]:
    """The three parts of a compact JWS in strict base64url (ValueError otherwise), so that one
    signature has exactly one encoding and the request hash binds it."""
    match = _COMPACT.match(token)
    if match is None:
        raise ValueError("malformed JWS")
    return match.group(1), match.group(2), match.group(3)


def sign(key: ed25519.Ed25519PrivateKey, certificate_pem: str, claims: Mapping[str, Any]) -> str:
    """A compact JWS of ``claims`` signed with ``key``, its certificate in ``x5c``."""
    header = _load_cert(certificate_pem)[1].header
    payload = _b64(_encode_json(claims).encode())
    signing_input = f"{header}.{payload}"
    signature = _signer(key).sign(signing_input.encode("ascii")).signature
    return f"{signing_input}.{_b64(signature)}"


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a JWS before its signature is checked (to learn who claims to sign)."""
    # A token that does not even decode cannot carry a valid signature.
    try:
        claims = json.loads(_unb64(token.split(".")[1]).decode())
    except (IndexError, ValueError):
        raise MeshRefusal("Client.InvalidSignature", "JWS") from None
    if not isinstance(claims, dict):
        raise MeshRefusal("Client.InvalidSignature", "JWS")
    return claims


def verify(token: str, certificate_pem: str) -> dict[str, Any]:
    """The claims of ``token`` if the certificate's key signed it; ValueError otherwise."""
    claims = json.loads(_unb64(signed_payload(token, certificate_pem)).decode())
    if not isinstance(claims, dict):
        raise ValueError("claims are not an object")
    return claims


def signed_payload(token: str, certificate_pem: str) -> str:
    """The encoded payload of ``token`` if the certificate's key signed it; ValueError
    otherwise."""
    public = _load_cert(certificate_pem)[1].public
    header, payload, signature = _split(token)
    _header(header)
    raw = _unb64(signature)
    if _b64(raw) != signature:
        # Unused low bits set: another spelling of the same signature.
        raise ValueError("signature not in canonical base64url")
    try:
        public.verify(f"{header}.{payload}".encode("ascii"), raw)
    except BadSignatureError:
        raise ValueError("signature does not verify") from None
    return payload


@lru_cache(maxsize=4096)
def _issued_by(x5c: str, ca_pem: str) -> x509.Certificate:
    """The ``x5c`` certificate if the CA signed it (ValueError if not); cached, since a
    signature on a certificate never changes."""
    cert, _ = _load_cert(x5c)
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    ca_key = ca.public_key()
    if not isinstance(ca_key, ec.EllipticCurvePublicKey) or cert.signature_hash_algorithm is None:
        raise ValueError("unsupported CA")
    try:
        ca_key.verify(
            cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
        )
    except InvalidSignature:
        raise ValueError("certificate not issued by the mesh CA") from None
    return cert


def _x5c_trusted(x5c: str, ca_pem: str) -> str:
    """The subject of an ``x5c`` certificate the CA issued and valid now (ValueError if not).
    Validity is checked on every message: a certificate expires while a process runs."""
    cert = _issued_by(x5c, ca_pem)
    now = clock.now()
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ValueError("certificate not valid now")
    return _load_cert(x5c)[1].subject


def verify_with_ca(token: str, ca_pem: str) -> tuple[str, dict[str, Any]]:
    """``(signer subsystem id, claims)`` of a JWS whose ``x5c`` certificate the mesh CA issued."""
    x5c = _header(_split(token)[0])
    signer = _x5c_trusted(x5c, ca_pem)
    return signer, verify(token, x5c)
