r"""Payment batches of the payments block: built by one official from payable obligations,
approved by two others (maker-checker; the second approval freezes lines and total), written
as a Zengin 総合振込 file, settled by the bank's result file, and reconciled against the
double-entry ledger. The person's view of their payments is here too.

The national run hands over millions of obligations, so building and freezing a batch write
their rows in bulk (lines by ``COPY`` on PostgreSQL, obligations marked and lines given their
accounts by set-based ``UPDATE``\s), never one ORM object at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from kiban.blocks import notifications
from kiban.blocks.payments import events as topics
from kiban.blocks.payments import ledger, zengin
from kiban.blocks.payments.errors import (
    AccountNotFound,
    BatchNotFound,
    BatchStateConflict,
    InvalidTransferFile,
    NothingToPay,
    SameOfficial,
)
from kiban.blocks.payments.kana import to_zengin
from kiban.blocks.payments.models import (
    PaymentsAccount,
    PaymentsApproval,
    PaymentsBank,
    PaymentsBatch,
    PaymentsBranch,
    PaymentsLine,
    PaymentsObligation,
)
from kiban.blocks.payments.schemas import (
    FAILURES,
    BatchDetail,
    BatchRead,
    LineRead,
    PaymentRead,
    ReconcileReport,
)
from kiban.blocks.payments.service import (
    _REASONS,
    APPROVALS_NEEDED,
    RETURNED_NOTICE,
    _who,
)
from kiban.blocks.payments.settings import PaymentsSettings
from kiban.kernel import clock
from kiban.platform import audit, bulk, events

BULK_CHUNK: Final = 5_000
"""Ids per ``IN`` list when a batch reads accounts: well under SQLite's 32,766 variables."""

# --- batches --------------------------------------------------------------------------------


def _batch_row(session: Session, batch: int | uuid.UUID) -> PaymentsBatch:
    if isinstance(batch, uuid.UUID):
        row = session.get(PaymentsBatch, batch)
    else:
        row = session.scalars(select(PaymentsBatch).where(PaymentsBatch.number == batch)).first()
    if row is None:
        raise BatchNotFound
    return row


def _approvers(session: Session, batch_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(
            select(PaymentsApproval.official)
            .where(PaymentsApproval.batch_id == batch_id)
            .order_by(PaymentsApproval.at)
        )
    )


def _batch_read(session: Session, row: PaymentsBatch) -> BatchRead:
    return BatchRead(
        id=row.id,
        number=row.number,
        programme=row.programme,
        payer=row.payer,
        status=cast("BatchRead", row).status,
        line_count=row.line_count,
        total=row.total,
        maker=row.maker,
        approvers=_approvers(session, row.id),
        created_at=row.created_at,
        approved_at=row.approved_at,
        exported_at=row.exported_at,
        settled_at=row.settled_at,
    )


def _lines(session: Session, batch_id: uuid.UUID) -> list[PaymentsLine]:
    return list(
        session.scalars(
            select(PaymentsLine)
            .where(PaymentsLine.batch_id == batch_id)
            .order_by(PaymentsLine.number)
        )
    )


