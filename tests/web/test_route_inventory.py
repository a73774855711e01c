"""The route inventory: every route of ``create_app()`` with its authentication, whether a
cookie authenticates it and it changes state, and its CSRF rule. It fails when a
cookie-authenticated unsafe route has no CSRF check.

The inventory is a table of :class:`RouteInfo` rows built by :func:`inventory`; each column is
one classifying function in :data:`COLUMNS` (add a column there, e.g. the audit behaviour, and a
test below that reads it). ``pytest -s -k printed`` prints the table.

CSRF rules:

- ``session-token``: the form carries the session's token (:func:`kiban.platform.sessions.
  csrf_token`): the route depends on a registered CSRF dependency
  (``sessions.CSRF_DEPENDENCIES``) or its handler calls ``check_csrf``. For the portal this is
  also checked by behaviour below: every such route, posted with a live session but no token,
  answers 403 ``kiban.csrf_failed``.
- ``flow-secret``: the sign-in pages' forms are bound to an unguessable per-sign-in id in the
  URL *and* the browser's ``kiban_signin`` cookie; a page elsewhere knows neither. The office's
  sign-in without a card reader (ADR 0019) is bound the same way to its ``kiban_office_factor``
  cookie: the TOTP form carries the same value (double submit), and the WebAuthn calls are
  ``application/json`` (no other site may send them without a CORS preflight) answering a
  single-use challenge bound to that cookie.
- ``signature``: the card reader's answer to a signing request is authenticated by the card's
  signature over one application's exact version, which only the applicant's card can make;
  the cookie only picks the page to show after it.
- ``origin-only``: only the platform's Origin/``Sec-Fetch-Site`` check (every unsafe request
  with a kiban cookie goes through it). Allowed only for the routes in :data:`ORIGIN_ONLY`,
  the office's, which the ``staff`` engineer moves to ``session-token`` with the new office
  sessions (issue 14).
- ``n/a``: not cookie-authenticated (bearer tokens, public endpoints) or not unsafe.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kiban.platform import sessions
from kiban.platform.authority import require_principal
from kiban.platform.security import SAFE_METHODS
from kiban.platform.webkit import AUTH_DEPENDENCIES
from kiban.web import create_app
from kiban.web.office.session import require_official
from kiban.web.portal.session import require_resident
from tests.web.portal_support import RESIDENT_COOKIE, register, resident_cookie

COOKIE_AUTH_DEPENDENCIES: set[Callable[..., Any]] = {
    require_resident,
    require_official,
    require_principal,  # An official's office session also authenticates the operator APIs.
}
"""Auth dependencies that read a browser's session cookie (directly or through another)."""

COOKIE_READERS = re.compile(
    r"\b(request\.cookies|browser_binding|resident_session|office_session|"
    r"start_office_session|end_office_session|set_session_cookie|clear_session_cookie|"
    r"_flow_of)\b"
)
"""What a public route's handler calls when a cookie drives it."""

FLOW_SECRET = {
    "POST /oidc/signin/{request_id}/cancel",
    "POST /oidc/consent/{request_id}",
    "POST /office/login/totp",
    "POST /office/login/webauthn",
    "POST /office/login/webauthn/options",
}
SIGNED_ANSWERS = {"POST /portal/applications/{application_id}/signed"}
ORIGIN_ONLY: set[str] = set()
"""Empty since the office's server-side sessions (issue 14) gave every office form the
session's token; the list may only shrink."""
# FastAPI's own pages and the static files: no auth dependency, read-only.
FRAMEWORK_ROUTES = {"openapi", "swagger_ui_html", "swagger_ui_redirect", "static"}


@dataclass
class RouteInfo:
    """One row of the inventory."""

    methods: tuple[str, ...]
    path: str
    endpoint: Callable[..., Any] | None
    dependencies: list[Callable[..., Any]]
    columns: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{','.join(self.methods)} {self.path}"

    def __getitem__(self, column: str) -> Any:
        return self.columns[column]


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__name__", repr(function))


def _source(function: Callable[..., Any] | None) -> str:
    if function is None:
        return ""
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


# --- Columns: each takes the row (and the rows' columns so far) ---------------------------


def auth_column(row: RouteInfo) -> str:
    """The auth dependency (the first registered one the route depends on)."""
    found = [_name(call) for call in row.dependencies if call in AUTH_DEPENDENCIES]
    return found[0] if found else "framework"


def unsafe_column(row: RouteInfo) -> bool:
    """Whether the route changes state by its method."""
    return any(method not in SAFE_METHODS for method in row.methods)


def cookie_column(row: RouteInfo) -> bool:
    """Whether a browser's cookie authenticates (or drives) the route."""
    if COOKIE_AUTH_DEPENDENCIES.intersection(row.dependencies):
        return True
    return bool(COOKIE_READERS.search(_source(row.endpoint)))


def csrf_column(row: RouteInfo) -> str | None:
    """The CSRF rule of a cookie-authenticated unsafe route (None: it has none)."""
    if not (row["cookie"] and row["unsafe"]):
        return "n/a"
    if sessions.CSRF_DEPENDENCIES.intersection(row.dependencies):
        return "session-token"
    if "check_csrf(" in _source(row.endpoint):
        return "session-token"
    for rule, keys in (
        ("flow-secret", FLOW_SECRET),
        ("signature", SIGNED_ANSWERS),
        ("origin-only", ORIGIN_ONLY),
    ):
        if row.key in keys:
            return rule
    return None


