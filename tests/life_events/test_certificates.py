"""住民票の写しの交付 with its fee: the request cannot be submitted until the fee is paid, is
signed with the card once paid, and the counter's issue makes the register issue the
certificate, whose number the applicant is told."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from kiban.blocks import notifications, payments, procedures
from kiban.kernel.errors import KibanError
from kiban.life_events import certificates
from kiban.platform.db import transaction

from .journey import OLD_LG, act_as_official, build_family, sign_and_submit


def test_the_certificate_is_issued_once_the_fee_is_paid(engine: Engine, tmp_path: Path) -> None:
    certificates.register()
    provider = payments.local_provider()
    with transaction(engine) as session:
        family = build_family(session, tmp_path / "cards", consent_bank=False)
    applicant = family.applicant
    actor = procedures.actor_of(applicant.id)
    with transaction(engine) as session:
        draft = procedures.do_start_application(
            session, certificates.RESIDENCE_CERTIFICATE, applicant=applicant.id, actor=actor
        )
        assert draft.values["lg_code"] == OLD_LG
        # Unpaid: refused before the signature is even looked at, naming the fee.
        with pytest.raises(KibanError) as unpaid:
            sign_and_submit(session, family, draft)
        assert (unpaid.value.code, unpaid.value.field, unpaid.value.status) == (
            "procedures.fee_unpaid",
            "fee",
            402,
        )
        fee = certificates.start_fee(session, draft, return_url="http://127.0.0.1/r", actor=actor)
        assert (fee.amount, fee.office) == (300, OLD_LG)
    provider.confirm_card(
        fee.provider_id, number="4444333322221111", expiry="12/39", cvc="123", name="T"
    )
    with transaction(engine) as session:
        # Paid at the provider but not yet asked: still refused.
        assert not procedures.fee_paid(session, procedures.get_application(session, draft.id))
        payments.do_check_fee(session, fee.id, actor=actor)
        submitted = sign_and_submit(session, family, procedures.get_application(session, draft.id))
        assert submitted.state == "submitted"
        assert submitted.office == OLD_LG
        assert submitted.outputs["reference"] == procedures.reference_of(draft.id)
    with transaction(engine) as session:
        issued = act_as_official(session, draft.id, "issue", OLD_LG)
        assert issued.state == "issued"
        assert issued.outputs["certificate_id"]
        assert issued.outputs["issuer"]
        inbox = {n.template for n in notifications.list_inbox(session, applicant.id).items}
        assert {
            "certificates.residence_certificate_received",
            "certificates.residence_certificate_issued",
        } <= inbox


def test_the_office_cannot_issue_once_the_fee_is_refunded_in_full(
    engine: Engine, tmp_path: Path
) -> None:
    certificates.register()
    provider = payments.local_provider()
    with transaction(engine) as session:
        family = build_family(session, tmp_path / "cards", consent_bank=False)
    actor = procedures.actor_of(family.applicant.id)
    with transaction(engine) as session:
        draft = procedures.do_start_application(
            session, certificates.RESIDENCE_CERTIFICATE, applicant=family.applicant.id, actor=actor
        )
        fee = certificates.start_fee(session, draft, return_url="http://127.0.0.1/r", actor=actor)
    provider.confirm_card(
        fee.provider_id, number="4444333322221111", expiry="12/39", cvc="123", name="T"
    )
    with transaction(engine) as session:
        payments.do_check_fee(session, fee.id, actor=actor)
        sign_and_submit(session, family, procedures.get_application(session, draft.id))
        payments.do_refund_fee(
            session, fee.id, amount=300, reason="取下げ", reference="R", actor="staff:x@131016"
        )
    with transaction(engine) as session, pytest.raises(KibanError) as refused:
        act_as_official(session, draft.id, "issue", OLD_LG)
    assert refused.value.code == "procedures.fee_unpaid"
