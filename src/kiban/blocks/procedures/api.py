"""Online procedures over HTTP, GovStack Registration style: ``/api/v1/registration``.

- ``/services`` — the procedures offered online and their definitions (public).
- ``/applications`` — a resident's own applications: start (prefilled), save the draft, fetch
  what to sign, submit signed with the card, take an applicant's action. Called with an access
  token of a sign-in to My page (kiban's first-party OpenID Connect client).
- ``/tasks`` — the officials' side: the queue, claim, release and ``complete`` (take an
  official's action). Called with an official's session or a service account's API key; the
  actor is that principal (never a name in the body), and the one policy function decides
  on the application's office (``procedures.tasks.read``, ``procedures.tasks.claim``,
  ``procedures.<code>.<action>``, with separation of duties where the definition asks).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status

from kiban.blocks import identity
from kiban.blocks.procedures import definitions
from kiban.blocks.procedures.actions import actor_of, do_take_action
from kiban.blocks.procedures.applications import do_save_draft, do_start_application
from kiban.blocks.procedures.errors import (
    ApplicationNotFound,
    InvalidEncoding,
)
from kiban.blocks.procedures.reads import get_application, list_applications
from kiban.blocks.procedures.reports import prefill_report
from kiban.blocks.procedures.schemas import (
    ActionDefOut,
    ApplicantAction,
    ApplicationCreate,
    ApplicationPage,
    ApplicationRead,
    DraftUpdate,
    FieldDefOut,
    PrefillReport,
    ServiceRead,
    ServiceSummary,
    SubmissionCreate,
    SubmissionRead,
    TaskClaim,
    TaskComplete,
)
from kiban.blocks.procedures.submission import do_submit, submission_document, submission_payload
from kiban.blocks.procedures.tasks import do_claim_task, do_release_task, list_tasks
from kiban.platform.authority import Acting, Principal, authorize
from kiban.platform.fields import Limit, Offset
from kiban.platform.webkit import DbSession, public

Applicant = identity.MyPagePerson
Code = Annotated[str, Path(max_length=64, description="The procedure's code")]
ApplicationId = Annotated[uuid.UUID, Path(description="The application's id")]

_COMMON: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "`procedures.procedure_not_found`, `procedures.application_not_found` "
        "(also for someone else's application)"
    },
    422: {
        "description": "Invalid input; `error.field` names it: `procedures.unknown_field`, "
        "`procedures.prefilled_field`, `procedures.readonly_field`, `procedures.invalid_value`, "
        "`procedures.field_required`, `procedures.unknown_action`, `procedures.reason_required`, "
        "`procedures.signature_required`, `procedures.invalid_encoding`, `kiban.invalid`, "
        "or the procedure's own validation codes"
    },
}
_APPLICANT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_COMMON,
    401: {
        "description": "`identity.my_page_token_required`, `identity.my_page_token_invalid`; "
        "on submission "
        "also `identity.certificate_invalid`, `identity.certificate_revoked`, "
        "`identity.certificate_expired`, `identity.signature_invalid`"
    },
    403: {
        "description": "`procedures.signer_not_applicant`, `procedures.role_not_allowed`, "
        "`procedures.not_applicant`"
    },
    409: {"description": "`procedures.action_not_allowed`, `procedures.version_conflict`"},
    502: {"description": "`procedures.prefill_unavailable`: a registry could not be asked"},
}
_OFFICIAL_ERRORS: dict[int | str, dict[str, Any]] = {
    **_COMMON,
    401: {"description": "`staff.principal_required`, `staff.key_invalid`"},
    403: {
        "description": "`staff.not_permitted`, `staff.other_organisation`, "
        "`staff.separation_of_duties`, `procedures.role_not_allowed`"
    },
    409: {
        "description": "`procedures.action_not_allowed`, `procedures.not_claimed`, "
        "`procedures.already_claimed`, `procedures.not_a_task`, `procedures.version_conflict`"
    },
}

router = APIRouter(prefix="/api/v1/registration", tags=["procedures (registration)"])


def _b64url(text: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidEncoding(field) from None


def _service_summary(defn: definitions.ProcedureDef) -> ServiceSummary:
    return ServiceSummary(
        code=defn.code,
        title_ja=defn.title_ja,
        title_en=defn.title_en,
        sla_days=defn.sla_days,
        evidence_in=list(defn.evidence_in),
        evidence_out=list(defn.evidence_out),
    )


def _service_read(defn: definitions.ProcedureDef) -> ServiceRead:
    return ServiceRead(
        **_service_summary(defn).model_dump(),
        states=list(defn.states),
        initial=defn.initial,
        final_states=list(defn.final_states),
        fields=[
            FieldDefOut(
                name=f.name,
                label_ja=f.label_ja,
                label_en=f.label_en,
                kind=f.kind,
                required=f.required,
                readonly=f.readonly or f.prefill is not None,
                choices=list(f.choices),
                prefilled_from=None if f.prefill is None else f.prefill.registry_en,
            )
            for f in defn.fields
        ],
        actions=[
            ActionDefOut(
                name=a.name,
                label_ja=a.label_ja,
                label_en=a.label_en,
                from_states=list(a.from_states),
                to_state=a.to_state,
                role=a.role,
                signed=a.signed,
                needs_reason=a.needs_reason,
            )
            for a in defn.actions
        ],
    )


# --- services (public) ----------------------------------------------------------------------


@router.get(
    "/services",
    summary="The procedures offered online",
    dependencies=[Depends(public)],
)
def list_services() -> list[ServiceSummary]:
    """Every registered procedure with its service-level target and evidence."""
    return [_service_summary(d) for d in definitions.list_procedures()]


@router.get(
    "/services/{code}",
    summary="A procedure's definition",
    dependencies=[Depends(public)],
    responses={404: {"description": "`procedures.procedure_not_found`"}},
)
def get_service(code: Code) -> ServiceRead:
    """States, actions (who takes each), the form (which fields a registry prefills)."""
    return _service_read(definitions.get_procedure(code))


@router.get(
    "/services/{code}/prefill-report",
    summary="How the procedure's forms were filled",
    responses={
        401: {"description": "`staff.principal_required`, `staff.key_invalid`"},
        403: {"description": "`staff.not_permitted`"},
        404: {"description": "`procedures.procedure_not_found`"},
    },
)
def get_prefill_report(code: Code, session: DbSession, actor: Acting) -> PrefillReport:
    """Over the submitted applications: values typed, values prefilled from registries, and
    prefilled facts typed again (once-only keeps this at 0). No personal data."""
    authorize(session, actor, "procedures.report.read", organisation=actor.organisation)
    return prefill_report(session, code)


# --- applications (the applicant) -----------------------------------------------------------


def _own(session: DbSession, person_id: uuid.UUID, application_id: uuid.UUID) -> ApplicationRead:
    app = get_application(session, application_id)
    # Someone else's application is reported as absent, not as forbidden: its existence is
    # itself personal data.
    if app.applicant_id != person_id:
        raise ApplicationNotFound()
    return app


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    summary="Start an application",
    responses=_APPLICANT_ERRORS,
)
def start_application(
    data: ApplicationCreate, session: DbSession, person_id: Applicant
) -> ApplicationRead:
    """A draft for the signed-in resident; fields the registries hold are prefilled through
    the mesh, each with its source (registry, as of, message id)."""
    return do_start_application(
        session, data.service, applicant=person_id, actor=actor_of(person_id)
    )


@router.get("/applications", summary="My applications", responses=_APPLICANT_ERRORS)
def my_applications(
    session: DbSession,
    person_id: Applicant,
    state: Annotated[list[str] | None, Query(max_length=20)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> ApplicationPage:
    """The signed-in resident's applications (drafts included), most recently changed first."""
    return list_applications(session, applicant=person_id, states=state, limit=limit, offset=offset)


