"""``kiban death certify``: the reference physician's office certifies a death in the demo."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Engine
from typer.testing import CliRunner

from kiban import agencies
from kiban.agencies import physician
from kiban.agencies.models import PhysicianCertificate
from kiban.blocks import address, residents
from kiban.cli import app
from kiban.platform.db import transaction

runner = CliRunner()


def test_certify_keeps_the_certificate_under_the_offices_own_code(
    database_url: str, engine: Engine
) -> None:
    with transaction(engine) as session:
        address.load_registry(session, lg_codes=["131016"])
        town = address.find_town(session, "131016", "丸の内")
        person = residents.register_person(
            session,
            residents.PersonCreate(
                family_name="診断",
                given_name="太郎",
                family_name_kana="シンダン",
                given_name_kana="タロウ",
                birth_date=date(1950, 1, 1),
                sex=residents.Sex.MALE,
                address=residents.AddressInput(town_id=town.id, chome=1, block_number="1-1"),
                household=residents.HouseholdChoice(),
                effective_on=date(2020, 4, 1),
            ),
            actor="official:test",
        )
    done = runner.invoke(
        app,
        [
            "death",
            "certify",
            "--person-id",
            str(person.id),
            "--died-at",
            "2026-12-01T10:00:00+09:00",
        ],
    )
    assert done.exit_code == 0, done.output
    code = json.loads(done.stdout)["agency_code"]
    assert str(person.id) not in done.stdout
    with transaction(engine) as session:
        row = agencies.get_record(session, physician.AGENCY, code)
        assert isinstance(row, PhysicianCertificate)
        assert row.place.endswith("きばん診療所")
    again = runner.invoke(app, ["death", "certify", "--person-id", str(person.id)])
    assert again.exit_code == 1
    assert "person" in again.output
    naive = runner.invoke(
        app, ["death", "certify", "--person-id", str(person.id), "--died-at", "2026-12-01T10:00:00"]
    )
    assert naive.exit_code == 1
    assert "died_at" in naive.output
