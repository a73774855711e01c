"""Principals for tests: officials of an organisation with a role, and service-account keys.

Every test that acts on an operator or office API takes one of these instead of the retired
operator token."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from kiban.blocks import address, qualifications, staff
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

ACTOR = "system:test"


def ensure_organisation(session: Session, code: str) -> staff.OrganisationRead:
    """The organisation ``code`` (kiban's operator, or a municipality by lg_code)."""
    try:
        return staff.get_organisation(session, code)
    except KibanError:
        pass
    if code.startswith("agency:"):
        # An agency (厚生労働省 ``agency:mhlw`` keeps national qualifications' registers).
        ja, en = next(((j, e) for c, j, e in qualifications.AUTHORITIES if c == code), (code, code))
        staff.do_add_organisation(session, code, staff.OrganisationKind.AGENCY, ja, en, actor=ACTOR)
    elif code == staff.OPERATOR_ORGANISATION:
        staff.do_add_organisation(
            session,
            code,
            staff.OrganisationKind.OPERATOR,
            "基盤運用者",
            "Kiban operator",
            actor=ACTOR,
        )
    else:
        try:
            municipality = address.get_municipality(session, code)
            name, name_en = municipality.full_name, municipality.name_en
        except KibanError:
            name = name_en = code
        staff.do_add_organisation(
            session, code, staff.OrganisationKind.MUNICIPALITY, name, name_en, actor=ACTOR
        )
    return staff.get_organisation(session, code)


def make_official(
    session: Session,
    organisation: str,
    role: str,
    *,
    name: str = "試験　職員",
    person_id: uuid.UUID | None = None,
) -> staff.Principal:
    """An official holding ``role`` in ``organisation``, as the principal of their session
    (committed)."""
    ensure_organisation(session, organisation)
    account = staff.get_account_by_person(session, person_id) if person_id else None
    if account is None:
        account = staff.do_create_official(
            session, person_id=person_id or uuid.uuid4(), name=name, actor=ACTOR
        )
    staff.do_grant(session, account.id, organisation=organisation, role=role, actor=ACTOR)
    session.commit()
    principal = staff.principal_for(session, account.id, organisation=organisation, role=role)
    assert principal is not None
    return principal


def make_key(
    session: Session,
    organisation: str,
    role: str,
    permissions: Sequence[str] | None = None,
    *,
    name: str = "試験システム",
) -> str:
    """A service account's API key for ``organisation`` with ``role``'s permissions (or the
    given subset), committed; returns the secret for ``Authorization: Bearer``."""
    org = ensure_organisation(session, organisation)
    account = staff.do_create_service_account(session, name=name, actor=ACTOR)
    staff.do_grant(session, account.id, organisation=organisation, role=role, actor=ACTOR)
    if permissions is None:
        held = next(p for code, _, _, p in staff.list_roles(session, org.kind) if code == role)
        permissions = list(held)
    created = staff.do_create_key(
        session, account.id, organisation=organisation, permissions=permissions, actor=ACTOR
    )
    session.commit()
    return created.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def admin_key() -> str:
    """A key of kiban's operator administrator (relying parties, corporations, mesh metrics) on
    the database the settings point at."""
    with transaction() as session:
        return make_key(session, staff.OPERATOR_ORGANISATION, "administrator")


def municipality_key(organisation: str, role: str = "approval") -> str:
    """A key of a municipality's service account with ``role`` on the configured database."""
    with transaction() as session:
        return make_key(session, organisation, role)
