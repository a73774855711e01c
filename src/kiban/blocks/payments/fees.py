"""Fees (政府共通決済): payment intents for procedures' fees, the provider's answer, refunds by
an official, and the daily reconciliation of the provider's settlement report with the ledger.

The flow, GOV.UK Pay-like: :func:`do_start_fee` creates a payment with the provider (behind
:class:`~kiban.blocks.payments.adapters.fee_provider.FeeProvider`) and returns its hosted page;
the applicant pays there and comes back; the return proves nothing, so :func:`do_check_fee` asks
the provider and books what it says — a capture is posted ``fee_income → fee_cash`` under a key
of its own, and the fee row's unique ``paid_application_id`` refuses a second paid fee for one
application, so a double return or a retried check never books twice. :func:`do_refund_fee`
(an official with ``payments.fee.refund``) refunds some or all of what is left, posts
``fee_cash → fee_refunds`` and tells the applicant in the inbox. :func:`reconcile_fees` compares
one day's settlement report with the ledger's postings of that day, payment by payment.

Error codes: ``payments.fee_not_found`` (404), ``payments.fee_already_paid`` (409),
``payments.fee_state`` (409), ``payments.invalid_fee`` and ``payments.refund_too_large`` (422,
naming the field), ``payments.provider_unavailable`` (502).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiban.blocks import notifications
from kiban.blocks.payments import events as topics
from kiban.blocks.payments import ledger
from kiban.blocks.payments.adapters.fee_provider import (
    FeeProvider,
    LocalPayProvider,
    PaymentRefused,
    ProviderPayment,
    parse_settlement,
)
from kiban.blocks.payments.errors import (
    FeeAlreadyPaid,
    FeeNotFound,
    FeeStateConflict,
    InvalidFee,
    ProviderUnavailable,
    RefundTooLarge,
)
from kiban.blocks.payments.models import PaymentsFee, PaymentsFeeRefund, PaymentsPosting
from kiban.blocks.payments.schemas import (
    FeeDifference,
    FeeRead,
    FeeReconcileReport,
    FeeRefundRead,
)
from kiban.blocks.payments.settings import PaymentsSettings
from kiban.kernel import clock
from kiban.platform import audit, events
from kiban.platform.settings import get_settings

REFUNDED_NOTICE: Final = "payments.fee_refunded"
JST: Final = timedelta(hours=9)
MAX_FEE: Final = 1_000_000

notifications.register_template(
    REFUNDED_NOTICE,
    subject_ja="手数料を返金しました（{procedure}）",
    subject_en="Your fee was refunded ({procedure})",
    body_ja=(
        "申請（受付番号 {reference}）の手数料のうち {amount}円を返金しました。"
        "理由: {reason}。お支払いに使ったカードまたは口座に戻ります。"
    ),
    body_en=(
        "We refunded ¥{amount} of the fee for your application (reference {reference}). "
        "Reason: {reason}. It goes back to the card or account you paid with."
    ),
    params={"procedure": str, "amount": int, "reference": str, "reason": str},
)


@cache
def _local_provider(root: str, base_url: str) -> LocalPayProvider:
    return LocalPayProvider(Path(root), base_url)


def fee_provider() -> FeeProvider:
    """The configured provider: the local reference provider (its state under
    ``KIBAN_PAYMENTS_FEE_PROVIDER_DIR``, by default ``<data_dir>/refpay``)."""
    return local_provider()


def local_provider() -> LocalPayProvider:
    """The local reference provider (also what its hosted page drives)."""
    settings = get_settings()
    root = PaymentsSettings().fee_provider_dir or str(settings.data_dir / "refpay")
    return _local_provider(root, settings.base_url)


def _read(session: Session, row: PaymentsFee) -> FeeRead:
    refunds = session.scalars(
        select(PaymentsFeeRefund)
        .where(PaymentsFeeRefund.fee_id == row.id)
        .order_by(PaymentsFeeRefund.at)
    )
    return FeeRead.model_validate(
        {
            **{c: getattr(row, c) for c in FeeRead.model_fields if c != "refunds"},
            "refunds": [
                FeeRefundRead(
                    id=r.id, amount=r.amount, reason=r.reason, official=r.official, at=r.at
                )
                for r in refunds
            ],
        }
    )


def _row(session: Session, fee_id: uuid.UUID) -> PaymentsFee:
    row = session.get(PaymentsFee, fee_id)
    if row is None:
        raise FeeNotFound()
    return row


def get_fee(session: Session, fee_id: uuid.UUID) -> FeeRead:
    """One fee payment (``payments.fee_not_found``)."""
    return _read(session, _row(session, fee_id))


def fees_of_application(session: Session, application_id: uuid.UUID) -> list[FeeRead]:
    """Every payment intent of an application, newest first."""
    rows = session.scalars(
        select(PaymentsFee)
        .where(PaymentsFee.application_id == application_id)
        .order_by(PaymentsFee.created_at.desc())
    )
    return [_read(session, row) for row in rows]


def paid_fee(session: Session, application_id: uuid.UUID) -> FeeRead | None:
    """The application's paid fee (refunded or not), or None."""
    row = session.scalar(
        select(PaymentsFee).where(PaymentsFee.paid_application_id == application_id)
    )
    return None if row is None else _read(session, row)


