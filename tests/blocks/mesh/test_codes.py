"""Agency codes: one per member and person, stable, unlinkable across members, convertible
only through the mesh."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh.models import MeshAgencyCode
from kiban.kernel.errors import KibanError
from tests.blocks.mesh.core_support import CLIENT, PROVIDER, Seen, build


def test_codes_differ_across_agencies_and_are_stable(session: Session) -> None:
    build(session, Seen())
    person = uuid.uuid4()
    first = mesh.agency_code(session, CLIENT, person)
    assert mesh.agency_code(session, CLIENT, person) == first
    # Every subsystem of a member shares the member's code.
    assert mesh.agency_code(session, "JP/MUN/131016", person) == first
    assert mesh.agency_code(session, PROVIDER, person) != first
    assert mesh.agency_code(session, CLIENT, uuid.uuid4()) != first
    assert len(first) == 32
    assert first.isalnum()
    assert not first.isdigit()
    assert str(person).replace("-", "") not in first
    stored = session.scalar(select(func.count()).select_from(MeshAgencyCode))
    assert stored == 3


def test_enrolment_makes_a_code_for_every_member(session: Session) -> None:
    build(session, Seen())
    person = uuid.uuid4()
    codes = mesh.enrol_person(session, person)
    assert set(codes) == {"JP/GOV/00001", "JP/MUN/131016", "JP/COM/9000001"}
    assert len(set(codes.values())) == 3
    assert mesh.enrol_person(session, person) == codes


def test_conversion_goes_through_the_person(session: Session) -> None:
    build(session, Seen())
    person = uuid.uuid4()
    mine = mesh.agency_code(session, CLIENT, person)
    theirs = mesh.convert_code(session, CLIENT, mine, PROVIDER)
    assert theirs == mesh.agency_code(session, PROVIDER, person)
    assert mesh.convert_code(session, PROVIDER, theirs, CLIENT) == mine
    with pytest.raises(KibanError) as unknown:
        mesh.convert_code(session, PROVIDER, mine, CLIENT)
    assert (unknown.value.code, unknown.value.status) == ("mesh.person_unknown", 404)
