"""Submission: the document the applicant is shown and signs with the card's signing
certificate, and the signed action that submits it."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Final

from sqlalchemy.orm import Session

from kiban.blocks import identity
from kiban.blocks.procedures.actions import check_applicant, take
from kiban.blocks.procedures.definitions import get_procedure, require_fee_paid
from kiban.blocks.procedures.errors import ActionNotAllowed, SignerNotApplicant, VersionConflict
from kiban.blocks.procedures.journal import canonical
from kiban.blocks.procedures.reads import get_row, read
from kiban.blocks.procedures.schemas import ApplicationRead
from kiban.blocks.procedures.values import check_complete
from kiban.kernel import clock
from kiban.platform import audit

SIGNED_PREFIX: Final = "kiban-procedure-submission."


def submission_document(app: ApplicationRead) -> bytes:
    """The canonical JSON of what the applicant is shown and signs: the procedure, the
    application and its version, and every field with its label, value and source."""
    document = {
        "procedure": app.code,
        "title_ja": app.title_ja,
        "title_en": app.title_en,
        "application_id": str(app.id),
        "applicant_id": str(app.applicant_id),
        "version": app.version,
        "fields": [
            {
                "name": f.name,
                "label_ja": f.label_ja,
                "label_en": f.label_en,
                "value": f.value,
                "source": None
                if f.source is None
                else {
                    "registry_ja": f.source.registry_ja,
                    "as_of": audit.format_instant(f.source.as_of),
                    "message_id": f.source.message_id,
                },
            }
            for f in app.fields
        ],
    }
    return canonical(document)


def submission_payload(app: ApplicationRead) -> bytes:
    """The bytes the card's signing key signs: ``kiban-procedure-submission.`` followed by
    base64url (no padding) of SHA-256 of :func:`submission_document`.

    ASCII and URL-safe, so the card reader's challenge signing accepts it as it is; the hash
    binds the signature to exactly the document shown (at this version).
    """
    digest = hashlib.sha256(submission_document(app)).digest()
    return (SIGNED_PREFIX + _b64url(digest)).encode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def do_submit(
    session: Session,
    application_id: uuid.UUID,
    *,
    expected_version: int,
    signing_certificate: bytes,
    signature: bytes,
    actor: str,
) -> ApplicationRead:
    """Submit (take the definition's signed applicant action from the current state).

    Every field is checked (``procedures.field_required`` / ``invalid_value`` / the
    definition's own codes, naming the field); the signature over :func:`submission_payload`
    is verified with the card's signing certificate (``identity.certificate_*``,
    ``identity.signature_invalid``), which must belong to the applicant
    (``procedures.signer_not_applicant``). The certificate, signature, serial and revocation
    status at signing time are kept with the application.
    """
    row = get_row(session, application_id)
    defn = get_procedure(row.code)
    check_applicant(row, actor)
    action = next(
        (a for a in defn.actions_from(row.state) if a.signed and a.role == "applicant"), None
    )
    if action is None:
        raise ActionNotAllowed("submit", row.state)
    if row.version != expected_version:
        raise VersionConflict(expected_version, row.version)
    check_complete(session, defn, row.values)
    app = read(session, row)
    require_fee_paid(session, app)
    payload = submission_payload(app)
    document = submission_document(app)
    verified = identity.verify_signature(
        session, signing_certificate, payload, signature, kind=identity.CertificateKind.SIGNING
    )
    if verified.person_id != row.applicant_id:
        raise SignerNotApplicant()
    evidence = {
        "certificate_der": _b64url(signing_certificate),
        "signature": _b64url(signature),
        "signed_data": payload.decode("ascii"),
        "document_sha256": hashlib.sha256(document).hexdigest(),
        "serial": verified.serial,
        "card_id": str(verified.card_id),
        # verify_signature refuses revoked and expired certificates, so one that passed was
        # good at this instant; the instant is kept to match it against the CRL later.
        "revocation_status": "good",
        "checked_at": audit.format_instant(clock.now()),
    }
    return take(
        session,
        row,
        defn,
        action,
        role="applicant",
        actor=actor,
        expected_version=expected_version,
        extra={"signature": evidence},
        changes={"signature": evidence},
    )