def fee_paid(session: Session, application_id: uuid.UUID) -> bool:
    """Whether the application's fee is paid and not refunded in full."""
    fee = paid_fee(session, application_id)
    return fee is not None and fee.refunded < fee.amount


def list_fees(
    session: Session,
    *,
    offices: Collection[str] | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[FeeRead]:
    """Fee payments, newest first; only those of ``offices`` when given."""
    query = select(PaymentsFee).order_by(PaymentsFee.created_at.desc()).limit(limit)
    if offices is not None:
        query = query.where(PaymentsFee.office.in_(list(offices)))
    if status is not None:
        query = query.where(PaymentsFee.status == status)
    return [_read(session, row) for row in session.scalars(query)]


def do_start_fee(
    session: Session,
    *,
    application_id: uuid.UUID,
    procedure: str,
    office: str,
    person_id: uuid.UUID,
    amount: int,
    description: str,
    return_url: str,
    actor: str,
    provider: FeeProvider | None = None,
) -> FeeRead:
    """A payment intent for the application's fee, created with the provider (its hosted page
    is ``next_url``). An intent still ``created`` at the provider is returned again rather than
    a second one made; ``payments.fee_already_paid`` once the fee is paid."""
    if not 0 < amount <= MAX_FEE:
        raise InvalidFee("amount", "1円以上", f"1 to {MAX_FEE} yen")
    if paid_fee(session, application_id) is not None:
        raise FeeAlreadyPaid()
    provider = provider or fee_provider()
    for earlier in fees_of_application(session, application_id):
        if earlier.status == "created" and earlier.amount == amount:
            checked = do_check_fee(session, earlier.id, actor=actor, provider=provider)
            if checked.status == "created":
                return checked
            if checked.status in ("succeeded", "refunded"):
                raise FeeAlreadyPaid()
    try:
        payment = provider.create_payment(
            amount=amount,
            reference=str(application_id),
            description=description,
            return_url=return_url,
        )
    except (PaymentRefused, OSError) as refused:
        raise ProviderUnavailable(str(refused)) from refused
    row = PaymentsFee(
        application_id=application_id,
        procedure=procedure,
        office=office,
        person_id=person_id,
        amount=amount,
        description=description,
        status="created",
        provider_id=payment.id,
        next_url=provider.next_url(payment.id),
        refunded=0,
        actor=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_FEE_STARTED,
        actor=actor,
        subject=f"payments_fee:{row.id}",
        data={"application_id": str(application_id), "amount": amount, "procedure": procedure},
    )
    return _read(session, row)


def _provider_payment(provider: FeeProvider, provider_id: str) -> ProviderPayment:
    try:
        return provider.get_payment(provider_id)
    except (PaymentRefused, OSError) as refused:
        raise ProviderUnavailable(str(refused)) from refused


def do_check_fee(
    session: Session, fee_id: uuid.UUID, *, actor: str, provider: FeeProvider | None = None
) -> FeeRead:
    """Ask the provider for the payment's state and book it. Idempotent: a fee already final
    is returned unchanged, and a capture is posted under a unique key (``fee:<id>:capture``),
    so a double return or a retried check books it once."""
    row = _row(session, fee_id)
    if row.status != "created":
        return _read(session, row)
    payment = _provider_payment(provider or fee_provider(), row.provider_id)
    if payment.state == "created":
        return _read(session, row)
    row.method = payment.method
    row.card_last4 = payment.card_last4
    if payment.state == "failed":
        row.status = "failed"
        row.failure = payment.failure
        session.flush()
        audit.record(
            session,
            tag=topics.AUDIT_FEE_FAILED,
            actor=actor,
            subject=f"payments_fee:{row.id}",
            data={"failure": payment.failure, "amount": row.amount},
        )
        return _read(session, row)
    if payment.amount != row.amount:
        # The provider captured a different sum than we asked: nothing is booked, and the day's
        # reconciliation shows the capture as a difference for an official to follow up.
        raise ProviderUnavailable(f"captured {payment.amount} yen, asked {row.amount}")
    captured = datetime.fromisoformat(payment.captured_at or clock.now().isoformat())
    session.flush()
    try:
        with session.begin_nested():
            row.status = "succeeded"
            row.paid_at = captured
            row.paid_application_id = row.application_id
            session.flush()
    except IntegrityError:
        # A concurrent check booked this payment (or another of the application's) first.
        session.refresh(row)
        return _read(session, row)
    ledger.post(
        session,
        f"fee:{row.id}:capture",
        source="fee_income",
        target="fee_cash",
        amount=row.amount,
        fee_id=row.id,
        at=captured,
    )
    audit.record(
        session,
        tag=topics.AUDIT_FEE_PAID,
        actor=actor,
        subject=f"payments_fee:{row.id}",
        data={"amount": row.amount, "method": payment.method, "provider_id": payment.id},
    )
    events.emit(
        session,
        topics.FEE_PAID,
        {"fee_id": str(row.id), "application_id": str(row.application_id), "amount": row.amount},
        key=str(row.person_id),
    )
    return _read(session, row)


def do_refund_fee(
    session: Session,
    fee_id: uuid.UUID,
    *,
    amount: int,
    reason: str,
    reference: str,
    actor: str,
    provider: FeeProvider | None = None,
) -> FeeRead:
    """Refund ``amount`` yen of a paid fee (the caller asked the policy for
    ``payments.fee.refund``): ``payments.refund_too_large`` (field ``amount``) beyond what is
    left, ``payments.invalid_fee`` for an amount below 1 yen or no reason. The provider refunds
    under a key of the fee and what was refunded before, so a retry after a crash refunds once;
    the ledger moves ``fee_cash → fee_refunds``, and the applicant is told in the inbox
    (``reference`` is the application's reference number shown to them)."""
    row = _row(session, fee_id)
    if row.status not in ("succeeded", "refunded"):
        raise FeeStateConflict(row.status, "refunded")
    if amount < 1:
        raise InvalidFee("amount", "1円以上", "at least 1 yen")
    refundable = row.amount - row.refunded
    if amount > refundable:
        raise RefundTooLarge(refundable)
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise InvalidFee("reason", "1〜500文字", "1 to 500 characters")
    try:
        made = (provider or fee_provider()).refund(
            row.provider_id, amount=amount, key=f"{row.id}:{row.refunded}"
        )
    except (PaymentRefused, OSError) as refused:
        raise ProviderUnavailable(str(refused)) from refused
    at = datetime.fromisoformat(made.at)
    refund = PaymentsFeeRefund(
        fee_id=row.id,
        amount=made.amount,
        reason=reason,
        official=actor,
        provider_id=made.id,
        at=at,
    )
    session.add(refund)
    row.refunded += made.amount
    row.status = "refunded"
    session.flush()
    ledger.post(
        session,
        f"fee:{row.id}:refund:{made.id}",
        source="fee_cash",
        target="fee_refunds",
        amount=made.amount,
        fee_id=row.id,
        at=at,
    )
    audit.record(
        session,
        tag=topics.AUDIT_FEE_REFUNDED,
        actor=actor,
        subject=f"payments_fee:{row.id}",
        data={"amount": made.amount, "refunded": row.refunded, "reason": reason},
    )
    notifications.do_send_notice(
        session,
        row.person_id,
        REFUNDED_NOTICE,
        {
            "procedure": row.description,
            "amount": made.amount,
            "reference": reference,
            "reason": reason,
        },
        actor=actor,
        link=f"/portal/applications/{row.application_id}",
        dedupe_key=f"payments:fee_refunded:{made.id}",
    )
    events.emit(
        session,
        topics.FEE_REFUNDED,
        {"fee_id": str(row.id), "amount": made.amount, "refunded": row.refunded},
        key=str(row.person_id),
    )
    return _read(session, row)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC) - JST
    return start, start + timedelta(days=1)


