"""Fees (政府共通決済) through the facade and the local reference provider: the state machine
(created → succeeded | failed, then refunded in parts or in full), idempotency (a double return
or a retried status check never books twice), refunds beyond what was paid refused naming the
field, and the daily reconciliation finding an injected difference."""

from __future__ import annotations

import json
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kiban.blocks import notifications, payments, residents
from kiban.blocks.payments.models import PaymentsFee, PaymentsPosting
from kiban.kernel import clock
from kiban.platform import db
from kiban.platform.models import AuditEntry

OFFICE = "131016"
OFFICIAL = "staff:00000000-0000-0000-0000-00000000000d@131016"
GOOD_CARD = "4444333322221111"
DECLINED_CARD = "4000000000000002"


def _person(engine: Engine) -> uuid.UUID:
    with db.transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=11)
    with db.transaction(engine) as session:
        return residents.list_people(session, limit=1)[0].id


def _start(
    session: Session, provider: payments.LocalPayProvider, person: uuid.UUID, app: uuid.UUID
) -> payments.FeeRead:
    return payments.do_start_fee(
        session,
        application_id=app,
        procedure="residence_certificate",
        office=OFFICE,
        person_id=person,
        amount=300,
        description="住民票の写し 1通",
        return_url=f"http://127.0.0.1/portal/applications/{app}/paid",
        actor="person:test",
        provider=provider,
    )


def _card(provider: payments.LocalPayProvider, fee: payments.FeeRead, number: str) -> None:
    provider.confirm_card(fee.provider_id, number=number, expiry="12/39", cvc="123", name="TEST")


def _fee_postings(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(PaymentsPosting)
            .where(PaymentsPosting.fee_id.is_not(None))
        )
        or 0
    )


def _tags(session: Session, fee_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.tag)
            .where(AuditEntry.subject == f"payments_fee:{fee_id}")
            .order_by(AuditEntry.seq)
        )
    )


# --- the provider on its own ----------------------------------------------------------------


def test_the_provider_keeps_its_own_state_and_answers_like_a_sandbox(tmp_path: Path) -> None:
    provider = payments.LocalPayProvider(tmp_path / "refpay", "http://127.0.0.1:8000")
    paid = provider.create_payment(amount=300, reference="a", description="d", return_url="r")
    declined = provider.create_payment(amount=300, reference="b", description="d", return_url="r")
    assert provider.next_url(paid.id).startswith("http://127.0.0.1:8000/refpay/rp_")
    # A number that fails the Luhn check is refused on the page, naming the field; nothing moves.
    with pytest.raises(payments.PaymentRefused) as refused:
        provider.confirm_card(paid.id, number="4444333322221112", expiry="12/39", cvc="1", name="A")
    assert refused.value.field == "card_number"
    with pytest.raises(payments.PaymentRefused) as expired:
        provider.confirm_card(paid.id, number=GOOD_CARD, expiry="01/20", cvc="123", name="A")
    assert expired.value.field == "expiry"
    assert provider.get_payment(paid.id).state == "created"
    done = provider.confirm_card(paid.id, number=GOOD_CARD, expiry="12/39", cvc="123", name="A")
    assert (done.state, done.card_last4, done.method) == ("succeeded", "1111", "card")
    failed = provider.confirm_card(
        declined.id, number=DECLINED_CARD, expiry="12/39", cvc="123", name="A"
    )
    assert (failed.state, failed.failure) == ("failed", "card_declined")
    # A final payment stays as it is: confirming again changes nothing.
    again = provider.confirm_card(
        declined.id, number=GOOD_CARD, expiry="12/39", cvc="123", name="A"
    )
    assert again.state == "failed"
    # Refunds: once per key, never beyond what is left, never of a failed payment.
    first = provider.refund(paid.id, amount=100, key="k1")
    assert provider.refund(paid.id, amount=100, key="k1") == first
    with pytest.raises(payments.PaymentRefused) as too_much:
        provider.refund(paid.id, amount=201, key="k2")
    assert too_much.value.field == "amount"
    with pytest.raises(payments.PaymentRefused):
        provider.refund(declined.id, amount=1, key="k3")
    # The state is the provider's own: a second instance over the same files sees it.
    other = payments.LocalPayProvider(tmp_path / "refpay", "http://elsewhere")
    assert other.get_payment(paid.id).refunded == 100
    lines = payments.parse_settlement(other.settlement_report(clock.today_jst()))
    assert sorted((line["type"], line["amount"]) for line in lines) == [
        ("capture", 300),
        ("refund", 100),
    ]
    assert (tmp_path / "refpay" / "settlements" / f"{clock.today_jst()}.csv").exists()


