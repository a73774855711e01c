"""Payments over HTTP: the payer's batches for officials and service accounts
(``/api/v1/payments/{payer}/batches``), and the Zengin bank and branch list (public).

Every batch route asks the one policy function for ``payments.batch.approve`` in the payer's
organisation (the payer's code is in the path, so the policy answers before anything is looked
up). Approving also names the batch's maker and earlier approver as excluded actors:
separation of duties makes it two different officials, neither the maker.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from kiban.blocks.payments import batches, service
from kiban.blocks.payments import events as topics
from kiban.blocks.payments.errors import BatchNotFound
from kiban.blocks.payments.schemas import (
    BankRead,
    BatchDetail,
    BatchRead,
    BranchRead,
    ReconcileReport,
)
from kiban.platform import audit
from kiban.platform.authority import Acting, Resource, authorize
from kiban.platform.fields import LongLimit, Offset
from kiban.platform.webkit import DbSession, public

APPROVE = "payments.batch.approve"

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or wrong credentials: `staff.principal_required`/`key_invalid`"},
    403: {
        "description": "`staff.not_permitted`, `staff.other_organisation`, "
        "`staff.step_up_required`, `staff.separation_of_duties`"
    },
    404: {"description": "`payments.batch_not_found`"},
    422: {"description": "Invalid input, `error.field` names it"},
}

Payer = Annotated[
    str, Path(pattern=r"^[0-9A-Za-z_-]{1,32}$", description="The payer organisation's code")
]
Number = Annotated[int, Path(ge=1, le=2_000_000_000, description="The batch number")]

router = APIRouter(prefix="/api/v1/payments", tags=["payments"], responses=ERRORS)
banks_router = APIRouter(
    prefix="/api/v1/payments/banks", tags=["payments"], dependencies=[Depends(public)]
)


def _batch(session: DbSession, payer: str, number: int) -> BatchDetail:
    found = batches.get_batch(session, number)
    if found.payer != payer:
        raise BatchNotFound
    return found


@router.get("/{payer}/batches", summary="The payer's payment batches")
def list_batches(
    payer: Payer, session: DbSession, actor: Acting, limit: LongLimit = 100, offset: Offset = 0
) -> list[BatchRead]:
    """The payer's batches, newest first: status (draft, approved, exported, settled), lines,
    total in yen, maker and approvers."""
    authorize(session, actor, APPROVE, organisation=payer)
    return [
        b for b in batches.list_batches(session, limit=limit, offset=offset) if b.payer == payer
    ]


@router.get("/{payer}/batches/{number}", summary="One payment batch with its lines")
def get_batch(payer: Payer, number: Number, session: DbSession, actor: Acting) -> BatchDetail:
    """A batch with its lines (obligation, payee, amount, account version once frozen, and the
    bank's result)."""
    authorize(session, actor, APPROVE, organisation=payer)
    return _batch(session, payer, number)


@router.post(
    "/{payer}/batches/{number}/approvals",
    summary="Approve a payment batch (maker-checker)",
    responses={409: {"description": "`payments.batch_state` (already approved)"}},
)
def approve_batch(payer: Payer, number: Number, session: DbSession, actor: Acting) -> BatchRead:
    """One approval; the second by a different official freezes the batch (account versions,
    total) and moves it to the ledger's in_transit. The maker and an earlier approver are
    refused (403 ``staff.separation_of_duties``)."""
    authorize(session, actor, APPROVE, organisation=payer)
    found = _batch(session, payer, number)
    authorize(
        session,
        actor,
        APPROVE,
        organisation=payer,
        resource=Resource(excluded_actors=(found.maker, *found.approvers)),
    )
    return batches.do_approve_batch(session, number, actor=actor.actor)


@router.get(
    "/{payer}/batches/{number}/transfer-file",
    summary="The batch's Zengin 総合振込 file",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        409: {"description": "`payments.batch_state` (not approved yet)"},
    },
)
def transfer_file(payer: Payer, number: Number, session: DbSession, actor: Acting) -> Response:
    """The approved batch's transfer file: 120-byte records, Shift_JIS, no separator. It holds
    every payee's account and name, so each hand-out is audited (``payments:batch:file_issued``)."""
    authorize(session, actor, APPROVE, organisation=payer)
    found = _batch(session, payer, number)
    data = batches.transfer_file(session, number)
    audit.record(
        session,
        tag=topics.AUDIT_FILE_ISSUED,
        actor=actor.actor,
        subject=f"payments_batch:{number}",
        data={"lines": found.line_count, "total": found.total},
    )
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="zengin-{number}.txt"'},
    )


@router.get("/{payer}/batches/{number}/reconciliation", summary="Bank results against the ledger")
def reconciliation(
    payer: Payer, number: Number, session: DbSession, actor: Acting
) -> ReconcileReport:
    """The bank's results against the ledger, to the yen, and the ledger's balances."""
    authorize(session, actor, APPROVE, organisation=payer)
    _batch(session, payer, number)
    return batches.reconcile(session, number)


@banks_router.get("", summary="Banks of the Zengin code list")
def banks(session: DbSession) -> list[BankRead]:
    """Every bank (financial institution) of the Zengin code list, by code."""
    return service.list_banks(session)


@banks_router.get(
    "/{bank_code}/branches",
    summary="A bank's branches",
    responses={422: {"description": "Invalid input, `error.field` names it"}},
)
def branches(
    bank_code: Annotated[str, Path(pattern=r"^[0-9]{4}$")], session: DbSession
) -> list[BranchRead]:
    """The bank's branches of the Zengin code list (none for an unknown bank)."""
    return service.list_branches(session, bank_code)