def do_build_batch(session: Session, *, programme: str, payer: str, actor: str) -> BatchRead:
    """A draft batch of every payable obligation of ``programme`` paid by ``payer`` whose payee
    has an active (verified) account; ``actor`` is its maker, who may not approve it. The
    others stay payable for a later batch. 409 ``payments.nothing_to_pay`` when there is none.
    Lines are inserted in bulk and obligations marked by one set-based ``UPDATE``."""
    candidates = list(
        session.execute(
            select(PaymentsObligation.id, PaymentsObligation.person_id, PaymentsObligation.amount)
            .where(PaymentsObligation.programme == programme)
            .where(PaymentsObligation.payer == payer)
            .where(PaymentsObligation.status == "payable")
            .order_by(PaymentsObligation.created_at, PaymentsObligation.id)
        )
    )
    active = _active_ids(session, [person_id for _, person_id, _ in candidates])
    chosen = [(o, active[o.person_id]) for o in candidates if o.person_id in active]
    if not chosen:
        raise NothingToPay(programme)
    number = 1 + int(session.scalar(select(func.max(PaymentsBatch.number))) or 0)
    batch = PaymentsBatch(
        id=uuid.uuid4(),
        number=number,
        programme=programme,
        payer=payer,
        status="draft",
        line_count=len(chosen),
        total=sum(o.amount for o, _ in chosen),
        maker=actor,
        created_at=clock.now(),
    )
    session.add(batch)
    session.flush()
    bulk.insert_rows(
        session,
        PaymentsLine,
        [
            {
                "id": uuid.uuid4(),
                "batch_id": batch.id,
                "number": index,
                "obligation_id": obligation.id,
                "open_obligation_id": obligation.id,
                "person_id": obligation.person_id,
                "amount": obligation.amount,
                "account_id": account_id,
                "result": "pending",
            }
            for index, (obligation, account_id) in enumerate(chosen, start=1)
        ],
    )
    # One set-based UPDATE marks the batch's obligations (those its lines name).
    session.execute(
        update(PaymentsObligation)
        .where(
            PaymentsObligation.id.in_(
                select(PaymentsLine.obligation_id).where(PaymentsLine.batch_id == batch.id)
            )
        )
        .values(status="batched")
        .execution_options(synchronize_session=False)
    )
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, PaymentsObligation):
            session.expire(loaded)  # The set-based update bypassed them.
    audit.record(
        session,
        tag=topics.AUDIT_BATCH_BUILT,
        actor=actor,
        subject=f"payments_batch:{batch.number}",
        data={
            "programme": programme,
            "payer": payer,
            "lines": batch.line_count,
            "total": batch.total,
        },
    )
    return _batch_read(session, batch)