def test_bank_transfer_succeeds_or_fails_by_the_test_account(tmp_path: Path) -> None:
    provider = payments.LocalPayProvider(tmp_path, "http://127.0.0.1")
    one = provider.create_payment(amount=300, reference="a", description="d", return_url="r")
    two = provider.create_payment(amount=300, reference="b", description="d", return_url="r")
    with pytest.raises(payments.PaymentRefused) as refused:
        provider.confirm_bank_transfer(one.id, bank_code="1", account_number="1234567")
    assert refused.value.field == "bank_code"
    assert provider.confirm_bank_transfer(
        one.id, bank_code="0001", account_number="1234567"
    ).state == ("succeeded")
    failed = provider.confirm_bank_transfer(two.id, bank_code="0001", account_number="9999999")
    assert (failed.state, failed.failure) == ("failed", "insufficient_funds")


# --- the service ----------------------------------------------------------------------------


def test_a_paid_fee_is_booked_once_however_often_the_return_comes(
    engine: Engine, tmp_path: Path
) -> None:
    person = _person(engine)
    provider = payments.LocalPayProvider(tmp_path, "http://127.0.0.1")
    app = uuid.uuid4()
    with db.transaction(engine) as session:
        fee = _start(session, provider, person, app)
        assert fee.status == "created"
        assert not payments.fee_paid(session, app)
        # Coming back before paying (or a forged return) books nothing: the provider says created.
        assert payments.do_check_fee(session, fee.id, actor="t", provider=provider).status == (
            "created"
        )
        # Starting again while the first is open gives the same intent, not a second payment.
        assert _start(session, provider, person, app).id == fee.id
    _card(provider, fee, GOOD_CARD)
    for _ in range(3):  # The return, a reload, a retried status check.
        with db.transaction(engine) as session:
            checked = payments.do_check_fee(session, fee.id, actor="t", provider=provider)
    assert checked.status == "succeeded"
    assert checked.method == "card"
    with db.transaction(engine) as session:
        assert payments.fee_paid(session, app)
        assert _fee_postings(session) == 2  # One entry: fee_income → fee_cash.
        assert payments.ledger_balances(session, accounts=payments.FEE_LEDGER_ACCOUNTS) == {
            "fee_income": -300,
            "fee_cash": 300,
            "fee_refunds": 0,
        }
        assert payments.ledger_total(session) == 0
        assert _tags(session, fee.id) == ["payments:fee:started", "payments:fee:paid"]
        with pytest.raises(payments.FeeAlreadyPaid):
            _start(session, provider, person, app)


def test_a_declined_card_fails_and_another_attempt_pays(engine: Engine, tmp_path: Path) -> None:
    person = _person(engine)
    provider = payments.LocalPayProvider(tmp_path, "http://127.0.0.1")
    app = uuid.uuid4()
    with db.transaction(engine) as session:
        first = _start(session, provider, person, app)
    _card(provider, first, DECLINED_CARD)
    with db.transaction(engine) as session:
        failed = payments.do_check_fee(session, first.id, actor="t", provider=provider)
        assert (failed.status, failed.failure) == ("failed", "card_declined")
        assert not payments.fee_paid(session, app)
        assert _fee_postings(session) == 0
        second = _start(session, provider, person, app)
        assert second.id != first.id
    _card(provider, second, GOOD_CARD)
    with db.transaction(engine) as session:
        assert payments.do_check_fee(session, second.id, actor="t", provider=provider).status == (
            "succeeded"
        )
        # The failed one stays failed, whatever is asked again.
        assert payments.do_check_fee(session, first.id, actor="t", provider=provider).status == (
            "failed"
        )
        assert [f.status for f in payments.fees_of_application(session, app)] == [
            "succeeded",
            "failed",
        ]


