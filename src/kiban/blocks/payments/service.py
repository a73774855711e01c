"""Receiving accounts, obligations, batches (maker-checker), the Zengin file, the bank's
results and reconciliation.

Every ``do_*`` works in the caller's transaction and never commits. The guarantees that matter
(an obligation per programme × person × period, an obligation on at most one open line, paid at
most once, a ledger entry posted once) are unique constraints, so they hold whatever is retried
or crashes; the code above them only makes the common case quiet.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Final, cast

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiban.blocks import mesh, notifications
from kiban.blocks.payments import events as topics
from kiban.blocks.payments import ledger, zengin
from kiban.blocks.payments.errors import (
    AccountNotFound,
    BankUnavailable,
    BatchNotFound,
    BatchStateConflict,
    InvalidAccount,
    InvalidTransferFile,
    NothingToPay,
    SameOfficial,
    UnknownBank,
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
    AccountCreate,
    AccountRead,
    BankRead,
    BatchDetail,
    BatchRead,
    BranchRead,
    LineRead,
    ObligationCreate,
    ObligationRead,
    PaymentRead,
    ReconcileReport,
)
from kiban.blocks.payments.settings import PaymentsSettings
from kiban.kernel import clock
from kiban.platform import audit, events

APPROVALS_NEEDED: Final = 2
CHUNK: Final = 500
"""Rows per ``IN (...)`` list, below every backend's limit on bound parameters."""
MEMBER: Final = "JP/GOV/kiban-payments"
MEMBER_NAME: Final = "公金受取口座・給付の支払"
SUBSYSTEM: Final = f"{MEMBER}/payments"
"""The mesh subsystem through which the payments block asks the bank to verify accounts."""
VERIFY_TASK: Final = "公金受取口座の確認"
VERIFY_BASIS: Final = "公金受取口座登録法第5条"
"""Act on the registration of deposit accounts for the prompt and certain payment of public
benefits (公的給付の支給等の迅速かつ確実な実施のための預貯金口座の登録等に関する法律)."""
VERIFY_ITEMS: Final = ["result"]
RETURNED_NOTICE: Final = "payments.transfer_returned"

notifications.register_template(
    RETURNED_NOTICE,
    subject_ja="給付金を振り込めませんでした（{programme}）",
    subject_en="We could not transfer your payment ({programme})",
    body_ja=(
        "{amount}円の振込が金融機関から返却されました（理由: {reason_ja}）。"
        "マイナポータルで公金受取口座を確認・訂正してください。訂正後の次回の支払で、"
        "一度だけお支払いします。"
    ),
    body_en=(
        "The bank returned the transfer of ¥{amount} (reason: {reason_en}). Please check or "
        "correct your receiving account in the portal; we will pay it, once, in the next batch "
        "after the correction."
    ),
    params={"programme": str, "amount": int, "reason_ja": str, "reason_en": str},
)

_REASONS: Final = {
    "no_such_account": ("口座がありません", "no such account"),
    "name_mismatch": ("口座名義が一致しません", "the account holder name does not match"),
    "closed": ("口座が解約されています", "the account is closed"),
}


def _who(actor: str) -> str:
    # ``staff:<account id>@<organisation>``: the account is the official, wherever they act from.
    return actor.split("@", 1)[0]


# --- banks ----------------------------------------------------------------------------------


def get_bank(session: Session, code: str) -> BankRead | None:
    bank = session.get(PaymentsBank, code)
    return None if bank is None else BankRead(code=bank.code, name=bank.name, kana=bank.kana)


def get_branch(session: Session, bank_code: str, code: str) -> BranchRead | None:
    branch = session.get(PaymentsBranch, (bank_code, code))
    if branch is None:
        return None
    return BranchRead(bank_code=bank_code, code=code, name=branch.name, kana=branch.kana)


def list_banks(session: Session) -> list[BankRead]:
    rows = session.scalars(select(PaymentsBank).order_by(PaymentsBank.code))
    return [BankRead(code=b.code, name=b.name, kana=b.kana) for b in rows]


