"""Payments in the office: the payer's batches, one batch with its lines (the account version
each used), the approvals of two officials other than the maker (maker-checker), the Zengin file
handed out by a form post, the bank's result file taken in, the lines the bank returned with
their follow-up, and the reconciliation of bank and ledger.

Every page and form asks the one policy for ``payments.batch.approve`` in the payer's
organisation (its code is in the path, so the policy answers before anything is looked up, as
in the API). Reading does not need a fresh card; every change does (step-up: the policy's
``STEP_UP``), and an official whose card is older than the window is sent to present it again
and comes back. Approving also names the maker and earlier approver as excluded actors, and the
service refuses them again. Pages that show payees (names, accounts, the bank's answers) record
the read per person (ADR 0015), purpose ``payment``.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import benefits, payments, residents, staff
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform import audit, i18n, sessions
from kiban.platform.authority import Resource
from kiban.platform.webkit import DbSession, Lang, get_route_name
from kiban.web.office.session import Official, OfficialUser
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office/payments", include_in_schema=False)

APPROVE = "payments.batch.approve"
PAGE_LINES = 200
RESULT_FILE_LIMIT = 12 * 1024 * 1024  # 120 bytes a line: room for 100,000 lines.
ACCOUNT_ITEMS = ("bank_code", "branch_code", "account_number", "holder_kana")

Payer = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,32}$")]
Number = Annotated[int, Path(ge=1, le=2_000_000_000)]


def _fresh(session: Session, official: Official, payer: str, **resource: Any) -> bool:
    """Ask the policy for the payer's payment work: raises when it is not the official's;
    answers whether the card is fresh enough for a change (step-up)."""
    try:
        staff.authorize(
            session,
            official.principal,
            APPROVE,
            organisation=payer,
            resource=Resource(**resource) if resource else None,
        )
    except staff.StepUpRequired:
        return False
    return True


def _step_up(back: str, lang: str) -> RedirectResponse:
    """To the card again (the same session), then back to ``back``."""
    return RedirectResponse(
        f"/office/login/start?step_up=true&next={quote(back, safe='')}&lang={lang}",
        status_code=303,
    )


def _batch(session: Session, payer: str, number: int) -> payments.BatchDetail:
    found = payments.get_batch(session, number)
    if found.payer != payer:
        raise payments.BatchNotFound
    return found


def _batch_url(payer: str, number: int, lang: str, done: str = "") -> str:
    suffix = f"&done={done}" if done else ""
    return f"/office/payments/{payer}/batches/{number}?lang={lang}{suffix}"


def _account_of(actor: str) -> uuid.UUID | None:
    """The account of an actor as journals keep it (``staff:<id>@org/role``), or None."""
    if not actor.startswith("staff:"):
        return None
    try:
        return uuid.UUID(actor.removeprefix("staff:").split("@", 1)[0])
    except ValueError:
        return None


def _who(session: Session, actor: str, lang: i18n.Language) -> str:
    """An official's name and where they acted, from the actor journals keep; a job of the
    system (``system:...``) in plain words."""
    account_id = _account_of(actor)
    if account_id is not None:
        with contextlib.suppress(KibanError):
            account = staff.get_account(session, account_id)
            return f"{account.name} ({actor.split('@', 1)[-1]})"
    return i18n.translations(lang).gettext("A job of the system")


@router.get("")
def batches_page(
    request: Request, lang: Lang, session: DbSession, official: OfficialUser
) -> HTMLResponse:
    """The batches of every payer the official's payment work reaches, newest first, and the
    form that builds a batch of a programme's payable obligations."""
    _fresh(session, official, official.principal.organisation)
    return _batches_page(request, lang, session, official)


def _batches_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    *,
    programme: str = "",
    error: KibanError | None = None,
) -> HTMLResponse:
    shown = [
        b
        for b in payments.list_batches(session, limit=200)
        if staff.reaches(official.principal, b.payer)
    ]
    return get_pages().render(
        request,
        lang,
        "office/payments.html",
        {
            "official": official,
            "batches": shown,
            "programmes": benefits.list_programmes(session),
            "payer": benefits.PAYER,
            "chosen": programme,
            "title_of": lambda d: d.title_ja if lang == "ja" else d.title_en,
            "error": error.message(lang) if error else None,
        },
        status_code=error.status if error else 200,
    )


