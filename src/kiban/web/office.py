"""The office (back office for municipal officials): sign-in and home.

Sign-in is interim: an official types the operator token, and gets a signed session cookie.
OpenID Connect sign-in for officials replaces this form in a later issue.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kiban.platform import i18n
from kiban.platform.webkit import (
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


def safe_next(path: str | None) -> str:
    """``path`` if it is a path on this site, else the office home (no open redirects)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return OFFICE_HOME


@router.get("/login", dependencies=[Depends(public)])
def login_form(request: Request, lang: Lang, next: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return get_pages().render(
        request, lang, "office/login.html", {"next": safe_next(next), "error": None}
    )


@router.post("/login", dependencies=[Depends(public)], response_model=None)
def login(
    request: Request,
    lang: Lang,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = OFFICE_HOME,
) -> HTMLResponse | RedirectResponse:
    """Check the operator token and start an office session."""
    if not token or not check_operator_token(token):
        t = i18n.translations(lang)
        error = (
            t.gettext("Enter the operator token.")
            if not token
            else t.gettext("The operator token is not correct.")
        )
        return get_pages().render(
            request,
            lang,
            "office/login.html",
            {"next": safe_next(next), "error": error},
            status_code=400,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    start_office_session(response, Official(name="operator"))
    return response


@router.post("/logout", dependencies=[Depends(public)])
def logout() -> RedirectResponse:
    """End the office session."""
    response = RedirectResponse("/", status_code=303)
    end_office_session(response)
    return response


@router.get("")
def home(
    request: Request, lang: Lang, official: Annotated[Official, Depends(require_official)]
) -> HTMLResponse:
    """Links to what an official can do today."""
    return get_pages().render(request, lang, "office/home.html", {"official": official})