@router.get(
    "/applications/{application_id}",
    summary="One of my applications",
    responses=_APPLICANT_ERRORS,
)
def get_my_application(
    application_id: ApplicationId, session: DbSession, person_id: Applicant
) -> ApplicationRead:
    """Form with sources, state, journal and the timeline with the expected completion date."""
    return _own(session, person_id, application_id)


@router.patch(
    "/applications/{application_id}",
    summary="Save the draft",
    responses=_APPLICANT_ERRORS,
)
def save_draft(
    application_id: ApplicationId, data: DraftUpdate, session: DbSession, person_id: Applicant
) -> ApplicationRead:
    """Keep typed values; a prefilled field is refused (`procedures.prefilled_field`)."""
    _own(session, person_id, application_id)
    return do_save_draft(
        session,
        application_id,
        data.values,
        expected_version=data.expected_version,
        actor=actor_of(person_id),
    )


@router.get(
    "/applications/{application_id}/submission",
    summary="What the card signs",
    responses=_APPLICANT_ERRORS,
)
def submission(
    application_id: ApplicationId, session: DbSession, person_id: Applicant
) -> SubmissionRead:
    """`signed_data` commits to the SHA-256 of `document` (canonical JSON: keys sorted, no
    spaces, UTF-8) at this version: sign exactly what is shown."""
    app = _own(session, person_id, application_id)
    return SubmissionRead(
        version=app.version,
        signed_data=submission_payload(app).decode("ascii"),
        document=json.loads(submission_document(app)),
    )


