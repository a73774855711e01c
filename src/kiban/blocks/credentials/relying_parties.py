"""The verifier side of OpenID4VP 1.0: registered relying parties and stored requests.

- A **relying party** is registered with the claims of one credential type it may ask for and
  why, in Japanese and English (:func:`do_register_relying_party`); the wallet shows that
  registration to the person, and a request can never ask for more than it.
- A **presentation request** (:func:`do_create_presentation_request`) is kept here: a DCQL
  query for the registered claims, ``response_mode=direct_post``, a fresh ``nonce`` and
  ``state``, an expiry ten minutes on. The wallet fetches it by reference (``request_uri``,
  an unsigned request object: the client is identified by its ``redirect_uri:`` prefix, the
  response URI) and posts the ``vp_token`` back once.
- :func:`do_answer_presentation_request` checks the answer with the credentials verifier
  (signature, ``vct``, validity, disclosures, KB-JWT nonce and audience, status) and keeps
  **only the claims asked for**, or the precise reason it refused. A request is answered once.

The stored result is what the relying party reads (:func:`get_presentation_outcome`); it
never holds a claim the request did not ask for, whatever the wallet disclosed.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks.credentials import events as topics
from kiban.blocks.credentials import presentation
from kiban.blocks.credentials.errors import (
    PresentationRefused,
    PresentationRequestClosed,
    PresentationRequestNotFound,
    RelyingPartyInvalid,
    RelyingPartyNotFound,
    UnknownClaim,
    UnknownCredentialType,
)
from kiban.blocks.credentials.models import (
    CredentialsPresentationRequest,
    CredentialsRelyingParty,
)
from kiban.blocks.credentials.types import TYPES
from kiban.kernel import clock
from kiban.platform import audit, sdjwt
from kiban.platform.settings import get_settings

REQUEST_LIFETIME: Final = timedelta(minutes=10)
REQUEST_TYP: Final = "oauth-authz-req+jwt"
PENDING: Final = "pending"
VERIFIED: Final = "verified"
REFUSED: Final = "refused"
_NAME: Final = re.compile(r"[a-z][a-z0-9-]{1,63}")
_MAX_TEXT: Final = {"display": 200, "purpose": 500}


@dataclass(frozen=True)
class RelyingParty:
    """A registered verifier, as the wallet shows it to the person."""

    name: str
    client_id: str
    response_uri: str
    display_ja: str
    display_en: str
    purpose_ja: str
    purpose_en: str
    credential_type: str
    claims: tuple[str, ...]


@dataclass(frozen=True)
class PresentationRequest:
    """A stored request: where the wallet fetches it, and the link that opens the wallet."""

    handle: str
    relying_party: str
    client_id: str
    request_uri: str
    wallet_link: str
    expires_at: datetime


@dataclass(frozen=True)
class PresentationOutcome:
    """What the relying party learns: ``pending``, ``verified`` with the asked claims only,
    or ``refused`` with the reason (one of ``errors.REASONS``)."""

    handle: str
    relying_party: str
    outcome: str
    expired: bool
    reason: str | None
    result: dict[str, Any] | None
    answered_at: datetime | None
    expires_at: datetime


def _base() -> str:
    return get_settings().base_url.rstrip("/")


def response_uri(name: str) -> str:
    """Where the wallet posts its answer to relying party ``name`` (``direct_post``)."""
    return f"{_base()}/credentials/verifiers/{name}/response"


def client_id_of(name: str) -> str:
    """The OpenID4VP ``client_id``: the response URI with the ``redirect_uri:`` prefix. It is
    the audience the wallet's KB-JWT must name."""
    return f"redirect_uri:{response_uri(name)}"


def request_uri(handle: str) -> str:
    return f"{_base()}/credentials/requests/{handle}"


def _read(row: CredentialsRelyingParty) -> RelyingParty:
    return RelyingParty(
        name=row.name,
        client_id=client_id_of(row.name),
        response_uri=response_uri(row.name),
        display_ja=row.display_ja,
        display_en=row.display_en,
        purpose_ja=row.purpose_ja,
        purpose_en=row.purpose_en,
        credential_type=row.credential_type,
        claims=tuple(row.claims),
    )


def _text(value: str, field: str, kind: str) -> str:
    text = value.strip()
    if not text or len(text) > _MAX_TEXT[kind] or any(ord(c) < 0x20 for c in text):
        raise RelyingPartyInvalid(
            field,
            f"1～{_MAX_TEXT[kind]}文字の1行",
            f"one line of 1 to {_MAX_TEXT[kind]} characters",
        )
    return text


