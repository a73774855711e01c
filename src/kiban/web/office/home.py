"""The office (back office for municipal officials): sign-in and home.

Sign-in is interim: an official types the operator token, chooses the municipality whose
office they work at (its task queue is theirs), and gets a signed session cookie. OpenID
Connect sign-in for officials replaces this form in a later issue.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.kernel.errors import KibanError
from kiban.platform import i18n
from kiban.platform.webkit import (
    DbSession,
    Lang,
    Official,
    check_operator_token,
    end_office_session,
    public,
    require_official,
    start_office_session,
)
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office", include_in_schema=False)

OFFICE_HOME = "/office"
# Up to this many municipalities are offered as a list; a registry of all Japan (1,892) asks
# for the six-digit code instead.
MAX_LISTED_MUNICIPALITIES = 100


def safe_next(path: str | None) -> str:
    """``path`` if it is a path on this site, else the office home (no open redirects)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return OFFICE_HOME


def _municipalities(session: Session) -> list[address.MunicipalityRead] | None:
    """The municipalities to choose from, or ``None`` when there are too many to list."""
    if address.count_municipalities(session) > MAX_LISTED_MUNICIPALITIES:
        return None
    return address.list_municipalities(session)


def _login_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    *,
    next_path: str,
    error: str | None = None,
    error_field: str = "token",
    lg_code: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return get_pages().render(
        request,
        lang,
        "office/login.html",
        {
            "next": next_path,
            "error": error,
            "error_field": error_field,
            "municipalities": _municipalities(session),
            "lg_code": lg_code,
        },
        status_code=status_code,
    )


@router.get("/login", dependencies=[Depends(public)])
def login_form(
    request: Request, lang: Lang, session: DbSession, next: str | None = None
) -> HTMLResponse:
    """The sign-in form."""
    return _login_page(request, lang, session, next_path=safe_next(next))


@router.post("/login", dependencies=[Depends(public)], response_model=None)
def login(
    request: Request,
    lang: Lang,
    session: DbSession,
    token: Annotated[str, Form()] = "",
    lg_code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = OFFICE_HOME,
) -> HTMLResponse | RedirectResponse:
    """Check the operator token and the municipality, and start an office session."""
    t = i18n.translations(lang)
    lg_code = lg_code.strip()
    if not token or not check_operator_token(token):
        error = (
            t.gettext("Enter the operator token.")
            if not token
            else t.gettext("The operator token is not correct.")
        )
        return _login_page(
            request,
            lang,
            session,
            next_path=safe_next(next),
            error=error,
            lg_code=lg_code,
            status_code=400,
        )
    if lg_code:
        try:
            address.get_municipality(session, lg_code)
        except KibanError:
            return _login_page(
                request,
                lang,
                session,
                next_path=safe_next(next),
                error=t.gettext("Choose a municipality of the address registry."),
                error_field="lg_code",
                lg_code=lg_code,
                status_code=400,
            )
    response = RedirectResponse(safe_next(next), status_code=303)
    start_office_session(response, Official(name="operator", lg_code=lg_code or None))
    return response


@router.post("/logout", dependencies=[Depends(public)])
def logout() -> RedirectResponse:
    """End the office session."""
    response = RedirectResponse("/", status_code=303)
    end_office_session(response)
    return response


def office_name(session: Session, official: Official) -> str | None:
    """The name of the municipality the official works for, if any (and still known)."""
    if official.lg_code is None:
        return None
    try:
        return address.get_municipality(session, official.lg_code).full_name
    except KibanError:
        return None


@router.get("")
def home(
    request: Request,
    lang: Lang,
    session: DbSession,
    official: Annotated[Official, Depends(require_official)],
) -> HTMLResponse:
    """Links to what an official can do today."""
    return get_pages().render(
        request,
        lang,
        "office/home.html",
        {"official": official, "office_name": office_name(session, official)},
    )
