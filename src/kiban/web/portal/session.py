"""The citizen portal (マイページ): residents sign in with the card through kiban's own OpenID
Connect provider, like any relying party would.

The portal is a first-party, public client (PKCE, no secret) registered on first use.
``/portal/login`` starts the authorization code flow; ``/portal/callback`` exchanges the code
in-process (the same function the token endpoint runs, without an HTTP call to ourselves),
checks the ID token's nonce and starts a server-side session (:mod:`kiban.platform.sessions`,
audience ``resident``): it ends after 30 minutes without a page view, 8 hours after the card
sign-in, or when the resident signs out (here or "everywhere" on My page). The cookie holds
only the session's opaque token. ``require_resident`` is the auth dependency of the portal's
pages; it leaves the session on ``request.state.web_session`` for the CSRF tokens of the forms.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kiban.blocks import identity, notifications, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import audit, i18n, sessions
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang, LoginRequired, auth_dependency, public
from kiban.web.first_party import start_authorization
from kiban.web.portal.browsers import browser_label
from kiban.web.portal.labels import REVOCATION_REASONS
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal", include_in_schema=False)

PORTAL_HOME: Final = "/portal/"
PORTAL_LOGIN: Final = "/portal/login"
RESIDENT_COOKIE: Final = "kiban_resident"
RESIDENT_AUDIENCE: Final = "resident"
LOGIN_COOKIE: Final = "kiban_portal_login"
RESIDENT_IDLE: Final = timedelta(minutes=30)  # The card is at hand to sign in again.
RESIDENT_ABSOLUTE: Final = timedelta(hours=8)
RESIDENT_SESSION_MAX_AGE: Final = int(RESIDENT_ABSOLUTE.total_seconds())
_LOGIN_MAX_AGE: Final = 15 * 60
_LOGIN_SALT: Final = "kiban.portal-login"


@dataclass(frozen=True)
class Resident:
    """A resident signed in to the portal, and the session they are signed in with."""

    person_id: uuid.UUID
    session: sessions.WebSession

    @property
    def actor(self) -> str:
        return audit.person_actor(self.person_id)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=salt)


def _secure() -> bool:
    return get_settings().base_url.startswith("https://")


def open_resident_session(
    db: DbSession,
    person_id: uuid.UUID,
    *,
    user_agent: str | None = None,
    source: str | None = None,
) -> tuple[str, sessions.WebSession]:
    """Start a portal session for ``person_id`` (after the card sign-in); returns the cookie
    value and the session."""
    return sessions.start_session(
        db,
        audience=RESIDENT_AUDIENCE,
        subject=str(person_id),
        data={},
        idle=RESIDENT_IDLE,
        absolute=RESIDENT_ABSOLUTE,
        user_agent=user_agent,
        source=source,
        actor=audit.person_actor(person_id),
    )


def resident_session(request: Request, db: DbSession) -> Resident | None:
    """The resident signed in on ``request``, if any (a live server-side session)."""
    ws = sessions.load_session(
        db, audience=RESIDENT_AUDIENCE, cookie=request.cookies.get(RESIDENT_COOKIE)
    )
    if ws is None:
        return None
    try:
        person_id = uuid.UUID(ws.subject)
    except ValueError:
        return None
    request.state.web_session = ws
    return Resident(person_id=person_id, session=ws)


@auth_dependency
def require_resident(request: Request, db: DbSession) -> Resident:
    """The signed-in resident of a portal page; otherwise a redirect to the card sign-in."""
    resident = resident_session(request, db)
    if resident is None:
        path = request.url.path
        if request.url.query:
            path = f"{path}?{request.url.query}"
        raise LoginRequired(path, login_path=PORTAL_LOGIN)
    return resident


def safe_next(path: str | None) -> str:
    """``path`` if it is a portal page, else the portal home (no open redirects)."""
    if path and path.startswith("/portal/") and "//" not in path and "\\" not in path:
        return path
    return PORTAL_HOME


@router.get("/login", dependencies=[Depends(public)])
def login(session: DbSession, lang: Lang, next: str | None = None) -> RedirectResponse:
    """Start the code flow with PKCE against kiban's own provider."""
    client = identity.ensure_portal_client(session)
    start = start_authorization(client, lang)
    response = RedirectResponse(start.url, status_code=303)
    response.set_cookie(
        LOGIN_COOKIE,
        _serializer(_LOGIN_SALT).dumps(
            {
                "state": start.state,
                "nonce": start.nonce,
                "verifier": start.verifier,
                "next": safe_next(next),
            }
        ),
        max_age=_LOGIN_MAX_AGE,
        path="/portal",
        httponly=True,
        samesite="lax",
        secure=_secure(),
    )
    return response