@router.post("/{payer}/batches")
def build_batch(
    payer: Payer,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    programme: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Build a draft batch of the programme's payable obligations whose payee has a verified
    account; the official who builds it is its maker and may not approve it."""
    sessions.check_csrf(official.session, csrf_token)
    if not _fresh(session, official, payer):
        return _step_up(f"/office/payments?lang={lang}", lang)
    try:
        if not programme:
            raise ValidationFailed(
                "制度を選んでください。", "Choose a programme.", field="programme"
            )
        batch = payments.do_build_batch(
            session, programme=programme, payer=payer, actor=official.actor
        )
    except KibanError as error:
        session.rollback()
        return _batches_page(request, lang, session, official, programme=programme, error=error)
    return RedirectResponse(_batch_url(payer, batch.number, lang, "built"), status_code=303)


@router.get("/{payer}/batches/{number}")
def batch_page(
    payer: Payer,
    number: Number,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    offset: Annotated[int, Query(ge=0, le=2_000_000_000)] = 0,
    done: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    """A batch: state, total, maker and approvers, a page of its lines with the payees' names
    and the account version each used, and the reconciliation of bank and ledger."""
    fresh = _fresh(session, official, payer)
    return _batch_page(
        request, lang, session, official, payer, number, offset=offset, done=done, fresh=fresh
    )


def _batch_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    payer: str,
    number: int,
    *,
    offset: int = 0,
    done: str = "",
    fresh: bool = True,
    error: KibanError | None = None,
    error_field: str | None = None,
) -> HTMLResponse:
    batch = _batch(session, payer, number)
    lines = payments.batch_lines(session, number, limit=PAGE_LINES, offset=offset)
    people = [line.person_id for line in lines]
    route = get_route_name(request)
    names = residents.access_names_by_person_ids(
        session, official.principal, people, purpose=residents.ReadPurpose.PAYMENT, route=route
    )
    if people:
        residents.do_record_reads(
            session,
            official.principal,
            people,
            items=ACCOUNT_ITEMS,
            purpose=residents.ReadPurpose.PAYMENT,
            route=route,
        )
    excluded = {batch.maker, *batch.approvers}
    can_approve = batch.status == "draft" and not any(
        _account_of(a) == official.principal.account_id for a in excluded
    )
    return get_pages().render(
        request,
        lang,
        "office/payments_batch.html",
        {
            "official": official,
            "batch": batch,
            "lines": lines,
            "names": names,
            "offset": offset,
            "page_lines": PAGE_LINES,
            "maker": _who(session, batch.maker, lang),
            "approvers": [_who(session, a, lang) for a in batch.approvers],
            "needed": payments.APPROVALS_NEEDED,
            "can_approve": can_approve,
            "fresh": fresh,
            "report": payments.reconcile(session, number),
            "done": done,
            "error": error.message(lang) if error else None,
            "error_field": error_field,
        },
        status_code=error.status if error else 200,
    )


@router.post("/{payer}/batches/{number}/approvals")
def approve_batch(
    payer: Payer,
    number: Number,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """One approval; the second (by another official, neither the maker) freezes the batch."""
    sessions.check_csrf(official.session, csrf_token)
    _fresh(session, official, payer)
    found = _batch(session, payer, number)
    excluded = (found.maker, *found.approvers)
    try:
        if not _fresh(session, official, payer, excluded_actors=excluded):
            return _step_up(_batch_url(payer, number, lang), lang)
        payments.do_approve_batch(session, number, actor=official.actor)
    except KibanError as error:
        session.rollback()
        return _batch_page(request, lang, session, official, payer, number, error=error)
    return RedirectResponse(_batch_url(payer, number, lang, "approved"), status_code=303)


@router.post("/{payer}/batches/{number}/transfer-file")
def transfer_file(
    payer: Payer,
    number: Number,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The approved batch's Zengin 総合振込 file, as a download: every hand-out is audited
    (it holds every payee's account and name) and the first marks the batch exported."""
    sessions.check_csrf(official.session, csrf_token)
    if not _fresh(session, official, payer):
        return _step_up(_batch_url(payer, number, lang), lang)
    found = _batch(session, payer, number)
    try:
        data = payments.transfer_file(session, number)
    except KibanError as error:
        session.rollback()
        return _batch_page(request, lang, session, official, payer, number, error=error)
    audit.record(
        session,
        tag=payments.AUDIT_FILE_ISSUED,
        actor=official.actor,
        subject=f"payments_batch:{number}",
        data={"lines": found.line_count, "total": found.total},
    )
    payments.do_mark_exported(session, number, actor=official.actor)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="zengin-{number}.txt"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{payer}/batches/{number}/result")
async def import_result(
    payer: Payer,
    number: Number,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    result_file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Take in the bank's result file for the batch: paid lines close their obligations,
    returned ones are owed again and the person is told in the inbox. The same file twice
    changes nothing; a contradicting one is refused, naming the record."""
    sessions.check_csrf(official.session, csrf_token)
    if not _fresh(session, official, payer):
        return _step_up(_batch_url(payer, number, lang), lang)
    _batch(session, payer, number)
    data = await result_file.read(RESULT_FILE_LIMIT + 1) if result_file is not None else b""
    try:
        if not data:
            raise ValidationFailed(
                "銀行の結果ファイルを選んでください。",
                "Choose the bank's result file.",
                field="result_file",
            )
        if len(data) > RESULT_FILE_LIMIT:
            raise ValidationFailed(
                "ファイルが大きすぎます。", "The file is too large.", field="result_file"
            )
        payments.do_import_result(session, number, data, actor=official.actor)
    except KibanError as error:
        session.rollback()
        return _batch_page(
            request, lang, session, official, payer, number, error=error, error_field="result_file"
        )
    return RedirectResponse(_batch_url(payer, number, lang, "imported"), status_code=303)


@router.get("/{payer}/failures")
def failures_page(
    payer: Payer,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
) -> HTMLResponse:
    """The lines the bank returned and their follow-up: told in the inbox (and read),
    corrected (a newer verified account), paid in a later batch or on one now."""
    _fresh(session, official, payer)
    failures = payments.list_failures(session, payer=payer)
    names = residents.access_names_by_person_ids(
        session,
        official.principal,
        [f.person_id for f in failures],
        purpose=residents.ReadPurpose.PAYMENT,
        route=get_route_name(request),
    )
    return get_pages().render(
        request,
        lang,
        "office/payments_failures.html",
        {"official": official, "payer": payer, "failures": failures, "names": names},
    )
