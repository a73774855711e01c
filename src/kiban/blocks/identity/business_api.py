"""Business accounts over HTTP: ``/api/v1/business``.

Every route is called on behalf of a resident signed in through kiban's OpenID Connect
provider: ``Authorization: Bearer <access token>`` of a sign-in in which the resident agreed
to the ``business`` scope. The prime account is applied for with the representative's signing
certificate; the prime then invites, removes and delegates to members.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kiban.blocks.identity import business, oidc
from kiban.blocks.identity.business_errors import (
    BusinessScopeRequired,
    BusinessTokenInvalid,
    BusinessTokenRequired,
)
from kiban.blocks.identity.business_schemas import (
    PROCEDURE_CODE,
    BusinessAccountRead,
    DelegationCreate,
    InvitationRedeem,
    MemberInvite,
    MemberInvited,
    PrimeApplicationCreate,
)
from kiban.blocks.identity.oidc_errors import OAuthError
from kiban.platform import audit
from kiban.platform.webkit import DbSession, auth_dependency

BUSINESS_SCOPE = "business"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="BusinessAccessToken",
    description="An access token of kiban's OpenID Connect provider with the business scope.",
)


@dataclass(frozen=True)
class BusinessUser:
    """The signed-in resident a business API call is made for."""

    person_id: uuid.UUID
    client_id: str

    @property
    def actor(self) -> str:
        return audit.person_actor(self.person_id)


@auth_dependency
def require_business_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: DbSession,
) -> BusinessUser:
    """The resident an OpenID Connect access token speaks for, when it carries the ``business``
    scope. 401 ``identity.business_token_required`` / ``_invalid``, 403
    ``identity.business_scope_required``."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise BusinessTokenRequired
    try:
        token = oidc.authenticate_access_token(session, credentials.credentials)
    except OAuthError:
        raise BusinessTokenInvalid from None
    if BUSINESS_SCOPE not in token.scopes:
        raise BusinessScopeRequired
    return BusinessUser(person_id=token.person_id, client_id=token.client_id)


User = Annotated[BusinessUser, Depends(require_business_user)]
CorporateNumber = Annotated[
    str, Path(max_length=32, description="The corporation's corporate number (13 digits)")
]
ProcedureCode = Annotated[
    str, Path(max_length=64, pattern=PROCEDURE_CODE, examples=["subsidy.it_introduction"])
]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "No, an unknown or an expired access token: "
        "`identity.business_token_required`, `identity.business_token_invalid`; for a prime "
        "application also `identity.certificate_*` and `identity.signature_invalid`"
    },
    403: {
        "description": "`identity.business_scope_required`, "
        "`identity.business_prime_required` (only the prime may manage members), "
        "`identity.business_representative_mismatch`, "
        "`identity.business_not_certificate_holder`"
    },
    404: {
        "description": "`corporations.not_found`, `identity.business_account_not_found`, "
        "`identity.business_invitation_invalid`, `identity.business_delegation_not_found`"
    },
    409: {
        "description": "`identity.business_prime_exists`, `identity.business_nonce_reused`, "
        "`identity.business_invitation_expired`, `identity.business_account_exists`, "
        "`identity.business_account_not_active`, `identity.business_already_delegated`"
    },
    422: {
        "description": "Invalid input, `error.field` names it: `kiban.identifier.*`, "
        "`identity.business_application_invalid`, `kiban.invalid`"
    },
}

router = APIRouter(prefix="/api/v1/business", tags=["business accounts"], responses=ERRORS)


@router.post(
    "/prime",
    status_code=status.HTTP_201_CREATED,
    summary="Apply for the prime account (gBizID プライム)",
)
def apply_prime(
    data: PrimeApplicationCreate, session: DbSession, user: User
) -> BusinessAccountRead:
    """The representative's card signs, with the signing key, the challenge
    `kiban-business-prime.` + base64url(SHA-256(canonical JSON of `application`: keys sorted,
    no spaces, UTF-8)); the certificate's name and address must be the representative's as
    registered. One prime account per corporation."""
    return business.apply_prime_account(session, data, person_id=user.person_id, actor=user.actor)


@router.get("/accounts", summary="My business accounts")
def my_accounts(session: DbSession, user: User) -> list[BusinessAccountRead]:
    """The signed-in resident's active business accounts, prime accounts first."""
    return business.list_business_accounts(session, user.person_id)


@router.post("/invitations/redeem", summary="Redeem a member invitation")
def redeem_invitation(
    data: InvitationRedeem, session: DbSession, user: User
) -> BusinessAccountRead:
    """The invited member, signed in with their own card, takes the member account."""
    return business.redeem_invitation(
        session, data.invitation_code, person_id=user.person_id, actor=user.actor
    )


@router.get("/corporations/{corporate_number}/accounts", summary="Every account of a corporation")
def corporation_accounts(
    corporate_number: CorporateNumber, session: DbSession, user: User
) -> list[BusinessAccountRead]:
    """Prime and members, removed ones included (history). Only the prime may ask."""
    return business.list_corporation_accounts(session, corporate_number, person_id=user.person_id)


@router.post(
    "/corporations/{corporate_number}/members",
    status_code=status.HTTP_201_CREATED,
    summary="Invite a member",
)
def invite_member(
    corporate_number: CorporateNumber, data: MemberInvite, session: DbSession, user: User
) -> MemberInvited:
    """The prime invites a member; the one-time invitation code is in this answer only."""
    return business.invite_member(
        session, corporate_number, data, person_id=user.person_id, actor=user.actor
    )


@router.delete("/corporations/{corporate_number}/members/{account_id}", summary="Remove a member")
def remove_member(
    corporate_number: CorporateNumber, account_id: uuid.UUID, session: DbSession, user: User
) -> BusinessAccountRead:
    """The prime deactivates a member account; its delegations end, its history stays."""
    return business.remove_member(
        session, corporate_number, account_id, person_id=user.person_id, actor=user.actor
    )


@router.post(
    "/corporations/{corporate_number}/members/{account_id}/delegations",
    status_code=status.HTTP_201_CREATED,
    summary="Delegate a procedure to a member",
)
def delegate(
    corporate_number: CorporateNumber,
    account_id: uuid.UUID,
    data: DelegationCreate,
    session: DbSession,
    user: User,
) -> BusinessAccountRead:
    """The prime lets an active member file ``procedure_code`` for the corporation."""
    return business.delegate_procedure(
        session,
        corporate_number,
        account_id,
        data.procedure_code,
        person_id=user.person_id,
        actor=user.actor,
    )


@router.delete(
    "/corporations/{corporate_number}/members/{account_id}/delegations/{procedure_code}",
    summary="Revoke a delegation",
)
def revoke_delegation(
    corporate_number: CorporateNumber,
    account_id: uuid.UUID,
    procedure_code: ProcedureCode,
    session: DbSession,
    user: User,
) -> BusinessAccountRead:
    """The prime ends a delegation; the record of it stays."""
    return business.revoke_delegation(
        session,
        corporate_number,
        account_id,
        procedure_code,
        person_id=user.person_id,
        actor=user.actor,
    )
