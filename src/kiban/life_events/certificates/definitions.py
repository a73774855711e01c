"""住民票の写しの交付 as a procedure definition with a fee, and the gate that keeps an unpaid
request from being submitted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import mesh, notifications, payments, procedures, residents

RESIDENCE_CERTIFICATE: Final = "residence_certificate"
ISSUED_NOTICE: Final = "certificates.residence_certificate_issued"
RECEIVED_NOTICE: Final = "certificates.residence_certificate_received"
FEE: Final = procedures.FeeDef(
    amount=300,
    label_ja="住民票の写し 1通",
    label_en="Certificate of residence, 1 copy",
    legal_basis="地方自治法第227条（手数料条例）",
)

_REGISTER_JA: Final = "住民基本台帳"
_REGISTER_EN: Final = "Resident register"


def _register(item: str) -> procedures.PrefillSource:
    return procedures.PrefillSource(mesh.BASIC_FOUR_SERVICE, item, _REGISTER_JA, _REGISTER_EN)


def _received(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    """The reference number the receipt and the notice give."""
    del session, action
    return {"reference": procedures.reference_of(app.id)}


def _issue(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    """The register issues the certificate (audited there); its number is the output."""
    certificate = residents.issue_certificate(session, app.applicant_id, actor=action.actor)
    return {
        "certificate_id": str(certificate.certificate_id),
        "certificate_issued_at": certificate.issued_at.isoformat(),
        "issuer": certificate.issuer,
        "reference": procedures.reference_of(app.id),
    }


RESIDENCE_CERTIFICATE_DEF: Final = procedures.ProcedureDef(
    code=RESIDENCE_CERTIFICATE,
    title_ja="住民票の写しの交付請求",
    title_en="Request for a certificate of residence",
    states=("draft", "submitted", "issued", "withdrawn"),
    initial="draft",
    final_states=("issued", "withdrawn"),
    actions=(
        procedures.ActionDef(
            "submit",
            "支払って署名・提出",
            "Pay, sign and submit",
            ("draft",),
            "submitted",
            "applicant",
            signed=True,
            notify=RECEIVED_NOTICE,
        ),
        procedures.ActionDef(
            "withdraw", "取り下げ", "Withdraw", ("draft",), "withdrawn", "applicant"
        ),
        procedures.ActionDef(
            "issue",
            "交付",
            "Issue",
            ("submitted",),
            "issued",
            "official",
            notify=ISSUED_NOTICE,
        ),
    ),
    fields=(
        procedures.FieldDef("name", "氏名", "Name", "text", prefill=_register("name")),
        procedures.FieldDef(
            "birth_date", "生年月日", "Date of birth", "date", prefill=_register("birth_date")
        ),
        procedures.FieldDef("address", "住所", "Address", "address", prefill=_register("address")),
        procedures.FieldDef(
            "lg_code", "市区町村コード", "Municipality code", "text", prefill=_register("lg_code")
        ),
    ),
    evidence_in=("resident_record", "signing_certificate"),
    evidence_out=("residence_certificate",),
    sla_days=1,
    effects={"submit": _received, "issue": _issue},
    office_of=lambda app: str(app.values.get("lg_code") or ""),
    department="citizens",
    fee=FEE,
)


def fee_gate(session: Session, app: procedures.ApplicationRead) -> bool:
    """Whether the application's fee is paid (and not refunded in full), as payments knows."""
    return payments.fee_paid(session, app.id)


def start_fee(
    session: Session, app: procedures.ApplicationRead, *, return_url: str, actor: str
) -> payments.FeeRead:
    """A payment intent for ``app``'s fee (``payments.fee_already_paid`` once paid)."""
    fee = procedures.get_procedure(app.code).fee
    if fee is None:
        raise ValueError(f"{app.code} charges no fee")
    return payments.do_start_fee(
        session,
        application_id=app.id,
        procedure=app.code,
        office=str(app.values.get("lg_code") or app.office or ""),
        person_id=app.applicant_id,
        amount=fee.amount,
        description=fee.label_ja,
        return_url=return_url,
        actor=actor,
    )


def register() -> None:
    """Register the procedure, its notice and the fee gate (idempotent)."""
    notifications.register_template(
        ISSUED_NOTICE,
        subject_ja="住民票の写しを交付しました（受付番号 {reference}）",
        subject_en="Your certificate of residence was issued (reference {reference})",
        body_ja="{issuer}が住民票の写しを交付しました。マイページの手続から確認できます。",
        body_en=(
            "{issuer} issued your certificate of residence. You can see it under Procedures "
            "on My page."
        ),
        params={"reference": str, "issuer": str},
    )
    notifications.register_template(
        RECEIVED_NOTICE,
        subject_ja="住民票の写しの交付請求を受け付けました（受付番号 {reference}）",
        subject_en="Your certificate request was received (reference {reference})",
        body_ja=(
            "手数料のお支払いと電子署名を確認し、請求を受け付けました。受付番号: {reference}\n"
            "次に: 窓口が交付し、お知らせでお伝えします。"
        ),
        body_en=(
            "We received your request with the fee paid and your card's signature. "
            "Reference: {reference}\nNext: the office issues it and tells you here."
        ),
        params={"reference": str},
    )
    procedures.register_fee_gate(fee_gate)
    procedures.register_procedure(RESIDENCE_CERTIFICATE_DEF)