def list_branches(session: Session, bank_code: str) -> list[BranchRead]:
    rows = session.scalars(
        select(PaymentsBranch)
        .where(PaymentsBranch.bank_code == bank_code)
        .order_by(PaymentsBranch.code)
    )
    return [BranchRead(bank_code=b.bank_code, code=b.code, name=b.name, kana=b.kana) for b in rows]


# --- the mesh member ------------------------------------------------------------------------


def register_payments_member(session: Session, *, actor: str) -> str:
    """Make the payments subsystem a mesh member, with its grant to the bank's verification
    service once that service is registered (idempotent)."""
    if not any(m.xroad_id == MEMBER for m in mesh.list_members(session)):
        mesh.register_member(
            session,
            member_class="GOV",
            member_code=MEMBER.rsplit("/", 1)[1],
            name=MEMBER_NAME,
            actor=actor,
        )
    if not any(s.xroad_id == SUBSYSTEM for s in mesh.list_subsystems(session, MEMBER)):
        mesh.register_subsystem(session, MEMBER, SUBSYSTEM.rsplit("/", 1)[1], actor=actor)
    service = PaymentsSettings().bank_service
    registered = any(s.xroad_id == service for s in mesh.list_services(session))
    granted = any(g.client == SUBSYSTEM and g.service == service for g in mesh.list_grants(session))
    if registered and not granted:
        mesh.grant(
            session,
            client=SUBSYSTEM,
            service=service,
            task=VERIFY_TASK,
            legal_basis=VERIFY_BASIS,
            items=VERIFY_ITEMS,
            actor=actor,
        )
    return SUBSYSTEM


# --- receiving accounts ---------------------------------------------------------------------


def _account_read(session: Session, row: PaymentsAccount) -> AccountRead:
    bank = session.get(PaymentsBank, row.bank_code)
    branch = session.get(PaymentsBranch, (row.bank_code, row.branch_code))
    return AccountRead(
        id=row.id,
        person_id=row.person_id,
        version=row.version,
        bank_code=row.bank_code,
        bank_name=bank.name if bank else "",
        branch_code=row.branch_code,
        branch_name=branch.name if branch else "",
        account_type=cast("AccountRead", row).account_type,
        account_number=row.account_number,
        holder_kana=row.holder_kana,
        status=cast("AccountRead", row).status,
        verification=cast("AccountRead", row).verification,
        created_at=row.created_at,
    )


def _verify(session: Session, person_id: uuid.UUID, account: PaymentsAccount, actor: str) -> str:
    """Ask the bank, through the mesh, whether the account exists under this holder name. The
    exchange is recorded like every mesh read, so it shows in the person's "who used my
    data"."""
    register_payments_member(session, actor=actor)
    code = mesh.agency_code(session, SUBSYSTEM, person_id)
    reply = mesh.call(
        session,
        client=SUBSYSTEM,
        service=PaymentsSettings().bank_service,
        agency_code=code,
        items=VERIFY_ITEMS,
        user_id=actor,
        body={
            "bank_code": account.bank_code,
            "branch_code": account.branch_code,
            "account_type": account.account_type,
            "account_number": account.account_number,
            "holder_kana": account.holder_kana,
        },
    )
    if not reply.ok or not isinstance(reply.body, dict):
        raise BankUnavailable(reply.error or str(reply.status))
    result = str(reply.body.get("result", ""))
    if result not in {"exists", *FAILURES}:
        raise BankUnavailable(f"unknown answer {result!r}")
    return result


