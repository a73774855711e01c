"""OpenID for Verifiable Presentations 1.0 for verifiers: an authorization request with a DCQL
query, and the check of the ``vp_token`` that comes back by ``direct_post``.

:func:`make_request` builds the request a verifier sends to the wallet (unsigned, for a client
identified by its ``redirect_uri:`` prefix), with a fresh ``nonce`` and ``state``;
:func:`verify_response` checks a ``vp_token`` against that request: one presentation per
credential query, each verified (:func:`verify_presentation`) with the request's ``nonce`` and
the ``client_id`` as the KB-JWT audience, of a ``vct`` the query allows, disclosing every
claim asked for. The answer keeps the claims the query asked for and nothing else, so a shop
that asks for ``age_over_20`` never stores a birth date a wallet disclosed by mistake.

Relying-party registration (which claims each verifier may ask) comes with the verifier block.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks.credentials.errors import (
    PresentationRefused,
    UnknownClaim,
    UnknownCredentialType,
)
from kiban.blocks.credentials.types import TYPES
from kiban.blocks.credentials.verifier import VerifiedPresentation, verify_presentation

FORMAT: Final = "dc+sd-jwt"


def make_request(
    *, client_id: str, response_uri: str, credential_type: str, claims: list[str]
) -> dict[str, Any]:
    """An OpenID4VP authorization request asking for ``claims`` of one credential type."""
    kind = TYPES.get(credential_type)
    if kind is None:
        raise UnknownCredentialType(credential_type)
    known = {claim.name for claim in kind.claims}
    for name in claims:
        if name not in known:
            raise UnknownClaim(credential_type, name)
    return {
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": response_uri,
        "nonce": secrets.token_urlsafe(24),
        "state": secrets.token_urlsafe(16),
        "dcql_query": {
            "credentials": [
                {
                    "id": kind.name,
                    "format": FORMAT,
                    "meta": {"vct_values": [kind.vct]},
                    "claims": [{"path": [name]} for name in claims],
                }
            ]
        },
        "client_metadata": {
            "vp_formats_supported": {
                FORMAT: {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}
            }
        },
    }


def _query_of(request: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        queries = request["dcql_query"]["credentials"]
    except (KeyError, TypeError) as exc:
        raise PresentationRefused("request_invalid") from exc
    if not isinstance(queries, list) or not queries:
        raise PresentationRefused("request_invalid")
    return queries


def _requested(query: dict[str, Any]) -> list[list[str]]:
    paths = [claim.get("path") for claim in query.get("claims", []) if isinstance(claim, dict)]
    if not all(isinstance(p, list) and p and all(isinstance(s, str) for s in p) for p in paths):
        raise PresentationRefused("request_invalid")
    return paths  # type: ignore[return-value]


def _pick(claims: dict[str, Any], path: list[str]) -> Any:
    node: Any = claims
    for step in path:
        if not isinstance(node, dict) or step not in node:
            raise PresentationRefused("claim_missing")
        node = node[step]
    return node


def _keep(claims: dict[str, Any], paths: list[list[str]]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for path in paths:
        value = _pick(claims, path)
        node = kept
        for step in path[:-1]:
            node = node.setdefault(step, {})
        node[path[-1]] = value
    return kept


def verify_response(
    session: Session, request: dict[str, Any], vp_token: Any
) -> dict[str, VerifiedPresentation]:
    """The verified presentation for each credential query of ``request``, holding only the
    claims asked for; refused with a reason otherwise."""
    if not isinstance(request.get("nonce"), str) or not isinstance(request.get("client_id"), str):
        raise PresentationRefused("request_invalid")
    if not isinstance(vp_token, dict):
        raise PresentationRefused("credential_missing")
    answers: dict[str, VerifiedPresentation] = {}
    for query in _query_of(request):
        query_id = query.get("id")
        presented = vp_token.get(query_id) if isinstance(query_id, str) else None
        if isinstance(presented, list) and len(presented) == 1:
            presented = presented[0]
        if not isinstance(presented, str):
            raise PresentationRefused("credential_missing")
        found = verify_presentation(
            session, presented, nonce=request["nonce"], audience=request["client_id"]
        )
        allowed = query.get("meta", {}).get("vct_values")
        if isinstance(allowed, list) and found.vct not in allowed:
            raise PresentationRefused("wrong_vct")
        kept = _keep(found.claims, _requested(query))
        answers[str(query_id)] = VerifiedPresentation(
            vct=found.vct,
            credential_type=found.credential_type,
            issuer=found.issuer,
            claims=kept,
            issued_at=found.issued_at,
            expires_at=found.expires_at,
            status=found.status,
        )
    return answers
