"""The staff API: ``/api/v1/staff``. Bootstrap of the first administrator with the shared
operator token (refused once done), and reading accounts under ``staff.read``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from kiban.blocks.staff import policy, service
from kiban.blocks.staff.errors import MembershipNotFound
from kiban.platform.authority import Acting
from kiban.platform.webkit import OPERATOR, DbSession, require_operator

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class BootstrapCreate(BaseModel):
    """The person (in the register) who becomes kiban's first administrator."""

    person_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200, examples=["運用　一郎"])


class MembershipCreate(BaseModel):
    """A role in an organisation to give (or, on DELETE, to end)."""

    organisation: str = Field(min_length=1, max_length=64, examples=["131016"])
    role: str = Field(min_length=1, max_length=64, examples=["counter"])
    department: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        examples=["citizens"],
        description="A department of the organisation (市民課 `citizens`, ...): the role then "
        "reaches only that department's work. Omitted: the whole organisation. On revoke, "
        "omitted ends the role in every department.",
    )


class MembershipOut(BaseModel):
    organisation: str
    organisation_name: str
    role: str
    role_name: str
    department: str | None


class AccountOut(BaseModel):
    id: uuid.UUID
    kind: str
    name: str
    status: str
    created_at: datetime
    memberships: list[MembershipOut]


def _out(account: service.AccountRead) -> AccountOut:
    return AccountOut(
        id=account.id,
        kind=account.kind,
        name=account.name,
        status=account.status,
        created_at=account.created_at,
        memberships=[
            MembershipOut(
                organisation=m.organisation,
                organisation_name=m.organisation_name_ja,
                role=m.role,
                role_name=m.role_name_ja,
                department=m.department,
            )
            for m in account.memberships
        ],
    )


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "`staff.principal_required`, `staff.key_invalid`"},
    403: {"description": "`staff.not_permitted`, `staff.other_organisation`"},
    404: {
        "description": "`staff.organisation_not_found`, `staff.account_not_found`, "
        "`staff.role_not_found`, `staff.department_not_found`, `staff.membership_not_found`"
    },
}


@router.post(
    "/bootstrap",
    status_code=status.HTTP_201_CREATED,
    summary="Make the first administrator (once, with the operator token)",
    dependencies=[Depends(require_operator)],
    responses={
        401: {"description": "`kiban.auth.token_required`, `kiban.auth.token_invalid`"},
        409: {"description": "`staff.bootstrap_done`: an administrator exists already"},
    },
)
def bootstrap(data: BootstrapCreate, session: DbSession) -> AccountOut:
    """The one thing the shared operator token still does: make kiban's first administrator,
    who then adds staff and service accounts. Refused once the operator has any member."""
    return _out(
        service.do_bootstrap(
            session, person_id=data.person_id, name=data.name, actor=f"{OPERATOR}:bootstrap"
        )
    )


@router.get("/accounts", summary="Staff accounts of an organisation", responses=_ERRORS)
def list_accounts(
    session: DbSession,
    actor: Acting,
    organisation: Annotated[
        str | None, Query(max_length=64, description="Organisation code (default: the caller's)")
    ] = None,
) -> list[AccountOut]:
    """Members of the organisation, by name."""
    organisation = organisation or actor.organisation
    policy.authorize(session, actor, "staff.read", organisation=organisation)
    return [_out(a) for a in service.list_accounts(session, organisation=organisation)]


_MANAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    403: {
        "description": "`staff.not_permitted`, `staff.other_organisation`, "
        "`staff.step_up_required` (an official's session must have presented the card within "
        "the last five minutes)"
    },
    409: {"description": "`staff.account_not_active`"},
}


@router.post(
    "/accounts/{account_id}/memberships",
    summary="Give an account a role in an organisation",
    responses=_MANAGE_ERRORS,
)
def grant(
    account_id: uuid.UUID, data: MembershipCreate, session: DbSession, actor: Acting
) -> AccountOut:
    """Needs `staff.manage` in that organisation (step-up for officials)."""
    policy.authorize(session, actor, "staff.manage", organisation=data.organisation)
    return _out(
        service.do_grant(
            session,
            account_id,
            organisation=data.organisation,
            role=data.role,
            department=data.department,
            actor=actor.actor,
        )
    )


@router.post(
    "/accounts/{account_id}/memberships/revoke",
    summary="End an account's role in an organisation",
    responses=_MANAGE_ERRORS,
)
def revoke(
    account_id: uuid.UUID, data: MembershipCreate, session: DbSession, actor: Acting
) -> AccountOut:
    """Needs `staff.manage` in that organisation (step-up for officials); the account's
    sessions in that role stop acting at once."""
    policy.authorize(session, actor, "staff.manage", organisation=data.organisation)
    if data.department is not None:
        held = service.get_account(session, account_id).memberships
        membership = next(
            (
                m
                for m in held
                if (m.organisation, m.role, m.department)
                == (data.organisation, data.role, data.department)
            ),
            None,
        )
        if membership is None:
            raise MembershipNotFound
        return _out(
            service.do_revoke_membership(session, account_id, membership.id, actor=actor.actor)
        )
    return _out(
        service.do_revoke(
            session, account_id, organisation=data.organisation, role=data.role, actor=actor.actor
        )
    )
