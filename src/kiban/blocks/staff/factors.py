"""Officials' second factors, for signing in where there is no card reader (ADR 0019).

- **WebAuthn** (security keys and passkeys, py_webauthn on the server): an official signed in
  with the card enrols credentials, each with a name; signing in answers a challenge that was
  handed to one browser (bound to its office session for enrolment, to its sign-in flow cookie
  for signing in), used once and valid for five minutes. The relying party id is the host of
  the configured public base URL, the expected origin that URL's origin; a sign counter that
  does not go forward (a cloned key) is refused.
- **TOTP** (RFC 6238, 30-second steps, 6 digits, ``pyotp``) as the fallback: the secret is
  shown once, stored encrypted (AES-GCM under a key derived from the installation secret, the
  account id as associated data), active only once a first code confirms it, and a code's
  time step is accepted at most once (``last_step``).

Every ``do_*`` writes its row, a step of the account's history and an audit entry
(``staff:factor:*``) in the caller's transaction. :func:`verify_webauthn_assertion` and
:func:`check_totp` raise :class:`~kiban.blocks.staff.errors.FactorInvalid` with a ``reason``
the caller records (the sign-in audits its success and failure itself).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import pyotp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from kiban.blocks.staff.errors import AccountNotFound, FactorConflict, FactorInvalid, InvalidInput
from kiban.blocks.staff.models import (
    StaffAccount,
    StaffAccountEvent,
    StaffFactorChallenge,
    StaffTotpSecret,
    StaffWebAuthnCredential,
)
from kiban.kernel import clock
from kiban.platform import audit
from kiban.platform.settings import get_settings

__all__ = [
    "CHALLENGE_TTL",
    "TOTP_ISSUER",
    "TotpEnrolment",
    "WebAuthnCredentialRead",
    "binding_of",
    "check_totp",
    "do_add_webauthn_credential",
    "do_confirm_totp",
    "do_remove_totp",
    "do_remove_webauthn_credential",
    "do_start_totp",
    "has_second_factor",
    "list_webauthn_credentials",
    "parse_credential",
    "relying_party",
    "start_webauthn_authentication",
    "start_webauthn_registration",
    "totp_status",
    "verify_webauthn_assertion",
]

CHALLENGE_TTL: Final = timedelta(minutes=5)
TOTP_ISSUER: Final = "Kiban"
MAX_NAME: Final = 100
_KEY_INFO: Final = b"kiban.staff.totp.v1"
_TOTP_STEP: Final = 30
_RP_NAME: Final = "Kiban"


@dataclass(frozen=True)
class WebAuthnCredentialRead:
    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class TotpEnrolment:
    """A TOTP secret being enrolled: shown once (as text and as a QR code of ``uri``)."""

    secret: str
    uri: str


def relying_party() -> tuple[str, str]:
    """(RP id, origin) from the configured public base URL: its host, and its origin."""
    parts = urlsplit(get_settings().base_url)
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def binding_of(value: str) -> str:
    """What a challenge row keeps of the value it is bound to (session id or flow secret)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _account(session: Session, account_id: uuid.UUID) -> StaffAccount:
    row = session.get(StaffAccount, account_id)
    if row is None:
        raise AccountNotFound
    return row


def _step(session: Session, account_id: uuid.UUID, action: str, actor: str, **data: Any) -> None:
    session.add(StaffAccountEvent(account_id=account_id, action=action, actor=actor, data=data))
    audit.record(
        session, tag=f"staff:factor:{action}", actor=actor, subject=str(account_id), data=data
    )


# --- challenges ---------------------------------------------------------------------------------


def _new_challenge(
    session: Session, *, purpose: str, binding: str, account_id: uuid.UUID | None
) -> bytes:
    now = clock.now()
    # Old challenges of this browser are dropped: only the newest may be answered.
    session.execute(
        delete(StaffFactorChallenge).where(
            (StaffFactorChallenge.binding == binding_of(binding))
            | (StaffFactorChallenge.expires_at < now - CHALLENGE_TTL)
        )
    )
    challenge = secrets.token_bytes(32)
    session.add(
        StaffFactorChallenge(
            purpose=purpose,
            binding=binding_of(binding),
            account_id=account_id,
            challenge=bytes_to_base64url(challenge),
            expires_at=now + CHALLENGE_TTL,
        )
    )
    session.flush()
    return challenge


def _take_challenge(session: Session, *, purpose: str, binding: str) -> StaffFactorChallenge:
    """The live challenge handed to this browser for ``purpose``, marked used."""
    row = session.scalar(
        select(StaffFactorChallenge)
        .where(
            StaffFactorChallenge.binding == binding_of(binding),
            StaffFactorChallenge.purpose == purpose,
        )
        .order_by(StaffFactorChallenge.created_at.desc())
        .limit(1)
    )
    if row is None or row.used_at is not None:
        raise FactorInvalid("challenge_unknown")
    if row.expires_at <= clock.now():
        raise FactorInvalid("challenge_expired")
    row.used_at = clock.now()
    session.flush()
    return row


# --- WebAuthn -----------------------------------------------------------------------------------