def _active_ids(session: Session, people: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Each person's active account version's id (those who have one), a chunk per query."""
    found: dict[uuid.UUID, uuid.UUID] = {}
    for first in range(0, len(people), BULK_CHUNK):
        chunk = people[first : first + BULK_CHUNK]
        found.update(
            (person_id, account_id)
            for person_id, account_id in session.execute(
                select(PaymentsAccount.person_id, PaymentsAccount.id)
                .where(bulk.among(session, PaymentsAccount.person_id, chunk))
                .where(PaymentsAccount.status == "active")
            )
        )
    return found


def do_approve_batch(
    session: Session, batch: int | uuid.UUID, *, actor: str, at: datetime | None = None
) -> BatchRead:
    """One official's approval (maker-checker). The caller has asked ``staff.authorize`` for
    ``payments.batch.approve`` (with step-up); here: the maker cannot approve, nor can one
    official approve twice (403 ``payments.same_official``). The second approval freezes the
    batch: each line takes the payee's account version valid now, the total is fixed, and the
    ledger moves every line to in_transit. 409 ``payments.batch_state`` once approved."""
    row = _batch_row(session, batch)
    if row.status != "draft":
        raise BatchStateConflict(row.status, "approved")
    if _who(actor) == _who(row.maker) or _who(actor) in {
        _who(a) for a in _approvers(session, row.id)
    }:
        raise SameOfficial
    now = at or clock.now()
    session.add(PaymentsApproval(batch_id=row.id, official=actor, at=now))
    session.flush()
    if len(_approvers(session, row.id)) >= APPROVALS_NEEDED:
        _freeze(session, row, now)
    audit.record(
        session,
        tag=topics.AUDIT_BATCH_APPROVED,
        actor=actor,
        subject=f"payments_batch:{row.number}",
        data={"status": row.status, "total": row.total},
    )
    return _batch_read(session, row)


def _freeze(session: Session, row: PaymentsBatch, now: datetime) -> None:
    """Each line takes its payee's account version valid now (a copy of its fields), in one
    set-based ``UPDATE … FROM``; the ledger moves the lines in one bulk insert per source."""
    copied = session.execute(
        update(PaymentsLine)
        .where(PaymentsLine.batch_id == row.id)
        .where(PaymentsAccount.person_id == PaymentsLine.person_id)
        .where(PaymentsAccount.status == "active")
        .values(
            account_id=PaymentsAccount.id,
            bank_code=PaymentsAccount.bank_code,
            branch_code=PaymentsAccount.branch_code,
            account_type=PaymentsAccount.account_type,
            account_number=PaymentsAccount.account_number,
            holder_kana=PaymentsAccount.holder_kana,
        )
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", copied).rowcount != row.line_count:  # pragma: no cover
        raise AccountNotFound  # An active account is only ever replaced, never removed.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, PaymentsLine):
            session.expire(loaded)  # The set-based update bypassed them.
    moves: dict[str, list[tuple[str, uuid.UUID, int]]] = {"payable": [], "returned": []}
    for line_id, obligation_id, amount, returns in session.execute(
        select(
            PaymentsLine.id,
            PaymentsLine.obligation_id,
            PaymentsLine.amount,
            PaymentsObligation.returns,
        )
        .join(PaymentsObligation, PaymentsObligation.id == PaymentsLine.obligation_id)
        .where(PaymentsLine.batch_id == row.id)
        .order_by(PaymentsLine.number)
    ):
        # A line the bank returned before waits in ``returned``; the others in ``payable``.
        source = "returned" if returns > 0 else "payable"
        moves[source].append((f"line:{line_id}:sent", obligation_id, amount))
    for source, its_moves in moves.items():
        ledger.post_many(session, its_moves, source=source, target="in_transit", batch_id=row.id)
    row.status = "approved"
    row.approved_at = now
    row.transfer_date = now.astimezone(clock.JST).strftime("%m%d")
    session.flush()
    events.emit(
        session,
        topics.BATCH_APPROVED,
        {"batch": row.number, "programme": row.programme, "total": row.total},
        key=str(row.id),
    )


def get_batch(session: Session, batch: int | uuid.UUID) -> BatchDetail:
    row = _batch_row(session, batch)
    return BatchDetail(
        **_batch_read(session, row).model_dump(),
        lines=[
            LineRead(
                number=line.number,
                obligation_id=line.obligation_id,
                person_id=line.person_id,
                amount=line.amount,
                account_id=line.account_id,
                bank_code=line.bank_code,
                branch_code=line.branch_code,
                result=cast("LineRead", line).result,
            )
            for line in _lines(session, row.id)
        ],
    )


def list_batches(
    session: Session, *, programme: str | None = None, limit: int = 100, offset: int = 0
) -> list[BatchRead]:
    query = select(PaymentsBatch).order_by(PaymentsBatch.number.desc())
    if programme is not None:
        query = query.where(PaymentsBatch.programme == programme)
    return [_batch_read(session, r) for r in session.scalars(query.limit(limit).offset(offset))]


# --- the Zengin file ------------------------------------------------------------------------


def transfer_file(session: Session, batch: int | uuid.UUID, *, crlf: bool = False) -> bytes:
    """The batch's 総合振込 file. It depends only on the frozen batch, so writing it again
    (after a crash mid-export) gives the same bytes."""
    row = _batch_row(session, batch)
    if row.status == "draft":
        raise BatchStateConflict(row.status, "exported")
    settings = PaymentsSettings()
    payer_bank = session.get(PaymentsBank, settings.payer_bank_code)
    payer_branch = session.get(
        PaymentsBranch, (settings.payer_bank_code, settings.payer_branch_code)
    )
    header = zengin.Header(
        requester_code=row.payer.zfill(10)[-10:] if row.payer.isdigit() else "0" * 10,
        requester_name=to_zengin(settings.payer_name_kana, field="payer_name_kana"),
        transfer_date=row.transfer_date or "0000",
        bank_code=settings.payer_bank_code,
        bank_name=payer_bank.kana if payer_bank else "",
        branch_code=settings.payer_branch_code,
        branch_name=payer_branch.kana if payer_branch else "",
        account_type="ordinary",
        account_number=settings.payer_account_number,
    )
    # The names of every bank and branch in one read each (a national batch has millions of
    # lines and a few thousand branches), the lines as plain rows.
    banks: dict[str, str] = {}
    for code, kana in session.execute(select(PaymentsBank.code, PaymentsBank.kana)):
        banks[code] = kana
    branches = {
        (b, c): kana
        for b, c, kana in session.execute(
            select(PaymentsBranch.bank_code, PaymentsBranch.code, PaymentsBranch.kana)
        )
    }
    transfers = []
    for line in session.execute(
        select(
            PaymentsLine.number,
            PaymentsLine.bank_code,
            PaymentsLine.branch_code,
            PaymentsLine.account_type,
            PaymentsLine.account_number,
            PaymentsLine.holder_kana,
            PaymentsLine.amount,
        )
        .where(PaymentsLine.batch_id == row.id)
        .order_by(PaymentsLine.number)
    ):
        if not (line.bank_code and line.branch_code and line.account_number):
            raise BatchStateConflict(row.status, "exported")  # pragma: no cover - frozen.
        transfers.append(
            zengin.Transfer(
                bank_code=line.bank_code,
                bank_name=banks.get(line.bank_code, ""),
                branch_code=line.branch_code,
                branch_name=branches.get((line.bank_code, line.branch_code), ""),
                account_type=line.account_type or "ordinary",
                account_number=line.account_number,
                holder=line.holder_kana or "",
                amount=line.amount,
                line=line.number,
                batch=row.number,
            )
        )
    return zengin.write(header, transfers, crlf=crlf)


def do_mark_exported(session: Session, batch: int | uuid.UUID, *, actor: str) -> BatchRead:
    """Record that the file was handed over (after it was written); a second call changes
    nothing."""
    row = _batch_row(session, batch)
    if row.status == "draft":
        raise BatchStateConflict(row.status, "exported")
    if row.status == "approved":
        row.status = "exported"
        row.exported_at = clock.now()
        session.flush()
        audit.record(
            session,
            tag=topics.AUDIT_BATCH_EXPORTED,
            actor=actor,
            subject=f"payments_batch:{row.number}",
            data={"lines": row.line_count, "total": row.total},
        )
    return _batch_read(session, row)


# --- the bank's result ----------------------------------------------------------------------


def do_import_result(
    session: Session, batch: int | uuid.UUID, data: bytes, *, actor: str
) -> BatchRead:
    """Apply the bank's result file to the batch. A paid line posts in_transit → paid and
    closes its obligation (paid once: unique); a failed line posts in_transit → returned, puts
    the obligation back to payable for a later batch and tells the person in the inbox.
    Importing the same file again changes nothing; a result that contradicts an earlier one is
    refused. 422 ``payments.invalid_file`` (naming the record) when a line does not match the
    batch."""
    row = _batch_row(session, batch)
    if row.status not in {"approved", "exported", "settled"}:
        raise BatchStateConflict(row.status, "settled")
    parsed = zengin.parse(data)
    lines = {line.number: line for line in _lines(session, row.id)}
    for index, transfer in enumerate(parsed.transfers, start=2):
        line = lines.get(transfer.line)
        if transfer.batch != row.number or line is None:
            raise InvalidTransferFile(index, "names a line that is not in this batch")
        if (transfer.amount, transfer.account_number) != (line.amount, line.account_number):
            raise InvalidTransferFile(index, "amount or account differs from the batch")
        if transfer.result in ("pending", line.result):
            continue
        if line.result != "pending":
            raise InvalidTransferFile(index, f"already {line.result}, now {transfer.result}")
        _settle_line(session, row, line, transfer.result, actor)
    if row.settled_at is None and all(line.result != "pending" for line in lines.values()):
        row.status = "settled"
        row.settled_at = clock.now()
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_RESULT_IMPORTED,
        actor=actor,
        subject=f"payments_batch:{row.number}",
        data={"status": row.status},
    )
    return _batch_read(session, row)


def _settle_line(
    session: Session, batch: PaymentsBatch, line: PaymentsLine, result: str, actor: str
) -> None:
    obligation = session.get(PaymentsObligation, line.obligation_id)
    assert obligation is not None  # noqa: S101 - the line was made from it.
    line.result = result
    line.open_obligation_id = None
    if result == "paid":
        line.paid_obligation_id = obligation.id
        obligation.status = "paid"
        ledger.post(
            session,
            f"line:{line.id}:result",
            source="in_transit",
            target="paid",
            amount=line.amount,
            obligation_id=obligation.id,
            batch_id=batch.id,
        )
        events.emit(
            session,
            topics.LINE_PAID,
            {"obligation_id": str(obligation.id), "batch": batch.number, "amount": line.amount},
            key=str(line.person_id),
        )
        session.flush()
        return
    obligation.status = "payable"
    obligation.returns += 1
    ledger.post(
        session,
        f"line:{line.id}:result",
        source="in_transit",
        target="returned",
        amount=line.amount,
        obligation_id=obligation.id,
        batch_id=batch.id,
    )
    reason_ja, reason_en = _REASONS[result]
    notifications.do_send_notice(
        session,
        line.person_id,
        RETURNED_NOTICE,
        {
            "programme": obligation.programme,
            "amount": line.amount,
            "reason_ja": reason_ja,
            "reason_en": reason_en,
        },
        actor=actor,
        link="/portal/payments/account",
        dedupe_key=f"payments:returned:{line.id}",
    )
    events.emit(
        session,
        topics.LINE_RETURNED,
        {"obligation_id": str(obligation.id), "batch": batch.number, "result": result},
        key=str(line.person_id),
    )
    session.flush()


# --- reconciliation and the person's view ---------------------------------------------------


def reconcile(session: Session, batch: int | uuid.UUID) -> ReconcileReport:
    """The bank's results for the batch against its ledger postings, to the yen, and the
    whole ledger's balances."""
    row = _batch_row(session, batch)
    lines = _lines(session, row.id)
    bank_paid = sum(line.amount for line in lines if line.result == "paid")
    bank_returned = sum(line.amount for line in lines if line.result in FAILURES)
    bank_pending = sum(line.amount for line in lines if line.result == "pending")
    moved = ledger.inflows(session, row.id)
    own = {
        "paid": moved["paid"],
        "returned": moved["returned"],
        "in_transit": ledger.balances(session, batch_id=row.id)["in_transit"],
    }
    differences: list[str] = []
    if row.status != "draft":
        if own["paid"] != bank_paid:
            differences.append(f"paid: bank {bank_paid} yen, ledger {own['paid']} yen")
        if own["returned"] != bank_returned:
            differences.append(f"returned: bank {bank_returned} yen, ledger {own['returned']} yen")
        if own["in_transit"] != bank_pending:
            differences.append(
                f"awaiting the bank: {bank_pending} yen, ledger in transit {own['in_transit']} yen"
            )
        if bank_paid + bank_returned + bank_pending != row.total:
            differences.append(
                f"lines sum to {bank_paid + bank_returned + bank_pending}, batch total {row.total}"
            )
    for entry in ledger.unbalanced_entries(session):
        differences.append(f"ledger entry {entry} does not balance")
    return ReconcileReport(
        batch_number=row.number,
        lines=len(lines),
        bank_paid=bank_paid,
        bank_returned=bank_returned,
        bank_pending=bank_pending,
        ledger_paid=own["paid"],
        ledger_returned=own["returned"],
        ledger_in_transit=own["in_transit"],
        differences=differences,
        balances=ledger.balances(session),
        ledger_sum=ledger.total(session),
    )


def list_payments(session: Session, person_id: uuid.UUID) -> list[PaymentRead]:
    """The person's payments: expected (owed, not yet paid), paid, or returned (the bank
    returned the last transfer and it is owed again)."""
    out: list[PaymentRead] = []
    for row in session.scalars(
        select(PaymentsObligation)
        .where(PaymentsObligation.person_id == person_id)
        .order_by(PaymentsObligation.created_at.desc())
    ):
        last = session.scalars(
            select(PaymentsBatch.number)
            .join(PaymentsLine, PaymentsLine.batch_id == PaymentsBatch.id)
            .where(PaymentsLine.obligation_id == row.id)
            .order_by(PaymentsBatch.number.desc())
        ).first()
        if row.status == "paid":
            state = "paid"
        elif row.status == "held":
            state = "held"
        elif row.status == "payable" and row.returns:
            state = "returned"
        else:
            state = "expected"
        out.append(
            PaymentRead(
                obligation_id=row.id,
                programme=row.programme,
                period=row.period,
                amount=row.amount,
                reason=row.reason,
                state=state,
                batch_number=last,
            )
        )
    return out