def do_register_relying_party(
    session: Session,
    *,
    name: str,
    display_ja: str,
    display_en: str,
    purpose_ja: str,
    purpose_en: str,
    credential_type: str,
    claims: list[str],
    actor: str,
) -> RelyingParty:
    """Register (or change) relying party ``name``: the claims of ``credential_type`` it may
    ask for and its purpose. Registering the same thing again changes nothing and writes no
    audit entry. Errors: ``credentials.relying_party_invalid``, ``credentials.unknown_type``,
    ``credentials.unknown_claim``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise RelyingPartyInvalid(
            "name", "英小文字・数字・ハイフンの2～64文字", "2 to 64 of a-z, 0-9 and '-'"
        )
    kind = TYPES.get(credential_type)
    if kind is None:
        raise UnknownCredentialType(credential_type)
    known = {claim.name for claim in kind.claims}
    if not claims:
        raise RelyingPartyInvalid("claims", "項目が必要です", "at least one claim")
    for claim in claims:
        if claim not in known:
            raise UnknownClaim(credential_type, claim)
    wanted = {
        "display_ja": _text(display_ja, "display_ja", "display"),
        "display_en": _text(display_en, "display_en", "display"),
        "purpose_ja": _text(purpose_ja, "purpose_ja", "purpose"),
        "purpose_en": _text(purpose_en, "purpose_en", "purpose"),
        "credential_type": kind.name,
        "claims": sorted(set(claims)),
    }
    row = session.scalars(
        select(CredentialsRelyingParty).where(CredentialsRelyingParty.name == name)
    ).one_or_none()
    if row is not None and all(getattr(row, key) == value for key, value in wanted.items()):
        return _read(row)
    if row is None:
        row = CredentialsRelyingParty(name=name, registered_by=actor, **wanted)
        session.add(row)
    else:
        for key, value in wanted.items():
            setattr(row, key, value)
        row.registered_by = actor
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_RP_REGISTERED,
        actor=actor,
        subject=f"relying_party:{name}",
        data={"type": kind.name, "claims": wanted["claims"]},
    )
    return _read(row)


def _party(session: Session, name: str) -> CredentialsRelyingParty:
    row = session.scalars(
        select(CredentialsRelyingParty).where(CredentialsRelyingParty.name == name)
    ).one_or_none()
    if row is None:
        raise RelyingPartyNotFound
    return row


def get_relying_party(session: Session, name: str) -> RelyingParty | None:
    """Relying party ``name``, or ``None`` when it is not registered."""
    row = session.scalars(
        select(CredentialsRelyingParty).where(CredentialsRelyingParty.name == name)
    ).one_or_none()
    return None if row is None else _read(row)


def do_create_presentation_request(
    session: Session, *, relying_party: str, actor: str
) -> PresentationRequest:
    """A new stored request of ``relying_party`` for its registered claims. Errors:
    ``credentials.relying_party_not_found``, ``credentials.unknown_type`` (a type that is no
    longer issued)."""
    party = _party(session, relying_party)
    if party.credential_type not in TYPES:
        raise UnknownCredentialType(party.credential_type)
    now = clock.now().replace(microsecond=0)
    row = CredentialsPresentationRequest(
        handle=secrets.token_urlsafe(24),
        relying_party_id=party.id,
        nonce=secrets.token_urlsafe(24),
        state=secrets.token_urlsafe(24),
        claims=list(party.claims),
        expires_at=now + REQUEST_LIFETIME,
        outcome=PENDING,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_REQUEST_CREATED,
        actor=actor,
        subject=f"presentation_request:{row.id}",
        data={"relying_party": party.name, "claims": list(party.claims)},
    )
    client_id = client_id_of(party.name)
    uri = request_uri(row.handle)
    return PresentationRequest(
        handle=row.handle,
        relying_party=party.name,
        client_id=client_id,
        request_uri=uri,
        wallet_link="openid4vp://?" + urlencode({"client_id": client_id, "request_uri": uri}),
        expires_at=row.expires_at,
    )


def _request_row(session: Session, **where: str) -> CredentialsPresentationRequest | None:
    query = select(CredentialsPresentationRequest)
    for key, value in where.items():
        query = query.where(getattr(CredentialsPresentationRequest, key) == value)
    return session.scalars(query).one_or_none()


def _authorization_request(
    row: CredentialsPresentationRequest, party: CredentialsRelyingParty
) -> dict[str, Any]:
    made = presentation.make_request(
        client_id=client_id_of(party.name),
        response_uri=response_uri(party.name),
        credential_type=party.credential_type,
        claims=list(row.claims),
    )
    made["nonce"] = row.nonce
    made["state"] = row.state
    made["client_metadata"]["client_name"] = party.display_ja
    # Who asks and why, as registered, for the wallet to show before the person chooses.
    made["kiban_relying_party"] = {
        "name": party.name,
        "display_ja": party.display_ja,
        "display_en": party.display_en,
        "purpose_ja": party.purpose_ja,
        "purpose_en": party.purpose_en,
    }
    made["iat"] = int(row.created_at.timestamp())
    made["exp"] = int(row.expires_at.timestamp())
    return made


def request_object(session: Session, handle: str) -> str:
    """The request object served at ``request_uri``: an unsigned JWT (``alg: none``, as
    OpenID4VP 1.0 requires for the ``redirect_uri:`` client identifier prefix). Errors:
    ``credentials.presentation_request_not_found``, ``…_closed`` (answered or expired)."""
    row = _request_row(session, handle=handle) if isinstance(handle, str) else None
    if row is None:
        raise PresentationRequestNotFound
    if row.outcome != PENDING or clock.now() >= row.expires_at:
        raise PresentationRequestClosed
    party = session.get(CredentialsRelyingParty, row.relying_party_id)
    if party is None:  # pragma: no cover - relying parties are never deleted.
        raise PresentationRequestNotFound
    header = {"alg": "none", "typ": REQUEST_TYP}
    body = _authorization_request(row, party)
    return ".".join(
        (
            sdjwt.b64url(json.dumps(header, separators=(",", ":")).encode()),
            sdjwt.b64url(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()),
            "",
        )
    )


def _parse_vp_token(vp_token: str | None) -> Any:
    if not vp_token:
        raise PresentationRefused("credential_missing")
    try:
        parsed = json.loads(vp_token)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PresentationRefused("vp_token_malformed") from exc
    if not isinstance(parsed, dict):
        raise PresentationRefused("vp_token_malformed")
    return parsed


def do_answer_presentation_request(
    session: Session,
    *,
    relying_party: str,
    state: str | None,
    vp_token: str | None,
    error: str | None = None,
) -> PresentationOutcome:
    """Take a wallet's ``direct_post`` (``state`` and the ``vp_token`` as JSON text, or an
    ``error``: ``access_denied`` when the person declined).

    A request is answered once: a verified answer keeps only the claims asked for; a refused
    one keeps its reason and is recorded as refused (a second attempt is ``request_used``).
    Raises :class:`PresentationRefused` with the reason, after recording it, so the caller
    must commit before answering the error."""
    row = _request_row(session, state=state) if isinstance(state, str) and state else None
    party = None if row is None else session.get(CredentialsRelyingParty, row.relying_party_id)
    # A request is answered only at its own relying party's response URI.
    if row is None or party is None or party.name != relying_party:
        raise PresentationRefused("request_unknown")
    if row.outcome != PENDING:
        raise PresentationRefused("request_used")
    now = clock.now()
    if now >= row.expires_at:
        raise PresentationRefused("request_expired")
    row.answered_at = now
    try:
        if error is not None:
            # OpenID4VP §8.5: the wallet's error response; whatever its code, nothing is shown.
            raise PresentationRefused("access_denied")
        found = presentation.verify_response(
            session, _authorization_request(row, party), _parse_vp_token(vp_token)
        )
    except PresentationRefused as refused:
        row.outcome = REFUSED
        row.refusal_reason = refused.reason
        audit.record(
            session,
            tag=topics.AUDIT_PRESENTATION_REFUSED,
            actor=f"relying_party:{party.name}",
            subject=f"presentation_request:{row.id}",
            data={"reason": refused.reason},
        )
        session.flush()
        raise
    row.outcome = VERIFIED
    row.result = {
        key: {
            "vct": value.vct,
            "credential_type": value.credential_type,
            "issuer": value.issuer,
            "claims": value.claims,
            "status": value.status,
            "expires_at": value.expires_at.isoformat(),
        }
        for key, value in found.items()
    }
    audit.record(
        session,
        tag=topics.AUDIT_PRESENTATION_VERIFIED,
        actor=f"relying_party:{party.name}",
        subject=f"presentation_request:{row.id}",
        # Which claims were received, never their values.
        data={"claims": sorted(row.claims)},
    )
    session.flush()
    return _outcome(row, party)


def _outcome(
    row: CredentialsPresentationRequest, party: CredentialsRelyingParty
) -> PresentationOutcome:
    return PresentationOutcome(
        handle=row.handle,
        relying_party=party.name,
        outcome=row.outcome,
        expired=row.outcome == PENDING and clock.now() >= row.expires_at,
        reason=row.refusal_reason,
        result=row.result,
        answered_at=row.answered_at,
        expires_at=row.expires_at,
    )


def get_presentation_outcome(
    session: Session, handle: str, *, relying_party: str
) -> PresentationOutcome:
    """The outcome of ``relying_party``'s request ``handle`` (another party's request is not
    found). Errors: ``credentials.presentation_request_not_found``."""
    row = _request_row(session, handle=handle) if isinstance(handle, str) else None
    party = None if row is None else session.get(CredentialsRelyingParty, row.relying_party_id)
    if row is None or party is None or party.name != relying_party:
        raise PresentationRequestNotFound
    return _outcome(row, party)
