"""The office (back office for officials): home. Sign-in is in :mod:`kiban.web.office.session`
(the official's own card through kiban's OpenID provider)."""

from __future__ import annotations

import re
import uuid
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from kiban.blocks import address, residents, staff
from kiban.kernel.errors import KibanError
from kiban.platform import i18n
from kiban.platform.webkit import DbSession, Lang
from kiban.web.office.session import OfficialUser
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office", include_in_schema=False)

__all__ = ["municipality_name", "role_label", "router", "who"]

_LG_CODE: Final = re.compile(r"(?<!\d)\d{6}(?!\d)")


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
    if actor.startswith("staff:"):
        return staff.describe_actor(session, actor, lang)
    # Older or scripted actors (``official:<lg_code>:<name>``) are named by their office only.
    return i18n.translations(lang).gettext("An official of %(office)s") % {
        "office": municipality_name(session, lang, actor)
    }


def municipality_name(session: Session, lang: i18n.Language, code: str | None) -> str:
    """A municipality as officials read it, ``北海道札幌市中央区`` (``Chuo-ku, Sapporo,
    Hokkaido`` in English), from its local government code or from a mesh subsystem that
    contains it (``JP/MUN/131016/juki``); never the code alone when the registry knows it."""
    found = _LG_CODE.search(code or "")
    if found is None:
        return code or "—"
    try:
        municipality = address.get_municipality(session, found.group())
    except KibanError:
        return code or "—"
    return municipality.name_en if lang == "en" else municipality.full_name


def role_label(lang: i18n.Language, role: str) -> str:
    """A journal entry's role in words: applicant, official, or kiban itself."""
    _ = i18n.translations(lang).gettext
    labels = {
        "applicant": _("applicant"),
        "official": _("official"),
        "system": _("automatic processing"),
    }
    return labels.get(role, role)


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
            "keeps_qualifications": staff.grants(
                official.principal.permissions, "qualifications.read"
            ),
        },
    )
