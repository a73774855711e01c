"""The OpenID provider's keys: the ID-token signing keys (RS256 and ES256), the JWKS that
publishes them, and the pairwise-subject key.

OpenID Connect Core §15.1 makes RS256 mandatory to implement, and standard clients (Authlib,
for one) refuse a provider that does not list it; ES256 is kept for clients that ask for it
in their registration (``id_token_signed_response_alg``). Both keys live in the key store and
are published with their ``kid`` (the RFC 7638 thumbprint) and ``alg``, so a client verifies a
token with the one key its header names.
"""

from __future__ import annotations

import base64
import hmac
import json
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, get_args

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from kiban.blocks.identity.oidc_errors import OAuthError
from kiban.blocks.identity.oidc_schemas import IdTokenAlg
from kiban.kernel import clock
from kiban.platform.keys import get_key_store

ID_TOKEN_ALGS: Final[tuple[IdTokenAlg, ...]] = get_args(IdTokenAlg)
# The ES256 key keeps its original name, so the kid of tokens issued before RS256 is unchanged.
SIGNING_KEY_NAMES: Final[dict[IdTokenAlg, str]] = {
    "ES256": "oidc-signing",
    "RS256": "oidc-signing-rs256",
}
PAIRWISE_KEY_NAME: Final = "oidc-pairwise"


@lru_cache(maxsize=8)
def _jwk_for(private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> ECKey | RSAKey:
    key: ECKey | RSAKey = (
        ECKey.import_key(private_key)
        if isinstance(private_key, ec.EllipticCurvePrivateKey)
        else RSAKey.import_key(private_key)
    )
    key.ensure_kid()
    # ensure_kid() sets the RFC 7638 thumbprint; say so explicitly so that a change in the
    # library's default would show up here rather than as a silent kid change.
    if key.kid != key.thumbprint():
        raise RuntimeError("unexpected kid")
    return key


def _private_key(alg: IdTokenAlg) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    name = SIGNING_KEY_NAMES[alg]
    private_key = get_key_store().get_or_create(name, "rsa-2048" if alg == "RS256" else "ec-p256")
    expected = rsa.RSAPrivateKey if alg == "RS256" else ec.EllipticCurvePrivateKey
    if not isinstance(private_key, expected):
        raise TypeError(f"key {name} is not a key for {alg}")
    return private_key


def signing_key(alg: IdTokenAlg = "ES256") -> ECKey | RSAKey:
    """The provider's key for ``alg`` (RSA-2048 or P-256, from the key store), with kid = the
    RFC 7638 thumbprint."""
    return _jwk_for(_private_key(alg))


def jwks() -> dict[str, Any]:
    """The JSON Web Key Set relying parties verify ID tokens with (public parts only): one key
    per algorithm, each with ``kid``, ``use`` and ``alg``."""
    keys = []
    for alg in ID_TOKEN_ALGS:
        key = signing_key(alg)
        keys.append({**key.as_dict(private=False), "kid": key.kid, "use": "sig", "alg": alg})
    return {"keys": keys}


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@dataclass(frozen=True, slots=True)
class _Signer:
    """A signing key with its encoded JWS header (``alg``, ``typ``, ``kid``), made once."""

    alg: IdTokenAlg
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    header: bytes  # base64url of the header, then "."

    def sign(self, claims: dict[str, Any]) -> str:
        payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        signing_input = self.header + _b64url(payload)
        if isinstance(self.key, rsa.RSAPrivateKey):
            signature = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            # JWS (RFC 7518 §3.4) carries R and S as two 32-byte big-endian integers, not DER.
            r, s = decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return (signing_input + b"." + _b64url(signature)).decode("ascii")


@lru_cache(maxsize=8)
def _signer(
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, alg: IdTokenAlg
) -> _Signer:
    header = {"alg": alg, "typ": "JWT", "kid": _jwk_for(private_key).kid}
    encoded = _b64url(json.dumps(header, separators=(",", ":")).encode("ascii")) + b"."
    return _Signer(alg=alg, key=private_key, header=encoded)


def sign_id_token(claims: dict[str, Any], alg: IdTokenAlg) -> str:
    """``claims`` as a JWT (JWS compact serialisation) signed with the key for ``alg``; the
    header names the key. The header is encoded once per key, and the signature is made with
    ``cryptography`` directly: a general JOSE library's per-token work (key and header
    handling, registry checks) cost several times the signature itself. ``decode_id_token``
    and the interoperability tests read the tokens back with other implementations."""
    return _signer(_private_key(alg), alg).sign(claims)


def decode_id_token(token: str, *, issuer: str, audience: str) -> dict[str, Any]:
    """Verify an ID token this provider issued (signature with either key, issuer, audience,
    expiry)."""
    try:
        keys = KeySet([signing_key(alg) for alg in ID_TOKEN_ALGS])
        decoded = jwt.decode(token, keys, algorithms=list(ID_TOKEN_ALGS))
        jwt.JWTClaimsRegistry(
            # kiban's clock, which issued the token (and which tests move), not the wall clock.
            now=lambda: int(clock.now().timestamp()),
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise OAuthError("invalid_token", "the ID token is not valid", status=401) from error
    return dict(decoded.claims)


@lru_cache(maxsize=4)
def _pairwise_secret(private_key: ed25519.Ed25519PrivateKey) -> bytes:
    raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"kiban oidc pairwise subject"
    ).derive(raw)


def pairwise_subject(sector_identifier: str, person_id: uuid.UUID) -> str:
    """The ``sub`` a sector sees for a person (OpenID Connect Core §8.1).

    The HMAC key comes from a key in the key store (not from the secret key, which operators
    may rotate), so subjects stay the same across restarts and deployments of one data
    directory.
    """
    private_key = get_key_store().get_or_create(PAIRWISE_KEY_NAME, "ed25519")
    if not isinstance(private_key, ed25519.Ed25519PrivateKey):
        raise TypeError(f"key {PAIRWISE_KEY_NAME} is not an Ed25519 key")
    message = f"{sector_identifier}\n{person_id}".encode()
    # hmac.digest: the one-shot HMAC in C, the same value as hmac.new(...).digest().
    digest = hmac.digest(_pairwise_secret(private_key), message, "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
