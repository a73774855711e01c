"""Procedures (手続): definitions as data, applications as a hash-chained action journal,
tasks for officials, and forms prefilled from the registries through the mesh.

A procedure is a :class:`ProcedureDef` registered with :func:`register_procedure`; the engine
has no code for any one procedure. An application's state is the fold of its journal
(:func:`fold`); the ``procedures_applications`` projection is kept with it in the same
transaction and :func:`verify_journal` checks both the chain and the projection. Every write
names the version it read (``expected_version``), so two officials cannot overwrite each other;
an official claims a task before acting on it. Submission is signed with the card's signing
certificate over :func:`submission_payload`. Actions with ``notify`` put a notice in the
applicant's inbox (kiban.blocks.notifications).

Error codes (kiban.blocks.procedures.errors): ``procedures.procedure_not_found`` (404),
``procedures.application_not_found`` (404), ``procedures.unknown_field``,
``procedures.prefilled_field``, ``procedures.readonly_field``, ``procedures.invalid_value``,
``procedures.field_required``, ``procedures.unknown_action``, ``procedures.reason_required``,
``procedures.signature_required`` (422), ``procedures.role_not_allowed``,
``procedures.not_applicant``, ``procedures.signer_not_applicant`` (403),
``procedures.action_not_allowed``, ``procedures.not_claimed``, ``procedures.already_claimed``,
``procedures.not_a_task``, ``procedures.version_conflict`` (409),
``procedures.prefill_unavailable`` (502), ``procedures.fee_unpaid`` (402, field ``fee``: the
procedure's fee is not paid; see :class:`FeeDef` and :func:`register_fee_gate`); and
identity's ``identity.certificate_*`` and ``identity.signature_invalid`` (401) from submission.
"""

from __future__ import annotations

from kiban.blocks.procedures.actions import (
    actor_of,
    check_action,
    do_take_action,
    notice_params,
)
from kiban.blocks.procedures.applications import (
    SUBSYSTEM,
    do_save_draft,
    do_start_application,
    household_member_id,
    register_procedures_member,
)
from kiban.blocks.procedures.definitions import (
    ROLES,
    SEND_BACK,
    SIGN_AND_SUBMIT,
    WITHDRAW,
    ActionDef,
    Effect,
    FeeDef,
    FeeGate,
    FieldDef,
    FieldKind,
    OfficeOf,
    PrefillSource,
    ProcedureDef,
    Role,
    Validator,
    excluded_actors,
    fee_paid,
    get_procedure,
    list_procedures,
    register_fee_gate,
    register_procedure,
    task_resource,
)
from kiban.blocks.procedures.events import TOPIC_PREFIX, audit_tag, topic
from kiban.blocks.procedures.journal import (
    fold,
)
from kiban.blocks.procedures.reads import (
    action_label,
    expected_completion,
    get_application,
    list_applications,
)
from kiban.blocks.procedures.reference import is_valid_reference, reference_of
from kiban.blocks.procedures.reports import (
    prefill_report,
    projection_of,
    verify_journal,
)
from kiban.blocks.procedures.schemas import (
    ActionRead,
    ApplicationPage,
    ApplicationRead,
    ApplicationSummary,
    FieldValueRead,
    JournalProblem,
    JournalReport,
    PrefillReport,
    SignatureRead,
    SourceRead,
    TimelineRead,
    TimelineStep,
)
from kiban.blocks.procedures.submission import (
    SIGNED_PREFIX,
    do_submit,
    submission_document,
    submission_payload,
)
from kiban.blocks.procedures.tasks import (
    do_claim_task,
    do_release_task,
    list_tasks,
)

__all__ = [
    "ROLES",
    "SEND_BACK",
    "SIGNED_PREFIX",
    "SIGN_AND_SUBMIT",
    "SUBSYSTEM",
    "TOPIC_PREFIX",
    "WITHDRAW",
    "ActionDef",
    "ActionRead",
    "ApplicationPage",
    "ApplicationRead",
    "ApplicationSummary",
    "Effect",
    "FeeDef",
    "FeeGate",
    "FieldDef",
    "FieldKind",
    "FieldValueRead",
    "JournalProblem",
    "JournalReport",
    "OfficeOf",
    "PrefillReport",
    "PrefillSource",
    "ProcedureDef",
    "Role",
    "SignatureRead",
    "SourceRead",
    "TimelineRead",
    "TimelineStep",
    "Validator",
    "action_label",
    "actor_of",
    "audit_tag",
    "check_action",
    "do_claim_task",
    "do_release_task",
    "do_save_draft",
    "do_start_application",
    "do_submit",
    "do_take_action",
    "excluded_actors",
    "expected_completion",
    "fee_paid",
    "fold",
    "get_application",
    "get_procedure",
    "household_member_id",
    "is_valid_reference",
    "list_applications",
    "list_procedures",
    "list_tasks",
    "notice_params",
    "prefill_report",
    "projection_of",
    "reference_of",
    "register_fee_gate",
    "register_procedure",
    "register_procedures_member",
    "submission_document",
    "submission_payload",
    "task_resource",
    "topic",
    "verify_journal",
]