def do_register_account(
    session: Session, person_id: uuid.UUID, account: AccountCreate, *, actor: str
) -> AccountRead:
    """Register (or change) the person's receiving account: a new version, verified with the
    bank through the mesh. When the bank answers ``exists`` the version becomes active and the
    previous one is superseded; otherwise it is kept as ``refused`` (with the bank's answer)
    and the previous active version stays in force. 422 ``payments.unknown_bank``,
    ``payments.invalid_kana`` (naming the refused character), ``payments.invalid_account``;
    503 ``payments.bank_unavailable``."""
    if session.get(PaymentsBank, account.bank_code) is None:
        raise UnknownBank("bank_code", account.bank_code)
    if session.get(PaymentsBranch, (account.bank_code, account.branch_code)) is None:
        raise UnknownBank("branch_code", account.branch_code)
    holder = to_zengin(account.holder_kana)
    if len(holder) > 30:
        raise InvalidAccount("holder_kana", "30文字を超えています", "longer than 30 characters")
    version = 1 + int(
        session.scalar(
            select(func.max(PaymentsAccount.version)).where(PaymentsAccount.person_id == person_id)
        )
        or 0
    )
    row = PaymentsAccount(
        id=uuid.uuid4(),
        person_id=person_id,
        version=version,
        bank_code=account.bank_code,
        branch_code=account.branch_code,
        account_type=account.account_type,
        account_number=account.account_number.zfill(7),
        holder_kana=holder,
        status="pending",
        verification=None,
        created_at=clock.now(),
        actor=actor,
    )
    session.add(row)
    session.flush()
    row.verification = _verify(session, person_id, row, actor)
    if row.verification == "exists":
        previous = _active_row(session, person_id)
        if previous is not None:
            previous.status = "superseded"
            previous.valid_to = row.created_at
        row.status = "active"
    else:
        row.status = "refused"
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_ACCOUNT_REGISTERED,
        actor=actor,
        subject=f"payments_account:{row.id}",
        data={"person_id": str(person_id), "version": version, "result": row.verification},
    )
    events.emit(
        session,
        topics.ACCOUNT_CHANGED,
        {"person_id": str(person_id), "version": version, "status": row.status},
        key=str(person_id),
    )
    return _account_read(session, row)


def _active_row(session: Session, person_id: uuid.UUID) -> PaymentsAccount | None:
    return session.scalars(
        select(PaymentsAccount)
        .where(PaymentsAccount.person_id == person_id)
        .where(PaymentsAccount.status == "active")
        .order_by(PaymentsAccount.version.desc())
        .limit(1)
    ).first()


def _active_rows(
    session: Session, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PaymentsAccount]:
    found: dict[uuid.UUID, PaymentsAccount] = {}
    unique = list(dict.fromkeys(person_ids))
    for start in range(0, len(unique), CHUNK):
        for row in session.scalars(
            select(PaymentsAccount)
            .where(PaymentsAccount.person_id.in_(unique[start : start + CHUNK]))
            .where(PaymentsAccount.status == "active")
        ):
            known = found.get(row.person_id)
            if known is None or known.version < row.version:
                found[row.person_id] = row
    return found


def get_active_accounts(
    session: Session, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, AccountRead]:
    """The active account of each of ``person_ids`` that has one (in bulk: for a national run,
    to tell each recipient where the payment goes, or to ask them to register)."""
    return {
        person_id: _account_read(session, row)
        for person_id, row in _active_rows(session, person_ids).items()
    }


def get_active_account(session: Session, person_id: uuid.UUID) -> AccountRead | None:
    """The person's active (bank-verified) receiving account, or None."""
    row = _active_row(session, person_id)
    return None if row is None else _account_read(session, row)


def list_accounts(session: Session, person_id: uuid.UUID) -> list[AccountRead]:
    """Every version of the person's receiving account, newest first."""
    rows = session.scalars(
        select(PaymentsAccount)
        .where(PaymentsAccount.person_id == person_id)
        .order_by(PaymentsAccount.version.desc())
    )
    return [_account_read(session, row) for row in rows]


# --- obligations ----------------------------------------------------------------------------


