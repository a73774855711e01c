"""Who is acting, and the seam to the one policy function that decides what they may do.

Blocks below ``staff`` in the block DAG (residents, corporations, identity) serve operator
and office APIs too, but may not import ``kiban.blocks.staff``. They depend on this module
instead: ``Acting`` (the route's auth dependency) yields the :class:`Principal` behind the
request, and :func:`authorize` asks the policy. The composition root (``kiban.web``)
installs both the resolver (service-account API keys, office sessions) and the policy
(``kiban.blocks.staff.authorize``) with :func:`install`; nothing here decides authority.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Final, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from kiban.kernel.errors import Unauthorized
from kiban.platform import sessions
from kiban.platform.webkit import DbSession, auth_dependency

__all__ = [
    "NATIONAL",
    "Acting",
    "Principal",
    "Resource",
    "authorize",
    "install",
    "require_principal",
]


NATIONAL: Final = "kiban"
"""The organisation code of kiban's own operator: national registries (corporations, relying
parties, the mesh) are its resources."""


@dataclass(frozen=True)
class Principal:
    """An official in a session (bound to one organisation and role) or a service account
    using an API key (bound to the key's organisation and scope)."""

    account_id: uuid.UUID
    kind: str  # "official" | "service"
    name: str
    organisation: str  # The organisation's code (a municipality's lg_code, "kiban", ...).
    organisation_kind: str
    role: str | None
    permissions: frozenset[str]
    person_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    key_id: uuid.UUID | None = None
    authenticated_at: datetime | None = None  # The card last presented in this session.
    # How the session last proved its official: "card", "webauthn" or "totp" (ADR 0019).
    authenticated_with: str | None = None
    # The departments the permissions are held in; ``None``: the whole organisation (a role
    # granted without a department). A department's grant reaches only that department's
    # resources (``Resource.department``).
    departments: frozenset[str] | None = None

    @property
    def actor(self) -> str:
        """The name journals and the audit log keep: account, organisation and role, e.g.
        ``staff:<account id>@011011/approval`` (``staff:<id>@kiban/key`` for a key)."""
        return f"staff:{self.account_id}@{self.organisation}/{self.role or 'key'}"


@dataclass(frozen=True)
class Resource:
    """What an action is taken on, beyond its organisation: the person it concerns (an official
    may not act on their own application), for separation of duties the actors who took
    earlier steps that the procedure's definition says must be someone else's, and the
    department that handles it."""

    subject_person: uuid.UUID | None = None
    excluded_actors: Collection[str] = field(default_factory=tuple)
    person: uuid.UUID | None = None  # Whose data it is (for emergency access, break-glass).
    # The department of the organisation that handles it (a procedure's definition says, e.g.
    # ``citizens`` for moving); ``None``: the organisation as a whole.
    department: str | None = None


class Resolver(Protocol):
    def __call__(self, db: Session, request: Request) -> Principal | None: ...


class Policy(Protocol):
    def __call__(
        self,
        session: Session,
        principal: Principal,
        action: str,
        *,
        organisation: str,
        resource: Resource | None = None,
    ) -> None: ...


_installed: dict[str, Callable[..., object]] = {}
_RESOLVER: Final = "resolver"
_POLICY: Final = "policy"


def install(*, resolver: Resolver, policy: Policy) -> None:
    """Install the principal resolver and the policy (the composition root does, once)."""
    _installed[_RESOLVER] = resolver
    _installed[_POLICY] = policy


class PrincipalRequired(Unauthorized):
    code = "staff.principal_required"

    def __init__(self) -> None:
        super().__init__(
            "職員のセッションまたはサービスアカウントの API キーが必要です。",
            "An official's session or a service account's API key is required.",
        )


_api_key = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="A service account's API key (`kiban_sk_...`) as a bearer token. An official "
    "signed in to the office pages is authenticated by the office session instead.",
)
"""Only documents the scheme (``/openapi.json``); the installed resolver reads the header."""


@sessions.csrf_dependency  # With an office session, unsafe calls need X-CSRF-Token.
@auth_dependency
def require_principal(
    request: Request,
    session: DbSession,
    _key: Annotated[HTTPAuthorizationCredentials | None, Depends(_api_key)] = None,
) -> Principal:
    """The principal behind the request: a service-account API key (``Authorization: Bearer``)
    or an official's office session. 401 ``staff.principal_required`` otherwise; the resolver
    answers 401 with its own code for a wrong, expired or revoked key and for the retired
    operator token."""
    resolver = _installed.get(_RESOLVER)
    principal = resolver(session, request) if resolver is not None else None
    if not isinstance(principal, Principal):
        raise PrincipalRequired
    return principal


Acting = Annotated[Principal, Depends(require_principal)]


def authorize(
    session: Session,
    principal: Principal,
    action: str,
    *,
    organisation: str,
    resource: Resource | None = None,
) -> None:
    """Ask the installed policy; raises ``Forbidden`` (403) with a stable code when denied."""
    policy = _installed.get(_POLICY)
    if policy is None:
        raise PrincipalRequired
    policy(session, principal, action, organisation=organisation, resource=resource)