COLUMNS: dict[str, Callable[[RouteInfo], Any]] = {
    "auth": auth_column,
    "unsafe": unsafe_column,
    "cookie": cookie_column,
    "csrf": csrf_column,
}
"""The inventory's columns, computed in this order (a later column may read earlier ones)."""


def inventory(app: FastAPI) -> list[RouteInfo]:
    """Every route the application serves, classified by :data:`COLUMNS`."""
    rows = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, APIRoute):
            row = RouteInfo(
                methods=tuple(sorted(route.methods or ())),
                path=route.path,
                endpoint=original.endpoint,
                dependencies=list(_calls(route.dependant)),
            )
        else:
            row = RouteInfo(
                methods=tuple(sorted(getattr(original, "methods", None) or ("GET",))),
                path=route.path,
                endpoint=None,
                dependencies=[],
            )
        for name, column in COLUMNS.items():
            row.columns[name] = column(row)
        rows.append(row)
    return rows


def render(rows: list[RouteInfo]) -> str:
    """The inventory as a Markdown table."""
    names = list(COLUMNS)
    lines = [
        "| route | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    lines += [
        f"| `{row.key}` | " + " | ".join(str(row[name]) for name in names) + " |" for row in rows
    ]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def rows() -> list[RouteInfo]:
    return inventory(create_app())


# --- The rules ----------------------------------------------------------------------------


def test_every_cookie_authenticated_unsafe_route_has_a_csrf_rule(rows: list[RouteInfo]) -> None:
    missing = [row.key for row in rows if row["csrf"] is None]
    assert missing == [], f"cookie-authenticated unsafe routes without CSRF protection: {missing}"


def test_the_portal_and_business_forms_use_the_session_token(rows: list[RouteInfo]) -> None:
    portal = [
        row
        for row in rows
        if row.path.startswith("/portal/") and row["unsafe"] and row.key not in SIGNED_ANSWERS
    ]
    assert portal, "no portal forms found"
    assert {row.key: row["csrf"] for row in portal} == {row.key: "session-token" for row in portal}
    assert any(row.path.startswith("/portal/business/") for row in portal)


def test_origin_only_routes_are_the_listed_office_routes(rows: list[RouteInfo]) -> None:
    origin_only = sorted(row.key for row in rows if row["csrf"] == "origin-only")
    # A route that gains a token leaves the list; the list may only shrink.
    assert set(origin_only) <= ORIGIN_ONLY
    assert all(key.split(" ")[1].startswith("/office/") for key in origin_only)


def test_framework_routes_are_the_only_ones_without_auth(rows: list[RouteInfo]) -> None:
    unguarded = [row.key for row in rows if row["auth"] == "framework"]
    assert all(row.endpoint is None or row["auth"] != "framework" for row in rows), unguarded


def test_the_classifier_catches_a_new_unprotected_form() -> None:
    app = create_app()

    @app.post("/portal/forgotten")
    def forgotten(resident: Any = None) -> None: ...

    from fastapi import Depends  # noqa: PLC0415 - only this test builds routes.

    @app.post("/portal/forgotten-too", dependencies=[Depends(require_resident)])
    def forgotten_too() -> None: ...

    keys = [row.key for row in inventory(app) if row["csrf"] is None]
    assert keys == ["POST /portal/forgotten-too"]


def test_inventory_printed(rows: list[RouteInfo]) -> None:
    table = render(rows)
    assert "| `POST /portal/logout` | public | True | True | session-token |" in table
    print("\n" + table)  # noqa: T201 - the inventory is meant to be read (pytest -s).


# --- Behaviour: every portal form refuses a post without the session's token ----------------


def _concrete(path: str) -> str:
    """A path with its parameters filled in by well-formed values."""
    values = {
        "corporate_number": "7000012050002",
        "procedure_code": "subsidy.it_introduction",
        "code": "moving.move_out",
    }

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), str(uuid.UUID(int=1)))

    return re.sub(r"\{(\w+)(?::\w+)?\}", fill, path)


def test_every_portal_form_refuses_a_post_without_the_token(
    rows: list[RouteInfo], database_url: str, session: Session
) -> None:
    person = register(session)
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(RESIDENT_COOKIE, resident_cookie(None, person.id))
        assert client.get("/portal/").status_code == 200
        for row in rows:
            if not (row.path.startswith("/portal/") and row["unsafe"]):
                continue
            if row.key in SIGNED_ANSWERS:  # No token: the card's signature is the proof.
                continue
            for method in row.methods:
                if method in SAFE_METHODS:
                    continue
                answer = client.request(method, _concrete(row.path), data={"version": "1"})
                assert answer.status_code == 403, (row.key, answer.status_code, answer.text)
                if answer.headers["content-type"].startswith("application/json"):
                    assert answer.json()["error"]["code"] == "kiban.csrf_failed", row.key
                else:  # A page that shows the error above its form.
                    assert "別のページから送られました" in answer.text, row.key
