"""The citizen portal (マイページ): residents sign in with the card through kiban's own OpenID
Connect provider, like any relying party would.

The portal is a first-party, public client (PKCE, no secret) registered on first use.
``/portal/login`` starts the authorization code flow; ``/portal/callback`` exchanges the code
in-process (the same function the token endpoint runs, without an HTTP call to ourselves),
checks the ID token's nonce and keeps the resident in a signed cookie. ``require_resident`` is
the auth dependency of the portal's pages.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kiban.blocks import identity, notifications, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import audit, i18n
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang, LoginRequired, auth_dependency, public
from kiban.web.portal.labels import REVOCATION_REASONS
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal", include_in_schema=False)

PORTAL_HOME: Final = "/portal/"
PORTAL_LOGIN: Final = "/portal/login"
RESIDENT_COOKIE: Final = "kiban_resident"
LOGIN_COOKIE: Final = "kiban_portal_login"
RESIDENT_SESSION_MAX_AGE: Final = 30 * 60  # Half an hour: the card is at hand to sign in again.
_LOGIN_MAX_AGE: Final = 15 * 60
_RESIDENT_SALT: Final = "kiban.portal-session"
_LOGIN_SALT: Final = "kiban.portal-login"


@dataclass(frozen=True)
class Resident:
    """A resident signed in to the portal."""

    person_id: uuid.UUID

    @property
    def actor(self) -> str:
        return audit.person_actor(self.person_id)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=salt)


def _secure() -> bool:
    return get_settings().base_url.startswith("https://")


def resident_session(request: Request) -> Resident | None:
    """The resident signed in on ``request``, if any."""
    cookie = request.cookies.get(RESIDENT_COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(_RESIDENT_SALT).loads(cookie, max_age=RESIDENT_SESSION_MAX_AGE)
        return Resident(person_id=uuid.UUID(data["person_id"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


@auth_dependency
def require_resident(request: Request) -> Resident:
    """The signed-in resident of a portal page; otherwise a redirect to the card sign-in."""
    resident = resident_session(request)
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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@router.get("/login", dependencies=[Depends(public)])
def login(session: DbSession, lang: Lang, next: str | None = None) -> RedirectResponse:
    """Start the code flow with PKCE against kiban's own provider."""
    client = identity.ensure_portal_client(session)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uris[0],
            "scope": " ".join(client.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode("ascii")).digest()),
            "code_challenge_method": "S256",
            "ui_locales": lang,
        }
    )
    response = RedirectResponse(f"/oidc/authorize?{query}", status_code=303)
    response.set_cookie(
        LOGIN_COOKIE,
        _serializer(_LOGIN_SALT).dumps(
            {"state": state, "nonce": nonce, "verifier": verifier, "next": safe_next(next)}
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
    response = RedirectResponse(safe_next(str(started.get("next"))), status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/portal")
    response.set_cookie(
        RESIDENT_COOKIE,
        _serializer(_RESIDENT_SALT).dumps({"person_id": str(token.person_id)}),
        max_age=RESIDENT_SESSION_MAX_AGE,
        path="/portal",
        httponly=True,
        samesite="lax",
        secure=_secure(),
    )
    return response


@router.get("/")
def home(
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: Annotated[Resident, Depends(require_resident)],
) -> HTMLResponse:
    """My page: the basic four, the household and the card."""
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
        },
    )


@router.post("/logout", dependencies=[Depends(public)])
def logout() -> RedirectResponse:
    """End the portal session."""
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(RESIDENT_COOKIE, path="/portal", httponly=True, samesite="lax")
    return response