def _credential_rows(session: Session, account_id: uuid.UUID) -> list[StaffWebAuthnCredential]:
    return list(
        session.scalars(
            select(StaffWebAuthnCredential)
            .where(StaffWebAuthnCredential.account_id == account_id)
            .order_by(StaffWebAuthnCredential.created_at)
        )
    )


def _transports(names: list[Any]) -> list[AuthenticatorTransport]:
    known = {t.value: t for t in AuthenticatorTransport}
    return [known[n] for n in names if isinstance(n, str) and n in known]


def list_webauthn_credentials(
    session: Session, account_id: uuid.UUID
) -> list[WebAuthnCredentialRead]:
    """The account's WebAuthn credentials, oldest first."""
    return [
        WebAuthnCredentialRead(row.id, row.name, row.created_at, row.last_used_at)
        for row in _credential_rows(session, account_id)
    ]


def start_webauthn_registration(session: Session, account_id: uuid.UUID, *, binding: str) -> str:
    """The creation options (JSON) for a new credential of the account; the challenge is bound
    to ``binding`` (the office session's id). Credentials already enrolled are excluded."""
    account = _account(session, account_id)
    rp_id, _ = relying_party()
    challenge = _new_challenge(session, purpose="register", binding=binding, account_id=account.id)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=_RP_NAME,
        user_id=account.id.bytes,
        user_name=str(account.id),
        user_display_name=account.name,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(row.credential_id), transports=_transports(row.transports)
            )
            for row in _credential_rows(session, account.id)
        ],
    )
    return options_to_json(options)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME or not cleaned.isprintable():
        raise InvalidInput(
            f"名前は1〜{MAX_NAME}文字で入力してください。",
            f"Give a name of 1 to {MAX_NAME} characters.",
            field="name",
        )
    return cleaned


def do_add_webauthn_credential(
    session: Session,
    account_id: uuid.UUID,
    *,
    binding: str,
    name: str,
    credential: dict[str, Any],
    actor: str,
) -> WebAuthnCredentialRead:
    """Verify the authenticator's answer to the registration challenge bound to ``binding``
    and store the credential under ``name``. Audited (``staff:factor:webauthn_added``)."""
    cleaned = _clean_name(name)
    challenge = _take_challenge(session, purpose="register", binding=binding)
    if challenge.account_id != account_id:
        raise FactorInvalid("challenge_other_account")
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge.challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise FactorInvalid("registration_invalid") from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.scalar(
        select(StaffWebAuthnCredential.id).where(
            StaffWebAuthnCredential.credential_id == credential_id
        )
    ):
        raise FactorInvalid("credential_exists")
    response = credential.get("response")
    transports = response.get("transports") if isinstance(response, dict) else None
    row = StaffWebAuthnCredential(
        account_id=account_id,
        credential_id=credential_id,
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        name=cleaned,
        transports=[t for t in transports or [] if isinstance(t, str)][:10],
    )
    session.add(row)
    session.flush()
    _step(session, account_id, "webauthn_added", actor, credential=str(row.id), name=cleaned)
    return WebAuthnCredentialRead(row.id, row.name, row.created_at, row.last_used_at)


def do_remove_webauthn_credential(
    session: Session, account_id: uuid.UUID, credential: uuid.UUID, *, actor: str
) -> None:
    """Remove one of the account's credentials (``staff:factor:webauthn_removed``)."""
    row = session.get(StaffWebAuthnCredential, credential)
    if row is None or row.account_id != account_id:
        raise InvalidInput(
            "そのセキュリティキーはありません。",
            "There is no such security key.",
            field="credential",
        )
    session.delete(row)
    session.flush()
    _step(session, account_id, "webauthn_removed", actor, credential=str(credential), name=row.name)


def start_webauthn_authentication(
    session: Session, *, binding: str, purpose: str = "sign_in", account_id: uuid.UUID | None
) -> str:
    """The request options (JSON) for signing in (or stepping up): with ``account_id`` only
    that account's credentials are allowed; without, a passkey on the device names its account
    (a discoverable credential). The challenge is bound to ``binding``."""
    rp_id, _ = relying_party()
    allowed: list[StaffWebAuthnCredential] = []
    if account_id is not None:
        allowed = _credential_rows(session, account_id)
    challenge = _new_challenge(session, purpose=purpose, binding=binding, account_id=account_id)
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        allow_credentials=[
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(row.credential_id), transports=_transports(row.transports)
            )
            for row in allowed
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


def verify_webauthn_assertion(
    session: Session, *, binding: str, credential: dict[str, Any], purpose: str = "sign_in"
) -> uuid.UUID:
    """Verify an assertion against the challenge bound to ``binding``; returns the account whose
    credential signed it and moves the credential's sign counter on. ``FactorInvalid`` with a
    reason: ``challenge_*``, ``credential_unknown``, ``credential_other_account``,
    ``assertion_invalid`` (wrong origin, RP, signature or a counter that did not go forward)."""
    challenge = _take_challenge(session, purpose=purpose, binding=binding)
    raw_id = credential.get("rawId") or credential.get("id")
    if not isinstance(raw_id, str) or len(raw_id) > 1400:
        raise FactorInvalid("credential_unknown")
    row = session.scalar(
        select(StaffWebAuthnCredential).where(StaffWebAuthnCredential.credential_id == raw_id)
    )
    if row is None:
        raise FactorInvalid("credential_unknown")
    if challenge.account_id is not None and row.account_id != challenge.account_id:
        raise FactorInvalid("credential_other_account")
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge.challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=base64url_to_bytes(row.public_key),
            credential_current_sign_count=row.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise FactorInvalid("assertion_invalid") from error
    row.sign_count = verified.new_sign_count
    row.last_used_at = clock.now()
    session.flush()
    return row.account_id


