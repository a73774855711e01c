"""Business accounts in the citizen portal (ビジネスアカウント): the HTML side of
``/api/v1/business`` for residents signed in to the portal with their card.

A representative applies for the prime account here: the page builds the application and
keeps it in the resident's server-side session, the card reader signs its challenge with the
signing key (after the signing PIN), and the reader posts its answer (``response_mode=
form_post``) to ``/portal/business/prime/callback``, where the signature, the certificate and
the registered representative are checked. The signing certificate carries the person's name,
birth date, sex and address, so it never travels in a URL (where access logs, the browser's
history and Referer headers would keep it); a GET to the callback never applies. The prime
invites members (the one-time code is shown once), removes them and delegates procedures; a
member redeems an invitation. Every form works without JavaScript; errors are shown above the forms.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from kiban.blocks import identity, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import i18n, sessions
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang, public
from kiban.web.portal.csrf import require_resident_form
from kiban.web.portal.session import (
    RESIDENT_AUDIENCE,
    Resident,
    require_resident,
    resident_session,
)
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal/business", include_in_schema=False)

BUSINESS_HOME: Final = "/portal/business"
# The application waiting for the card's signature, in the resident's server-side session.
PENDING_KEY: Final = "business_prime"
# The application must come back signed within the window the server accepts signatures in.
_PRIME_MAX_AGE: Final = 10 * 60

SignedIn = Annotated[Resident, Depends(require_resident)]
# Every form posted here carries the session's CSRF token (checked before the handler runs).
Posted = Annotated[Resident, Depends(require_resident_form)]


def _invalid_input(lang: i18n.Language, error: ValidationError) -> tuple[str, str | None]:
    t = i18n.translations(lang)
    errors = error.errors()
    field = ".".join(str(part) for part in errors[0]["loc"]) if errors else None
    if field:
        return t.gettext("The input is not valid: %(field)s.") % {"field": field}, field
    return t.gettext("The input is not valid."), None


def _page(
    request: Request,
    lang: i18n.Language,
    session: DbSession,
    resident: Resident,
    *,
    error: str | None = None,
    error_field: str | None = None,
    invited: identity.MemberInvited | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    accounts = identity.list_business_accounts(session, resident.person_id)
    members = {
        account.corporate_number: identity.list_corporation_accounts(
            session, account.corporate_number, person_id=resident.person_id
        )
        for account in accounts
        if account.account_type is identity.BusinessAccountType.PRIME
    }
    return get_pages().render(
        request,
        lang,
        "business/home.html",
        {
            "accounts": accounts,
            "members": members,
            "error": error,
            "error_field": error_field,
            "invited": invited,
            "applied": request.query_params.get("applied") == "1",
        },
        status_code=status_code,
    )


def _refused(
    request: Request,
    lang: i18n.Language,
    session: DbSession,
    resident: Resident,
    error: KibanError,
) -> HTMLResponse:
    # What the failed action may have written is rolled back before the page is read again.
    session.rollback()
    return _page(
        request,
        lang,
        session,
        resident,
        error=error.message(lang),
        error_field=error.field,
        status_code=error.status,
    )


def _back() -> RedirectResponse:
    return RedirectResponse(BUSINESS_HOME, status_code=303)


@router.get("")
def home(request: Request, lang: Lang, session: DbSession, resident: SignedIn) -> HTMLResponse:
    """The resident's business accounts; a prime also sees and manages the members."""
    if request.query_params.get("expired") == "1":  # A fixed message, nothing from the URL.
        t = i18n.translations(lang)
        expired = t.gettext("This application has expired. Please apply again.")
        return _page(request, lang, session, resident, error=expired)
    return _page(request, lang, session, resident)


