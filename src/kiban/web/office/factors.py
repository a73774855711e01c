"""Officials' second factors on the office pages (ADR 0019): enrolment and signing in without
a card reader.

Enrolment (``/office/factors``): a signed-in official registers WebAuthn credentials (security
keys, passkeys), each named, listed and removable, and a TOTP app as the fallback (the secret
shown once, as text and as an SVG QR code, active after a first right code). Adding or removing
a factor needs the *card* presented within the step-up window: a session opened with a second
factor cannot add or remove factors by itself.

Signing in (``/office/login/factor``): the official gives their staff account id (``kiban staff
show`` prints it; a passkey on the device may name the account instead) and answers a WebAuthn
challenge, or types a TOTP code; then chooses organisation and role as after the card. The
session records how it was opened (``authenticated_with``): the policy's step-up accepts the
card or WebAuthn, never TOTP. Attempts are audited (``staff:office:sign_in`` with ``method``,
``staff:office:sign_in_failed`` with the reason) and throttled per client address (the card
sign-in's throttle) and, for TOTP codes, per account.

The JSON calls of ``/static/webauthn.js`` carry the office session's CSRF token in the
``X-CSRF-Token`` header (enrolment, step-up); the sign-in's calls are bound to the sign-in's
flow cookie, set by the sign-in page (the TOTP form carries the same flow value: double submit).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any, Final

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy.orm import Session

from kiban.blocks import staff
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import audit, i18n, sessions, throttle
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang, public
from kiban.web.office.session import (
    THROTTLE,
    Official,
    OfficialUser,
    choose_path,
    safe_next,
    set_office_cookie,
    start_office_session,
    stepped_up,
)
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office", include_in_schema=False)

FLOW_COOKIE: Final = "kiban_office_factor"
FACTORS_PATH: Final = "/office/factors"
_FLOW_SALT: Final = "kiban.office-factor-flow"
_FLOW_MAX_AGE: Final = 15 * 60
_MAX_JSON: Final = 64 * 1024

TOTP_CODES: Final = throttle.Throttle("office-totp", limit=5)
"""Wrong TOTP codes per account: five lock the account's TOTP sign-in for a while (the
client address is throttled as well, by the card sign-in's throttle)."""


# --- helpers ------------------------------------------------------------------------------------


def _client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _card_recent(official: Official) -> bool:
    """The card was presented in this session within the step-up window."""
    ws = official.session
    return (
        ws.data.get("authenticated_with", "card") == "card"
        and clock.now() - ws.authenticated_at <= staff.STEP_UP_WINDOW
    )


def _step_up_link(lang: str) -> str:
    return f"/office/login/start?step_up=true&next=%2Foffice%2Ffactors&lang={lang}"


async def _json(request: Request) -> dict[str, Any]:
    """The request's JSON object (a WebAuthn credential, small): ``FactorInvalid`` otherwise.
    Only ``application/json`` is read, which no page of another site can send without asking
    first (CORS preflight)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise staff.FactorInvalid("content_type")
    body = await request.body()
    if len(body) > _MAX_JSON:
        raise staff.FactorInvalid("too_large")
    return staff.parse_credential(body)


def _error_json(message: str, status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _qr_svg(uri: str, title: str) -> Markup:
    """The otpauth URI as an inline SVG QR code (no script, no image request)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, title=title, dark="#000")
    return Markup(svg)  # noqa: S704 - segno writes the SVG; the URI inside is escaped by it.


# --- enrolment ----------------------------------------------------------------------------------