def test_refunds_in_parts_never_beyond_what_was_paid(engine: Engine, tmp_path: Path) -> None:
    person = _person(engine)
    provider = payments.LocalPayProvider(tmp_path, "http://127.0.0.1")
    app = uuid.uuid4()
    with db.transaction(engine) as session:
        fee = _start(session, provider, person, app)
        with pytest.raises(payments.FeeStateConflict):
            payments.do_refund_fee(
                session,
                fee.id,
                amount=1,
                reason="x",
                reference="R",
                actor=OFFICIAL,
                provider=provider,
            )
    _card(provider, fee, GOOD_CARD)
    with db.transaction(engine) as session:
        payments.do_check_fee(session, fee.id, actor="t", provider=provider)

    def refund(amount: int, reason: str = "二重請求") -> payments.FeeRead:
        with db.transaction(engine) as session:
            return payments.do_refund_fee(
                session,
                fee.id,
                amount=amount,
                reason=reason,
                reference="K7Q2M-9XZ4H-R",
                actor=OFFICIAL,
                provider=provider,
            )

    partial = refund(100)
    assert (partial.status, partial.refunded, partial.refundable) == ("refunded", 100, 200)
    with pytest.raises(payments.RefundTooLarge) as too_much:
        refund(201)
    assert too_much.value.field == "amount"
    assert "200" in too_much.value.message_en
    with pytest.raises(payments.InvalidFee) as no_reason:
        refund(10, reason="  ")
    assert no_reason.value.field == "reason"
    with pytest.raises(payments.InvalidFee) as zero:
        refund(0)
    assert zero.value.field == "amount"
    rest = refund(200)
    assert (rest.refunded, rest.refundable, len(rest.refunds)) == (300, 0, 2)
    with db.transaction(engine) as session:
        assert not payments.fee_paid(session, app)  # Refunded in full: no longer paid.
        assert provider.get_payment(fee.provider_id).refunded == 300
        assert payments.ledger_balances(session, accounts=payments.FEE_LEDGER_ACCOUNTS) == {
            "fee_income": -300,
            "fee_cash": 0,
            "fee_refunds": 300,
        }
        assert _tags(session, fee.id).count("payments:fee:refunded") == 2
        inbox = notifications.list_inbox(session, person).items
        refunds = [n for n in inbox if n.template == payments.REFUNDED_NOTICE]
        assert len(refunds) == 2
        assert "K7Q2M-9XZ4H-R" in refunds[0].body_ja


def test_reconciliation_finds_an_injected_difference(engine: Engine, tmp_path: Path) -> None:
    person = _person(engine)
    provider = payments.LocalPayProvider(tmp_path, "http://127.0.0.1")
    today = clock.today_jst()
    apps = [uuid.uuid4(), uuid.uuid4()]
    with db.transaction(engine) as session:
        fees = [_start(session, provider, person, app) for app in apps]
    for fee in fees:
        _card(provider, fee, GOOD_CARD)
    with db.transaction(engine) as session:
        payments.do_check_fee(session, fees[0].id, actor="t", provider=provider)
        # The second applicant closed the browser before the return: the provider captured it,
        # the ledger does not know yet.
        report = payments.reconcile_fees(session, today, provider=provider)
    assert not report.reconciled
    assert report.provider_captured == 600
    assert report.ledger_captured == 300
    assert [(d.kind, d.payment_id, d.provider, d.ledger) for d in report.differences] == [
        ("capture", fees[1].provider_id, 300, 0)
    ]
    with db.transaction(engine) as session:
        payments.do_check_fee(session, fees[1].id, actor="t", provider=provider)
        payments.do_refund_fee(
            session,
            fees[0].id,
            amount=50,
            reason="誤り",
            reference="R",
            actor=OFFICIAL,
            provider=provider,
        )
        clean = payments.reconcile_fees(session, today, provider=provider)
    assert clean.reconciled, clean.differences
    assert (clean.provider_captured, clean.provider_refunded) == (600, 50)
    assert clean.balances["fee_cash"] == 550
    # Inject a difference: the provider's record of a capture says another sum.
    path = tmp_path / "payments" / f"{fees[1].provider_id}.json"
    raw = json.loads(path.read_text())
    raw["amount"] = 3000
    path.write_text(json.dumps(raw))
    with db.transaction(engine) as session:
        tampered = payments.reconcile_fees(session, today, provider=provider)
    assert [(d.payment_id, d.provider, d.ledger) for d in tampered.differences] == [
        (fees[1].provider_id, 3000, 300)
    ]
    # Another day has nothing on either side.
    with db.transaction(engine) as session:
        empty = payments.reconcile_fees(session, today - timedelta(days=1), provider=provider)
    assert (empty.report_lines, empty.differences, empty.reconciled) == (0, [], True)


# --- the state machine under random steps ---------------------------------------------------

