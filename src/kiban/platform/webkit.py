"""The web kit every block's ``api.py`` builds on: sessions, language, auth and error bodies.

- ``DbSession``: one SQLAlchemy session per request, committed when the handler succeeded and
  rolled back when it raised (services never commit, CONVENTIONS.md §2).
- ``Lang``: the language to answer in (``?lang=``, then the ``kiban_lang`` cookie, then
  ``Accept-Language``, then Japanese).
- Auth dependencies: ``require_operator`` (the shared bearer token: it only bootstraps the first
  administrator, ``/api/v1/staff/bootstrap``), ``public`` (says a route is public on purpose);
  officials' sessions and service keys are ``kiban.platform.authority.require_principal`` and
  the office pages' ``require_official`` (kiban.web.office.session). Every
  route carries one of the dependencies registered in ``AUTH_DEPENDENCIES``; a test walks the
  router and fails otherwise. Later sign-in methods register theirs with ``auth_dependency``.
- ``install_error_handlers``: every error leaves as ``{"error": {"code", "message", "field"}}``
  in the caller's language, never as a stack trace.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiban.kernel.errors import KibanError, Unauthorized
from kiban.platform import i18n, throttle
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings

logger = logging.getLogger(__name__)

LANGUAGE_COOKIE: Final = "kiban_lang"
OFFICE_LOGIN_PATH: Final = "/office/login"
_LANGUAGE_COOKIE_MAX_AGE: Final = 365 * 24 * 60 * 60

# --- Database session -------------------------------------------------------------------------


def get_session() -> Iterator[Session]:
    """One session per request: committed after a successful handler, rolled back on error."""
    with transaction() as session:
        yield session


# ``scope="function"`` ends the unit of work when the handler returns, before the response is
# sent: a failed commit then becomes an error response instead of a success that was lost.
DbSession = Annotated[Session, Depends(get_session, scope="function")]

# --- Language ---------------------------------------------------------------------------------


def language_of(request: Request) -> i18n.Language:
    """The language to answer ``request`` in."""
    return i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )


def get_lang(request: Request) -> i18n.Language:
    """Dependency form of :func:`language_of`."""
    return language_of(request)


Lang = Annotated[i18n.Language, Depends(get_lang)]


class LanguageCookieMiddleware:
    """Remembers an explicit ``?lang=`` choice in the ``kiban_lang`` cookie.

    The language switch on every page is a plain link with ``?lang=``; this makes the choice
    stick for the following pages without any JavaScript.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        chosen = i18n.coerce(request.query_params.get("lang"))
        if chosen is None or request.cookies.get(LANGUAGE_COOKIE) == chosen:
            await self.app(scope, receive, send)
            return
        cookie = (
            f"{LANGUAGE_COOKIE}={chosen}; Path=/; Max-Age={_LANGUAGE_COOKIE_MAX_AGE}; SameSite=Lax"
        )

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# --- Authentication ---------------------------------------------------------------------------

AUTH_DEPENDENCIES: set[Callable[..., Any]] = set()
"""Every dependency that decides who may call a route. The route-walking test reads this."""

_F = TypeVar("_F", bound=Callable[..., Any])


def auth_dependency(function: _F) -> _F:
    """Register ``function`` as an auth dependency (sign-in methods of later blocks use this)."""
    AUTH_DEPENDENCIES.add(function)
    return function


@auth_dependency
def public() -> None:
    """Marks a route as deliberately public. It checks nothing."""


OPERATOR: Final = "operator"
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OperatorToken",
    description="The operator token (KIBAN_OPERATOR_TOKEN) as a bearer token.",
)


def _same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison, so response timing does not reveal the secret."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@auth_dependency
def require_operator(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The operator, authenticated by ``Authorization: Bearer <KIBAN_OPERATOR_TOKEN>``.

    Returns the actor name ``"operator"``; answers 401 with ``WWW-Authenticate: Bearer``, and
    429 (``kiban.too_many_attempts``) to a caller locked out after repeated wrong tokens.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "オペレーターのトークンが必要です。",
            "An operator token is required.",
            code="kiban.auth.token_required",
        )
    source = throttle.source_key(request)
    throttle.BEARER_TOKENS.check(source)
    if not _same_secret(credentials.credentials, get_settings().operator_token):
        throttle.BEARER_TOKENS.failure(source)
        raise Unauthorized(
            "オペレーターのトークンが正しくありません。",
            "The operator token is not valid.",
            code="kiban.auth.token_invalid",
        )
    return OPERATOR


class LoginRequired(Exception):
    """An HTML page needs a session; the handler redirects to ``login_path`` (the office's
    sign-in by default, the portal's for residents)."""

    def __init__(self, next_path: str, login_path: str = OFFICE_LOGIN_PATH) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.login_path = login_path


def check_operator_token(token: str) -> bool:
    """Whether ``token`` is the operator token (constant time): the API refuses it by name
    (``staff.operator_token_retired``) instead of calling it an unknown key."""
    return _same_secret(token, get_settings().operator_token)


# --- Errors -----------------------------------------------------------------------------------


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The one JSON shape of every error kiban answers with."""
    return {"error": {"code": code, "message": message, "field": field}}


def _kiban_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KibanError)  # noqa: S101 - registered for KibanError only.
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    # An error may name headers of its own (Retry-After of a throttled caller).
    headers.update(getattr(exc, "headers", None) or {})
    return JSONResponse(
        {"error": exc.as_dict(language_of(request))}, status_code=exc.status, headers=headers
    )


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only.
    t = i18n.translations(language_of(request))
    errors = exc.errors()
    first = errors[0] if errors else {}
    field = ".".join(str(part) for part in first.get("loc", ())) or None
    message = t.gettext("The input is not valid.")
    if field:
        message = t.gettext("The input is not valid: %(field)s.") % {"field": field}
    return JSONResponse(
        error_body("kiban.invalid", message, field),
        status_code=422,
    )


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only.
    t = i18n.translations(language_of(request))
    if exc.status_code == 404:
        code, message = "kiban.not_found", t.gettext("There is nothing at this address.")
    elif exc.status_code == 405:
        code, message = "kiban.method_not_allowed", t.gettext("This method is not allowed here.")
    else:
        code, message = f"kiban.http_{exc.status_code}", t.gettext("The request failed.")
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)  # noqa: S101 - registered for it only.
    return RedirectResponse(
        f"{exc.login_path}?next={quote(exc.next_path, safe='/')}", status_code=303
    )


def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    t = i18n.translations(language_of(request))
    return JSONResponse(
        error_body("kiban.internal", t.gettext("Something went wrong on our side.")),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the one JSON shape, in the caller's language, without internals."""
    app.add_exception_handler(KibanError, _kiban_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(Exception, _unexpected_error)
