"""The web kit every block's ``api.py`` builds on: sessions, language, auth and error bodies.

- ``DbSession``: one SQLAlchemy session per request, committed when the handler succeeded and
  rolled back when it raised (services never commit, CONVENTIONS.md §2). ``DriverUnit`` is
  the same unit of work without an ORM session, for routes made of driver statements alone
  (the token endpoint, ADR 0037).
- ``Lang``: the language to answer in (``?lang=``, then the ``kiban_lang`` cookie, then
  ``Accept-Language``, then Japanese).
- Auth dependencies: ``require_operator`` (the shared bearer token: it only bootstraps the first
  administrator, ``/api/v1/staff/bootstrap``), ``public`` (says a route is public on purpose);
  officials' sessions and service keys are ``kiban.platform.authority.require_principal`` and
  the office pages' ``require_official`` (kiban.web.office.session). Every
  route carries one of the dependencies registered in ``AUTH_DEPENDENCIES``; a test walks the
  router and fails otherwise. Later sign-in methods register theirs with ``auth_dependency``.
- ``install_error_handlers``: every error leaves as ``{"error": {"code", "message", "field"}}``
  in the caller's language, never as a stack trace. Authentication comes before validation:
  FastAPI reads and decodes the body before it solves a route's dependencies, so a malformed
  body would be refused (422/400) before the caller was asked who they are; the handlers of
  those errors first run the route's auth dependencies (:func:`authentication_refusal`) and
  answer 401 when they refuse.
- ``MethodsMiddleware``: ``OPTIONS`` answers 204 with an ``Allow`` header listing every method
  of the path, and a 405 lists them all too.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import solve_dependencies
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiban.kernel.errors import KibanError, Unauthorized
from kiban.platform import i18n, throttle
from kiban.platform.db import get_engine, transaction
from kiban.platform.settings import get_settings
from kiban.platform.statements import DriverTransaction, driver_transaction

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


def get_driver_transaction() -> Iterator[DriverTransaction]:
    """One driver transaction per request (no ORM session), for a route whose every statement
    is a driver statement and that publishes no events (ADR 0037); committed and rolled back
    as ``DbSession`` is."""
    with driver_transaction(get_engine()) as unit:
        yield unit


DriverUnit = Annotated[DriverTransaction, Depends(get_driver_transaction, scope="function")]

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


_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def template_of(path: str) -> str:
    """A route's path template without parameter converters (``{person_id:uuid}`` is
    ``{person_id}``), so that a name stays the same when a converter is added."""
    return _CONVERTER.sub(r"{\1}", path)


def get_route_name(request: Request) -> str:
    """``METHOD /path/{template}`` of the route serving ``request``: how a read record names the
    route a read was made by (the template, so that no id or query ends up in it)."""
    route = request.scope.get("route")
    return f"{request.method} {template_of(getattr(route, 'path', request.url.path))}"


RouteName = Annotated[str, Depends(get_route_name)]


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


# --- Query parameters -------------------------------------------------------------------------

_ANY_ROUTE_QUERY: Final = frozenset({"lang"})
"""Query parameters every route takes (the language switch)."""


def _query_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def refuse_unknown_query(request: Request) -> None:
    """An app-wide dependency: an API operation refuses a query parameter it does not declare
    (422 naming it), as its OpenAPI description says. HTML pages are left alone."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant) or not getattr(route, "include_in_schema", False):
        return
    declared = _query_names(dependant)
    for name in request.query_params:
        if name not in declared and name not in _ANY_ROUTE_QUERY:
            raise RequestValidationError(
                [{"type": "extra_forbidden", "loc": ("query", name), "msg": "unknown parameter"}]
            )


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


def _guards_access(dependant: Dependant) -> bool:
    """Whether ``dependant`` is, or depends on, an auth dependency."""
    return dependant.call in AUTH_DEPENDENCIES or any(
        _guards_access(sub) for sub in dependant.dependencies
    )


