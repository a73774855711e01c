"""OpenID for Verifiable Credential Issuance 1.0: metadata, the pre-authorized code flow, the
nonce and credential endpoints.

- An issuing authority makes an *offer* (:func:`do_offer_credential`): a pre-authorized code
  goes to the person's inbox inside an ``openid-credential-offer://`` link, and a six-digit
  transaction code comes back to the caller, to reach the person by another channel (on paper
  at the counter, by SMS) so that the inbox alone does not suffice.
- The wallet trades the code and the transaction code for an access token at
  ``/credentials/token`` (the credential issuer's own authorization server, published at
  ``/.well-known/oauth-authorization-server/credentials``).
- It fetches a ``c_nonce`` from ``/credentials/nonce``, signs a JWT proof of possession of its
  key over it (``openid4vci-proof+jwt``), and posts it to ``/credentials/credential``, which
  issues one SD-JWT VC bound to that key.

The authorization code flow runs at kiban's OpenID provider, the second authorization server
in the metadata: a wallet registered there as a client, and approved as a wallet
(``KIBAN_CREDENTIALS_WALLET_CLIENTS``), signs the person in with the card and presents the
provider's access token at the credential endpoint, which issues that person's own credential.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import identity, notifications
from kiban.blocks.credentials import issuer, service
from kiban.blocks.credentials.errors import HolderKeyInvalid, UnknownCredentialType
from kiban.blocks.credentials.models import CredentialsOffer
from kiban.blocks.credentials.settings import CredentialsSettings
from kiban.blocks.credentials.types import TYPES
from kiban.kernel import clock
from kiban.platform import audit, sdjwt
from kiban.platform.settings import get_settings

OAuthError = identity.OAuthError

PRE_AUTHORIZED_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP: Final = "openid4vci-proof+jwt"
OFFER_LIFETIME: Final = timedelta(days=7)
ACCESS_TOKEN_LIFETIME: Final = timedelta(minutes=10)
NONCE_LIFETIME: Final = 300
TX_CODE_LENGTH: Final = 6
MAX_TX_CODE_FAILURES: Final = 5
OFFER_TEMPLATE: Final = "credentials.offer"
AUDIT_OFFERED: Final = "credentials:offer:created"

notifications.register_template(
    OFFER_TEMPLATE,
    subject_ja="{credential}を受け取れます",
    subject_en="A {credential_en} is ready for your wallet",
    body_ja=(
        "{credential}をウォレットに受け取れます。リンクをウォレットで開き、窓口などで別にお伝えした"
        "6桁の確認コードを入力してください。受け取り期限は {expires} です。"
    ),
    body_en=(
        "You can receive your {credential_en} into your wallet. Open the link in your wallet "
        "and enter the six-digit transaction code you were given separately (at the counter, "
        "for example). The offer ends on {expires}."
    ),
    params={"credential": str, "credential_en": str, "expires": str},
)


def _hash(secret: str) -> str:
    """A keyed digest of a code or token (so a copy of the table gives none of them away)."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def authorization_server() -> str:
    return f"{issuer.issuer_id()}/credentials"


def issuer_metadata() -> dict[str, Any]:
    """``/.well-known/openid-credential-issuer`` (OpenID4VCI 1.0 §12.2)."""
    base = issuer.issuer_id()
    configurations = {
        kind.name: {
            "format": "dc+sd-jwt",
            "vct": kind.vct,
            "scope": kind.name,
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": [issuer.ALG],
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": [issuer.ALG]}},
            "credential_metadata": {
                "display": [
                    {"name": kind.display_ja, "locale": "ja-JP"},
                    {"name": kind.display_en, "locale": "en-US"},
                ],
                "claims": [
                    {
                        "path": [claim.name],
                        "display": [
                            {"name": claim.label_ja, "locale": "ja-JP"},
                            {"name": claim.label_en, "locale": "en-US"},
                        ],
                    }
                    for claim in kind.claims
                ],
            },
        }
        for kind in TYPES.values()
    }
    return {
        "credential_issuer": base,
        # Pre-authorized codes at the issuer's own server; the authorization code flow (card
        # sign-in) at kiban's OpenID provider.
        "authorization_servers": [authorization_server(), identity.oidc_issuer()],
        "credential_endpoint": f"{base}/credentials/credential",
        "nonce_endpoint": f"{base}/credentials/nonce",
        "display": [
            {"name": "基盤 証明書発行", "locale": "ja-JP"},
            {"name": "Kiban credential issuer", "locale": "en-US"},
        ],
        "credential_configurations_supported": configurations,
    }


