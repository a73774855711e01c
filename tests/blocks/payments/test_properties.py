"""Properties under random runs: the ledger always balances and agrees with the obligations;
no person × programme × period is ever paid twice, whatever is retried, fails at the bank or
crashes mid-step; a batch is approved exactly when two officials other than the maker did."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kiban.blocks import payments
from kiban.blocks.payments.models import PaymentsLine, PaymentsObligation
from kiban.platform import db
from tests.blocks.payments.support import (
    CHECKER_1,
    CHECKER_2,
    MAKER,
    PAYER,
    country,
    open_and_register,
)

PROPERTY = settings(
    max_examples=12,
    # Shrinking replays whole batches; a failure is reported as found.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RESULTS = st.sampled_from(["paid", "paid", "no_such_account", "name_mismatch", "closed"])
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["build", "approve", "export", "result", "result_again", "add_again"]),
        st.booleans(),  # Crash: raise inside the step's transaction.
        st.lists(RESULTS, min_size=8, max_size=8),
    ),
    min_size=4,
    max_size=25,
)


class Crash(Exception):
    """A process dying mid-step: the transaction never commits."""


_PEOPLE: dict[str, list[uuid.UUID]] = {}


def _people(engine: Engine) -> list[uuid.UUID]:
    """A small country with eight account holders, made once per test database (PostgreSQL
    keeps one URL and empties the database between tests: then it is made again)."""
    key = str(engine.url)
    if key in _PEOPLE:
        with db.transaction(engine) as session:
            if payments.get_active_account(session, _PEOPLE[key][0]) is None:
                del _PEOPLE[key]
    if key not in _PEOPLE:
        people = country(engine, size=8)
        with db.transaction(engine) as session:
            for n, person in enumerate(people):
                open_and_register(session, person.id, number=f"55{n:05d}", holder="ﾃｽﾄ")
        _PEOPLE[key] = [p.id for p in people]
    return _PEOPLE[key]


def _invariants(session: Session) -> None:
    assert payments.ledger_total(session) == 0
    balances = payments.ledger_balances(session)
    rows = list(session.scalars(select(PaymentsObligation)))
    paid = sum(r.amount for r in rows if r.status == "paid")
    assert balances["appropriation"] == -sum(r.amount for r in rows)
    assert balances["paid"] == paid
    assert balances["payable"] + balances["returned"] + balances["in_transit"] == sum(
        r.amount for r in rows if r.status != "paid"
    )
    for row in rows:
        paid_lines = session.scalar(
            select(func.count())
            .select_from(PaymentsLine)
            .where(PaymentsLine.obligation_id == row.id)
            .where(PaymentsLine.result == "paid")
        )
        assert paid_lines == (1 if row.status == "paid" else 0)


def _step(engine: Engine, crash: bool, action: Callable[[Session], object]) -> None:
    try:
        with db.transaction(engine) as session:
            action(session)
            if crash:
                raise Crash
    except (Crash, payments.NothingToPay, payments.BatchStateConflict):
        pass
    except payments.InvalidTransferFile as refused:
        # A second answer contradicting the first for a line is refused, whole.
        if "already" not in refused.message_en:
            raise


@PROPERTY
@given(steps=STEPS, amounts=st.lists(st.integers(1, 10_000_000), min_size=8, max_size=8))
def test_never_paid_twice_and_the_ledger_balances(
    engine: Engine, steps: list[tuple[str, bool, list[str]]], amounts: list[int]
) -> None:
    people = _people(engine)
    programme = f"prop-{uuid.uuid4().hex[:12]}"

    def obligations(session: Session) -> object:
        return payments.do_add_obligations(
            session,
            [
                payments.ObligationCreate(
                    programme=programme,
                    period="2026",
                    person_id=person,
                    amount=amount,
                    payer=PAYER,
                    reason="test",
                )
                for person, amount in zip(people, amounts, strict=True)
            ],
            actor="benefits",
        )

    _step(engine, False, obligations)
    batches: list[int] = []
    for name, crash, results in steps:
        if name == "add_again":
            _step(engine, crash, obligations)
        elif name == "build":

            def build(session: Session) -> object:
                batch = payments.do_build_batch(
                    session, programme=programme, payer=PAYER, actor=MAKER
                )
                batches.append(batch.number)
                return batch

            before = len(batches)
            _step(engine, crash, build)
            if crash:
                del batches[before:]  # Built, then lost with its transaction.
        elif batches:
            number = batches[-1]
            if name == "approve":

                def approve(session: Session, number: int = number) -> object:
                    payments.do_approve_batch(session, number, actor=CHECKER_1)
                    return payments.do_approve_batch(session, number, actor=CHECKER_2)

                _step(engine, crash, approve)
            elif name == "export":

                def export(session: Session, number: int = number) -> object:
                    return payments.do_mark_exported(session, number, actor="op")

                _step(engine, crash, export)
            else:

                def result(
                    session: Session,
                    number: int = number,
                    results: list[str] = results,
                    name: str = name,
                ) -> object:
                    data = payments.transfer_file(session, number)
                    answer = payments.transfer_results(
                        data, {line: results[(line - 1) % 8] for line in range(1, 9)}
                    )
                    payments.do_import_result(session, number, answer, actor="op")
                    if name == "result_again":
                        payments.do_import_result(session, number, answer, actor="op")
                    return None

                _step(engine, crash, result)
        with db.transaction(engine) as session:
            _invariants(session)
    with db.transaction(engine) as session:
        for batch in batches:
            report = payments.reconcile(session, batch)
            assert report.differences == []
            assert report.ledger_sum == 0


OFFICIALS = [MAKER, CHECKER_1, CHECKER_2, "staff:00000000-0000-0000-0000-00000000000d@131016"]


@PROPERTY
@given(st.lists(st.sampled_from(OFFICIALS), min_size=1, max_size=6))
def test_two_officials_other_than_the_maker_approve(engine: Engine, who: list[str]) -> None:
    people = _people(engine)
    programme = f"approve-{uuid.uuid4().hex[:12]}"
    with db.transaction(engine) as session:
        payments.do_add_obligations(
            session,
            [
                payments.ObligationCreate(
                    programme=programme,
                    period="1",
                    person_id=people[0],
                    amount=1,
                    payer=PAYER,
                    reason="t",
                )
            ],
            actor="t",
        )
        number = payments.do_build_batch(
            session, programme=programme, payer=PAYER, actor=MAKER
        ).number
    approvers: list[str] = []
    for official in who:
        with db.transaction(engine) as session:
            expected_ok = len(approvers) < 2 and official != MAKER and official not in approvers
            if len(approvers) >= 2:
                with pytest.raises(payments.BatchStateConflict):
                    payments.do_approve_batch(session, number, actor=official)
            elif not expected_ok:
                with pytest.raises(payments.SameOfficial):
                    payments.do_approve_batch(session, number, actor=official)
            else:
                payments.do_approve_batch(session, number, actor=official)
                approvers.append(official)
            batch = payments.get_batch(session, number)
            assert batch.status == ("approved" if len(approvers) == 2 else "draft")
            assert batch.approvers == approvers
