"""Consent for companies over HTTP, for the person: ``/api/v1/mesh/consents``.

Every route but the key set is called on behalf of a resident signed in to My page (the
portal, kiban's first-party OpenID Connect client): ``Authorization: Bearer <access token>``.
Tokens that relying parties received are refused, because a third party must never be able to
give or change a person's consent in the person's name. A person sees and changes only their
own consents; someone else's consent is reported as not found.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse

from kiban.blocks import identity
from kiban.blocks.mesh import consent
from kiban.blocks.mesh.consent_schemas import ConsentCreate, ConsentRead
from kiban.platform import audit
from kiban.platform.webkit import DbSession, auth_dependency, public


@dataclass(frozen=True)
class ConsentOwner:
    """The signed-in resident whose consents a call manages."""

    person_id: uuid.UUID

    @property
    def actor(self) -> str:
        return audit.person_actor(self.person_id)


@auth_dependency
def require_consent_owner(person_id: identity.MyPagePerson) -> ConsentOwner:
    """The resident a My page access token speaks for (see ``identity.MyPagePerson``)."""
    return ConsentOwner(person_id=person_id)


Owner = Annotated[ConsentOwner, Depends(require_consent_owner)]

ERRORS: dict[int | str, dict[str, Any]] = {
    **identity.MY_PAGE_TOKEN_ERRORS,
    404: {"description": "`mesh.consent_not_found` (also for someone else's consent)"},
    409: {"description": "`mesh.consent_status_conflict` (revoked and expired are final)"},
    422: {"description": "Invalid input, `error.field` names it"},
}

router = APIRouter(prefix="/api/v1/mesh", tags=["consent"], responses=ERRORS)


@router.get(
    "/consent/jwks",
    summary="The key consent artefacts are signed with (JWKS)",
    dependencies=[Depends(public)],
)
def consent_jwks() -> JSONResponse:
    """The ES256 public key of the mesh's consent signatures; anyone can verify an artefact's
    `jws` with it."""
    return JSONResponse(consent.jwks(), headers={"Cache-Control": "public, max-age=3600"})


@router.get("/consents", summary="My consents")
def my_consents(session: DbSession, owner: Owner) -> list[ConsentRead]:
    """Every consent the signed-in resident gave, newest first, with its current status."""
    return consent.list_consents(session, owner.person_id)


@router.post("/consents", status_code=status.HTTP_201_CREATED, summary="Give a consent")
def grant(data: ConsentCreate, session: DbSession, owner: Owner) -> ConsentRead:
    """The resident lets a company (a COM member's subsystem) receive the listed data items for
    a purpose, in a period, once or periodically. The answer carries the signed artefact."""
    return consent.do_grant_consent(session, data, person_id=owner.person_id, actor=owner.actor)


@router.get("/consents/{consent_id}", summary="One of my consents, with its status history")
def one_consent(consent_id: uuid.UUID, session: DbSession, owner: Owner) -> ConsentRead:
    """The artefact and the hash-chained log of its status changes."""
    return consent.get_consent(session, consent_id, person_id=owner.person_id)


@router.post("/consents/{consent_id}/pause", summary="Pause a consent")
def pause(consent_id: uuid.UUID, session: DbSession, owner: Owner) -> ConsentRead:
    """No fetch is allowed while paused; resume to allow them again."""
    return consent.set_consent_status(
        session, consent_id, "paused", actor=owner.actor, person_id=owner.person_id
    )


@router.post("/consents/{consent_id}/resume", summary="Resume a paused consent")
def resume(consent_id: uuid.UUID, session: DbSession, owner: Owner) -> ConsentRead:
    """The consent is active again (unless its period has ended)."""
    return consent.set_consent_status(
        session, consent_id, "active", actor=owner.actor, person_id=owner.person_id
    )


@router.post("/consents/{consent_id}/revoke", summary="Revoke a consent")
def revoke(consent_id: uuid.UUID, session: DbSession, owner: Owner) -> ConsentRead:
    """Final: the company's next request is refused (`mesh.consent_not_active`)."""
    return consent.set_consent_status(
        session, consent_id, "revoked", actor=owner.actor, person_id=owner.person_id
    )