def authorization_server_metadata() -> dict[str, Any]:
    """RFC 8414 metadata of the issuer's own authorization server (pre-authorized codes)."""
    return {
        "issuer": authorization_server(),
        "token_endpoint": f"{authorization_server()}/token",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "response_types_supported": [],
    }


@dataclass(frozen=True)
class Offer:
    """An offer as made: the link the inbox got, and the transaction code to hand over."""

    id: uuid.UUID
    credential_offer: dict[str, Any]
    offer_uri: str
    tx_code: str
    expires_at: datetime


def do_offer_credential(
    session: Session, *, person_id: uuid.UUID, credential_type: str, actor: str
) -> Offer:
    """Offer a ``credential_type`` credential to ``person_id``: the offer goes to the inbox,
    the transaction code to the caller. Errors: ``credentials.unknown_type``,
    ``residents.person_not_found``, ``credentials.person_not_eligible``."""
    kind = TYPES.get(credential_type)
    if kind is None:
        raise UnknownCredentialType(credential_type)
    service.check_issuable(session, person_id, kind.name)
    code = secrets.token_urlsafe(32)
    tx_code = f"{secrets.randbelow(10**TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"
    expires = clock.now() + OFFER_LIFETIME
    offer = CredentialsOffer(
        person_id=person_id,
        credential_type=kind.name,
        code_hash=_hash(code),
        tx_code_hash=_hash(tx_code),
        expires_at=expires,
        created_by=actor,
    )
    session.add(offer)
    session.flush()
    body = {
        "credential_issuer": issuer.issuer_id(),
        "credential_configuration_ids": [kind.name],
        "grants": {
            PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": code,
                # No description: the link must fit the inbox's 500 characters.
                "tx_code": {"input_mode": "numeric", "length": TX_CODE_LENGTH},
            }
        },
    }
    uri = "openid-credential-offer://?credential_offer=" + urllib.parse.quote(
        json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    )
    audit.record(
        session,
        tag=AUDIT_OFFERED,
        actor=actor,
        subject=f"offer:{offer.id}",
        data={"person_id": str(person_id), "type": kind.name},
    )
    notifications.do_send_notice(
        session,
        person_id,
        OFFER_TEMPLATE,
        {
            "credential": kind.display_ja,
            "credential_en": kind.display_en,
            "expires": clock.to_jst(expires).date().isoformat(),
        },
        actor=actor,
        link=uri if len(uri) <= 500 else None,
        dedupe_key=f"credentials.offer:{offer.id}",
    )
    return Offer(offer.id, body, uri, tx_code, expires)


def do_redeem_code(session: Session, *, code: str | None, tx_code: str | None) -> dict[str, Any]:
    """The token response for a pre-authorized code and its transaction code.

    Raises :class:`OAuthError` ``invalid_grant`` for an unknown, used or expired code or a
    wrong transaction code (the failure is counted: the caller must commit before answering).
    """
    if not code:
        raise OAuthError("invalid_request", "pre-authorized_code is required")
    offer = session.scalars(
        select(CredentialsOffer).where(CredentialsOffer.code_hash == _hash(code)).with_for_update()
    ).first()
    now = clock.now()
    if offer is None or offer.redeemed_at is not None or offer.expires_at <= now:
        raise OAuthError("invalid_grant", "the pre-authorized code is not valid")
    if offer.tx_code_failures >= MAX_TX_CODE_FAILURES:
        raise OAuthError("invalid_grant", "too many wrong transaction codes; ask for a new offer")
    if not tx_code or not hmac.compare_digest(_hash(tx_code), offer.tx_code_hash):
        offer.tx_code_failures += 1
        session.flush()
        raise OAuthError("invalid_grant", "the transaction code is not valid")
    token = secrets.token_urlsafe(32)
    offer.redeemed_at = now
    offer.access_token_hash = _hash(token)
    offer.access_expires_at = now + ACCESS_TOKEN_LIFETIME
    session.flush()
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        "authorization_details": [
            {
                "type": "openid_credential",
                "credential_configuration_id": offer.credential_type,
                "credential_identifiers": [offer.credential_type],
            }
        ],
    }


def _nonces() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="kiban.credentials.c_nonce")


def new_nonce() -> str:
    """A fresh ``c_nonce``: signed and timed, so no state is kept (the access token is the
    thing spent once)."""
    return str(_nonces().dumps(secrets.token_urlsafe(16)))


