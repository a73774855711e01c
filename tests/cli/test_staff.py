"""``kiban staff`` and ``--as`` on the CLI: the one policy function decides there too."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from kiban.blocks import notifications, payments, residents, staff
from kiban.blocks.staff.models import StaffBreakGlass
from kiban.cardreader.store import CardStore
from kiban.cli import app
from kiban.cli import seed as seed_module
from kiban.cli.card import issue_into
from kiban.cli.staff import demo_payment_approvers, seed_demo_officials
from kiban.kernel import clock
from kiban.platform.db import transaction
from kiban.platform.models import AuditEntry
from tests.staff_support import ensure_organisation

runner = CliRunner()


def _ok(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_bootstrap_add_grant_suspend_and_keys(database_url: str, engine: Engine) -> None:
    assert runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"]).exit_code == 0
    admin = _ok(["staff", "bootstrap", "--person-id", str(uuid.uuid4()), "--name", "運用　一郎"])
    again = runner.invoke(
        app, ["staff", "bootstrap", "--person-id", str(uuid.uuid4()), "--name", "x"]
    )
    assert again.exit_code == 1
    assert "already" in again.output
    as_admin = ["--as", f"staff:{admin['id']}@kiban/administrator"]

    # Without --as nothing is written.
    refused = runner.invoke(
        app,
        [
            "staff",
            "add",
            "--organisation",
            "131016",
            "--role",
            "counter",
            "--name",
            "n",
            "--person-id",
            str(uuid.uuid4()),
        ],
    )
    assert refused.exit_code == 1
    assert "--as" in refused.output

    person = str(uuid.uuid4())
    official = _ok(
        [
            "staff",
            "add",
            "--organisation",
            "131016",
            "--role",
            "counter",
            "--name",
            "千代田　花子",
            "--person-id",
            person,
            *as_admin,
        ]
    )
    assert [(m["organisation"], m["role"]) for m in official["memberships"]] == [
        ("131016", "counter")
    ]
    granted = _ok(
        [
            "staff",
            "grant",
            official["id"],
            "--organisation",
            "131016",
            "--role",
            "review",
            *as_admin,
        ]
    )
    assert len(granted["memberships"]) == 2
    revoked = _ok(
        [
            "staff",
            "revoke",
            official["id"],
            "--organisation",
            "131016",
            "--role",
            "review",
            *as_admin,
        ]
    )
    assert len(revoked["memberships"]) == 1

    listed = _ok(["staff", "list", "--organisation", "131016", "--format", "json"])
    assert [a["id"] for a in listed] == [official["id"]]
    shown = _ok(["staff", "show", official["id"], "--format", "json"])
    assert [s["action"] for s in shown["history"]] == ["created", "granted", "granted", "revoked"]

    # A counter official may not manage staff, nor act outside their municipality.
    as_counter = ["--as", f"staff:{official['id']}@131016/counter"]
    denied = runner.invoke(
        app,
        [
            "staff",
            "grant",
            official["id"],
            "--organisation",
            "131016",
            "--role",
            "approval",
            *as_counter,
        ],
    )
    assert denied.exit_code == 1
    assert "not permitted" in denied.output

    service = _ok(
        [
            "staff",
            "add",
            "--service",
            "--organisation",
            "131016",
            "--role",
            "audit",
            "--name",
            "集計バッチ",
            *as_admin,
        ]
    )
    created = _ok(
        [
            "staff",
            "keys",
            "create",
            service["id"],
            "--organisation",
            "131016",
            "--permission",
            "residents.read",
            "--days",
            "30",
            *as_admin,
        ]
    )
    assert created["secret"].startswith("kiban_sk_")
    with transaction(engine) as session:
        principal = staff.principal_from_key(session, created["secret"])
        assert principal.permissions == {"residents.read"}
    _ok(["staff", "keys", "revoke", str(created["key"]["id"]), *as_admin])
    with transaction(engine) as session:
        try:
            staff.principal_from_key(session, created["secret"])
            raise AssertionError("a revoked key still acts")
        except staff.KeyInvalid:
            pass

    suspended = _ok(["staff", "suspend", official["id"], "--reason", "異動", *as_admin])
    assert suspended["status"] == "suspended"
    gone = runner.invoke(app, ["residents", "list", *as_counter])
    assert gone.exit_code == 1


def test_residents_cli_refuses_another_municipality(database_url: str) -> None:
    assert runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"]).exit_code == 0
    admin = _ok(["staff", "bootstrap", "--person-id", str(uuid.uuid4()), "--name", "運用　一郎"])
    as_admin = ["--as", f"staff:{admin['id']}@kiban/administrator"]
    official = _ok(
        [
            "staff",
            "add",
            "--organisation",
            "131016",
            "--role",
            "counter",
            "--name",
            "千代田　花子",
            "--person-id",
            str(uuid.uuid4()),
            *as_admin,
        ]
    )
    as_chiyoda = ["--as", f"staff:{official['id']}@131016/counter"]
    own = _ok(["residents", "list", "--limit", "3", "--format", "json", *as_chiyoda])
    assert {p["address"]["lg_code"] for p in own} == {"131016"}
    other = runner.invoke(app, ["residents", "list", "--municipality", "011011", *as_chiyoda])
    assert other.exit_code == 1
    assert "another organisation" in other.output
    # The national administrator holds no permission over residents' records.
    national = runner.invoke(app, ["residents", "show", "--person-id", own[0]["id"], *as_admin])
    assert national.exit_code == 1
    assert "not permitted" in national.output


def test_the_demo_seeds_an_official_per_municipality_and_an_administrator(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"]).exit_code == 0
    store = CardStore(tmp_path / "cards")
    with transaction(engine) as session:
        adults = [p for p in residents.list_people(session, limit=1000) if p.birth_date.year < 2000]
        chosen = seed_demo_officials(
            session,
            adults,
            lambda person: issue_into(
                session, store, person.id, auth_pin="1234", signing_pin="KIBAN2026"
            ),
            agencies=[("agency:pension", "日本年金機構", "pension")],
        )
    municipalities = {p.address.lg_code for p in adults}
    assert len(chosen) == len(municipalities) + 1 + 2  # The administrator, two approvers.
    with transaction(engine) as session:
        for person, card, where in chosen:
            account = staff.get_account_by_person(session, person.id)
            assert account is not None
            assert account.name == person.full_name
            assert card.card_number
            held = {(m.organisation, m.role) for m in account.memberships}
            if where == "kiban payments":
                assert held == {("kiban", "payments")}
            elif where.startswith("kiban"):
                assert held == {("kiban", "administrator")}
            else:
                lg = person.address.lg_code
                assert held == {(lg, "approval"), (lg, "counter")}
        assert staff.is_bootstrapped(session)
        assert staff.get_organisation(session, "agency:pension").kind == "agency"


def test_break_glass_is_time_boxed_recorded_and_told_to_the_person(
    database_url: str, engine: Engine
) -> None:
    assert runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"]).exit_code == 0
    admin = _ok(["staff", "bootstrap", "--person-id", str(uuid.uuid4()), "--name", "運用　一郎"])
    as_admin = ["--as", f"staff:{admin['id']}@kiban/administrator"]
    with transaction(engine) as session:
        person = residents.list_people(session, lg_code="131016", limit=1)[0]
        ensure_organisation(session, "011011")
    # An official of another municipality (a disaster support team, say).
    helper = _ok(
        [
            "staff",
            "add",
            "--organisation",
            "011011",
            "--role",
            "counter",
            "--name",
            "応援　職員",
            "--person-id",
            str(uuid.uuid4()),
            *as_admin,
        ]
    )
    as_helper = ["--as", f"staff:{helper['id']}@011011/counter"]
    before = runner.invoke(app, ["residents", "show", "--person-id", str(person.id), *as_helper])
    assert before.exit_code == 1
    assert "another organisation" in before.output

    granted = _ok(
        [
            "staff",
            "break-glass",
            helper["id"],
            "--person-id",
            str(person.id),
            "--organisation",
            "131016",
            "--reason",
            "災害対応のため",
            "--hours",
            "2",
            *as_admin,
        ]
    )
    assert granted["permissions"] == ["residents.read"]
    during = runner.invoke(app, ["residents", "show", "--person-id", str(person.id), *as_helper])
    assert during.exit_code == 0, during.output
    # Only that person, only reading.
    with transaction(engine) as session:
        other = residents.list_people(session, lg_code="131016", limit=2)[1]
    assert (
        runner.invoke(
            app, ["residents", "show", "--person-id", str(other.id), *as_helper]
        ).exit_code
        == 1
    )

    with transaction(engine) as session:
        inbox = notifications.list_inbox(session, person.id)
        assert [n.template for n in inbox.items] == ["staff.break_glass"]
        assert "災害対応のため" in inbox.items[0].body("ja")
        assert "応援　職員" in inbox.items[0].body("ja")
        shown = staff.list_break_glass_for_person(session, person.id)
        assert [g.reason for g in shown] == ["災害対応のため"]
        tags = set(session.scalars(select(AuditEntry.tag)))
        assert {"staff:break_glass:granted", "staff:break_glass:used"} <= tags
        # It ends by itself.
        session.execute(
            update(StaffBreakGlass).values(expires_at=clock.now() - timedelta(seconds=1))
        )
    after = runner.invoke(app, ["residents", "show", "--person-id", str(person.id), *as_helper])
    assert after.exit_code == 1


def test_the_demo_leaves_the_flat_payment_approved_by_two_officials_ready_to_export(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """The seed's job builds the flat payment's batch; the two demo payment officials approve
    it (the policy asked for each, the maker and earlier approver excluded)."""
    assert runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"]).exit_code == 0
    store = CardStore(tmp_path / "cards")
    with transaction(engine) as session:
        adults = [p for p in residents.list_people(session, limit=1000) if p.birth_date.year < 2000]
        seed_demo_officials(
            session,
            adults,
            lambda person: issue_into(
                session, store, person.id, auth_pin="1234", signing_pin="KIBAN2026"
            ),
            agencies=[],
        )
        line = seed_module._approved_batch(session, ready=True)
    with transaction(engine) as session:
        batches = payments.list_batches(session)
        approvers = {p.actor for p in demo_payment_approvers(session)}
    assert [(b.programme, b.payer, b.status, b.maker) for b in batches] == [
        ("flat-payment", "digital-agency", "approved", "system:seed")
    ]
    assert set(batches[0].approvers) == approvers
    assert len(approvers) == 2
    assert batches[0].line_count > 0
    assert f"payment batch {batches[0].number} of flat-payment" in line
    assert "approved by 2 officials" in line
