"""The office (back office for officials): home. Sign-in is in :mod:`kiban.web.office.session`
(the official's own card through kiban's OpenID provider)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from kiban.blocks import residents, staff
from kiban.kernel.errors import KibanError
from kiban.platform import i18n
from kiban.platform.webkit import DbSession, Lang
from kiban.web.office.session import OfficialUser
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office", include_in_schema=False)

__all__ = ["router", "who"]


def who(session: Session, lang: i18n.Language, actor: str | None) -> str:
    """An actor of a journal or claim as people read it: an official's name, organisation and
    role; a resident's name; never ``staff:<id>`` or ``person:<id>``."""
    if not actor:
        return ""
    if actor.startswith("person:"):
        try:
            return residents.get_person(session, uuid.UUID(actor[len("person:") :])).full_name
        except (KibanError, ValueError):
            return i18n.translations(lang).gettext("The applicant")
    if actor.startswith("system:") or actor == "system":
        return i18n.translations(lang).gettext("kiban (automatic)")
    return staff.describe_actor(session, actor, lang)


@router.get("")
def home(request: Request, lang: Lang, session: DbSession, official: OfficialUser) -> HTMLResponse:
    """Links to what an official can do today."""
    return get_pages().render(
        request,
        lang,
        "office/home.html",
        {
            "official": official,
            "office_name": official.organisation_name,
            "has_keys": bool(
                staff.list_webauthn_credentials(session, official.principal.account_id)
            ),
            # The link is shown to those whose role manages staff; the page asks the policy.
            "manages_staff": staff.grants(official.principal.permissions, "staff.manage"),
        },
    )
