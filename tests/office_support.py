"""An official signing in to the office with their own card (through kiban's OpenID provider),
then choosing the organisation and role to work in: the HTTP steps a browser takes."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kiban.blocks import address, residents, staff
from tests.blocks.identity.oidc_support import (
    ReaderCard,
    card_in_reader,
    path_of,
    sign_in_through_pages,
)
from tests.staff_support import make_official

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def official_with_card(
    session: Session,
    person: residents.PersonRead,
    organisation: str,
    role: str,
    directory: Path,
) -> tuple[staff.Principal, ReaderCard]:
    """Make ``person`` an official with ``role`` in ``organisation`` and give them a card."""
    principal = make_official(
        session, organisation, role, name=person.full_name, person_id=person.id
    )
    card = card_in_reader(session, person, directory)
    return principal, card


def office_sign_in(http: Any, card: ReaderCard, organisation: str, role: str) -> str:
    """Sign in with ``card`` and choose ``organisation``/``role``; returns the CSRF token of the
    office session."""
    following, http.follow_redirects = http.follow_redirects, False
    try:
        return _sign_in(http, card, organisation, role)
    finally:
        http.follow_redirects = following


def _sign_in(http: Any, card: ReaderCard, organisation: str, role: str) -> str:
    start = http.get("/office/login/start?next=/office", follow_redirects=False)
    assert start.status_code == 303, start.text
    back = sign_in_through_pages(http, card, path_of(start.headers["location"]))
    landed = http.get(path_of(back), follow_redirects=False)
    assert landed.status_code == 303, landed.text
    choose = http.get(landed.headers["location"], follow_redirects=False)
    assert choose.status_code == 200, choose.text
    found = re.search(
        rf'name="membership" value="([^"]+)" data-organisation="{organisation}" '
        rf'data-role="{role}"',
        choose.text,
    )
    assert found, f"no membership {role} of {organisation}"
    chosen = found.group(1)
    csrf = csrf_of(choose.text)
    done = http.post(
        "/office/choose",
        data={"membership": chosen, "csrf_token": csrf, "next": "/office"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return csrf


def new_official(
    session: Session,
    lg_code: str,
    role: str,
    directory: Path,
    *,
    family_name: str = "職員",
    given_name: str = "太郎",
) -> tuple[staff.Principal, ReaderCard]:
    """A new resident of ``lg_code`` (its registry must be loaded) who works there with
    ``role`` and holds a card in a reader under ``directory``."""
    town = address.list_towns(session, lg_code)[0]
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name=family_name,
            given_name=given_name,
            family_name_kana="ショクイン",
            given_name_kana="タロウ",
            birth_date=date(1985, 5, 5),
            sex=residents.Sex.MALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="1番1号"
            ),
            effective_on=date(2015, 4, 1),
        ),
        actor="system:test",
    )
    session.commit()
    return official_with_card(session, person, lg_code, role, directory)


_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_JOURNAL_CODES = ("start", "save", "claim", "release", "effect", "receive_packet", "reserve")


def visible_text(html: str) -> str:
    """What a reader of ``html`` sees: no tags, attributes (``datetime=`` keeps ISO for
    machines), hidden form values or scripts."""
    body = html.split("<main", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def assert_plain_words(html: str) -> None:
    """An office page as officials read it (issue 15, item 8): no ISO dates or datetimes, no
    journal codes, no ``person:``/``staff:`` ids, no ``operator``."""
    text = visible_text(html)
    assert not _ISO_DATE.search(text), _ISO_DATE.search(text)
    words = set(re.findall(r"[a-z_]+", text))
    assert not words & set(_JOURNAL_CODES), words & set(_JOURNAL_CODES)
    for raw in ("person:", "staff:", "operator", "system:"):
        assert raw not in text, raw
