"""Municipal offices on the mesh: the moving packet travels from the old office to the new one
through the gateway, under the Basic Resident Register Act, and both sides are recorded."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from kiban.blocks import address, mesh, residents
from kiban.life_events.moving import offices
from kiban.platform.db import transaction


@pytest.fixture
def received() -> Iterator[list[offices.Packet]]:
    """A receiver that keeps what arrives (the moving life event's is put back afterwards)."""
    kept: list[offices.Packet] = []
    before = list(offices._receiver)

    def keep(_session: Any, packet: offices.Packet) -> Mapping[str, Any]:
        kept.append(packet)
        return {"received": True}

    offices.set_packet_receiver(keep)
    yield kept
    offices._receiver[:] = before


def _person(session: Any) -> residents.PersonRead:
    town = address.find_town(session, "131016", "丸の内")
    return residents.register_person(
        session,
        residents.PersonCreate(
            family_name="山田",
            given_name="花子",
            family_name_kana="ヤマダ",
            given_name_kana="ハナコ",
            birth_date=date(1988, 5, 5),
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(town_id=town.id, chome=1, block_number="1-1"),
            effective_on=date(2020, 4, 1),
        ),
        actor="official:test",
    )


def test_the_packet_reaches_the_new_office_and_is_recorded(
    engine: Engine, received: list[offices.Packet]
) -> None:
    with transaction(engine) as session:
        address.load_registry(session, lg_codes=["131016", "011011"])
        person = _person(session)
        reply = offices.send_packet(
            session,
            from_lg_code="131016",
            to_lg_code="011011",
            person_id=person.id,
            data={"name": person.full_name, "destination": "北海道札幌市中央区北一条西2-1"},
            actor="official:test",
        )
        assert reply.ok, reply.message
        assert reply.body == {"received": True}
        # A second move on the same route reuses the offices and the grant.
        again = offices.send_packet(
            session,
            from_lg_code="131016",
            to_lg_code="011011",
            person_id=person.id,
            data={"name": person.full_name},
            actor="official:test",
        )
        assert again.ok
    assert len(received) == 2
    with transaction(engine) as session:
        # A process that finds the offices registered serves both packet services.
        assert offices.install(session) == 2
    packet = received[0]
    assert packet.to_lg_code == "011011"
    assert packet.from_office == "JP/MUN/131016/juki"
    assert packet.data["destination"].startswith("北海道")
    with transaction(engine) as session:
        # The new office knows the person by its own code, not the old office's.
        assert packet.agency_code == mesh.agency_code(session, "JP/MUN/011011/juki", person.id)
        assert packet.agency_code != mesh.agency_code(session, "JP/MUN/131016/juki", person.id)
        members = {m.xroad_id: m.name for m in mesh.list_members(session)}
        assert members["JP/MUN/011011"] == "北海道札幌市中央区役所"
        records = mesh.records_for_person(session, person.id).records
        sent = [r for r in records if r.service == "JP/MUN/011011/juki/moving-packet"]
        assert {r.side for r in sent} == {"requester", "provider"}
        assert all(r.outcome == "ok" for r in sent)
        assert all("住民基本台帳法第24条の2" in (r.legal_basis or "") for r in sent)
        assert {"name", "destination"} <= set(sent[-1].items)


def test_an_office_without_the_grant_is_refused(
    engine: Engine, received: list[offices.Packet]
) -> None:
    with transaction(engine) as session:
        address.load_registry(session, lg_codes=["131016", "011011"])
        person = _person(session)
        offices.ensure_office(session, "131016", actor="official:test")
        offices.ensure_office(session, "011011", actor="official:test")
        client = offices.office_subsystem("131016")
        refused = mesh.call(
            session,
            client=client,
            service=offices.packet_service("011011"),
            agency_code=mesh.agency_code(session, client, person.id),
            body={"name": person.full_name},
            items=["name"],
        )
        assert refused.error == "Server.ServerProxy.AccessDenied"
    assert received == []