def _obligation_read(row: PaymentsObligation) -> ObligationRead:
    return ObligationRead(
        id=row.id,
        programme=row.programme,
        period=row.period,
        person_id=row.person_id,
        amount=row.amount,
        payer=row.payer,
        reason=row.reason,
        status=cast("ObligationRead", row).status,
        returns=row.returns,
        created_at=row.created_at,
        hold_reason=row.hold_reason,
    )


def _find_obligation(session: Session, item: ObligationCreate) -> PaymentsObligation | None:
    return session.scalars(
        select(PaymentsObligation)
        .where(PaymentsObligation.programme == item.programme)
        .where(PaymentsObligation.person_id == item.person_id)
        .where(PaymentsObligation.period == item.period)
    ).one_or_none()


def _existing_keys(
    session: Session, wanted: Sequence[tuple[str, uuid.UUID, str]]
) -> set[tuple[str, uuid.UUID, str]]:
    by_group: dict[tuple[str, str], list[uuid.UUID]] = {}
    for programme, person_id, period in wanted:
        by_group.setdefault((programme, period), []).append(person_id)
    found: set[tuple[str, uuid.UUID, str]] = set()
    for (programme, period), people in by_group.items():
        for start in range(0, len(people), CHUNK):
            for person_id in session.scalars(
                select(PaymentsObligation.person_id)
                .where(PaymentsObligation.programme == programme)
                .where(PaymentsObligation.period == period)
                .where(PaymentsObligation.person_id.in_(people[start : start + CHUNK]))
            ):
                found.add((programme, person_id, period))
    return found


def do_add_obligations(
    session: Session, obligations: Sequence[ObligationCreate], *, actor: str
) -> int:
    """Record what is owed; idempotent: an obligation for a programme × person × period that
    exists already (or comes twice in the call) is left alone, whatever its amount. Returns how
    many were new. Each new one is posted appropriation → payable. The rows are written in bulk
    (a national run hands over millions); should a concurrent writer add one of them first, the
    unique constraint refuses the bulk write and the call adds them one by one instead."""
    unique: dict[tuple[str, uuid.UUID, str], ObligationCreate] = {}
    for item in obligations:
        unique.setdefault((item.programme, item.person_id, item.period), item)
    existing = _existing_keys(session, list(unique))
    fresh = [item for key, item in unique.items() if key not in existing]
    if not fresh:
        return 0
    now = clock.now()
    ids = [uuid.uuid4() for _ in fresh]
    rows = [
        {
            "id": ids[n],
            "programme": item.programme,
            "period": item.period,
            "person_id": item.person_id,
            "amount": item.amount,
            "payer": item.payer,
            "reason": item.reason,
            "status": "payable",
            "returns": 0,
            "created_at": now,
            "actor": actor,
        }
        for n, item in enumerate(fresh)
    ]
    try:
        with session.begin_nested():
            session.execute(insert(PaymentsObligation), rows)
            ledger.post_many(
                session,
                [
                    (f"obligation:{id_}", id_, item.amount)
                    for id_, item in zip(ids, fresh, strict=True)
                ],
                source="appropriation",
                target="payable",
            )
    except IntegrityError:
        return sum(_add_one(session, item, actor) for item in fresh)
    events.emit_many(
        session,
        [
            (
                topics.OBLIGATION_ADDED,
                {"obligation_id": str(r["id"]), "programme": r["programme"], "period": r["period"]},
                str(r["person_id"]),
            )
            for r in rows
        ],
    )
    _audit_added(session, len(rows), len(obligations), actor)
    return len(rows)


def _audit_added(session: Session, added: int, offered: int, actor: str) -> None:
    audit.record(
        session,
        tag=topics.AUDIT_OBLIGATIONS_ADDED,
        actor=actor,
        subject="payments:obligations",
        data={"added": added, "offered": offered},
    )