async def authentication_refusal(request: Request) -> Response | None:
    """The answer of the matched route's auth dependencies when they refuse ``request``, else
    ``None``. Run before answering that the input is invalid: who may call comes first."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant):
        return None
    guards = [sub for sub in dependant.dependencies if _guards_access(sub)]
    if not guards:
        return None
    async with AsyncExitStack() as stack:
        # Fresh stacks: the route's own have closed by the time an error is handled. The auth
        # dependencies read headers, cookies and the database, never the body.
        scope = {**request.scope, "fastapi_inner_astack": stack, "fastapi_function_astack": stack}
        try:
            await solve_dependencies(
                request=Request(scope),
                dependant=Dependant(dependencies=guards, path=dependant.path),
                async_exit_stack=stack,
                embed_body_fields=False,
            )
        except KibanError as exc:
            return _kiban_error(request, exc)
        except LoginRequired as exc:
            return _login_required(request, exc)
    return None


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only.
    refusal = await authentication_refusal(request)
    if refusal is not None:
        return refusal
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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only.
    t = i18n.translations(language_of(request))
    headers = dict(exc.headers or {})
    field = None
    if exc.status_code == 404:
        code, message = "kiban.not_found", t.gettext("There is nothing at this address.")
    elif exc.status_code == 405:
        code, message = "kiban.method_not_allowed", t.gettext("This method is not allowed here.")
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
    elif exc.status_code == 400:
        refusal = await authentication_refusal(request)
        if refusal is not None:
            return refusal
        code, message, field = "kiban.invalid", t.gettext("The request body is malformed."), "body"
    else:
        code, message = f"kiban.http_{exc.status_code}", t.gettext("The request failed.")
    return JSONResponse(
        error_body(code, message, field), status_code=exc.status_code, headers=headers or None
    )


def allowed_methods(app: ASGIApp, scope: Scope) -> list[str]:
    """Every method some route of ``app`` answers at ``scope``'s path (with HEAD for GET and
    OPTIONS), sorted; empty when no route has the path."""
    methods: set[str] = set()
    # FastAPI keeps included routers as branches; the contexts are the routes as served.
    for route in iter_route_contexts(getattr(app, "routes", [])):
        match, _ = route.matches({**scope, "type": "http"})
        if match is Match.NONE:
            continue
        route_methods = getattr(route, "methods", None)
        if route_methods is None:  # A mount (static files) or a route of every method.
            return []
        methods |= set(route_methods)
    if not methods:
        return []
    if "GET" in methods:
        methods.add("HEAD")
    methods.add("OPTIONS")
    return sorted(methods)


class MethodsMiddleware:
    """``OPTIONS`` on a path kiban serves answers 204 with ``Allow`` listing all its methods."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            methods = allowed_methods(scope["app"], scope)
            if methods:
                response = Response(status_code=204, headers={"Allow": ", ".join(methods)})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


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


# --- The OpenAPI document -----------------------------------------------------------------------

ERROR_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine code"},
                "message": {"type": "string", "description": "In the request's language"},
                "field": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "description": "The input at fault, when there is one",
                },
            },
        }
    },
}
_ERROR_REF: Final = {"$ref": "#/components/schemas/Error"}
_FASTAPI_422: Final = {"$ref": "#/components/schemas/HTTPValidationError"}
_STATUS_TEXT: Final = {
    400: "The body is malformed (not JSON, not the declared type): `kiban.invalid`",
    401: "No or wrong credentials: `kiban.auth.*`, `*.token_*`",
    403: "Not permitted: the policy refused (`staff.*`)",
    404: "Nothing at this address, or an unknown id: `*.not_found`",
    413: "The body is larger than 1 MiB: `kiban.body_too_large`",
    422: "Invalid input; `error.field` names it: `kiban.invalid` and the block's codes",
    429: "Too many failed attempts from this address, with `Retry-After`: "
    "`kiban.too_many_attempts`",
}


def document_errors(app: FastAPI, security_schemes: dict[str, Any] | None = None) -> None:
    """Make ``app.openapi()`` name every error status a route can answer, in the one error
    shape: 400 and 413 where a body is read, 401, 403 and 429 (the throttle's) where credentials
    are checked, 404 where the path names something, 422 where there is input at all.
    ``security_schemes`` are added to the document's components (ways to get credentials no
    route declares by itself)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = original()
        components = document.setdefault("components", {})
        components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        components.setdefault("securitySchemes", {}).update(security_schemes or {})
        guarded = _guarded_operations(app)
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                statuses = set()
                if "requestBody" in operation:
                    statuses |= {400, 413, 422}
                if operation.get("parameters"):
                    statuses.add(422)
                if "{" in path:
                    statuses.add(404)
                if (method.upper(), path) in guarded:
                    statuses |= {401, 403, 429}
                responses = operation.setdefault("responses", {})
                for status in sorted(statuses):
                    entry = responses.setdefault(str(status), {"description": _STATUS_TEXT[status]})
                    # A route that documents its own error body (OAuth's) keeps it; FastAPI's
                    # default 422 body is not what kiban answers.
                    schema = entry.get("content", {}).get("application/json", {}).get("schema")
                    if not schema or schema == _FASTAPI_422:
                        entry.setdefault("content", {})["application/json"] = {"schema": _ERROR_REF}
        # FastAPI's validation-error shapes are never answered (see _validation_error).
        for name in ("HTTPValidationError", "ValidationError"):
            components.get("schemas", {}).pop(name, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _guarded_operations(app: FastAPI) -> set[tuple[str, str]]:
    """``(METHOD, path)`` of every route with an auth dependency other than :func:`public`."""
    guarded: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if not isinstance(dependant, Dependant):
            continue
        if any(_guards_access(sub) and sub.call is not public for sub in dependant.dependencies):
            path = str(getattr(route, "path_format", route.path))
            for method in route.methods or ():
                guarded.add((method, path))
    return guarded
