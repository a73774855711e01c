"""Credentials over HTTP: the issuer's public documents, the status lists, and verification.

- ``/.well-known/jwt-vc-issuer``: the SD-JWT VC issuer metadata (its keys);
- ``/credentials/types/{name}``: each type's metadata (the ``vct`` URL);
- ``/credentials/status/{number}``: a Token Status List (``application/statuslist+jwt``);
- ``POST /api/v1/credentials/verify``: for integrators, a presentation's disclosed claims or
  the precise reason it is refused.

All public: they publish no personal data, and verification learns only what the holder
disclosed to that verifier.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from kiban.blocks.credentials import issuer, service
from kiban.blocks.credentials.errors import REASONS, UnknownCredentialType
from kiban.blocks.credentials.schemas import PresentationVerified, PresentationVerify
from kiban.blocks.credentials.types import TYPES
from kiban.blocks.credentials.verifier import verify_presentation
from kiban.platform.webkit import DbSession, public

VERIFY_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "The presentation is refused; `error.code` is one of "
        + ", ".join(f"`credentials.presentation.{r}`" for r in REASONS)
        + " (or the body is invalid, `error.field` names it)"
    }
}

router = APIRouter(tags=["credentials"], dependencies=[Depends(public)])


@router.get("/.well-known/jwt-vc-issuer", summary="SD-JWT VC issuer metadata")
def jwt_vc_issuer() -> dict[str, Any]:
    """The issuer identifier and its public keys (JWKS), to verify kiban's credentials."""
    return issuer.jwt_vc_issuer_metadata()


@router.get(
    "/credentials/types/{name}",
    summary="Credential type metadata",
    responses={404: {"description": "`credentials.unknown_type`"}},
)
def type_metadata(name: str) -> dict[str, Any]:
    """The SD-JWT VC type metadata of a credential type (its ``vct`` URL)."""
    kind = TYPES.get(name)
    if kind is None:
        error = UnknownCredentialType(name)
        error.status = 404
        raise error
    return issuer.type_metadata(kind)


@router.get(
    "/credentials/status/{number}",
    summary="Token Status List",
    response_class=Response,
    responses={
        200: {"content": {"application/statuslist+jwt": {}}},
        404: {"description": "`credentials.status_list_not_found`"},
    },
)
def status_list(number: int, session: DbSession) -> Response:
    """The status list as a signed JWT: one bit per credential (1 = revoked), ZLIB-compressed.
    Cache it for at most its ``ttl`` seconds, the publication interval."""
    token = service.status_list_token(session, number)
    return Response(
        token,
        media_type="application/statuslist+jwt",
        headers={"Cache-Control": f"public, max-age={service.PUBLICATION_TTL}"},
    )


@router.post(
    "/api/v1/credentials/verify",
    summary="Verify a presentation",
    responses=VERIFY_ERRORS,
)
def verify(body: PresentationVerify, session: DbSession) -> PresentationVerified:
    """Verify an SD-JWT VC presentation: the issuer's signature, ``vct``, validity, each
    disclosure against its digest, the KB-JWT (signed by the holder key, ``nonce``, ``aud``,
    ``sd_hash``, recent ``iat``) and the status list. Answers the disclosed claims, and only
    those; a refusal is a 422 whose code names the check that failed."""
    found = verify_presentation(
        session, body.presentation, nonce=body.nonce, audience=body.audience
    )
    return PresentationVerified(
        vct=found.vct,
        credential_type=found.credential_type,
        issuer=found.issuer,
        claims=found.claims,
        issued_at=found.issued_at,
        expires_at=found.expires_at,
        status=found.status,
    )