def reconcile_fees(
    session: Session, day: date, *, provider: FeeProvider | None = None
) -> FeeReconcileReport:
    """The provider's settlement report of ``day`` (JST) against the ledger's fee postings of
    that day, payment by payment and kind by kind (capture, refund), to the yen; with every fee
    account's balance and the whole ledger's sum."""
    try:
        lines = parse_settlement((provider or fee_provider()).settlement_report(day))
    except PaymentRefused as refused:
        raise ProviderUnavailable(refused.problem) from refused
    except OSError as failed:
        raise ProviderUnavailable(str(failed)) from failed
    reported: dict[tuple[str, str], int] = defaultdict(int)
    references: dict[str, str] = {}
    for line in lines:
        reported[(line["type"], line["payment_id"])] += line["amount"]
        references[line["payment_id"]] = line["reference"]
    start, end = _day_bounds(day)
    booked: dict[tuple[str, str], int] = defaultdict(int)
    postings = session.execute(
        select(
            PaymentsPosting.amount,
            PaymentsPosting.entry_key,
            PaymentsFee.provider_id,
            PaymentsFee.application_id,
        )
        .join(PaymentsFee, PaymentsFee.id == PaymentsPosting.fee_id)
        .where(PaymentsPosting.ledger_account == "fee_cash")
        .where(PaymentsPosting.at >= start, PaymentsPosting.at < end)
    )
    for amount, key, provider_id, application_id in postings:
        kind = "capture" if key.endswith(":capture") else "refund"
        booked[(kind, provider_id)] += abs(int(amount))
        references.setdefault(provider_id, str(application_id))
    differences = [
        FeeDifference(
            kind="capture" if kind == "capture" else "refund",
            payment_id=payment_id,
            reference=references.get(payment_id, ""),
            provider=reported.get((kind, payment_id), 0),
            ledger=booked.get((kind, payment_id), 0),
        )
        for kind, payment_id in sorted(set(reported) | set(booked))
        if reported.get((kind, payment_id), 0) != booked.get((kind, payment_id), 0)
    ]

    def _sum(side: dict[tuple[str, str], int], kind: str) -> int:
        return sum(amount for (k, _p), amount in side.items() if k == kind)

    return FeeReconcileReport(
        day=day.isoformat(),
        report_lines=len(lines),
        provider_captured=_sum(reported, "capture"),
        provider_refunded=_sum(reported, "refund"),
        ledger_captured=_sum(booked, "capture"),
        ledger_refunded=_sum(booked, "refund"),
        differences=differences,
        balances=ledger.balances(session, accounts=ledger.FEE_ACCOUNTS),
        ledger_total=ledger.total(session),
        reconciled=not differences and ledger.total(session) == 0,
    )
