"""Officials' sign-in and office sessions, and the principal behind every operator API call.

An official signs in with their own card through kiban's own OpenID provider (the office is a
first-party public client, like the portal): ``/office/login`` starts the code flow with PKCE,
``/office/callback`` exchanges the code in-process, checks nonce and ``acr`` (the card), finds
the staff account of the person, and starts a server-side office session
(``kiban.platform.sessions``, audience ``office``). The official then chooses one of their
memberships (organisation and role) on ``/office/choose``; the session is bound to it. Every
office form carries the session's CSRF token. Sign-in attempts, good and bad, are audited
(``staff:office:sign_in``, ``staff:office:sign_in_failed``) and failures are throttled per
client address.

:func:`resolve_principal` is what ``kiban.platform.authority.require_principal`` calls for the
operator APIs: a service account's API key (``Authorization: Bearer kiban_sk_…``) or the office
session (state-changing calls with the session must carry ``X-CSRF-Token``). The shared
operator token is refused there (``staff.operator_token_retired``).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from kiban.blocks import identity, staff
from kiban.platform import audit, i18n, sessions, throttle
from kiban.platform.authority import Principal
from kiban.platform.settings import get_settings
from kiban.platform.webkit import (
    DbSession,
    Lang,
    LoginRequired,
    auth_dependency,
    check_operator_token,
    language_of,
    public,
)
from kiban.web.first_party import start_authorization
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office", include_in_schema=False)

AUDIENCE: Final = "office"
OFFICE_COOKIE: Final = "kiban_office"
LOGIN_COOKIE: Final = "kiban_office_login"
OFFICE_HOME: Final = "/office"
OFFICE_LOGIN: Final = "/office/login"
CHOOSE_PATH: Final = "/office/choose"
IDLE: Final = timedelta(minutes=30)
ABSOLUTE: Final = timedelta(hours=9)  # One working day.
_LOGIN_MAX_AGE: Final = 15 * 60
_LOGIN_SALT: Final = "kiban.office-login"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


# --- throttling ---------------------------------------------------------------------------------


class SignInThrottle:
    """Failed office sign-ins per client address, on the platform's throttle (lockout with
    back-off, lockouts audited): ``limit`` failures lock the address out for a while."""

    def __init__(self, limit: int = 10) -> None:
        self._throttle = throttle.Throttle("office-sign-in", limit=limit)
        self.limit = limit

    def blocked(self, key: str) -> bool:
        try:
            self._throttle.check(key)
        except throttle.TooManyAttempts:
            return True
        return False

    def failed(self, key: str) -> None:
        self._throttle.failure(key)

    def reset(self) -> None:
        self._throttle.reset()


THROTTLE: Final = SignInThrottle()


# --- the signed-in official ---------------------------------------------------------------------


@dataclass(frozen=True)
class Official:
    """The official of an office page: who (``name``), in which organisation (``lg_code``) and
    role, with the session and its CSRF token for the page's forms."""

    principal: Principal
    session: sessions.WebSession
    csrf: str
    organisation_name: str
    role_name: str

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def lg_code(self) -> str | None:
        org = self.principal.organisation
        return org if org.isdigit() else None

    @property
    def actor(self) -> str:
        return self.principal.actor


def _client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _office_session(db: Session, request: Request) -> sessions.WebSession | None:
    return sessions.load_session(db, audience=AUDIENCE, cookie=request.cookies.get(OFFICE_COOKIE))


def _principal(db: Session, ws: sessions.WebSession) -> Principal | None:
    organisation, role = ws.data.get("organisation"), ws.data.get("role")
    if not isinstance(organisation, str) or not isinstance(role, str):
        return None
    return staff.principal_for(
        db,
        uuid.UUID(ws.subject),
        organisation=organisation,
        role=role,
        session_id=ws.id,
        authenticated_at=ws.authenticated_at,
        authenticated_with=str(ws.data.get("authenticated_with", "card")),
    )


