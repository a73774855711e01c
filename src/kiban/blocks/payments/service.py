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
from typing import Any, Final, cast

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiban.blocks import mesh, notifications
from kiban.blocks.payments import events as topics
from kiban.blocks.payments import ledger
from kiban.blocks.payments.errors import (
    BankUnavailable,
    InvalidAccount,
    UnknownBank,
)
from kiban.blocks.payments.kana import to_zengin
from kiban.blocks.payments.models import (
    PaymentsAccount,
    PaymentsBank,
    PaymentsBranch,
    PaymentsObligation,
)
from kiban.blocks.payments.schemas import (
    FAILURES,
    AccountCreate,
    AccountRead,
    BankRead,
    BranchRead,
    ObligationCreate,
    ObligationRead,
)
from kiban.blocks.payments.settings import PaymentsSettings
from kiban.kernel import clock
from kiban.platform import audit, bulk, events

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


Names = tuple[dict[str, str], dict[tuple[str, str], str]]


def _names(session: Session, rows: Sequence[Any]) -> Names:
    """The bank and branch names of ``rows`` in two reads (the identity map holds loaded rows
    only weakly, so looking each one up again would read it again, once per account)."""
    codes = sorted({row.bank_code for row in rows})
    banks: dict[str, str] = {}
    branches: dict[tuple[str, str], str] = {}
    for first in range(0, len(codes), CHUNK):
        chunk = codes[first : first + CHUNK]
        for code, name in session.execute(
            select(PaymentsBank.code, PaymentsBank.name).where(PaymentsBank.code.in_(chunk))
        ):
            banks[code] = name
        for bank_code, code, name in session.execute(
            select(PaymentsBranch.bank_code, PaymentsBranch.code, PaymentsBranch.name).where(
                PaymentsBranch.bank_code.in_(chunk)
            )
        ):
            branches[bank_code, code] = name
    return banks, branches


def _account_read(
    session: Session, row: PaymentsAccount, names: Names | None = None
) -> AccountRead:
    banks, branches = names or _names(session, [row])
    return AccountRead(
        id=row.id,
        person_id=row.person_id,
        version=row.version,
        bank_code=row.bank_code,
        bank_name=banks.get(row.bank_code, ""),
        branch_code=row.branch_code,
        branch_name=branches.get((row.bank_code, row.branch_code), ""),
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


def get_active_accounts(
    session: Session, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, AccountRead]:
    """The active account of each of ``person_ids`` that has one (in bulk: for a national run,
    to tell each recipient where the payment goes, or to ask them to register)."""
    found: dict[uuid.UUID, Any] = {}
    unique = list(dict.fromkeys(person_ids))
    for start in range(0, len(unique), CHUNK):
        # Columns, not ORM rows: a national run asks for a million.
        for row in session.execute(
            select(
                PaymentsAccount.id,
                PaymentsAccount.person_id,
                PaymentsAccount.version,
                PaymentsAccount.bank_code,
                PaymentsAccount.branch_code,
                PaymentsAccount.account_type,
                PaymentsAccount.account_number,
                PaymentsAccount.holder_kana,
                PaymentsAccount.status,
                PaymentsAccount.verification,
                PaymentsAccount.created_at,
            )
            .where(bulk.among(session, PaymentsAccount.person_id, unique[start : start + CHUNK]))
            .where(PaymentsAccount.status == "active")
        ):
            known = found.get(row.person_id)
            if known is None or known.version < row.version:
                found[row.person_id] = row
    banks, branches = _names(session, list(found.values()))
    return {
        person_id: AccountRead(
            id=row.id,
            person_id=row.person_id,
            version=row.version,
            bank_code=row.bank_code,
            bank_name=banks.get(row.bank_code, ""),
            branch_code=row.branch_code,
            branch_name=branches.get((row.bank_code, row.branch_code), ""),
            account_type=row.account_type,
            account_number=row.account_number,
            holder_kana=row.holder_kana,
            status=row.status,
            verification=row.verification,
            created_at=row.created_at,
        )
        for person_id, row in found.items()
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
                .where(
                    bulk.among(session, PaymentsObligation.person_id, people[start : start + CHUNK])
                )
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
            bulk.insert_rows(session, PaymentsObligation, rows)
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
