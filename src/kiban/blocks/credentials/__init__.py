"""Credentials (SD-JWT VC): issuing, verifying presentations, and Token Status Lists.

The facade other packages use:

- :func:`issue_credential` issues a ``dc+sd-jwt`` credential about a register person, bound to
  the holder's P-256 key (``cnf``), every personal claim a disclosure;
- :func:`verify_presentation` checks a presentation (signature, ``vct``, validity,
  disclosures, KB-JWT nonce/audience/sd_hash/iat, status) and answers the disclosed claims or
  raises :class:`PresentationRefused` with the reason;
- :func:`revoke_credentials_for_person` and :func:`revoke_credential` flip status list bits;
  the register's events do it for ``resident`` credentials, and the qualifications registry's
  suspensions, reinstatements and revocations for the licences ``qualification-<code>``
  (``subscribers``);
- :func:`register_relying_party`, :func:`create_presentation_request`,
  :func:`presentation_request_object`, :func:`answer_presentation_request` and
  :func:`get_presentation_outcome`: the OpenID4VP verifier with registered relying parties and
  stored, single-use requests (``relying_parties``).

Who may issue is decided by the caller (the CLI and the operator API today); when officials'
permissions exist, the issuing routes ask the policy function before calling in here.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from kiban.blocks.credentials import issuance, issuer, relying_parties, service
from kiban.blocks.credentials.errors import (
    REASONS,
    InsurerUnavailable,
    NotInsured,
    NotQualified,
    PresentationRefused,
)
from kiban.blocks.credentials.events import ISSUED, REVOKED
from kiban.blocks.credentials.insurance import INSURER_SERVICE
from kiban.blocks.credentials.insurance import SUBSYSTEM as MESH_SUBSYSTEM
from kiban.blocks.credentials.issuance import Offer
from kiban.blocks.credentials.presentation import make_request as make_presentation_request
from kiban.blocks.credentials.presentation import verify_response as verify_presentation_response
from kiban.blocks.credentials.relying_parties import (
    PresentationOutcome,
    PresentationRequest,
    RelyingParty,
    get_presentation_outcome,
    get_relying_party,
)
from kiban.blocks.credentials.service import (
    PUBLICATION_TTL,
    IssuedCredential,
    status_list_token,
    status_list_uri,
)
from kiban.blocks.credentials.types import (
    HEALTH_INSURANCE,
    QUALIFICATIONS,
    RESIDENT,
    TYPES,
    CredentialType,
    qualification_type_name,
    vct_of,
)
from kiban.blocks.credentials.verifier import (
    VerifiedPresentation,
    clear_status_cache,
    verify_presentation,
)

__all__ = [
    "HEALTH_INSURANCE",
    "INSURER_SERVICE",
    "ISSUED",
    "MESH_SUBSYSTEM",
    "PUBLICATION_TTL",
    "QUALIFICATIONS",
    "REASONS",
    "RESIDENT",
    "REVOKED",
    "TYPES",
    "CredentialType",
    "InsurerUnavailable",
    "IssuedCredential",
    "NotInsured",
    "NotQualified",
    "Offer",
    "PresentationOutcome",
    "PresentationRefused",
    "PresentationRequest",
    "RelyingParty",
    "VerifiedPresentation",
    "answer_presentation_request",
    "clear_status_cache",
    "create_presentation_request",
    "get_presentation_outcome",
    "get_relying_party",
    "get_status",
    "issue_credential",
    "issuer_id",
    "issuer_public_jwk",
    "make_presentation_request",
    "offer_credential",
    "presentation_request_object",
    "qualification_type_name",
    "register_relying_party",
    "revoke_credential",
    "revoke_credentials_for_person",
    "status_list_token",
    "status_list_uri",
    "vct_of",
    "verify_presentation",
    "verify_presentation_response",
]


def issue_credential(
    session: Session,
    *,
    person_id: uuid.UUID,
    credential_type: str,
    holder_jwk: Any,
    actor: str,
) -> IssuedCredential:
    """Issue a credential (see :func:`service.do_issue_credential`)."""
    return service.do_issue_credential(
        session,
        person_id=person_id,
        credential_type=credential_type,
        holder_jwk=holder_jwk,
        actor=actor,
    )


def offer_credential(
    session: Session, *, person_id: uuid.UUID, credential_type: str, actor: str
) -> Offer:
    """Offer a credential by OpenID4VCI's pre-authorized code flow: the offer goes to the
    person's inbox, the transaction code comes back to hand over by another channel."""
    return issuance.do_offer_credential(
        session, person_id=person_id, credential_type=credential_type, actor=actor
    )


def revoke_credentials_for_person(
    session: Session, person_id: uuid.UUID, *, credential_type: str, reason: str, actor: str
) -> int:
    """Revoke a person's credentials of one type; returns how many were revoked."""
    return service.do_revoke_credentials_for_person(
        session, person_id, credential_type=credential_type, reason=reason, actor=actor
    )


def revoke_credential(
    session: Session, credential_id: uuid.UUID, *, reason: str, actor: str
) -> int:
    """Revoke one credential; returns 1, or 0 when it was revoked already."""
    return service.do_revoke_credential(session, credential_id, reason=reason, actor=actor)


def get_status(session: Session, credential_id: uuid.UUID) -> str:
    """``valid``, ``revoked`` or ``suspended``."""
    return service.get_status(session, credential_id)


def issuer_id() -> str:
    """The issuer identifier (``iss``)."""
    return issuer.issuer_id()


def issuer_public_jwk() -> dict[str, Any]:
    """The issuer's public key as a JWK (with ``kid``)."""
    return issuer.public_jwk()


def register_relying_party(
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
    """Register a verifier with the claims it may ask and why (idempotent)."""
    return relying_parties.do_register_relying_party(
        session,
        name=name,
        display_ja=display_ja,
        display_en=display_en,
        purpose_ja=purpose_ja,
        purpose_en=purpose_en,
        credential_type=credential_type,
        claims=claims,
        actor=actor,
    )


def create_presentation_request(
    session: Session, *, relying_party: str, actor: str
) -> PresentationRequest:
    """A stored, single-use OpenID4VP request of a registered relying party."""
    return relying_parties.do_create_presentation_request(
        session, relying_party=relying_party, actor=actor
    )


def presentation_request_object(session: Session, handle: str) -> str:
    """The request object (unsigned JWT) the wallet fetches at ``request_uri``."""
    return relying_parties.request_object(session, handle)


def answer_presentation_request(
    session: Session,
    *,
    relying_party: str,
    state: str | None,
    vp_token: str | None,
    error: str | None = None,
) -> PresentationOutcome:
    """Take a wallet's ``direct_post``; raises :class:`PresentationRefused` after recording
    the refusal (commit before answering it)."""
    return relying_parties.do_answer_presentation_request(
        session, relying_party=relying_party, state=state, vp_token=vp_token, error=error
    )