# --- TOTP ---------------------------------------------------------------------------------------


def _aead() -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
        get_settings().secret_key.encode("utf-8")
    )
    return AESGCM(key)


def _seal(account_id: uuid.UUID, secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = _aead().encrypt(nonce, secret.encode("ascii"), account_id.bytes)
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def _open(row: StaffTotpSecret) -> str:
    blob = base64.urlsafe_b64decode(row.secret_encrypted)
    return _aead().decrypt(blob[:12], blob[12:], row.account_id.bytes).decode("ascii")


def _totp_row(session: Session, account_id: uuid.UUID) -> StaffTotpSecret | None:
    return session.scalar(select(StaffTotpSecret).where(StaffTotpSecret.account_id == account_id))


def totp_status(session: Session, account_id: uuid.UUID) -> str:
    """``none``, ``pending`` (enrolment started, not confirmed) or ``active``."""
    row = _totp_row(session, account_id)
    if row is None:
        return "none"
    return "active" if row.confirmed_at is not None else "pending"


def has_second_factor(session: Session, account_id: uuid.UUID) -> bool:
    """Whether the account can sign in without a card (a credential or an active TOTP)."""
    return bool(_credential_rows(session, account_id)) or totp_status(session, account_id) == (
        "active"
    )


def do_start_totp(session: Session, account_id: uuid.UUID, *, actor: str) -> TotpEnrolment:
    """A new TOTP secret for the account (replacing one never confirmed), shown once; it signs
    nothing in until :func:`do_confirm_totp`. Refused while a confirmed one is active."""
    account = _account(session, account_id)
    row = _totp_row(session, account_id)
    if row is not None and row.confirmed_at is not None:
        raise FactorConflict(
            "認証アプリはすでに登録されています。先に削除してください。",
            "An authenticator app is already set up. Remove it first.",
        )
    secret = pyotp.random_base32()
    if row is None:
        row = StaffTotpSecret(account_id=account_id, secret_encrypted="", last_step=None)
        session.add(row)
    row.secret_encrypted = _seal(account_id, secret)
    row.created_at = clock.now()
    row.last_step = None
    session.flush()
    _step(session, account_id, "totp_started", actor)
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.name, issuer_name=TOTP_ISSUER)
    return TotpEnrolment(secret=secret, uri=uri)


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step (previous, current or next: clocks drift) whose code is ``code``."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=_TOTP_STEP)
    current = int(at.timestamp()) // _TOTP_STEP
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept(row: StaffTotpSecret, code: str) -> None:
    step = _matching_step(_open(row), code.strip(), clock.now())
    if step is None:
        raise FactorInvalid("totp_wrong")
    if row.last_step is not None and step <= row.last_step:
        raise FactorInvalid("totp_reused")
    row.last_step = step


def do_confirm_totp(session: Session, account_id: uuid.UUID, code: str, *, actor: str) -> None:
    """Activate the TOTP secret being enrolled with a first right code
    (``staff:factor:totp_confirmed``)."""
    row = _totp_row(session, account_id)
    if row is None or row.confirmed_at is not None:
        raise FactorConflict(
            "確認する認証アプリの登録がありません。",
            "There is no authenticator app waiting to be confirmed.",
        )
    _accept(row, code)
    row.confirmed_at = clock.now()
    session.flush()
    _step(session, account_id, "totp_confirmed", actor)


def check_totp(session: Session, account_id: uuid.UUID, code: str) -> None:
    """Accept ``code`` of the account's active TOTP once (``FactorInvalid``: ``totp_none``,
    ``totp_wrong``, ``totp_reused``). The caller throttles wrong codes."""
    row = _totp_row(session, account_id)
    if row is None or row.confirmed_at is None:
        raise FactorInvalid("totp_none")
    _accept(row, code)
    session.flush()


def do_remove_totp(session: Session, account_id: uuid.UUID, *, actor: str) -> None:
    """Remove the account's TOTP secret, active or not (``staff:factor:totp_removed``)."""
    row = _totp_row(session, account_id)
    if row is None:
        return
    session.delete(row)
    session.flush()
    _step(session, account_id, "totp_removed", actor)


def parse_credential(body: bytes) -> dict[str, Any]:
    """A WebAuthn credential posted as JSON (``FactorInvalid`` when it is not an object)."""
    try:
        value = json.loads(body)
    except ValueError as error:
        raise FactorInvalid("malformed") from error
    if not isinstance(value, dict):
        raise FactorInvalid("malformed")
    return value
