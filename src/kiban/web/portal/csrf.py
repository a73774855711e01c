"""Cross-site request forgery protection of the portal's forms: the one mechanism of
:mod:`kiban.platform.sessions` (a token bound to the server-side session, checked on every
state-changing form), in the shape the portal's pages call it.

The resident's session cookie is also ``SameSite=Lax``, and the platform's origin check
(:mod:`kiban.platform.security`) refuses cross-site unsafe requests that carry a session cookie;
the token is what makes a form posted from anywhere else, or after the resident signed in
again, fail with 403 (``kiban.csrf_failed``, field ``csrf_token``) and change nothing.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Request

from kiban.platform import sessions
from kiban.platform.sessions import CsrfFailed
from kiban.platform.webkit import auth_dependency
from kiban.web.portal.session import Resident, require_resident

__all__ = ["CSRF_FIELD", "CsrfFailed", "check_csrf", "csrf_token", "require_resident_form"]

CSRF_FIELD: Final = sessions.CSRF_FIELD


def _session_of(request: Request) -> sessions.WebSession | None:
    ws = getattr(request.state, "web_session", None)
    return ws if isinstance(ws, sessions.WebSession) else None


def csrf_token(request: Request) -> str:
    """The token to put in the forms of a page rendered for ``request`` (its session's)."""
    ws = _session_of(request)
    return sessions.csrf_token(ws) if ws else ""


def check_csrf(request: Request, token: str | None) -> None:
    """Refuse (``kiban.csrf_failed``, 403) unless ``token`` is the token of this session."""
    ws = _session_of(request)
    if ws is None:
        raise CsrfFailed
    sessions.check_csrf(ws, token)


@auth_dependency
@sessions.csrf_dependency
async def require_resident_form(
    request: Request, resident: Annotated[Resident, Depends(require_resident)]
) -> Resident:
    """The signed-in resident posting a form of their own session's page: the auth dependency
    of the portal's state-changing routes (the form's ``csrf_token`` is checked here, before
    the handler reads anything else)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    sessions.check_csrf(resident.session, token if isinstance(token, str) else None)
    return resident
