"""The credential issuer's identity: its identifier, its ES256 key and the metadata documents
that publish them (SD-JWT VC issuer metadata, type metadata)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from kiban.blocks.credentials.types import TYPES, CredentialType
from kiban.platform.keys import get_key_store
from kiban.platform.settings import get_settings

KEY_NAME: Final = "credentials-issuer"
ALG: Final = "ES256"
TYP: Final = "dc+sd-jwt"


def issuer_id() -> str:
    """The issuer identifier (``iss``): kiban's base URL."""
    return get_settings().base_url.rstrip("/")


@lru_cache(maxsize=8)
def _jwk_for(private_key: ec.EllipticCurvePrivateKey) -> ECKey:
    key = ECKey.import_key(private_key)
    key.ensure_kid()
    return key


def signing_key() -> ECKey:
    """The issuer's P-256 key from the key store, with kid = its RFC 7638 thumbprint."""
    private_key = get_key_store().get_or_create(KEY_NAME, "ec-p256")
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"key {KEY_NAME} is not a P-256 key")
    return _jwk_for(private_key)


def verification_key() -> tuple[str, ec.EllipticCurvePublicKey]:
    """The issuer's kid and public key, cached per installation (the verifier's hot path)."""
    settings = get_settings()
    return _verification_key(str(settings.data_dir), settings.secret_key)


@lru_cache(maxsize=8)
def _verification_key(_data_dir: str, _secret: str) -> tuple[str, ec.EllipticCurvePublicKey]:
    private_key = get_key_store().get_or_create(KEY_NAME, "ec-p256")
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"key {KEY_NAME} is not a P-256 key")
    return str(signing_key().kid), private_key.public_key()


def public_jwk() -> dict[str, Any]:
    key = signing_key()
    return {**key.as_dict(private=False), "kid": key.kid, "use": "sig", "alg": ALG}


def jwt_vc_issuer_metadata() -> dict[str, Any]:
    """``/.well-known/jwt-vc-issuer`` (SD-JWT VC §5): the issuer and its keys."""
    return {"issuer": issuer_id(), "jwks": {"keys": [public_jwk()]}}


def type_metadata(credential_type: CredentialType) -> dict[str, Any]:
    """The SD-JWT VC type metadata of ``credential_type`` (served at its ``vct``)."""
    return {
        "vct": credential_type.vct,
        "name": credential_type.display_en,
        "description": credential_type.description_en,
        "display": [
            {"locale": "ja-JP", "name": credential_type.display_ja},
            {"locale": "en-US", "name": credential_type.display_en},
        ],
        "claims": [
            {
                "path": [claim.name],
                "display": [
                    {"locale": "ja-JP", "label": claim.label_ja},
                    {"locale": "en-US", "label": claim.label_en},
                ],
                "sd": "always",
            }
            for claim in credential_type.claims
        ],
    }


def known_types() -> list[CredentialType]:
    return list(TYPES.values())
