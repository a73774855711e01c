"""A My page access token as the credential of a resident's own API calls.

The inbox, the access records, consents and applications all answer a resident about
themselves: the caller shows an access token that kiban's OpenID provider issued to My page
(the portal's own client), and the route learns the person it speaks for. A token issued to
any other relying party is refused, since it was consented for that party's purposes only.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kiban.blocks.identity import oidc_clients, oidc_tokens
from kiban.blocks.identity.oidc_errors import MyPageTokenInvalid, MyPageTokenRequired, OAuthError
from kiban.platform import throttle
from kiban.platform.webkit import DbSession, auth_dependency

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="MyPageAccessToken",
    description="An access token of a sign-in to My page (kiban's OpenID Connect provider).",
)


@auth_dependency
def require_my_page_person(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: DbSession,
) -> uuid.UUID:
    """The person a My page access token speaks for. 401 ``identity.my_page_token_required``
    / ``identity.my_page_token_invalid`` (unknown, expired, or issued to another client); 429
    ``kiban.too_many_attempts`` to a caller locked out after repeated invalid tokens."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise MyPageTokenRequired
    source = throttle.source_key(request)
    throttle.BEARER_TOKENS.check(source)
    try:
        token = oidc_tokens.authenticate_access_token(session, credentials.credentials)
    except OAuthError:
        throttle.BEARER_TOKENS.failure(source)
        raise MyPageTokenInvalid from None
    if token.client_id != oidc_clients.PORTAL_CLIENT_ID:
        raise MyPageTokenInvalid
    return token.person_id


MyPagePerson = Annotated[uuid.UUID, Depends(require_my_page_person)]
"""A route parameter: the person whose My page access token came with the request."""

MY_PAGE_TOKEN_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "`identity.my_page_token_required`, `identity.my_page_token_invalid`"},
    429: {
        "description": "`kiban.too_many_attempts` with `Retry-After`: too many invalid tokens "
        "from this address"
    },
}