def _add_one(session: Session, item: ObligationCreate, actor: str) -> int:
    if _find_obligation(session, item) is not None:
        return 0
    row = PaymentsObligation(
        id=uuid.uuid4(),
        programme=item.programme,
        period=item.period,
        person_id=item.person_id,
        amount=item.amount,
        payer=item.payer,
        reason=item.reason,
        status="payable",
        returns=0,
        created_at=clock.now(),
        actor=actor,
    )
    try:
        # A racing writer of the same obligation: the unique constraint lets one win.
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return 0
    ledger.post(
        session,
        f"obligation:{row.id}",
        source="appropriation",
        target="payable",
        amount=row.amount,
        obligation_id=row.id,
    )
    events.emit(
        session,
        topics.OBLIGATION_ADDED,
        {"obligation_id": str(row.id), "programme": row.programme, "period": row.period},
        key=str(row.person_id),
    )
    _audit_added(session, 1, 1, actor)
    return 1


def list_obligations(
    session: Session, *, person_id: uuid.UUID | None = None, programme: str | None = None
) -> list[ObligationRead]:
    query = select(PaymentsObligation).order_by(PaymentsObligation.created_at)
    if person_id is not None:
        query = query.where(PaymentsObligation.person_id == person_id)
    if programme is not None:
        query = query.where(PaymentsObligation.programme == programme)
    return [_obligation_read(row) for row in session.scalars(query)]


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
    others stay payable for a later batch. 409 ``payments.nothing_to_pay`` when there is none."""
    candidates = list(
        session.scalars(
            select(PaymentsObligation)
            .where(PaymentsObligation.programme == programme)
            .where(PaymentsObligation.payer == payer)
            .where(PaymentsObligation.status == "payable")
            .order_by(PaymentsObligation.created_at, PaymentsObligation.id)
        )
    )
    active = _active_rows(session, [o.person_id for o in candidates])
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
    for index, (obligation, account) in enumerate(chosen, start=1):
        obligation.status = "batched"
        session.add(
            PaymentsLine(
                batch_id=batch.id,
                number=index,
                obligation_id=obligation.id,
                open_obligation_id=obligation.id,
                person_id=obligation.person_id,
                amount=obligation.amount,
                account_id=account.id,
                result="pending",
            )
        )
    session.flush()
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
    lines = _lines(session, row.id)
    active = _active_rows(session, [line.person_id for line in lines])
    returned = _returned_before(session, [line.obligation_id for line in lines])
    moves: dict[str, list[tuple[str, uuid.UUID, int]]] = {"payable": [], "returned": []}
    for line in lines:
        account = active.get(line.person_id)
        if account is None:  # pragma: no cover - an active account is only ever replaced.
            raise AccountNotFound
        line.account_id = account.id
        line.bank_code = account.bank_code
        line.branch_code = account.branch_code
        line.account_type = account.account_type
        line.account_number = account.account_number
        line.holder_kana = account.holder_kana
        source = "returned" if line.obligation_id in returned else "payable"
        moves[source].append((f"line:{line.id}:sent", line.obligation_id, line.amount))
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


def _returned_before(session: Session, obligation_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of the obligations the bank returned before (their yen wait in ``returned``)."""
    found: set[uuid.UUID] = set()
    for start in range(0, len(obligation_ids), CHUNK):
        found.update(
            session.scalars(
                select(PaymentsObligation.id)
                .where(PaymentsObligation.id.in_(obligation_ids[start : start + CHUNK]))
                .where(PaymentsObligation.returns > 0)
            )
        )
    return found


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
    transfers = []
    for line in _lines(session, row.id):
        if not (line.bank_code and line.branch_code and line.account_number):
            raise BatchStateConflict(row.status, "exported")  # pragma: no cover - frozen.
        bank = session.get(PaymentsBank, line.bank_code)
        branch = session.get(PaymentsBranch, (line.bank_code, line.branch_code))
        transfers.append(
            zengin.Transfer(
                bank_code=line.bank_code,
                bank_name=bank.kana if bank else "",
                branch_code=line.branch_code,
                branch_name=branch.kana if branch else "",
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
