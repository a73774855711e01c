"""A benefit from obligation to the bank's result: accounts verified through the mesh, two
officials approve, the Zengin file goes to the reference bank, a failed line is paid in a later
batch once, and the ledger reconciles to the yen."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from kiban.agencies import bank
from kiban.blocks import mesh, notifications, payments
from kiban.platform import db
from tests.blocks.payments.support import (
    CHECKER_1,
    CHECKER_2,
    MAKER,
    PAYER,
    PROGRAMME,
    approve,
    bank_code_of,
    country,
    obligation,
    open_and_register,
)


def test_account_verified_through_the_mesh_and_recorded(engine: Engine) -> None:
    people = country(engine)
    with db.transaction(engine) as session:
        ok = open_and_register(
            session, people[0].id, number="1234567", typed_holder="やまだ たろう"
        )
        assert ok.status == "active"
        assert ok.holder_kana == "ﾔﾏﾀﾞ ﾀﾛｳ"
        assert ok.bank_name == "みずほ"
        wrong = open_and_register(
            session, people[1].id, number="7654321", holder="ｽｽﾞｷ ﾊﾅｺ", typed_holder="ｽｽﾞｷ ﾊﾅ"
        )
        assert (wrong.status, wrong.verification) == ("refused", "name_mismatch")
        assert payments.get_active_account(session, people[1].id) is None
        records = mesh.records_for_person(session, people[0].id).records
        assert any(r.service.endswith("/account-check") for r in records)


def test_kanji_holder_name_is_refused_naming_the_character(engine: Engine) -> None:
    people = country(engine)
    with db.transaction(engine) as session, pytest.raises(payments.InvalidKana) as caught:
        open_and_register(session, people[0].id, number="1", typed_holder="ﾔﾏﾀﾞ 太郎")
    assert "太" in caught.value.message_ja
    assert caught.value.field == "holder_kana"


def test_a_returned_line_is_paid_once_in_a_later_batch(engine: Engine) -> None:
    people = country(engine)
    alice, bob, carol = people[0], people[1], people[2]
    with db.transaction(engine) as session:
        open_and_register(session, alice.id, number="1000001", holder="ｱﾘｽ")
        open_and_register(session, bob.id, number="1000002", holder="ﾎﾞﾌﾞ")
        added = payments.do_add_obligations(
            session, [obligation(p.id) for p in (alice, bob, carol)], actor="benefits"
        )
        assert added == 3
        # Idempotent: the same triple again adds nothing.
        assert payments.do_add_obligations(session, [obligation(alice.id)], actor="x") == 0
        twice = obligation(alice.id).model_copy(update={"programme": "another"})
        assert payments.do_add_obligations(session, [twice, twice], actor="x") == 1
        batch = payments.do_build_batch(session, programme=PROGRAMME, payer=PAYER, actor=MAKER)
        assert (batch.line_count, batch.total) == (2, 200_000)  # carol has no account.
        with pytest.raises(payments.SameOfficial):
            payments.do_approve_batch(session, batch.number, actor=MAKER)
        payments.do_approve_batch(session, batch.number, actor=CHECKER_1)
        with pytest.raises(payments.SameOfficial):
            payments.do_approve_batch(session, batch.number, actor=CHECKER_1 + "x")
        assert payments.get_batch(session, batch.number).status == "draft"
        approved = payments.do_approve_batch(session, batch.number, actor=CHECKER_2)
        assert approved.status == "approved"
        # The bank closes bob's account after his registration: his line comes back.
        bank.close_account(session, bank_code_of(session, bob.id))
        data = payments.transfer_file(session, batch.number)
        result = bank.ReferenceBank(session).transfer(data)
        payments.do_import_result(session, batch.number, result, actor="operator")
        payments.do_import_result(session, batch.number, result, actor="operator")  # Again.
        report = payments.reconcile(session, batch.number)
        assert report.differences == []
        assert (report.bank_paid, report.bank_returned) == (100_000, 100_000)
        assert report.ledger_sum == 0
        inbox = notifications.list_inbox(session, bob.id)
        assert [n.template for n in inbox.items] == [payments.RETURNED_NOTICE]
        alices = {p.programme: p.state for p in payments.list_payments(session, alice.id)}
        assert alices == {PROGRAMME: "paid", "another": "expected"}
        assert [p.state for p in payments.list_payments(session, bob.id)] == ["returned"]
        assert [p.state for p in payments.list_payments(session, carol.id)] == ["expected"]
    with db.transaction(engine) as session:
        # Bob reopens an account and registers it; carol registers hers.
        open_and_register(session, bob.id, number="2000002", holder="ﾎﾞﾌﾞ")
        open_and_register(session, carol.id, number="1000003", holder="ｷｬﾛﾙ")
        second = payments.do_build_batch(session, programme=PROGRAMME, payer=PAYER, actor=MAKER)
        assert (second.line_count, second.total) == (2, 200_000)  # bob again, carol; not alice.
        approve(session, second.number)
        result = bank.ReferenceBank(session).transfer(
            payments.transfer_file(session, second.number)
        )
        payments.do_import_result(session, second.number, result, actor="operator")
        assert payments.reconcile(session, second.number).differences == []
        with pytest.raises(payments.NothingToPay):
            payments.do_build_batch(session, programme=PROGRAMME, payer=PAYER, actor=MAKER)
        balances = payments.ledger_balances(session)
        assert balances == {
            "appropriation": -400_000,
            "payable": 100_000,  # The other programme's, not batched.
            "in_transit": 0,
            "paid": 300_000,
            "returned": 0,
        }


def test_a_dead_payees_obligations_are_held_until_the_bank_has_them(engine: Engine) -> None:
    people = country(engine)
    alice, bob, carol = people[0], people[1], people[2]
    with db.transaction(engine) as session:
        open_and_register(session, alice.id, number="1000001", holder="ｱﾘｽ")
        open_and_register(session, bob.id, number="1000002", holder="ﾎﾞﾌﾞ")
        payments.do_add_obligations(
            session, [obligation(p.id) for p in (alice, bob, carol)], actor="benefits"
        )
        later = obligation(alice.id).model_copy(update={"programme": "another"})
        payments.do_add_obligations(session, [later], actor="benefits")
        draft = payments.do_build_batch(session, programme=PROGRAMME, payer=PAYER, actor=MAKER)
        assert (draft.line_count, draft.total) == (2, 200_000)

        # Alice dies: her line leaves the draft batch and both her obligations are held.
        held = payments.do_hold_obligations_of(session, alice.id, reason="死亡", actor="t")
        assert held == payments.HoldResult(held=2, in_flight=0)
        after = payments.get_batch(session, draft.number)
        assert (after.line_count, after.total) == (1, 100_000)
        mine = payments.list_obligations(session, person_id=alice.id)
        assert {(o.status, o.hold_reason) for o in mine} == {("held", "死亡")}
        assert {p.state for p in payments.list_payments(session, alice.id)} == {"held"}
        # Again: nothing more to hold. Held obligations never join a batch.
        assert payments.do_hold_obligations_of(session, alice.id, reason="x", actor="t").held == 0
        with pytest.raises(payments.NothingToPay):
            payments.do_build_batch(session, programme="another", payer=PAYER, actor=MAKER)

        # Bob's line is on a batch two officials approved: frozen, so it is not held.
        approve(session, draft.number)
        bob_held = payments.do_hold_obligations_of(session, bob.id, reason="死亡", actor="t")
        assert bob_held == payments.HoldResult(held=0, in_flight=1)
