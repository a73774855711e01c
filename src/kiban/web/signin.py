"""The pages of sign-in with the card: authorize, the sign-in page, the card callback, consent.

``GET /oidc/authorize`` checks the relying party's request and sends the browser to
``/oidc/signin/{request_id}``, which explains the card sign-in, lists what the service asks
for and sends the resident to the virtual card reader with a GET form. The reader answers at
``/oidc/card-callback``; after the card's signature checks out, ``/oidc/consent/{request_id}``
lets the resident choose, item by item, what to share, and sends the browser back to the
relying party with a code (or ``access_denied``).

A signed cookie (``kiban_signin``) binds each request to the browser that started it: the
request id travels through the card reader's URL, so it alone must not be enough to finish
someone else's sign-in. The cookie is ``SameSite=Lax``, which also keeps other sites from
posting the consent form.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kiban.blocks import identity, residents
from kiban.kernel.errors import KibanError
from kiban.platform import i18n
from kiban.platform.settings import get_settings
from kiban.platform.statements import DriverTransaction
from kiban.platform.webkit import DbSession, DriverUnit, Lang, public
from kiban.web.templating import get_pages

router = APIRouter(include_in_schema=False, dependencies=[Depends(public)])

SIGNIN_COOKIE: Final = "kiban_signin"
_SIGNIN_SALT: Final = "kiban.oidc-signin"
_SIGNIN_MAX_AGE: Final = 60 * 60  # Longer than any one authorization request lives.


def scope_labels(lang: i18n.Language) -> dict[str, str]:
    """What each scope shares, in words a resident understands."""
    t = i18n.translations(lang)
    return {
        "openid": t.gettext("An identifier for this service only (always shared)"),
        "name": t.gettext("Name (with its reading in katakana)"),
        "address": t.gettext("Address"),
        "birthdate": t.gettext("Date of birth"),
        "gender": t.gettext("Sex"),
        "sign": t.gettext(
            "Signing certificate (name, date of birth, sex and address, signed by the card)"
        ),
        "business": t.gettext("Business account (corporation and role)"),
    }


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=_SIGNIN_SALT)


def browser_binding(request: Request) -> str | None:
    """The value of this browser's sign-in cookie, if it carries a valid one."""
    cookie = request.cookies.get(SIGNIN_COOKIE)
    if not cookie:
        return None
    try:
        value = _serializer().loads(cookie, max_age=_SIGNIN_MAX_AGE)
    except BadSignature:  # Also covers SignatureExpired.
        return None
    return value if isinstance(value, str) else None


def _set_binding(response: Response, binding: str) -> None:
    response.set_cookie(
        SIGNIN_COOKIE,
        _serializer().dumps(binding),
        max_age=_SIGNIN_MAX_AGE,
        path="/oidc",
        httponly=True,
        samesite="lax",
        secure=get_settings().base_url.startswith("https://"),
    )