def _login_state(request: Request) -> dict[str, Any] | None:
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(_LOGIN_SALT).loads(cookie, max_age=_LOGIN_MAX_AGE)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def _failed(request: Request, lang: i18n.Language, message: str, status_code: int) -> HTMLResponse:
    response = get_pages().render(
        request,
        lang,
        "signin/error.html",
        {"message": message, "retry_url": PORTAL_LOGIN},
        status_code=status_code,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/portal")
    return response


@router.get("/callback", dependencies=[Depends(public)])
def callback(request: Request, lang: Lang, session: DbSession) -> Response:
    """The provider's answer: exchange the code in-process and start the portal session."""
    t = i18n.translations(lang)
    params = request.query_params
    started = _login_state(request)
    if started is None or not secrets.compare_digest(
        str(started.get("state", "")), params.get("state", "")
    ):
        return _failed(
            request, lang, t.gettext("This sign-in has expired. Please sign in again."), 400
        )
    if params.get("error") == "access_denied":
        return _failed(request, lang, t.gettext("You did not sign in. Nothing was shared."), 403)
    if "error" in params or "code" not in params:
        return _failed(request, lang, t.gettext("Signing in did not work. Please try again."), 400)
    client = identity.ensure_portal_client(session)
    try:
        issued = identity.exchange_code(
            session,
            client_id=client.client_id,
            client_secret=None,
            auth_method="none",
            code=params["code"],
            redirect_uri=client.redirect_uris[0],
            code_verifier=str(started["verifier"]),
        )
        claims = identity.decode_id_token(issued.id_token, audience=client.client_id)
        if claims.get("nonce") != started.get("nonce"):
            raise identity.OAuthError("invalid_token", "nonce mismatch")
        token = identity.authenticate_access_token(session, issued.access_token)
    except identity.OAuthError:
        return _failed(request, lang, t.gettext("Signing in did not work. Please try again."), 400)
    cookie, _ = open_resident_session(
        session,
        token.person_id,
        user_agent=request.headers.get("user-agent"),
        source=request.client.host if request.client else None,
    )
    response = RedirectResponse(safe_next(str(started.get("next"))), status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/portal")
    # A cookie of the portal's old, path-scoped kind is not sent to "/" pages: drop it.
    response.delete_cookie(RESIDENT_COOKIE, path="/portal")
    sessions.set_session_cookie(response, RESIDENT_COOKIE, cookie, max_age=RESIDENT_SESSION_MAX_AGE)
    return response


@router.get("/")
def home(
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: Annotated[Resident, Depends(require_resident)],
) -> HTMLResponse:
    """My page: the basic four, the household, the card and the resident's sessions."""
    try:
        person = residents.get_person(session, resident.person_id)
    except KibanError:
        raise LoginRequired(PORTAL_HOME, login_path=PORTAL_LOGIN) from None
    household = residents.get_household(session, person.household_id)
    card = identity.get_card_by_person(session, resident.person_id)
    return get_pages().render(
        request,
        lang,
        "portal/home.html",
        {
            "person": person,
            "household": household,
            "card": card,
            "today": clock.today_jst(),
            "unread_notices": notifications.count_unread(session, resident.person_id),
            "revocation_reasons": REVOCATION_REASONS,
            "web_sessions": [
                {
                    "current": ws.id == resident.session.id,
                    "created_at": ws.created_at,
                    "last_seen_at": ws.last_seen_at,
                    "browser": browser_label(ws.user_agent, lang),
                }
                for ws in sessions.list_sessions(
                    session, audience=RESIDENT_AUDIENCE, subject=str(resident.person_id)
                )
            ],
        },
    )


@router.post("/logout", dependencies=[Depends(public)])
def logout(
    request: Request,
    session: DbSession,
    csrf: Annotated[str, Form(alias=sessions.CSRF_FIELD)] = "",
) -> RedirectResponse:
    """End the portal session: the row is revoked, so a saved copy of the cookie opens nothing.

    Without a live session there is nothing to end and the cookie is just removed; with one,
    the form's CSRF token is required (a page elsewhere cannot sign the resident out).
    """
    resident = resident_session(request, session)
    if resident is not None:
        sessions.check_csrf(resident.session, csrf)
        sessions.revoke_session(session, resident.session.id, reason="logout", actor=resident.actor)
    response = RedirectResponse("/", status_code=303)
    sessions.clear_session_cookie(response, RESIDENT_COOKIE)
    return response


@router.post("/sessions/revoke")
def sign_out_everywhere(
    session: DbSession,
    resident: Annotated[Resident, Depends(require_resident)],
    csrf: Annotated[str, Form(alias=sessions.CSRF_FIELD)] = "",
) -> RedirectResponse:
    """Sign out everywhere: every session of the resident ends now, this one included (a
    browser the resident does not recognise is signed out; they sign in again with the card)."""
    sessions.check_csrf(resident.session, csrf)
    sessions.revoke_sessions_of(
        session,
        audience=RESIDENT_AUDIENCE,
        subject=str(resident.person_id),
        reason="signed out everywhere",
        actor=resident.actor,
    )
    response = RedirectResponse("/", status_code=303)
    sessions.clear_session_cookie(response, RESIDENT_COOKIE)
    return response