def _factors_page(
    request: Request,
    lang: i18n.Language,
    db: Session,
    official: Official,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    account_id = official.principal.account_id
    return get_pages().render(
        request,
        lang,
        "office/factors.html",
        {
            "official": official,
            "credentials": staff.list_webauthn_credentials(db, account_id),
            "totp": staff.totp_status(db, account_id),
            "card_recent": _card_recent(official),
            "step_up": _step_up_link(lang),
            "message": message,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/factors")
def factors(
    request: Request, lang: Lang, db: DbSession, official: OfficialUser, done: str | None = None
) -> HTMLResponse:
    """The official's second factors: security keys and passkeys, and the TOTP app."""
    t = i18n.translations(lang)
    messages = {
        "added": t.gettext("The security key was added."),
        "removed": t.gettext("The security key was removed."),
        "totp": t.gettext("The authenticator app is set up."),
        "totp_removed": t.gettext("The authenticator app was removed."),
    }
    return _factors_page(request, lang, db, official, message=messages.get(done or ""))


def _card_required(lang: i18n.Language) -> JSONResponse:
    t = i18n.translations(lang)
    return _error_json(
        t.gettext("Confirm with your card first: adding a key needs the card."),
        403,
        "staff.step_up_required",
    )


@router.post("/factors/webauthn/options")
def webauthn_register_options(
    request: Request, lang: Lang, db: DbSession, official: OfficialUser
) -> Response:
    """Creation options for a new security key or passkey (the challenge is bound to this
    office session). Needs the session's CSRF token in ``X-CSRF-Token`` and a recent card."""
    sessions.check_csrf(official.session, request.headers.get("x-csrf-token"))
    if not _card_recent(official):
        return _card_required(lang)
    account_id = official.principal.account_id
    options = staff.start_webauthn_registration(
        db, account_id, binding=f"session:{official.session.id}"
    )
    # An official's action, audited as every other: a challenge to enrol a key was issued.
    audit.record(
        db,
        tag="staff:factor:webauthn_started",
        actor=official.principal.actor,
        subject=str(account_id),
        data={"session_id": str(official.session.id)},
    )
    return Response(options, media_type="application/json")


@router.post("/factors/webauthn")
async def webauthn_register(
    request: Request, lang: Lang, db: DbSession, official: OfficialUser
) -> Response:
    """The authenticator's answer, with the name the official gave the key (``name``) and the
    credential (``credential``), as JSON. Needs ``X-CSRF-Token`` and a recent card."""
    sessions.check_csrf(official.session, request.headers.get("x-csrf-token"))
    if not _card_recent(official):
        return _card_required(lang)
    body = await _json(request)
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise staff.FactorInvalid("malformed")
    actor = official.principal.actor
    try:
        staff.do_add_webauthn_credential(
            db,
            official.principal.account_id,
            binding=f"session:{official.session.id}",
            name=str(body.get("name", "")),
            credential=credential,
            actor=actor,
        )
    except staff.FactorInvalid as refused:
        audit.record(
            db,
            tag="staff:factor:webauthn_refused",
            actor=actor,
            subject=str(official.principal.account_id),
            data={"reason": refused.reason},
        )
        t = i18n.translations(lang)
        return _error_json(
            t.gettext("The security key could not be added. Please try again."),
            400,
            refused.code,
        )
    return JSONResponse({"redirect": f"{FACTORS_PATH}?done=added&lang={lang}"})


@router.post("/factors/webauthn/{credential_id}/remove")
def webauthn_remove(
    request: Request,
    lang: Lang,
    db: DbSession,
    official: OfficialUser,
    credential_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Remove a security key: asks for the card again first (step-up)."""
    sessions.check_csrf(official.session, csrf_token)
    if not _card_recent(official):
        return RedirectResponse(_step_up_link(lang), status_code=303)
    staff.do_remove_webauthn_credential(
        db,
        official.principal.account_id,
        credential_id,
        actor=official.principal.actor,
    )
    return RedirectResponse(f"{FACTORS_PATH}?done=removed&lang={lang}", status_code=303)


@router.post("/factors/totp")
def totp_start(
    request: Request,
    lang: Lang,
    db: DbSession,
    official: OfficialUser,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """A new TOTP secret, shown once (QR code and text), to be confirmed by a first code."""
    sessions.check_csrf(official.session, csrf_token)
    if not _card_recent(official):
        return RedirectResponse(_step_up_link(lang), status_code=303)
    t = i18n.translations(lang)
    try:
        enrolment = staff.do_start_totp(
            db, official.principal.account_id, actor=official.principal.actor
        )
    except staff.FactorConflict as conflict:
        return _factors_page(
            request, lang, db, official, error=conflict.message(lang), status_code=409
        )
    grouped = " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4))
    response = get_pages().render(
        request,
        lang,
        "office/totp.html",
        {
            "official": official,
            "qr": _qr_svg(enrolment.uri, t.gettext("QR code for your authenticator app")),
            "secret": grouped,
            "error": None,
        },
    )
    # The secret is on this page only: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/factors/totp/confirm")
def totp_confirm(
    request: Request,
    lang: Lang,
    db: DbSession,
    official: OfficialUser,
    code: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Activate the TOTP app with a first right code (wrong codes are throttled)."""
    sessions.check_csrf(official.session, csrf_token)
    account_id = official.principal.account_id
    key = f"account:{account_id}"
    t = i18n.translations(lang)
    try:
        TOTP_CODES.check(key)
        staff.do_confirm_totp(db, account_id, code, actor=official.principal.actor)
    except throttle.TooManyAttempts:
        error = t.gettext("Too many wrong codes. Please wait and try again.")
    except staff.FactorInvalid:
        TOTP_CODES.failure(key)
        error = t.gettext("That code is not right. Type the 6 digits the app shows now.")
    except staff.FactorConflict as conflict:
        return _factors_page(
            request, lang, db, official, error=conflict.message(lang), status_code=409
        )
    else:
        return RedirectResponse(f"{FACTORS_PATH}?done=totp&lang={lang}", status_code=303)
    return get_pages().render(
        request,
        lang,
        "office/totp.html",
        {"official": official, "qr": None, "secret": None, "error": error},
        status_code=400,
    )


@router.post("/factors/totp/remove")
def totp_remove(
    request: Request,
    lang: Lang,
    db: DbSession,
    official: OfficialUser,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Remove the TOTP app: asks for the card again first (step-up)."""
    sessions.check_csrf(official.session, csrf_token)
    if not _card_recent(official):
        return RedirectResponse(_step_up_link(lang), status_code=303)
    account_id = official.principal.account_id
    staff.do_remove_totp(db, account_id, actor=official.principal.actor)
    return RedirectResponse(f"{FACTORS_PATH}?done=totp_removed&lang={lang}", status_code=303)


@router.post("/factors/step-up/options")
def step_up_options(
    request: Request, lang: Lang, db: DbSession, official: OfficialUser
) -> Response:
    """Request options to confirm with a security key instead of the card (step-up)."""
    sessions.check_csrf(official.session, request.headers.get("x-csrf-token"))
    account_id = official.principal.account_id
    options = staff.start_webauthn_authentication(
        db, binding=f"session:{official.session.id}", purpose="step_up", account_id=account_id
    )
    # An official's action, audited as every other: a challenge to step up was issued.
    audit.record(
        db,
        tag="staff:office:step_up_started",
        actor=official.principal.actor,
        subject=str(account_id),
        data={"session_id": str(official.session.id), "method": "webauthn"},
    )
    return Response(options, media_type="application/json")


@router.post("/factors/step-up")
async def step_up(request: Request, lang: Lang, db: DbSession, official: OfficialUser) -> Response:
    """A security key's answer: sensitive actions open for a few minutes, as after the card."""
    sessions.check_csrf(official.session, request.headers.get("x-csrf-token"))
    credential = await _json(request)
    account_id = official.principal.account_id
    try:
        signer = staff.verify_webauthn_assertion(
            db, binding=f"session:{official.session.id}", credential=credential, purpose="step_up"
        )
        if signer != account_id:
            raise staff.FactorInvalid("credential_other_account")
    except staff.FactorInvalid as refused:
        audit.record(
            db,
            tag="staff:office:step_up_failed",
            actor=official.principal.actor,
            subject=str(account_id),
            data={"reason": refused.reason, "method": "webauthn"},
        )
        t = i18n.translations(lang)
        return _error_json(
            t.gettext("We could not confirm it is you. Please try again."), 400, refused.code
        )
    stepped_up(db, official.session, "webauthn", actor=official.principal.actor)
    return JSONResponse({"redirect": f"/office?lang={lang}"})


# --- signing in without a card reader -----------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=_FLOW_SALT)


def _flow_of(request: Request) -> str | None:
    """The sign-in flow secret of this browser (from its signed cookie), if any and fresh."""
    try:
        loaded = _serializer().loads(request.cookies.get(FLOW_COOKIE, ""), max_age=_FLOW_MAX_AGE)
    except BadSignature:
        return None
    return loaded if isinstance(loaded, str) and loaded else None


def _login_page(
    request: Request,
    lang: i18n.Language,
    flow: str,
    next_path: str,
    *,
    error: str | None = None,
    account: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    response = get_pages().render(
        request,
        lang,
        "office/login_factor.html",
        {"flow": flow, "next": next_path, "error": error, "account": account},
        status_code=status_code,
    )
    response.set_cookie(
        FLOW_COOKIE,
        _serializer().dumps(flow),
        max_age=_FLOW_MAX_AGE,
        path="/office",
        httponly=True,
        samesite="strict",
        secure=get_settings().base_url.startswith("https://"),
    )
    return response


@router.get("/login/factor", dependencies=[Depends(public)])
def login_factor_page(request: Request, lang: Lang, next: str | None = None) -> HTMLResponse:
    """Sign in without a card reader: a security key or passkey, or an authenticator app."""
    return _login_page(request, lang, secrets.token_urlsafe(24), safe_next(next))


def _account_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def _signed_in_json(
    db: Session, request: Request, lang: i18n.Language, account_id: uuid.UUID, next_path: str
) -> Response:
    cookie = start_office_session(db, request, lang, account_id, "webauthn")
    response = JSONResponse({"redirect": choose_path(next_path)})
    response.delete_cookie(FLOW_COOKIE, path="/office")
    set_office_cookie(response, cookie)
    return response


def _sign_in_refused(db: Session, request: Request, reason: str, method: str) -> None:
    THROTTLE.failed(_client_of(request))
    audit.record(
        db,
        tag="staff:office:sign_in_failed",
        actor="system:office",
        subject=_client_of(request),
        data={"reason": reason, "method": method},
    )


def _usable(db: Session, account_id: uuid.UUID) -> bool:
    try:
        account = staff.get_account(db, account_id)
    except KibanError:
        return False
    return account.status == "active" and bool(account.memberships)


@router.post("/login/webauthn/options", dependencies=[Depends(public)])
async def login_webauthn_options(request: Request, lang: Lang, db: DbSession) -> Response:
    """Request options for signing in with a security key or passkey (JSON ``{"account"}``:
    the staff account id, or empty for a passkey that names its account). The challenge is
    bound to this browser's sign-in flow cookie."""
    t = i18n.translations(lang)
    flow = _flow_of(request)
    if flow is None:
        return _error_json(
            t.gettext("This sign-in has expired. Please sign in again."), 400, "expired"
        )
    if THROTTLE.blocked(_client_of(request)):
        return _error_json(
            t.gettext("Too many failed sign-ins. Please wait and try again."),
            429,
            "throttled",
        )
    body = await _json(request)
    given = str(body.get("account") or "")
    account_id = _account_id(given) if given else None
    if given and account_id is None:
        return _error_json(
            t.gettext("Type your staff account id as printed for you."), 422, "account"
        )
    options = staff.start_webauthn_authentication(
        db, binding=f"flow:{flow}", purpose="sign_in", account_id=account_id
    )
    return Response(options, media_type="application/json")


@router.post("/login/webauthn", dependencies=[Depends(public)])
async def login_webauthn(
    request: Request, lang: Lang, db: DbSession, next: str | None = None
) -> Response:
    """The security key's answer: the office session starts (assurance ``webauthn``)."""
    t = i18n.translations(lang)
    flow = _flow_of(request)
    if flow is None:
        return _error_json(
            t.gettext("This sign-in has expired. Please sign in again."), 400, "expired"
        )
    if THROTTLE.blocked(_client_of(request)):
        return _error_json(
            t.gettext("Too many failed sign-ins. Please wait and try again."),
            429,
            "throttled",
        )
    credential = await _json(request)
    try:
        account_id = staff.verify_webauthn_assertion(
            db, binding=f"flow:{flow}", credential=credential
        )
        if not _usable(db, account_id):
            raise staff.FactorInvalid("not_staff")
    except staff.FactorInvalid as refused:
        _sign_in_refused(db, request, refused.reason, "webauthn")
        return _error_json(
            t.gettext("Signing in did not work. Please try again."), 401, refused.code
        )
    return _signed_in_json(db, request, lang, account_id, safe_next(next))


@router.post("/login/totp", dependencies=[Depends(public)])
def login_totp(
    request: Request,
    lang: Lang,
    db: DbSession,
    account: Annotated[str, Form(max_length=100)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    flow: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/office",
) -> Response:
    """Sign in with the staff account id and a code of the authenticator app (assurance
    ``totp``: sensitive actions still ask for the card or a security key)."""
    t = i18n.translations(lang)
    next_path = safe_next(next)
    expected = _flow_of(request)
    if expected is None or not secrets.compare_digest(expected, flow):
        return _login_page(
            request,
            lang,
            secrets.token_urlsafe(24),
            next_path,
            error=t.gettext("This sign-in has expired. Please sign in again."),
            status_code=400,
        )

    def refuse(message: str, reason: str, status: int) -> HTMLResponse:
        _sign_in_refused(db, request, reason, "totp")
        return _login_page(
            request, lang, expected, next_path, error=message, account=account, status_code=status
        )

    if THROTTLE.blocked(_client_of(request)):
        return refuse(
            t.gettext("Too many failed sign-ins. Please wait and try again."), "throttled", 429
        )
    account_id = _account_id(account)
    wrong = t.gettext("The account id or the code is not right.")
    if account_id is None:
        return refuse(wrong, "account", 400)
    key = f"account:{account_id}"
    if TOTP_CODES.retry_after(key):
        return refuse(
            t.gettext("Too many wrong codes. Please wait and try again."), "throttled", 429
        )
    try:
        if not _usable(db, account_id):
            raise staff.FactorInvalid("not_staff")
        staff.check_totp(db, account_id, code)
    except staff.FactorInvalid as refused:
        TOTP_CODES.failure(key)
        return refuse(wrong, refused.reason, 401)
    cookie = start_office_session(db, request, lang, account_id, "totp")
    response = RedirectResponse(choose_path(next_path), status_code=303)
    response.delete_cookie(FLOW_COOKIE, path="/office")
    set_office_cookie(response, cookie)
    return response


__all__ = ["FLOW_COOKIE", "TOTP_CODES", "router"]