def _page(
    request: Request,
    lang: i18n.Language,
    name: str,
    context: dict[str, object],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A sign-in page: never cached (it carries a one-time challenge or a decision), and never
    framed, so another site cannot trick a resident into approving through an overlay."""
    response = get_pages().render(request, lang, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def _error_page(
    request: Request,
    lang: i18n.Language,
    message: str,
    *,
    status_code: int,
    retry_url: str | None = None,
) -> HTMLResponse:
    return _page(
        request,
        lang,
        "signin/error.html",
        {"message": message, "retry_url": retry_url},
        status_code=status_code,
    )


def _authorize(
    request: Request,
    lang: i18n.Language,
    session: DriverTransaction,
    params: list[tuple[str, str]],
) -> Response:
    binding = browser_binding(request) or identity.new_browser_binding()
    try:
        started = identity.start_authorization(session, params, browser_binding=binding)
    except identity.AuthorizeError as error:
        location = identity.authorize_error_location(error)
        if location is not None:
            return RedirectResponse(location, status_code=303)
        t = i18n.translations(lang)
        return _error_page(
            request,
            lang,
            t.gettext(
                "The service that sent you here made a request kiban cannot accept (%(error)s: "
                "%(description)s). Nothing was shared."
            )
            % {"error": error.error, "description": error.description},
            status_code=400,
        )
    ui_locales = dict(params).get("ui_locales", "").split()
    chosen = next((i18n.coerce(tag) for tag in ui_locales if i18n.coerce(tag)), None)
    target = f"/oidc/signin/{started.request_id}"
    if chosen is not None:
        target += f"?lang={chosen}"
    response = RedirectResponse(target, status_code=303)
    _set_binding(response, binding)
    return response


_AUTHORIZE_PARAMETERS: Final = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "response_mode",
    "ui_locales",
    "request",
    "request_uri",
)


def _authorize_form(
    response_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    redirect_uri: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
    state: Annotated[str | None, Form()] = None,
    nonce: Annotated[str | None, Form()] = None,
    code_challenge: Annotated[str | None, Form()] = None,
    code_challenge_method: Annotated[str | None, Form()] = None,
    prompt: Annotated[str | None, Form()] = None,
    response_mode: Annotated[str | None, Form()] = None,
    ui_locales: Annotated[str | None, Form()] = None,
    request: Annotated[str | None, Form()] = None,
    request_uri: Annotated[str | None, Form()] = None,
) -> dict[str, str]:
    given = locals()
    return {name: given[name] for name in _AUTHORIZE_PARAMETERS if given[name] is not None}


@router.get("/oidc/authorize")
def authorize(request: Request, lang: Lang, session: DriverUnit) -> Response:
    """Authorization endpoint (OpenID Connect Core §3.1.2.1): code flow with PKCE S256 only."""
    return _authorize(request, lang, session, list(request.query_params.multi_items()))


@router.post("/oidc/authorize")
def authorize_post(
    request: Request,
    lang: Lang,
    session: DriverUnit,
    form: Annotated[dict[str, str], Depends(_authorize_form)],
) -> Response:
    """The same request as a form post (OpenID Connect requires both methods)."""
    return _authorize(request, lang, session, list(form.items()))


@router.get("/oidc/signin/{request_id}")
def signin_page(
    request_id: uuid.UUID, request: Request, lang: Lang, session: DriverUnit
) -> HTMLResponse:
    """Explains the card sign-in and sends the resident to the card reader with a challenge."""
    try:
        sign_in = identity.begin_card_sign_in(session, request_id, browser_binding(request))
    except KibanError as error:
        return _error_page(request, lang, error.message(lang), status_code=error.status)
    return _page(
        request,
        lang,
        "signin/signin.html",
        {"signin": sign_in, "labels": scope_labels(lang)},
    )


@router.post("/oidc/signin/{request_id}/cancel")
def cancel(request_id: uuid.UUID, request: Request, lang: Lang, session: DbSession) -> Response:
    """The resident does not want to sign in: back to the service with ``access_denied``."""
    try:
        location = identity.cancel_authorization(session, request_id, browser_binding(request))
    except KibanError as error:
        return _error_page(request, lang, error.message(lang), status_code=error.status)
    return RedirectResponse(location, status_code=303)


@router.get("/oidc/card-callback")
def card_callback(request: Request, lang: Lang, session: DbSession) -> Response:
    """Where the card reader returns: checks the card's signature over the challenge."""
    raw_id = request.query_params.get("request_id", "")
    try:
        request_id = uuid.UUID(raw_id)
    except ValueError:
        t = i18n.translations(lang)
        return _error_page(
            request,
            lang,
            t.gettext("This sign-in is unknown or already finished."),
            status_code=404,
        )
    answer = {
        key: value
        for key, value in request.query_params.items()
        if key.endswith(("_certificate", "_signature"))
    }
    try:
        identity.complete_card_sign_in(session, request_id, browser_binding(request), answer)
    except KibanError as error:
        # Answered, not raised, so that the consumed challenge is committed; trying again
        # starts from the sign-in page with a new challenge.
        return _error_page(
            request,
            lang,
            error.message(lang),
            status_code=error.status,
            retry_url=f"/oidc/signin/{request_id}",
        )
    return RedirectResponse(f"/oidc/consent/{request_id}", status_code=303)


def _previews(person: residents.PersonRead, lang: i18n.Language) -> dict[str, str]:
    """The values behind the items, so the resident sees exactly what would be shared."""
    t = i18n.translations(lang)
    sex = {"male": t.gettext("Male"), "female": t.gettext("Female")}
    return {
        "name": f"{person.full_name}（{person.family_name_kana}\u3000{person.given_name_kana}）",
        "address": person.address.text,
        "birthdate": person.birth_date.isoformat(),
        "gender": sex.get(person.sex.value, person.sex.value),
    }


@router.get("/oidc/consent/{request_id}")
def consent_page(
    request_id: uuid.UUID, request: Request, lang: Lang, session: DbSession
) -> HTMLResponse:
    """Each requested item with a checkbox; approve or decline."""
    try:
        consent = identity.get_consent_request(session, request_id, browser_binding(request))
    except KibanError as error:
        return _error_page(request, lang, error.message(lang), status_code=error.status)
    person = residents.get_person(session, consent.person_id)
    return _page(
        request,
        lang,
        "signin/consent.html",
        {
            "consent": consent,
            "person": person,
            "labels": scope_labels(lang),
            "previews": _previews(person, lang),
        },
    )


@router.post("/oidc/consent/{request_id}")
def consent_decision(
    request_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    decision: Annotated[str, Form()] = "",
    scope: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Records the decision and sends the browser back to the service."""
    if decision not in ("approve", "deny"):
        t = i18n.translations(lang)
        return _error_page(
            request, lang, t.gettext("Choose whether to share or not."), status_code=400
        )
    try:
        location = identity.decide_consent(
            session,
            request_id,
            browser_binding(request),
            approve=decision == "approve",
            scopes=scope or [],
        )
    except KibanError as error:
        return _error_page(request, lang, error.message(lang), status_code=error.status)
    return RedirectResponse(location, status_code=303)