PROPERTY = settings(
    max_examples=15,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["start", "pay", "decline", "check", "refund"]),
        st.integers(min_value=0, max_value=2),  # Which intent of the application.
        st.integers(min_value=-5, max_value=400),  # A refund's amount.
    ),
    min_size=3,
    max_size=20,
)
ALLOWED = {
    ("created", "created"),
    ("created", "succeeded"),
    ("created", "failed"),
    ("created", "refunded"),  # Checked and refunded between two looks.
    ("succeeded", "succeeded"),
    ("succeeded", "refunded"),
    ("failed", "failed"),
    ("refunded", "refunded"),
}


@PROPERTY
@given(steps=STEPS)
def test_fee_state_machine_never_books_twice(
    engine: Engine, steps: list[tuple[str, int, int]]
) -> None:
    person = uuid.uuid4()
    app = uuid.uuid4()
    with tempfile.TemporaryDirectory() as folder:
        provider = payments.LocalPayProvider(Path(folder), "http://127.0.0.1")
        seen: dict[uuid.UUID, str] = {}
        fields: set[str] = set()  # The fields named by refused refunds.
        for step, pick, amount in steps:
            with Session(engine) as session:
                intents = payments.fees_of_application(session, app)
                chosen = intents[pick % len(intents)] if intents else None
                try:
                    if step == "start":
                        _start(session, provider, person, app)
                    elif chosen is not None and step in ("pay", "decline"):
                        _card(provider, chosen, GOOD_CARD if step == "pay" else DECLINED_CARD)
                    elif chosen is not None and step == "check":
                        payments.do_check_fee(session, chosen.id, actor="t", provider=provider)
                    elif chosen is not None and step == "refund":
                        payments.do_refund_fee(
                            session,
                            chosen.id,
                            amount=amount,
                            reason="r",
                            reference="R",
                            actor=OFFICIAL,
                            provider=provider,
                        )
                    session.commit()
                except (payments.FeeAlreadyPaid, payments.FeeStateConflict) as refused:
                    session.rollback()
                    del refused
                except (payments.RefundTooLarge, payments.InvalidFee) as refused:
                    session.rollback()
                    fields.add(refused.field or "")
            with Session(engine) as session:
                rows = list(
                    session.scalars(select(PaymentsFee).where(PaymentsFee.application_id == app))
                )
                # At most one paid intent per application, never refunded beyond it.
                assert sum(1 for r in rows if r.paid_application_id is not None) <= 1
                for row in rows:
                    assert 0 <= row.refunded <= row.amount
                    assert (seen.get(row.id, row.status), row.status) in ALLOWED
                    seen[row.id] = row.status
                    remote = provider.get_payment(row.provider_id)
                    if row.status in ("succeeded", "refunded"):
                        assert remote.state == "succeeded"
                        assert remote.refunded == row.refunded
                # The ledger balances, and what it holds for this application is what was paid.
                assert payments.ledger_total(session) == 0
                ids = [r.id for r in rows]
                cash = (
                    session.scalar(
                        select(func.coalesce(func.sum(PaymentsPosting.amount), 0))
                        .where(PaymentsPosting.fee_id.in_(ids))
                        .where(PaymentsPosting.ledger_account == "fee_cash")
                    )
                    if ids
                    else 0
                )
                paid = sum(r.amount - r.refunded for r in rows if r.paid_application_id)
                assert cash == paid
        assert fields <= {"amount"}


def test_two_concurrent_checks_book_the_capture_once(engine: Engine, tmp_path: Path) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writing transaction at a time; PostgreSQL shows the race")
    person = _person(engine)
    provider = payments.LocalPayProvider(tmp_path, "http://127.0.0.1")
    app = uuid.uuid4()
    with db.transaction(engine) as session:
        fee = _start(session, provider, person, app)
    _card(provider, fee, GOOD_CARD)
    with db.session_factory(engine)() as first, db.session_factory(engine)() as second:
        # Both have read the intent as created when the first books it.
        assert payments.get_fee(first, fee.id).status == "created"
        assert payments.get_fee(second, fee.id).status == "created"
        payments.do_check_fee(first, fee.id, actor="t", provider=provider)
        first.commit()
        # The second's stale read meets the unique paid application and reads the winner.
        assert payments.do_check_fee(second, fee.id, actor="t", provider=provider).status == (
            "succeeded"
        )
        second.commit()
    with db.transaction(engine) as session:
        assert _fee_postings(session) == 2
        assert _tags(session, fee.id).count("payments:fee:paid") == 1
