"""Procedures in the citizen portal (手続): the list, the moving wizard, signing with the card,
the visit reservation and the status timeline.

The wizard is one form (who moves, the new address, the date) beside the facts the register
already holds, each with its source. The address is normalized as it is typed when JavaScript
runs (``/static/moving.js`` asks ``/api/v1/address/normalize``); without it, the server reads
the address against the registry when the form is saved and the review page shows what it
read beside what was typed, before anything is signed. Signing sends the resident to the card
reader with the submission payload (the hash of the document shown) as the challenge and the
signing key requested; the reader returns to ``/portal/applications/{id}/signed``, where
``procedures.do_submit`` checks the signature. Every form works without JavaScript and carries
the portal's CSRF token.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import identity, notifications, procedures
from kiban.kernel import clock
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.life_events import birth, certificates, death, moving
from kiban.platform import i18n
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang, public
from kiban.web.portal import receipt_pdf as receipt_pdf_module
from kiban.web.portal.csrf import CSRF_FIELD, check_csrf, csrf_token
from kiban.web.portal.fees import ApplicationMissing, fee_context
from kiban.web.portal.session import Resident, require_resident, resident_session
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal", include_in_schema=False)

SignedIn = Annotated[Resident, Depends(require_resident)]
# Procedures a resident starts in the portal; the move-in is opened by the new office, and the
# birth notice by the mother's office when the hospital's certificate arrives (its start page
# leads to that draft).
STARTABLE: Final = (
    moving.MOVE_OUT,
    moving.MOVE_WITHIN,
    birth.BIRTH,
    certificates.RESIDENCE_CERTIFICATE,
)
FORM_PROCEDURES: Final = (moving.MOVE_OUT, moving.MOVE_WITHIN, birth.BIRTH)
# Procedures reviewed and signed on these pages (the 死亡届 is opened from /portal/death).
SIGNED_HERE: Final = (*FORM_PROCEDURES, death.DEATH, certificates.RESIDENCE_CERTIFICATE)
EDITABLE_STATES: Final = ("draft", "sent_back")
RESERVABLE_STATES: Final = ("awaiting_reservation", "reserved")


def _(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


STATE_LABELS: Final[Mapping[str, str]] = {
    "draft": _("Draft: not submitted yet"),
    "submitted": _("Submitted: waiting for the office"),
    "sent_back": _("Sent back to you: please correct it"),
    "approved": _("Accepted by the office"),
    "withdrawn": _("Withdrawn"),
    "awaiting_reservation": _("Waiting for you to reserve a visit"),
    "reserved": _("Visit reserved: waiting for the office"),
    "completed": _("Completed"),
    "accepted": _("Accepted by the office"),
}


def state_label(lang: i18n.Language, state: str) -> str:
    """A state in words, in ``lang`` (the state's code when it is not one of ours)."""
    label = STATE_LABELS.get(state)
    return i18n.translations(lang).gettext(label) if label else state


def _title(app: procedures.ApplicationRead | procedures.ApplicationSummary, lang: str) -> str:
    return app.title_ja if lang == "ja" else app.title_en


class ReaderAnswerIncomplete(ValidationFailed):
    code = "portal.card_answer_incomplete"

    def __init__(self) -> None:
        super().__init__(
            "カードリーダーからの応答が不完全です。もう一度署名してください。",
            "The card reader's answer is incomplete. Please sign again.",
            field="signature",
        )


def _own(
    session: Session, resident: Resident, application_id: uuid.UUID
) -> procedures.ApplicationRead:
    """The resident's own application."""
    app = procedures.get_application(session, application_id)
    if app.applicant_id != resident.person_id:
        raise ApplicationMissing
    return app


def _render(
    request: Request,
    lang: i18n.Language,
    session: Session,
    resident: Resident,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    base = {
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "unread_notices": notifications.count_unread(session, resident.person_id),
        "state_label": lambda state: state_label(lang, state),
        "title_of": lambda app: _title(app, lang),
    }
    response = get_pages().render(request, lang, name, base | context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def missing_page(
    request: Request, lang: i18n.Language, error: KibanError, *, portal: bool = True
) -> HTMLResponse:
    """The page for an application that does not exist (or is not the viewer's)."""
    t = i18n.translations(lang)
    back_url, back_label = (
        (f"/portal/procedures?lang={lang}", t.gettext("Back to your procedures"))
        if portal
        else (f"/office/tasks?lang={lang}", t.gettext("Back to the task queue"))
    )
    return get_pages().render(
        request,
        lang,
        "portal/procedures/missing.html",
        {
            "message": error.message(lang),
            "portal": portal,
            "back_url": back_url,
            "back_label": back_label,
        },
        status_code=error.status,
    )


def _error_context(lang: i18n.Language, error: KibanError) -> dict[str, Any]:
    field = (error.field or "").split(".")[0] or None
    return {"error": error.message(lang), "error_field": field}


# --- the list -----------------------------------------------------------------------------------


@router.get("/procedures")
def procedure_list(
    request: Request, lang: Lang, session: DbSession, resident: SignedIn
) -> HTMLResponse:
    """The procedures a resident can file here, and their own applications."""
    mine = procedures.list_applications(session, applicant=resident.person_id, limit=50)
    startable = [procedures.get_procedure(code) for code in STARTABLE]
    return _render(
        request,
        lang,
        session,
        resident,
        "portal/procedures/list.html",
        {"startable": startable, "applications": mine.items},
    )


@router.get("/procedures/{code}")
def start_page(
    code: str, request: Request, lang: Lang, session: DbSession, resident: SignedIn
) -> Response:
    """Before a draft is made: what the procedure is for, what the resident needs, what happens
    next and by when; whether their card can sign; a draft already open is offered instead of
    a new one."""
    if code not in STARTABLE:
        return missing_page(request, lang, ApplicationMissing())
    definition = procedures.get_procedure(code)
    drafts = [
        item
        for item in procedures.list_applications(
            session, applicant=resident.person_id, code=code, limit=50
        ).items
        if item.state in EDITABLE_STATES
    ]
    return _render(
        request,
        lang,
        session,
        resident,
        "portal/procedures/start.html",
        {
            "procedure": definition,
            "title": _title_of_definition(definition, lang),
            "drafts": drafts,
            "signing_problem": signing_problem(session, resident.person_id),
            "notice_days": moving.NOTICE_DAYS,
        },
    )


def _title_of_definition(definition: procedures.ProcedureDef, lang: str) -> str:
    return definition.title_ja if lang == "ja" else definition.title_en


@router.post("/procedures/{code}/start")
def start(
    code: str,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Open a draft, prefilled from the register through the mesh. A birth notice is opened
    by the office when the hospital's certificate arrives: this leads to it, or answers
    ``birth.no_birth_data``."""
    check_csrf(request, csrf_token)
    if code not in STARTABLE:
        raise ApplicationMissing
    if code == birth.BIRTH:
        opened = [
            item
            for item in procedures.list_applications(
                session, applicant=resident.person_id, code=code, limit=50
            ).items
            if item.state in EDITABLE_STATES
        ]
        if not opened:
            raise birth.NoBirthData
        return RedirectResponse(f"/portal/applications/{opened[0].id}?lang={lang}", status_code=303)
    app = procedures.do_start_application(
        session, code, applicant=resident.person_id, actor=resident.actor
    )
    return RedirectResponse(f"/portal/applications/{app.id}?lang={lang}", status_code=303)


# --- one application ----------------------------------------------------------------------------


def _page_for(
    request: Request,
    lang: i18n.Language,
    session: Session,
    resident: Resident,
    app: procedures.ApplicationRead,
    *,
    error: KibanError | None = None,
    typed: Mapping[str, Any] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "app": app,
        "fields": {f.name: f for f in app.fields},
        "typed": dict(typed or {}),
        "notice": notice,
        "error": None,
        "error_field": None,
        "sent_back_reason": _last_reason(app),
        "slots": [],
    }
    if error is not None:
        context |= _error_context(lang, error)
    if app.code == birth.BIRTH and app.state in EDITABLE_STATES:
        template = "portal/procedures/birth_form.html"
        context |= {
            "relationships": birth.RELATIONSHIPS,
            "family_name": birth.family_name_of(app.values),
            "family_kana": "",
        }
    elif app.code in FORM_PROCEDURES and app.state in EDITABLE_STATES:
        template = "portal/procedures/form.html"
    else:
        template = "portal/procedures/status.html"
        if app.code == moving.MOVE_IN:
            context |= _move_in_context(session, app)
        context |= fee_context(session, app, actor=resident.actor)
    return _render(
        request,
        lang,
        session,
        resident,
        template,
        context,
        status_code=error.status if error is not None else 200,
    )


def _move_in_context(session: Session, app: procedures.ApplicationRead) -> dict[str, Any]:
    """The new office (name, address, hours), the moving date and, while the resident may
    reserve, the visit slots from that date on the office's opening days."""
    to_lg = str(app.outputs.get("to_lg_code") or "")
    moving_day = moving.moved_out_on(app)
    context: dict[str, Any] = {
        "visit_office": moving.office_visit(session, to_lg) if to_lg else None,
        "moving_day": moving_day,
    }
    if app.state in RESERVABLE_STATES:
        context["slots"] = _slot_days(moving.offered_slots(moving_day))
    return context


def _last_reason(app: procedures.ApplicationRead) -> str | None:
    for entry in reversed(app.journal):
        if entry.action == "send_back":
            return entry.reason
    return None


def _slot_days(slots: list[Any]) -> list[dict[str, Any]]:
    days: dict[str, dict[str, Any]] = {}
    for slot in slots:
        key = slot.date().isoformat()
        days.setdefault(key, {"day": slot.date(), "slots": []})["slots"].append(
            {"value": moving.slot_value(slot), "time": slot.strftime("%H:%M")}
        )
    return list(days.values())


@router.get("/applications/{application_id}")
def application_page(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
) -> Response:
    """The wizard while the application is the resident's to edit; its status otherwise."""
    try:
        app = _own(session, resident, application_id)
    except KibanError as error:
        return missing_page(request, lang, error)
    if app.code == certificates.RESIDENCE_CERTIFICATE and app.state == "draft":
        # Nothing to type: the request is the register's facts, the fee and the signature.
        return RedirectResponse(f"/portal/applications/{app.id}/review?lang={lang}", 303)
    t = i18n.translations(lang)
    notice = None
    if request.query_params.get("submitted") == "1":
        notice = t.gettext("Your notice was signed and submitted.")
    elif request.query_params.get("reserved") == "1":
        notice = t.gettext("Your visit is reserved.")
    return _page_for(request, lang, session, resident, app, notice=notice)


def _read_destination(session: Session, typed: str) -> str:
    """The new address as the registry reads it (``address.invalid_address`` otherwise)."""
    return moving.place_destination(session, typed).text


@router.post("/applications/{application_id}/save")
def save(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    version: Annotated[int, Form()],
    csrf_token: Annotated[str, Form()] = "",
    movers: Annotated[list[str] | None, Form()] = None,
    destination: Annotated[str, Form()] = "",
    moved_on: Annotated[str, Form()] = "",
    child_family_name: Annotated[str, Form()] = "",
    child_given_name: Annotated[str, Form()] = "",
    child_family_name_kana: Annotated[str, Form()] = "",
    child_given_name_kana: Annotated[str, Form()] = "",
    relationship: Annotated[str, Form()] = "",
) -> Response:
    """Keep what was typed (the address as the registry reads it; a child's name checked
    against the characters allowed for names), then show the review."""
    check_csrf(request, csrf_token)
    app = _own(session, resident, application_id)
    if app.code == birth.BIRTH:
        named = {
            "child_family_name": child_family_name.strip(),
            "child_given_name": child_given_name.strip(),
            "child_family_name_kana": child_family_name_kana.strip(),
            "child_given_name_kana": child_given_name_kana.strip(),
            "relationship": relationship.strip(),
        }
        return _save_birth(request, lang, session, resident, app, named, version)
    typed = {"movers": movers or [], "destination": destination.strip(), "moved_on": moved_on}
    try:
        values: dict[str, Any] = {"movers": movers or [], "moved_on": moved_on or None}
        values["destination"] = (
            _read_destination(session, destination.strip()) if destination.strip() else None
        )
        procedures.do_save_draft(
            session, app.id, values, expected_version=version, actor=resident.actor
        )
    except KibanError as error:
        session.rollback()
        app = _own(session, resident, application_id)
        return _page_for(request, lang, session, resident, app, error=error, typed=typed)
    # The review is this POST's answer, so that what was typed comes from the form's body and
    # never from a URL (a link could otherwise show anyone's words as "what you typed").
    app = _own(session, resident, application_id)
    return _review_page(request, lang, session, resident, app, typed=destination.strip() or None)


def _save_birth(
    request: Request,
    lang: i18n.Language,
    session: Session,
    resident: Resident,
    app: procedures.ApplicationRead,
    typed: dict[str, str],
    version: int,
) -> Response:
    """Keep the child's name and relationship (refused, naming the field, when a character is
    not allowed in names or a reading is not katakana), then show the review."""
    try:
        birth.check_child_name(app.values | typed)
        procedures.do_save_draft(
            session,
            app.id,
            {name: value or None for name, value in typed.items()},
            expected_version=version,
            actor=resident.actor,
        )
    except KibanError as error:
        session.rollback()
        app = _own(session, resident, app.id)
        return _page_for(request, lang, session, resident, app, error=error, typed=typed)
    app = _own(session, resident, app.id)
    return _review_page(request, lang, session, resident, app)


def _request_id(app: procedures.ApplicationRead) -> str:
    """The reader's request id: the application and the version the signature is for."""
    return f"{app.id}.{app.version}"


def signing_problem(session: Session, person_id: uuid.UUID) -> str | None:
    """Why the resident's card cannot sign now (``no_card``, ``card_inactive``, ``revoked``,
    ``expired``), told before they go to the reader and type both PINs; ``None`` when it can."""
    card = identity.get_card_by_person(session, person_id)
    if card is None:
        return "no_card"
    if card.status != "active":
        return "card_inactive"
    certificate = card.signing_certificate
    if certificate.status != "good":
        return "revoked"
    if certificate.not_after <= clock.now():
        return "expired"
    return None


def _review_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    resident: Resident,
    app: procedures.ApplicationRead,
    *,
    typed: str | None = None,
    cancelled: bool = False,
) -> HTMLResponse:
    t = i18n.translations(lang)
    missing = [f for f in app.fields if f.required and app.values.get(f.name) in (None, "", [])]
    settings = get_settings()
    return _render(
        request,
        lang,
        session,
        resident,
        "portal/procedures/review.html",
        {
            "app": app,
            "fields": {f.name: f for f in app.fields},
            "typed_destination": typed,
            "missing": missing,
            "signing_problem": signing_problem(session, resident.person_id),
            "cancelled": cancelled,
            "reader_url": settings.card_reader_url.rstrip("/"),
            "challenge": procedures.submission_payload(app).decode("ascii"),
            "request_id": _request_id(app),
            "reference": procedures.reference_of(app.id),
            "return_to": f"{settings.base_url.rstrip('/')}/portal/applications/{app.id}/signed",
            "cancel_message": t.gettext("You did not sign. Nothing was submitted."),
            **fee_context(session, app, actor=resident.actor),
        },
    )


@router.get("/applications/{application_id}/review")
def review(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
) -> Response:
    """Everything the notice says and the button that takes the resident to the card reader
    to sign it (what was typed is shown only in the answer to the form that carried it)."""
    try:
        app = _own(session, resident, application_id)
    except KibanError as error:
        return missing_page(request, lang, error)
    if app.code not in SIGNED_HERE or app.state not in EDITABLE_STATES:
        return RedirectResponse(f"/portal/applications/{app.id}?lang={lang}", status_code=303)
    cancelled = request.query_params.get("cancelled") == "1"
    return _review_page(request, lang, session, resident, app, cancelled=cancelled)


def _b64_bytes(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@router.get("/applications/{application_id}/signed")
def signed_cancelled(
    application_id: uuid.UUID, request: Request, lang: Lang, resident: SignedIn
) -> Response:
    """The card reader sends the resident back here when they cancel. A signature is never
    taken from a URL (it would carry the certificate's personal data into logs and history):
    the reader POSTs it."""
    if request.query_params.get("error") == "cancelled":
        target = f"/portal/applications/{application_id}/review?cancelled=1&lang={lang}"
    else:
        target = f"/portal/applications/{application_id}?lang={lang}"
    return RedirectResponse(target, status_code=303)


@router.post("/applications/{application_id}/signed", dependencies=[Depends(public)])
def signed(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    request_id: Annotated[str, Form()] = "",
    signing_certificate: Annotated[str, Form()] = "",
    signing_signature: Annotated[str, Form()] = "",
) -> Response:
    """The card reader's answer, in the body of a form the reader's page posts here: the
    signature is checked and the notice submitted, then the receipt is shown.

    Public, because the answer authenticates itself: ``procedures.do_submit`` verifies the
    card's signature over this application's exact version and that the signing certificate
    belongs to the applicant, so no one else (and no other site) can produce an answer that
    passes; a replayed answer meets a newer version. The portal's session cookie is
    ``SameSite=Lax`` and is not sent with a POST from the reader's origin, so it is not
    required here; the resident's browser carries it again on the redirect."""
    resident = resident_session(request, session)
    try:
        app = procedures.get_application(session, application_id)
        if resident is not None and app.applicant_id != resident.person_id:
            raise ApplicationMissing
    except KibanError as unknown:
        return missing_page(request, lang, unknown)
    claimed_id, _sep, claimed_version = request_id.rpartition(".")
    try:
        version = int(claimed_version)
        certificate = _b64_bytes(signing_certificate)
        signature = _b64_bytes(signing_signature)
    except (ValueError, binascii.Error):
        version, certificate, signature = -1, b"", b""
    problem: KibanError | None = None
    if claimed_id != str(app.id) or not certificate or not signature:
        problem = ReaderAnswerIncomplete()
    else:
        try:
            procedures.do_submit(
                session,
                app.id,
                expected_version=version,
                signing_certificate=certificate,
                signature=signature,
                actor=procedures.actor_of(app.applicant_id),
            )
        except KibanError as refused:
            session.rollback()
            problem = refused
    if problem is None:
        return RedirectResponse(
            f"/portal/applications/{app.id}/receipt?lang={lang}", status_code=303
        )
    if resident is not None:
        app = _own(session, resident, application_id)
        return _page_for(request, lang, session, resident, app, error=problem)
    return missing_page(request, lang, problem)


@router.get("/applications/{application_id}/receipt")
def receipt(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
) -> Response:
    """The confirmation after submitting, printable as a receipt: the reference number, what
    was filed and when, what happens next and by when."""
    try:
        app = _own(session, resident, application_id)
    except KibanError as error:
        return missing_page(request, lang, error)
    if app.submitted_at is None:
        return RedirectResponse(f"/portal/applications/{app.id}?lang={lang}", status_code=303)
    moved_on = app.values.get("moved_on")
    moving_day = date.fromisoformat(str(moved_on)) if moved_on else None
    return _render(
        request,
        lang,
        session,
        resident,
        "portal/procedures/receipt.html",
        {
            "app": app,
            "reference": procedures.reference_of(app.id),
            "moving_day": moving_day,
            "move_in_by": moving.move_in_deadline(moving_day)
            if moving_day and app.code == moving.MOVE_OUT
            else None,
            "office": moving.office_name(session, str(app.values.get("lg_code") or ""))
            if app.values.get("lg_code")
            else None,
        },
    )


@router.get("/applications/{application_id}/receipt.pdf")
def receipt_pdf(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
) -> Response:
    """The receipt of a submitted application as a PDF (reference, procedure, date, what
    happens next and by when)."""
    try:
        app = _own(session, resident, application_id)
    except KibanError as error:
        return missing_page(request, lang, error)
    if app.submitted_at is None:
        return RedirectResponse(f"/portal/applications/{app.id}?lang={lang}", status_code=303)
    moved_on = app.values.get("moved_on")
    moving_day = date.fromisoformat(str(moved_on)) if moved_on else None
    reference = procedures.reference_of(app.id)
    lg_code = str(app.values.get("lg_code") or "")
    document = receipt_pdf_module.render_receipt(
        lang,
        receipt_pdf_module.Receipt(
            title=app.title_ja if lang == "ja" else app.title_en,
            reference=reference,
            submitted_at=app.submitted_at,
            office=moving.office_name(session, lg_code) if lg_code else None,
            destination=str(app.values["destination"]) if app.values.get("destination") else None,
            moving_day=moving_day,
            expected_completion=app.timeline.expected_completion,
            move_in_by=moving.move_in_deadline(moving_day)
            if moving_day and app.code == moving.MOVE_OUT
            else None,
            moving_out=app.code == moving.MOVE_OUT,
        ),
    )
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="receipt-{reference}.pdf"'},
    )


@router.post("/applications/{application_id}/reserve")
def reserve(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    version: Annotated[int, Form()],
    csrf_token: Annotated[str, Form()] = "",
    slot: Annotated[str, Form()] = "",
) -> Response:
    """Reserve (or change) the visit to the new office."""
    check_csrf(request, csrf_token)
    app = _own(session, resident, application_id)
    try:
        if not slot:
            raise moving.SlotInvalid()
        saved = procedures.do_save_draft(
            session, app.id, {"slot": slot}, expected_version=version, actor=resident.actor
        )
        procedures.do_take_action(
            session,
            app.id,
            "reserve",
            role="applicant",
            actor=resident.actor,
            expected_version=saved.version,
        )
    except KibanError as error:
        session.rollback()
        app = _own(session, resident, application_id)
        return _page_for(request, lang, session, resident, app, error=error)
    return RedirectResponse(
        f"/portal/applications/{app.id}?reserved=1&lang={lang}", status_code=303
    )


@router.post("/applications/{application_id}/withdraw")
def withdraw(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    version: Annotated[int, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Withdraw a notice that has not been accepted."""
    check_csrf(request, csrf_token)
    app = _own(session, resident, application_id)
    try:
        procedures.do_take_action(
            session,
            app.id,
            "withdraw",
            role="applicant",
            actor=resident.actor,
            expected_version=version,
        )
    except KibanError as error:
        session.rollback()
        app = _own(session, resident, application_id)
        return _page_for(request, lang, session, resident, app, error=error)
    return RedirectResponse(f"/portal/applications/{app.id}?lang={lang}", status_code=303)