def _path(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


@auth_dependency
def require_official(request: Request, db: DbSession) -> Official:
    """The signed-in official of an office page, bound to an organisation and role; otherwise
    a redirect to the card sign-in (or to choosing the organisation). A membership revoked or
    an account suspended since sign-in ends the session's authority at once."""
    ws = _office_session(db, request)
    if ws is None:
        raise LoginRequired(_path(request), login_path=OFFICE_LOGIN)
    principal = _principal(db, ws)
    if principal is None:
        raise LoginRequired(_path(request), login_path=CHOOSE_PATH)
    lang = language_of(request)
    membership = next(
        m
        for m in staff.get_account(db, principal.account_id).memberships
        if m.organisation == principal.organisation and m.role == principal.role
    )
    return Official(
        principal=principal,
        session=ws,
        csrf=sessions.csrf_token(ws),
        organisation_name=membership.organisation_name_en
        if lang == "en"
        else membership.organisation_name_ja,
        role_name=membership.role_name_en if lang == "en" else membership.role_name_ja,
    )


OfficialUser = Annotated[Official, Depends(require_official)]


def resolve_principal(db: Session, request: Request) -> Principal | None:
    """The principal of an operator API call (installed into kiban.platform.authority)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise staff.KeyInvalid
        # Guesses are throttled per caller like every bearer token (platform.throttle).
        source = throttle.source_key(request)
        throttle.BEARER_TOKENS.check(source)
        if check_operator_token(token):
            raise staff.OperatorTokenRetired
        try:
            return staff.principal_from_key(db, token)
        except staff.KeyInvalid:
            throttle.BEARER_TOKENS.failure(source)
            raise
    ws = _office_session(db, request)
    if ws is None:
        return None
    if request.method not in _SAFE_METHODS:
        sessions.check_csrf(ws, request.headers.get("x-csrf-token"))
    return _principal(db, ws)


# --- sign-in with the card ----------------------------------------------------------------------


def safe_next(path: str | None) -> str:
    """``path`` if it is an office page, else the office home (no open redirects)."""
    if (
        path
        and (path == OFFICE_HOME or path.startswith(("/office/", "/office?")))
        and "//" not in path
        and "\\" not in path
    ):
        return path
    return OFFICE_HOME


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=_LOGIN_SALT)


@router.get("/login", dependencies=[Depends(public)])
def login_page(request: Request, lang: Lang, next: str | None = None) -> HTMLResponse:
    """The sign-in page: officials sign in with their own card."""
    return get_pages().render(
        request, lang, "office/login.html", {"next": safe_next(next), "error": None}
    )


@router.get("/login/start", dependencies=[Depends(public)])
def login_start(
    request: Request, db: DbSession, lang: Lang, next: str | None = None, step_up: bool = False
) -> Response:
    """Start the code flow with PKCE against kiban's own provider (``step_up``: the signed-in
    official presents the card again before a sensitive action)."""
    t = i18n.translations(lang)
    if THROTTLE.blocked(_client_of(request)):
        return _failed(
            request, lang, t.gettext("Too many failed sign-ins. Please wait and try again."), 429
        )
    client = identity.ensure_office_client(db)
    start = start_authorization(client, lang)
    response = RedirectResponse(start.url, status_code=303)
    response.set_cookie(
        LOGIN_COOKIE,
        _serializer().dumps(
            {
                "state": start.state,
                "nonce": start.nonce,
                "verifier": start.verifier,
                "next": safe_next(next),
                "step_up": step_up,
            }
        ),
        max_age=_LOGIN_MAX_AGE,
        path="/office",
        httponly=True,
        samesite="lax",
        secure=get_settings().base_url.startswith("https://"),
    )
    return response


def _failed(request: Request, lang: i18n.Language, message: str, status_code: int) -> HTMLResponse:
    response = get_pages().render(
        request,
        lang,
        "office/login.html",
        {"next": OFFICE_HOME, "error": message},
        status_code=status_code,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/office")
    return response


def _refuse(
    db: Session, request: Request, lang: i18n.Language, message: str, status: int, reason: str
) -> HTMLResponse:
    THROTTLE.failed(_client_of(request))
    audit.record(
        db,
        tag="staff:office:sign_in_failed",
        actor="system:office",
        subject=_client_of(request),
        data={"reason": reason},
    )
    return _failed(request, lang, message, status)


@router.get("/callback", dependencies=[Depends(public)])
def callback(  # noqa: PLR0911 - each refusal answers with its own page.
    request: Request, lang: Lang, db: DbSession
) -> Response:
    """The provider's answer: exchange the code, find the official's account, start the
    office session and ask which organisation and role to work in."""
    t = i18n.translations(lang)
    retry = t.gettext("Signing in did not work. Please try again.")
    if THROTTLE.blocked(_client_of(request)):
        return _failed(
            request, lang, t.gettext("Too many failed sign-ins. Please wait and try again."), 429
        )
    params = request.query_params
    started: dict[str, Any] | None = None
    try:
        loaded = _serializer().loads(request.cookies.get(LOGIN_COOKIE, ""), max_age=_LOGIN_MAX_AGE)
        started = loaded if isinstance(loaded, dict) else None
    except BadSignature:
        started = None
    if started is None or not secrets.compare_digest(
        str(started.get("state", "")), params.get("state", "")
    ):
        return _refuse(
            db,
            request,
            lang,
            t.gettext("This sign-in has expired. Please sign in again."),
            400,
            "state",
        )
    if "error" in params or "code" not in params:
        return _refuse(db, request, lang, retry, 400, params.get("error", "no_code"))
    client = identity.ensure_office_client(db)
    try:
        issued = identity.exchange_code(
            db,
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
        if claims.get("acr") != "urn:kiban:acr:card":
            raise identity.OAuthError("invalid_token", "not signed in with the card")
        token = identity.authenticate_access_token(db, issued.access_token)
    except identity.OAuthError:
        return _refuse(db, request, lang, retry, 400, "token")
    account = staff.get_account_by_person(db, token.person_id)
    if started.get("step_up"):
        return _stepped_up(db, request, lang, account, str(started.get("next")))
    if account is None or account.status != "active" or not account.memberships:
        return _refuse(
            db,
            request,
            lang,
            t.gettext("This card does not belong to an official with a role in any office."),
            403,
            "not_staff",
        )
    cookie = start_office_session(db, request, lang, account.id, "card")
    response = RedirectResponse(choose_path(str(started.get("next"))), status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/office")
    set_office_cookie(response, cookie)
    return response


def choose_path(next_path: str | None) -> str:
    """Where a sign-in continues: choosing the organisation and role, then ``next_path``."""
    return f"{CHOOSE_PATH}?next={quote(safe_next(next_path), safe='/')}"


def start_office_session(
    db: Session, request: Request, lang: i18n.Language, account_id: uuid.UUID, method: str
) -> str:
    """Start the office session of an official who proved themselves with ``method`` (``card``,
    ``webauthn`` or ``totp``, kept on the session: ADR 0019), audited
    (``staff:office:sign_in``); returns the cookie value."""
    cookie, ws = sessions.start_session(
        db,
        audience=AUDIENCE,
        subject=str(account_id),
        data={"lang": lang, "authenticated_with": method},
        idle=IDLE,
        absolute=ABSOLUTE,
        user_agent=request.headers.get("user-agent"),
        source=_client_of(request),
        actor=f"staff:{account_id}",
    )
    acr = "urn:kiban:acr:card" if method == "card" else f"urn:kiban:acr:{method}"
    audit.record(
        db,
        tag="staff:office:sign_in",
        actor=f"staff:{account_id}",
        subject=str(account_id),
        data={"session_id": str(ws.id), "acr": acr, "method": method},
    )
    return cookie


def set_office_cookie(response: Response, cookie: str) -> None:
    """Give the browser the office session's cookie."""
    sessions.set_session_cookie(
        response, OFFICE_COOKIE, cookie, max_age=int(ABSOLUTE.total_seconds()), samesite="lax"
    )


