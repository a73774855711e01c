"""``kiban seed`` and ``kiban residents`` from the operator's terminal."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from kiban.blocks import residents
from kiban.blocks.residents.models import ReadRecord
from kiban.cli import app
from kiban.platform.db import transaction

runner = CliRunner()


def test_seed_then_list_and_show(database_url: str) -> None:
    seeded = runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "seeded 60 residents" in seeded.output

    again = runner.invoke(app, ["seed", "--size", "tiny", "--if-empty"])
    assert again.exit_code == 0
    assert "not seeding" in again.output
    refused = runner.invoke(app, ["seed", "--size", "tiny"])
    assert refused.exit_code == 1
    assert "not empty" in refused.output

    listed = runner.invoke(
        app, ["residents", "list", "--municipality", "131016", "--limit", "5", "--format", "json"]
    )
    assert listed.exit_code == 0, listed.output
    people = json.loads(listed.stdout)
    assert len(people) == 5
    assert all(uuid.UUID(p["id"]) for p in people)
    assert all(p["address"]["lg_code"] == "131016" for p in people)

    shown = runner.invoke(
        app, ["residents", "show", "--person-id", people[0]["id"], "--format", "json"]
    )
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert record["id"] == people[0]["id"]
    assert record["history"][0]["reason"] == "registered"
    assert "individual_number" not in shown.stdout

    table = runner.invoke(app, ["residents", "show", "--person-id", people[0]["id"]])
    assert table.exit_code == 0
    assert people[0]["family_name"] in table.stdout


def test_bad_input_names_the_field(database_url: str) -> None:
    bad_code = runner.invoke(app, ["residents", "list", "--municipality", "131017"])
    assert bad_code.exit_code == 1
    assert "municipality" in bad_code.output
    bad_id = runner.invoke(app, ["residents", "show", "--person-id", "not-a-uuid"])
    assert bad_id.exit_code == 1
    assert "person_id" in bad_id.output
    unknown = runner.invoke(app, ["residents", "show", "--person-id", str(uuid.uuid4())])
    assert unknown.exit_code == 1
    assert "No such resident" in unknown.output


def test_the_operator_s_reads_at_the_terminal_are_recorded(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "yamada")
    monkeypatch.setenv("LOGNAME", "yamada")
    assert runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"]).exit_code == 0
    listed = runner.invoke(
        app, ["residents", "list", "--municipality", "131016", "--limit", "5", "--format", "json"]
    )
    people = [uuid.UUID(p["id"]) for p in json.loads(listed.stdout)]
    shown = runner.invoke(app, ["residents", "show", "--person-id", str(people[0])])
    assert shown.exit_code == 0

    with transaction(engine) as session:
        records = [
            (r.person_id, r.route, r.items, r.actor, r.actor_id, r.role, r.purpose)
            for r in session.scalars(select(ReadRecord).order_by(ReadRecord.read_at))
        ]
    operator = ("operator:yamada", "yamada", "operator", residents.ReadPurpose.OPERATION)
    # The seed prints the two demo card holders' names and addresses.
    seeded = [r for r in records if r[1] == "cli: kiban seed"]
    assert [(r[2], *r[3:]) for r in seeded] == [(["name", "address"], *operator)] * 2
    records = records[2:]
    assert sorted(records[:5]) == sorted(
        (p, "cli: kiban residents list", list(residents.PERSON_ITEMS), *operator) for p in people
    )
    assert records[5:] == [
        (
            people[0],
            "cli: kiban residents show",
            [*residents.PERSON_ITEMS, "history"],
            *operator,
        )
    ]
