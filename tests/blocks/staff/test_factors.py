"""Officials' second factors: WebAuthn registration and assertions checked against challenge,
origin, counter and owner; TOTP confirmed by a first code, each code accepted once; the secret
kept encrypted; and the policy's step-up refusing a session opened with TOTP."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import staff
from kiban.blocks.staff.models import StaffTotpSecret, StaffWebAuthnCredential
from kiban.kernel import clock
from kiban.platform.models import AuditEntry
from tests.staff_support import make_official

from .authenticator import SoftAuthenticator, b64

ORG = "131016"


@pytest.fixture
def official(session: Session) -> staff.Principal:
    return make_official(session, ORG, "administrator", name="千代田　管理")


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    _, origin = staff.relying_party()
    return SoftAuthenticator(origin)


def _enrol(session: Session, official: staff.Principal, key: SoftAuthenticator) -> None:
    options = staff.start_webauthn_registration(session, official.account_id, binding="s1")
    staff.do_add_webauthn_credential(
        session,
        official.account_id,
        binding="s1",
        name="青いキー",
        credential=key.create(options),
        actor="t",
    )


def _reason(error: pytest.ExceptionInfo[staff.FactorInvalid]) -> str:
    return error.value.reason


def test_a_key_enrolled_signs_in_and_its_counter_moves_on(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    _enrol(session, official, authenticator)
    listed = staff.list_webauthn_credentials(session, official.account_id)
    assert [c.name for c in listed] == ["青いキー"]
    assert staff.has_second_factor(session, official.account_id)

    options = staff.start_webauthn_authentication(
        session, binding="flow-a", account_id=official.account_id
    )
    signer = staff.verify_webauthn_assertion(
        session, binding="flow-a", credential=authenticator.get(options)
    )
    assert signer == official.account_id
    row = session.scalars(select(StaffWebAuthnCredential)).one()
    assert row.sign_count == authenticator.credentials[0].counter == 2
    assert row.last_used_at is not None
    tags = set(session.scalars(select(AuditEntry.tag)))
    assert "staff:factor:webauthn_added" in tags


def test_a_passkey_names_its_account_without_an_account_id(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    _enrol(session, official, authenticator)
    options = staff.start_webauthn_authentication(session, binding="flow-b", account_id=None)
    assert '"allowCredentials": []' in options
    signer = staff.verify_webauthn_assertion(
        session, binding="flow-b", credential=authenticator.get(options)
    )
    assert signer == official.account_id


def test_an_answer_to_another_challenge_is_refused(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    _enrol(session, official, authenticator)
    options = staff.start_webauthn_authentication(
        session, binding="flow-c", account_id=official.account_id
    )
    forged = authenticator.get(options, challenge=b64(b"x" * 32))
    with pytest.raises(staff.FactorInvalid) as refused:
        staff.verify_webauthn_assertion(session, binding="flow-c", credential=forged)
    assert _reason(refused) == "assertion_invalid"


def test_a_challenge_answers_once_and_only_in_its_browser(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    _enrol(session, official, authenticator)
    options = staff.start_webauthn_authentication(
        session, binding="flow-d", account_id=official.account_id
    )
    answer = authenticator.get(options)
    with pytest.raises(staff.FactorInvalid) as other_browser:
        staff.verify_webauthn_assertion(session, binding="flow-other", credential=answer)
    assert _reason(other_browser) == "challenge_unknown"
    staff.verify_webauthn_assertion(session, binding="flow-d", credential=answer)
    with pytest.raises(staff.FactorInvalid) as again:
        staff.verify_webauthn_assertion(session, binding="flow-d", credential=answer)
    assert _reason(again) == "challenge_unknown"


def test_an_expired_challenge_is_refused(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    _enrol(session, official, authenticator)
    options = staff.start_webauthn_authentication(
        session, binding="flow-e", account_id=official.account_id
    )
    answer = authenticator.get(options)
    later = clock.travel(timedelta(minutes=5, seconds=1))  # Challenges live five minutes.
    with later, pytest.raises(staff.FactorInvalid) as refused:
        staff.verify_webauthn_assertion(session, binding="flow-e", credential=answer)
    assert _reason(refused) == "challenge_expired"


def test_an_answer_made_for_another_origin_is_refused(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    _enrol(session, official, authenticator)
    options = staff.start_webauthn_authentication(
        session, binding="flow-f", account_id=official.account_id
    )
    phished = authenticator.get(options, origin="https://kiban.example.evil")
    with pytest.raises(staff.FactorInvalid) as refused:
        staff.verify_webauthn_assertion(session, binding="flow-f", credential=phished)
    assert _reason(refused) == "assertion_invalid"


def test_a_registration_for_another_origin_is_refused(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    options = staff.start_webauthn_registration(session, official.account_id, binding="s2")
    with pytest.raises(staff.FactorInvalid) as refused:
        staff.do_add_webauthn_credential(
            session,
            official.account_id,
            binding="s2",
            name="key",
            credential=authenticator.create(options, origin="https://evil.example"),
            actor="t",
        )
    assert _reason(refused) == "registration_invalid"
    assert staff.list_webauthn_credentials(session, official.account_id) == []


def test_a_counter_that_does_not_move_on_betrays_a_cloned_key(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    _enrol(session, official, authenticator)
    key = authenticator.credentials[0]
    options = staff.start_webauthn_authentication(
        session, binding="flow-g", account_id=official.account_id
    )
    staff.verify_webauthn_assertion(
        session, binding="flow-g", credential=authenticator.get(options)
    )
    key.counter -= 1  # The clone signs with the counter the original had before.
    options = staff.start_webauthn_authentication(
        session, binding="flow-g", account_id=official.account_id
    )
    with pytest.raises(staff.FactorInvalid) as refused:
        staff.verify_webauthn_assertion(
            session, binding="flow-g", credential=authenticator.get(options)
        )
    assert _reason(refused) == "assertion_invalid"


def test_an_unknown_credential_and_another_accounts_key_are_refused(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    _enrol(session, official, authenticator)
    stranger = SoftAuthenticator(authenticator.origin)
    other_options = staff.start_webauthn_registration(session, official.account_id, binding="x")
    stranger.create(other_options)  # Made, but never posted: kiban does not know it.
    options = staff.start_webauthn_authentication(
        session, binding="flow-h", account_id=official.account_id
    )
    with pytest.raises(staff.FactorInvalid) as unknown:
        staff.verify_webauthn_assertion(
            session,
            binding="flow-h",
            credential=stranger.get(options, credential=stranger.credentials[0]),
        )
    assert _reason(unknown) == "credential_unknown"

    colleague = make_official(session, ORG, "counter", name="千代田　窓口")
    options = staff.start_webauthn_authentication(
        session, binding="flow-i", account_id=colleague.account_id
    )
    with pytest.raises(staff.FactorInvalid) as foreign:
        staff.verify_webauthn_assertion(
            session,
            binding="flow-i",
            credential=authenticator.get(options, credential=authenticator.credentials[0]),
        )
    assert _reason(foreign) == "credential_other_account"


def test_a_removed_key_signs_in_no_more(
    session: Session, official: staff.Principal, authenticator: SoftAuthenticator
) -> None:
    _enrol(session, official, authenticator)
    (listed,) = staff.list_webauthn_credentials(session, official.account_id)
    staff.do_remove_webauthn_credential(session, official.account_id, listed.id, actor="t")
    options = staff.start_webauthn_authentication(session, binding="flow-j", account_id=None)
    with pytest.raises(staff.FactorInvalid):
        staff.verify_webauthn_assertion(
            session,
            binding="flow-j",
            credential=authenticator.get(options, credential=authenticator.credentials[0]),
        )


def _code(secret: str, at_offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=at_offset))


def test_totp_is_active_only_after_a_first_right_code(
    session: Session, official: staff.Principal
) -> None:
    enrolment = staff.do_start_totp(session, official.account_id, actor="t")
    assert enrolment.uri.startswith("otpauth://totp/")
    assert staff.totp_status(session, official.account_id) == "pending"
    with pytest.raises(staff.FactorInvalid) as not_yet:
        staff.check_totp(session, official.account_id, _code(enrolment.secret))
    assert _reason(not_yet) == "totp_none"
    wrong = "000000" if _code(enrolment.secret) != "000000" else "111111"
    with pytest.raises(staff.FactorInvalid) as refused:
        staff.do_confirm_totp(session, official.account_id, wrong, actor="t")
    assert _reason(refused) == "totp_wrong"
    staff.do_confirm_totp(session, official.account_id, _code(enrolment.secret), actor="t")
    assert staff.totp_status(session, official.account_id) == "active"
    # The secret is kept encrypted: its text is nowhere in the row or the audit log.
    row = session.scalars(select(StaffTotpSecret)).one()
    assert enrolment.secret not in row.secret_encrypted
    audit_text = " ".join(str(e.data) for e in session.scalars(select(AuditEntry)))
    assert enrolment.secret not in audit_text


def test_a_totp_code_is_accepted_once(session: Session, official: staff.Principal) -> None:
    enrolment = staff.do_start_totp(session, official.account_id, actor="t")
    staff.do_confirm_totp(session, official.account_id, _code(enrolment.secret, -30), actor="t")
    code = _code(enrolment.secret)
    staff.check_totp(session, official.account_id, code)
    with pytest.raises(staff.FactorInvalid) as replayed:
        staff.check_totp(session, official.account_id, code)
    assert _reason(replayed) == "totp_reused"
    # An older code (the previous step, still within the drift allowed) is refused too.
    with pytest.raises(staff.FactorInvalid) as older:
        staff.check_totp(session, official.account_id, _code(enrolment.secret, -30))
    assert _reason(older) in {"totp_reused", "totp_wrong"}
    with pytest.raises(staff.FactorInvalid) as wrong:
        staff.check_totp(session, official.account_id, "12345x")
    assert _reason(wrong) == "totp_wrong"


def test_totp_cannot_be_replaced_while_active(session: Session, official: staff.Principal) -> None:
    enrolment = staff.do_start_totp(session, official.account_id, actor="t")
    staff.do_confirm_totp(session, official.account_id, _code(enrolment.secret), actor="t")
    with pytest.raises(staff.FactorConflict):
        staff.do_start_totp(session, official.account_id, actor="t")
    staff.do_remove_totp(session, official.account_id, actor="t")
    assert staff.totp_status(session, official.account_id) == "none"


def test_step_up_accepts_the_card_or_a_key_but_not_totp(
    session: Session, official: staff.Principal
) -> None:
    def acting(method: str) -> staff.Principal:
        principal = staff.principal_for(
            session,
            official.account_id,
            organisation=ORG,
            role="administrator",
            session_id=uuid.uuid4(),
            authenticated_at=clock.now(),
            authenticated_with=method,
        )
        assert principal is not None
        return principal

    for method in ("card", "webauthn"):
        staff.authorize(session, acting(method), "staff.manage", organisation=ORG)
    with pytest.raises(staff.StepUpRequired):
        staff.authorize(session, acting("totp"), "staff.manage", organisation=ORG)
    # An ordinary action is open to a TOTP session.
    staff.authorize(session, acting("totp"), "staff.read", organisation=ORG)