def _check_proof(proof_jwt: Any) -> dict[str, Any]:
    """The holder's public JWK from a valid JWT proof of possession."""
    if not isinstance(proof_jwt, str):
        raise OAuthError("invalid_proof", "a JWT proof is required")
    try:
        header, _ = sdjwt.peek(proof_jwt)
    except sdjwt.SdJwtError as exc:
        raise OAuthError("invalid_proof", "the proof is not a JWT") from exc
    if header.get("typ") != PROOF_TYP or header.get("alg") != issuer.ALG:
        raise OAuthError("invalid_proof", f"the proof must be typ {PROOF_TYP}, alg ES256")
    try:
        holder = service.holder_key_of(header.get("jwk"))
        payload = sdjwt.verify_jws(proof_jwt, holder)
    except (sdjwt.SdJwtError, HolderKeyInvalid) as exc:
        raise OAuthError("invalid_proof", "the proof does not verify with its jwk") from exc
    if payload.get("aud") != issuer.issuer_id():
        raise OAuthError("invalid_proof", "the proof's aud is not this credential issuer")
    issued = payload.get("iat")
    now = clock.now().timestamp()
    if not isinstance(issued, int) or not now - NONCE_LIFETIME <= issued <= now + 60:
        raise OAuthError("invalid_proof", "the proof's iat is not recent")
    try:
        _nonces().loads(str(payload.get("nonce", "")), max_age=NONCE_LIFETIME)
    except BadSignature as exc:
        raise OAuthError("invalid_nonce", "the proof's nonce is not a valid c_nonce") from exc
    return holder.as_dict(private=False)


def _proof_of(request: Any, credential_type: str) -> dict[str, Any]:
    """The holder JWK of a credential request for ``credential_type`` with one JWT proof."""
    if not isinstance(request, dict):
        raise OAuthError("invalid_credential_request", "the request is not a JSON object")
    wanted = request.get("credential_configuration_id") or request.get("credential_identifier")
    if wanted != credential_type:
        raise OAuthError(
            "unknown_credential_configuration", "the access token is for another credential"
        )
    proofs = request.get("proofs")
    if not (isinstance(proofs, dict) and isinstance(proofs.get("jwt"), list) and proofs["jwt"]):
        raise OAuthError("invalid_proof", 'a proof is required: {"proofs": {"jwt": [...]}}')
    if len(proofs["jwt"]) != 1:
        raise OAuthError("invalid_proof", "one proof per request")
    return _check_proof(proofs["jwt"][0])


def _issue_by_offer(session: Session, offer: CredentialsOffer, request: Any) -> dict[str, Any]:
    if (
        offer.credential_id is not None
        or offer.access_expires_at is None
        or offer.access_expires_at <= clock.now()
    ):
        raise OAuthError("invalid_token", "the access token is not valid", status=401)
    holder_jwk = _proof_of(request, offer.credential_type)
    issued = service.do_issue_credential(
        session,
        person_id=offer.person_id,
        credential_type=offer.credential_type,
        holder_jwk=holder_jwk,
        actor=f"credentials:offer:{offer.id}",
    )
    offer.credential_id = issued.id
    session.flush()
    return {"credentials": [{"credential": issued.credential}]}


def _issue_by_sign_in(session: Session, access_token: str, request: Any) -> dict[str, Any]:
    """The authorization code flow: an access token kiban's OpenID provider gave a wallet
    client after the person signed in with the card gets that person's own credential."""
    token = identity.authenticate_access_token(session, access_token)
    if token.client_id not in CredentialsSettings().wallet_client_ids:
        raise OAuthError("invalid_token", "the client is not an approved wallet", status=401)
    wanted = request.get("credential_configuration_id") if isinstance(request, dict) else None
    kind = TYPES.get(wanted) if isinstance(wanted, str) else None
    if kind is None:
        raise OAuthError("unknown_credential_configuration", "no such credential configuration")
    holder_jwk = _proof_of(request, kind.name)
    issued = service.do_issue_credential(
        session,
        person_id=token.person_id,
        credential_type=kind.name,
        holder_jwk=holder_jwk,
        actor=f"credentials:oidc:{token.client_id}",
    )
    return {"credentials": [{"credential": issued.credential}]}


def do_issue_by_request(
    session: Session, *, access_token: str | None, request: Any
) -> dict[str, Any]:
    """The credential response for a credential request: with an access token of an offer
    (pre-authorized code; one credential) or of kiban's OpenID provider given to an approved
    wallet client (authorization code flow; the signed-in person's own credential)."""
    if not access_token:
        raise OAuthError("invalid_token", "a bearer access token is required", status=401)
    offer = session.scalars(
        select(CredentialsOffer)
        .where(CredentialsOffer.access_token_hash == _hash(access_token))
        .with_for_update()
    ).first()
    if offer is not None:
        return _issue_by_offer(session, offer, request)
    return _issue_by_sign_in(session, access_token, request)
