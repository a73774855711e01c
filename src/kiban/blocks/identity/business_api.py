"""Business accounts over HTTP: ``/api/v1/business``.

Managing a business account is the person's own business at kiban, as GビズID's account
management happens only on GビズID's own site: every route needs a **My page** access token
(``identity.MyPagePerson``: a sign-in to kiban's own portal client with the person's card), the
credential the person's other My page APIs take. A relying party's token is refused even with
the ``business`` scope: that scope lets a service *read* the corporation and the role the
person holds there (the ``business`` claim of userinfo), nothing more.

Inviting a member is not an API operation: the one-time code is shown only to the inviting
prime on their own portal page (``/portal/business``), who hands it to the invitee as
GビズID's invitation e-mail would; no API response ever carries it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status

from kiban.blocks.identity import business
from kiban.blocks.identity.business_schemas import (
    PROCEDURE_CODE,
    BusinessAccountRead,
    DelegationCreate,
    InvitationRedeem,
    PrimeApplicationCreate,
)
from kiban.blocks.identity.my_page import MY_PAGE_TOKEN_ERRORS, MyPagePerson
from kiban.platform import audit
from kiban.platform.webkit import DbSession, auth_dependency


@dataclass(frozen=True)
class BusinessUser:
    """The person a business API call is made for, signed in to My page."""

    person_id: uuid.UUID

    @property
    def actor(self) -> str:
        return audit.person_actor(self.person_id)


@auth_dependency
def require_business_user(person_id: MyPagePerson) -> BusinessUser:
    """The person a My page access token speaks for. 401 ``identity.my_page_token_required``
    / ``identity.my_page_token_invalid`` (a relying party's token, whatever its scopes)."""
    return BusinessUser(person_id=person_id)


User = Annotated[BusinessUser, Depends(require_business_user)]
CorporateNumber = Annotated[
    str, Path(max_length=32, description="The corporation's corporate number (13 digits)")
]
ProcedureCode = Annotated[
    str, Path(max_length=64, pattern=PROCEDURE_CODE, examples=["subsidy.it_introduction"])
]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "description": MY_PAGE_TOKEN_ERRORS[401]["description"]
        + " (a relying party's token is refused, even with the business scope); for a prime "
        "application also `identity.certificate_*` and `identity.signature_invalid`"
    },
    403: {
        "description": "`identity.business_prime_required` (only the prime may manage members), "
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
    """The invited member, signed in with their own card, takes the member account with the
    code the prime handed them."""
    return business.redeem_invitation(
        session, data.invitation_code, person_id=user.person_id, actor=user.actor
    )


@router.get("/corporations/{corporate_number}/accounts", summary="Every account of a corporation")
def corporation_accounts(
    corporate_number: CorporateNumber, session: DbSession, user: User
) -> list[BusinessAccountRead]:
    """Prime and members, removed ones included (history). Only the prime may ask."""
    return business.list_corporation_accounts(session, corporate_number, person_id=user.person_id)


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
