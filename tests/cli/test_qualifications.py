"""``kiban qualifications`` and the seed's demo licence holders."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select
from typer.testing import CliRunner

from kiban.blocks import qualifications, staff
from kiban.blocks.residents.models import ReadRecord
from kiban.cli import app
from kiban.platform.db import transaction

runner = CliRunner()


def test_types_lists_about_thirty_with_their_credential_types(database_url: str) -> None:
    listed = runner.invoke(app, ["qualifications", "types", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    found = {t["code"]: t for t in json.loads(listed.stdout)}
    assert len(found) >= 30
    assert found["nurse"]["name_ja"] == "看護師"
    assert found["nurse"]["credential_type"] == "qualification-nurse"
    assert found["childcare"]["authority"] == "prefecture"


def test_seeded_nurse_is_listed_suspended_reinstated_and_revoked_by_the_ministry(
    database_url: str,
) -> None:
    seeded = runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "看護師 (nurse) No. 0512345" in seeded.output
    listed = runner.invoke(
        app, ["qualifications", "holders", "--qualification", "nurse", "--format", "json"]
    )
    assert listed.exit_code == 0, listed.output
    (nurse,) = json.loads(listed.stdout)
    assert nurse["authority"] == "agency:mhlw"
    assert nurse["name"]
    with transaction() as session:
        # The listing showed the holder's name: a read of that person, recorded.
        reads = session.scalars(
            select(ReadRecord.route).where(ReadRecord.person_id == uuid.UUID(nurse["person_id"]))
        ).all()
        assert "cli: kiban qualifications holders" in reads
        # An official of the ministry with the registry's role (the demo size makes one).
        staff.do_add_organisation(
            session, "agency:mhlw", staff.OrganisationKind.AGENCY, "厚生労働省", "MHLW", actor="t"
        )
        account = staff.do_create_official(session, person_id=uuid.uuid4(), name="x", actor="t")
        staff.do_grant(
            session, account.id, organisation="agency:mhlw", role="qualifications", actor="t"
        )
    acting = f"staff:{account.id}@agency:mhlw/qualifications"
    holder = nurse["id"]

    refused = runner.invoke(app, ["qualifications", "suspend", holder, "--as", acting])
    assert refused.exit_code == 1
    assert "(reason)" in refused.stderr
    done = runner.invoke(
        app, ["qualifications", "suspend", holder, "--reason", "業務停止1月", "--as", acting]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["status"] == "suspended"
    done = runner.invoke(app, ["qualifications", "reinstate", holder, "--as", acting])
    assert json.loads(done.stdout)["status"] == "active"
    done = runner.invoke(
        app, ["qualifications", "revoke", holder, "--reason", "免許取消", "--as", acting]
    )
    assert json.loads(done.stdout)["status"] == "revoked"
    again = runner.invoke(app, ["qualifications", "reinstate", holder, "--as", acting])
    assert again.exit_code == 1
    assert "(status)" in again.stderr
    with transaction() as session:
        steps = qualifications.get_history(session, uuid.UUID(holder))
    assert [s.action for s in steps] == ["registered", "suspended", "reinstated", "revoked"]
    assert steps[-1].acted_by == acting


def test_register_needs_an_official_of_the_authority(database_url: str) -> None:
    result = runner.invoke(
        app,
        ["qualifications", "register", "--qualification", "nurse", "--person-id",
         str(uuid.uuid4()), "--number", "1", "--registered-on", "2020-01-01"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "(as)" in result.stderr