def _stepped_up(
    db: Session,
    request: Request,
    lang: i18n.Language,
    account: staff.AccountRead | None,
    next_path: str,
) -> Response:
    """The card again, in the session it was asked for: the same official's card only."""
    ws = _office_session(db, request)
    if ws is None or account is None or ws.subject != str(account.id):
        t = i18n.translations(lang)
        return _refuse(
            db,
            request,
            lang,
            t.gettext("Confirm with the card of the signed-in official."),
            403,
            "step_up_other_card",
        )
    stepped_up(db, ws, "card")
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/office")
    return response


def stepped_up(
    db: Session, ws: sessions.WebSession, method: str, *, actor: str | None = None
) -> None:
    """The official of ``ws`` proved themselves again with ``method`` (card or WebAuthn):
    sensitive actions are open for a few minutes (``staff:office:step_up``, by ``actor``: the
    signed-in principal when known, else the session's account)."""
    sessions.update_session(
        db, ws.id, data={**ws.data, "authenticated_with": method}, authenticated=True
    )
    audit.record(
        db,
        tag="staff:office:step_up",
        actor=actor or f"staff:{ws.subject}",
        subject=ws.subject,
        data={"session_id": str(ws.id), "method": method},
    )


def _choose_page(
    request: Request,
    lang: i18n.Language,
    ws: sessions.WebSession,
    account: staff.AccountRead,
    next_path: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return get_pages().render(
        request,
        lang,
        "office/choose.html",
        {
            "account": account,
            "memberships": account.memberships,
            "next": next_path,
            "csrf": sessions.csrf_token(ws),
            "error": error,
            "current": (ws.data.get("organisation"), ws.data.get("role")),
        },
        status_code=status_code,
    )


@router.get("/choose", dependencies=[Depends(public)])
def choose_form(request: Request, lang: Lang, db: DbSession, next: str | None = None) -> Response:
    """Choose the organisation and role to work in, among the official's memberships."""
    ws = _office_session(db, request)
    if ws is None:
        raise LoginRequired(safe_next(next), login_path=OFFICE_LOGIN)
    account = staff.get_account(db, uuid.UUID(ws.subject))
    return _choose_page(request, lang, ws, account, safe_next(next))


@router.post("/choose", dependencies=[Depends(public)])
def choose(
    request: Request,
    lang: Lang,
    db: DbSession,
    membership: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = OFFICE_HOME,
) -> Response:
    """Bind the session to the chosen organisation and role."""
    ws = _office_session(db, request)
    if ws is None:
        raise LoginRequired(safe_next(next), login_path=OFFICE_LOGIN)
    sessions.check_csrf(ws, csrf_token)
    account = staff.get_account(db, uuid.UUID(ws.subject))
    chosen = None
    for candidate in account.memberships:
        if str(candidate.id) == membership:
            chosen = candidate
    if chosen is None or account.status != "active":
        t = i18n.translations(lang)
        return _choose_page(
            request,
            lang,
            ws,
            account,
            safe_next(next),
            error=t.gettext("Choose one of your offices and roles."),
            status_code=400,
        )
    sessions.update_session(
        db,
        ws.id,
        data={**ws.data, "organisation": chosen.organisation, "role": chosen.role, "lang": lang},
    )
    audit.record(
        db,
        tag="staff:office:role_chosen",
        actor=f"staff:{account.id}@{chosen.organisation}/{chosen.role}",
        subject=str(account.id),
        data={"session_id": str(ws.id)},
    )
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(public)])
def logout(
    request: Request, db: DbSession, csrf_token: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """End the office session (server-side: the cookie no longer opens anything)."""
    ws = _office_session(db, request)
    if ws is not None:
        sessions.check_csrf(ws, csrf_token)
        sessions.revoke_session(db, ws.id, reason="logout", actor=f"staff:{ws.subject}")
    response = RedirectResponse("/", status_code=303)
    sessions.clear_session_cookie(response, OFFICE_COOKIE)
    return response
