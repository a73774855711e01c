"""``kiban agencies birth``: a birth at the reference hospital from the operator's terminal."""

from __future__ import annotations

import json
import uuid

from typer.testing import CliRunner

from kiban.blocks import procedures, residents
from kiban.cli import app
from kiban.life_events import birth
from kiban.platform.db import transaction

runner = CliRunner()


def test_a_birth_opens_the_mothers_birth_notice(database_url: str) -> None:
    seeded = runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    with transaction() as session:
        women = [
            p
            for p in residents.list_people(session, lg_code="131016", limit=60)
            if p.sex == residents.Sex.FEMALE and p.birth_date.year < 2000
        ]
    mother = women[0]
    made = runner.invoke(
        app, ["agencies", "birth", "--mother-id", str(mother.id), "--weight", "3050"]
    )
    assert made.exit_code == 0, made.output
    answer = json.loads(made.stdout)
    assert answer["sent_to"] == "JP/MUN/131016/juki/birth-certificate"
    assert answer["certificate"]["weight_grams"] == 3050
    with transaction() as session:
        app_ = procedures.get_application(session, uuid.UUID(answer["birth_application"]))
        assert app_.code == birth.BIRTH
        assert app_.applicant_id == mother.id
        assert app_.values["weight_grams"] == 3050

    unknown = runner.invoke(app, ["agencies", "birth", "--mother-id", str(uuid.uuid4())])
    assert unknown.exit_code == 1
    bad = runner.invoke(app, ["agencies", "birth", "--mother-id", "x"])
    assert bad.exit_code == 1
    assert "mother_id" in bad.output