@router.post(
    "/applications/{application_id}/submit",
    summary="Submit, signed with the card",
    responses=_APPLICANT_ERRORS,
)
def submit(
    application_id: ApplicationId,
    data: SubmissionCreate,
    session: DbSession,
    person_id: Applicant,
) -> ApplicationRead:
    """The signing certificate must be the applicant's and good now; certificate, signature,
    serial and revocation status are kept with the application."""
    _own(session, person_id, application_id)
    return do_submit(
        session,
        application_id,
        expected_version=data.expected_version,
        signing_certificate=_b64url(data.signing_certificate, "signing_certificate"),
        signature=_b64url(data.signature, "signature"),
        actor=actor_of(person_id),
    )


@router.post(
    "/applications/{application_id}/actions",
    summary="Take an applicant's action",
    responses=_APPLICANT_ERRORS,
)
def applicant_action(
    application_id: ApplicationId,
    data: ApplicantAction,
    session: DbSession,
    person_id: Applicant,
) -> ApplicationRead:
    """For example withdraw a draft. Signed actions go through `/submit`."""
    _own(session, person_id, application_id)
    return do_take_action(
        session,
        application_id,
        data.action,
        role="applicant",
        actor=actor_of(person_id),
        expected_version=data.expected_version,
        reason=data.reason,
    )


# --- tasks (officials) ----------------------------------------------------------------------


def _task(
    session: DbSession, actor: Principal, application_id: uuid.UUID, action: str
) -> ApplicationRead:
    """The application, once the policy allowed ``action`` on it in its office."""
    app = get_application(session, application_id)
    authorize(
        session,
        actor,
        action,
        organisation=app.office or "",
        resource=definitions.task_resource(app),
    )
    return app


@router.get("/tasks", summary="The task queue", responses=_OFFICIAL_ERRORS)
def tasks(
    session: DbSession,
    actor: Acting,
    office: Annotated[
        str | None,
        Query(pattern=r"^\d{6}$", description="lg_code of the office (default: the caller's)"),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ApplicationPage:
    """Applications waiting for an official of the office, oldest first."""
    office = office or actor.organisation
    authorize(session, actor, "procedures.tasks.read", organisation=office)
    # A role held in one department sees that department's tasks.
    return list_tasks(
        session, office=office, departments=actor.departments, limit=limit, offset=offset
    )


@router.get("/tasks/{application_id}", summary="A task's application", responses=_OFFICIAL_ERRORS)
def get_task(application_id: ApplicationId, session: DbSession, actor: Acting) -> ApplicationRead:
    """The application with its journal and signature, as the office sees it."""
    return _task(session, actor, application_id, "procedures.tasks.read")


@router.post("/tasks/{application_id}/claim", summary="Claim a task", responses=_OFFICIAL_ERRORS)
def claim(
    application_id: ApplicationId, data: TaskClaim, session: DbSession, actor: Acting
) -> ApplicationRead:
    """Only the official holding the claim may act on the task."""
    _task(session, actor, application_id, "procedures.tasks.claim")
    return do_claim_task(
        session, application_id, official=actor.actor, expected_version=data.expected_version
    )


@router.post(
    "/tasks/{application_id}/release", summary="Release a task", responses=_OFFICIAL_ERRORS
)
def release(
    application_id: ApplicationId, data: TaskClaim, session: DbSession, actor: Acting
) -> ApplicationRead:
    """Give the task back to the queue."""
    _task(session, actor, application_id, "procedures.tasks.claim")
    return do_release_task(
        session, application_id, official=actor.actor, expected_version=data.expected_version
    )


@router.post(
    "/tasks/{application_id}/complete",
    summary="Complete a task (take an official's action)",
    responses=_OFFICIAL_ERRORS,
)
def complete(
    application_id: ApplicationId, data: TaskComplete, session: DbSession, actor: Acting
) -> ApplicationRead:
    """Approve, send back with a reason, … — whatever the procedure lets an official do now.
    The official must hold the claim and name the version they read; they may not act on
    their own application, nor after a step the definition keeps apart from this one."""
    app = get_application(session, application_id)
    authorize(
        session,
        actor,
        f"procedures.{app.code}.{data.action}",
        organisation=app.office or "",
        resource=definitions.task_resource(app, data.action),
    )
    return do_take_action(
        session,
        application_id,
        data.action,
        role="official",
        actor=actor.actor,
        expected_version=data.expected_version,
        reason=data.reason,
        data=data.data,
    )