@router.post("/prime")
def start_prime_application(
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: Posted,
    corporate_number: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> Response:
    """Build the application and send the representative to the card reader to sign it."""
    person = residents.get_person(session, resident.person_id)
    try:
        application = identity.PrimeApplicationContent(
            corporate_number=corporate_number.strip(),
            display_name=person.full_name,
            email=email.strip(),
            nonce=secrets.token_urlsafe(24),
            signed_at=int(clock.now().timestamp()),
        )
    except ValidationError as error:
        message, field = _invalid_input(lang, error)
        return _page(
            request, lang, session, resident, error=message, error_field=field, status_code=422
        )
    ws = resident.session
    sessions.update_session(
        session,
        ws.id,
        data={**ws.data, PENDING_KEY: application.model_dump(mode="json")},
    )
    settings = get_settings()
    return get_pages().render(
        request,
        lang,
        "business/prime_sign.html",
        {
            "application": application,
            "reader_url": settings.card_reader_url.rstrip("/"),
            "challenge": identity.prime_application_challenge(application),
            # The session's row id (not its cookie) and the application's random nonce: the
            # answer names the state it completes, and only this browser knows the nonce.
            "request_id": f"{ws.id}.{application.nonce}",
            "return_to": f"{settings.base_url.rstrip('/')}{BUSINESS_HOME}/prime/callback",
        },
    )


@router.get("/prime/callback")
def prime_callback_cancelled(resident: SignedIn) -> Response:
    """Where the card reader sends the resident who cancelled. An answer is never taken from a
    URL: the reader posts it (the signing certificate is personal data)."""
    return _back()


def _pending(
    session: DbSession, request_id: str
) -> tuple[sessions.WebSession, identity.PrimeApplicationContent] | None:
    """The session and the application waiting for this answer, if it is still waiting."""
    session_part, _sep, nonce = request_id.partition(".")
    try:
        session_id = uuid.UUID(session_part)
    except ValueError:
        return None
    ws = sessions.live_session(session, audience=RESIDENT_AUDIENCE, session_id=session_id)
    if ws is None:
        return None
    try:
        application = identity.PrimeApplicationContent.model_validate(ws.data.get(PENDING_KEY))
    except ValidationError:
        return None
    fresh = clock.now().timestamp() - application.signed_at <= _PRIME_MAX_AGE
    if not (fresh and nonce and secrets.compare_digest(nonce, application.nonce)):
        return None
    return ws, application


@router.post("/prime/callback", dependencies=[Depends(public)])
def prime_callback(
    request: Request,
    lang: Lang,
    session: DbSession,
    request_id: Annotated[str, Form()] = "",
    signing_certificate: Annotated[str, Form()] = "",
    signing_signature: Annotated[str, Form()] = "",
) -> Response:
    """The card reader's answer, in the body of the form the reader's page posts here: check
    the signature and create the prime account.

    Public, because the answer authenticates itself: it names the session's pending
    application by the session's row id and the application's random nonce (known only to
    the browser that started it), and ``identity.apply_prime_account`` checks the card's
    signature over that application and the certificate against the registered
    representative. The portal's cookie is ``SameSite=Lax`` and is not sent with a post from
    the reader's origin; when it is, it must be the same session."""
    t = i18n.translations(lang)
    found = _pending(session, request_id)
    browser = resident_session(request, session)
    if found is None or (browser is not None and browser.session.id != found[0].id):
        if browser is None:
            return RedirectResponse(f"{BUSINESS_HOME}?expired=1", status_code=303)
        return _page(
            request,
            lang,
            session,
            browser,
            error=t.gettext("This application has expired. Please apply again."),
            status_code=400,
        )
    ws, application = found
    resident = Resident(person_id=uuid.UUID(ws.subject), session=ws)
    request.state.web_session = ws
    _forget_pending(session, ws)  # Used once, whatever the answer.
    try:
        identity.apply_prime_account(
            session,
            identity.PrimeApplicationCreate(
                application=application,
                certificate=signing_certificate,
                signature=signing_signature,
            ),
            person_id=resident.person_id,
            actor=resident.actor,
        )
    except ValidationError:
        return _page(
            request,
            lang,
            session,
            resident,
            error=t.gettext("The card reader's answer is incomplete. Please apply again."),
            status_code=400,
        )
    except KibanError as error:
        session.rollback()
        _forget_pending(session, ws)
        return _page(
            request,
            lang,
            session,
            resident,
            error=error.message(lang),
            error_field=error.field,
            status_code=error.status,
        )
    return RedirectResponse(f"{BUSINESS_HOME}?applied=1", status_code=303)


def _forget_pending(session: DbSession, ws: sessions.WebSession) -> None:
    data = {key: value for key, value in ws.data.items() if key != PENDING_KEY}
    sessions.update_session(session, ws.id, data=data)


@router.post("/redeem")
def redeem(
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: Posted,
    invitation_code: Annotated[str, Form()] = "",
) -> Response:
    """A member takes the account they were invited to."""
    try:
        identity.redeem_invitation(
            session, invitation_code.strip(), person_id=resident.person_id, actor=resident.actor
        )
    except KibanError as error:
        return _refused(request, lang, session, resident, error)
    return _back()


@router.post("/{corporate_number}/members")
def invite(
    corporate_number: str,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: Posted,
    display_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    """The prime invites a member; the page shows the one-time code once."""
    try:
        data = identity.MemberInvite(display_name=display_name, email=email, role=role or "member")
    except ValidationError as error:
        message, field = _invalid_input(lang, error)
        return _page(
            request, lang, session, resident, error=message, error_field=field, status_code=422
        )
    try:
        invited = identity.invite_member(
            session, corporate_number, data, person_id=resident.person_id, actor=resident.actor
        )
    except KibanError as error:
        return _refused(request, lang, session, resident, error)
    return _page(request, lang, session, resident, invited=invited)


@router.post("/{corporate_number}/members/{account_id}/remove")
def remove(
    corporate_number: str,
    account_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: Posted,
) -> Response:
    """The prime removes a member."""
    try:
        identity.remove_member(
            session,
            corporate_number,
            account_id,
            person_id=resident.person_id,
            actor=resident.actor,
        )
    except KibanError as error:
        return _refused(request, lang, session, resident, error)
    return _back()


@router.post("/{corporate_number}/members/{account_id}/delegations")
def delegate(
    corporate_number: str,
    account_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: Posted,
    procedure_code: Annotated[str, Form()] = "",
) -> Response:
    """The prime delegates a procedure to a member."""
    try:
        data = identity.DelegationCreate(procedure_code=procedure_code)
    except ValidationError as error:
        message, field = _invalid_input(lang, error)
        return _page(
            request, lang, session, resident, error=message, error_field=field, status_code=422
        )
    try:
        identity.delegate_procedure(
            session,
            corporate_number,
            account_id,
            data.procedure_code,
            person_id=resident.person_id,
            actor=resident.actor,
        )
    except KibanError as error:
        return _refused(request, lang, session, resident, error)
    return _back()


@router.post("/{corporate_number}/members/{account_id}/delegations/{procedure_code}/revoke")
def revoke(
    corporate_number: str,
    account_id: uuid.UUID,
    procedure_code: str,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: Posted,
) -> Response:
    """The prime revokes a delegation."""
    try:
        identity.revoke_delegation(
            session,
            corporate_number,
            account_id,
            procedure_code,
            person_id=resident.person_id,
            actor=resident.actor,
        )
    except KibanError as error:
        return _refused(request, lang, session, resident, error)
    return _back()
