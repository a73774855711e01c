"""Business accounts (GビズID-like): prime accounts, members, delegation.

A corporation's prime account (gBizID プライム) is applied for by its representative: the
representative's card signs the application with the signing key (after the signing PIN), the
signature and certificate are verified (chain, revocation, signature), and the certificate's
basic four are compared with the representative the commercial register records — the name
exactly (after folding width and spaces), the address at least to the town. The prime then
invites members (each invitation yields a one-time code, shown only on the prime's own portal
page, that the member redeems after signing in with their own card), removes them, and
delegates procedures to them. Relying parties read, with the ``business`` scope, only the
corporation and role (:func:`business_claims`); managing accounts needs the person's own
session at kiban.

Each ``do_*`` action checks everything first (nothing is written on a refusal), then writes,
appends an audit entry and queues an ``identity.business_account_*`` event, all in the
caller's transaction. Services never commit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiban.blocks import address, corporations
from kiban.blocks.identity import service as cards
from kiban.blocks.identity.business_errors import (
    AccountExists,
    AccountNotActive,
    AccountNotFound,
    AlreadyDelegated,
    ApplicationInvalid,
    CorporationClosed,
    DelegationNotFound,
    InvitationExpired,
    InvitationInvalid,
    NonceReused,
    NotCertificateHolder,
    PrimeExists,
    PrimeRequired,
    RepresentativeMismatch,
)
from kiban.blocks.identity.business_models import (
    AccountStatus,
    AccountType,
    BusinessAccount,
    BusinessApplication,
    BusinessDelegation,
)
from kiban.blocks.identity.business_schemas import (
    BusinessAccountRead,
    MemberInvite,
    MemberInvited,
    PrimeApplicationContent,
    PrimeApplicationCreate,
)
from kiban.blocks.identity.models import CertificateKind
from kiban.blocks.identity.schemas import VerifiedCertificate
from kiban.kernel import clock
from kiban.platform import audit, events

ACCOUNT_CREATED: Final = "identity.business_account_created"
"""A prime account was verified and created: ``{account_id, corporation_id, corporate_number,
account_type, person_id}``."""
ACCOUNT_INVITED: Final = "identity.business_account_invited"
"""The prime invited a member: ``{account_id, corporation_id, corporate_number, invited_by}``."""
ACCOUNT_ACTIVATED: Final = "identity.business_account_activated"
"""A member redeemed an invitation: ``{account_id, corporation_id, corporate_number,
person_id}``."""
ACCOUNT_REMOVED: Final = "identity.business_account_removed"
"""The prime removed a member: ``{account_id, corporation_id, corporate_number, removed_by}``."""
ACCOUNT_DELEGATED: Final = "identity.business_account_delegated"
"""The prime delegated a procedure: ``{account_id, corporate_number, procedure_code}``."""
ACCOUNT_DELEGATION_REVOKED: Final = "identity.business_account_delegation_revoked"
"""The prime revoked a delegation: ``{account_id, corporate_number, procedure_code}``."""

AUDIT_SOURCE: Final = "identity"
# How far the card's signing time may be from the server's clock, either way.
APPLICATION_WINDOW: Final = timedelta(minutes=10)
INVITATION_LIFETIME: Final = timedelta(days=7)
CHALLENGE_PREFIX: Final = "kiban-business-prime."
# Characters that may follow a town name in an address: a chome or block number, in digits or
# kanji, or 字/番地. Anything else means the address names a different, longer town.
_AFTER_TOWN: Final = frozenset("0123456789一二三四五六七八九十字番")


# --- the signed application ----------------------------------------------------------------------


def canonical_application(application: PrimeApplicationContent) -> bytes:
    """The application as canonical JSON: keys sorted, no insignificant whitespace, UTF-8
    without escapes."""
    return json.dumps(
        application.model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def prime_application_challenge(application: PrimeApplicationContent) -> str:
    """What the card reader signs for a prime application: ``kiban-business-prime.`` followed
    by the base64url SHA-256 of :func:`canonical_application`. A challenge of URL-safe
    characters, like a sign-in's, so the reader that signs sign-ins signs this too; the hash
    commits the signature to every field of the application."""
    digest = hashlib.sha256(canonical_application(application)).digest()
    return CHALLENGE_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def prime_application_bytes(application: PrimeApplicationContent) -> bytes:
    """The bytes the representative's signing key signs: the UTF-8 (ASCII) bytes of
    :func:`prime_application_challenge`."""
    return prime_application_challenge(application).encode("ascii")


def _b64url(value: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ApplicationInvalid(
            "base64url として読めません。", "The value is not valid base64url.", field=field
        ) from None


def _certificate_der(value: str) -> bytes:
    """The DER of a certificate given as PEM or as base64url DER."""
    if value.lstrip().startswith("-----BEGIN"):
        try:
            certificate = x509.load_pem_x509_certificate(value.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ApplicationInvalid(
                "証明書を読み取れません。", "The certificate cannot be read.", field="certificate"
            ) from None
        return certificate.public_bytes(serialization.Encoding.DER)
    return _b64url(value, "certificate")


def fold(text: str) -> str:
    """``text`` for comparison: NFKC (full-width letters and digits become ASCII) without any
    whitespace, so ``山田　花子`` and ``山田 花子`` compare equal."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _same_town(certificate_address: str, town: address.TownRead) -> bool:
    """Whether the certificate's one-line address lies in ``town``."""
    given, prefix = fold(certificate_address), fold(town.full_name)
    if not given.startswith(prefix):
        return False
    rest = given[len(prefix) :]
    return not rest or rest[0] in _AFTER_TOWN


def _check_representative(
    session: Session, corporation: corporations.CorporationRead, verified: VerifiedCertificate
) -> None:
    basic_four = verified.basic_four
    if basic_four is None:
        raise ApplicationInvalid(
            "署名用電子証明書に基本4情報がありません。",
            "The signing certificate carries no basic four.",
            field="certificate",
        )
    representative = corporation.representative
    if fold(basic_four.name) != fold(representative.name):
        raise RepresentativeMismatch(
            "署名用電子証明書の氏名が登記されている代表者の氏名と一致しません。",
            "The name in the signing certificate is not the registered representative's name.",
            field="representative.name",
        )
    town = address.get_town(session, representative.address.town_id)
    if fold(basic_four.address) != fold(representative.address.text) and not _same_town(
        basic_four.address, town
    ):
        raise RepresentativeMismatch(
            "署名用電子証明書の住所が登記されている代表者の住所と一致しません。",
            "The address in the signing certificate is not the registered representative's "
            "address.",
            field="representative.address",
        )


# --- reads ---------------------------------------------------------------------------------------


def _active_procedures(
    session: Session, account_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    found: dict[uuid.UUID, list[str]] = {account_id: [] for account_id in account_ids}
    if not account_ids:
        return found
    rows = session.execute(
        select(BusinessDelegation.account_id, BusinessDelegation.procedure_code)
        .where(
            BusinessDelegation.account_id.in_(account_ids),
            BusinessDelegation.revoked_at.is_(None),
        )
        .order_by(BusinessDelegation.procedure_code)
    )
    for account_id, code in rows:
        found[account_id].append(code)
    return found


def read_accounts(session: Session, accounts: list[BusinessAccount]) -> list[BusinessAccountRead]:
    procedures = _active_procedures(session, [a.id for a in accounts])
    names: dict[uuid.UUID, str] = {}
    for account in accounts:
        if account.corporation_id not in names:
            names[account.corporation_id] = corporations.get_corporation(
                session, account.corporation_id
            ).name
    return [
        BusinessAccountRead(
            id=a.id,
            corporation_id=a.corporation_id,
            corporate_number=a.corporate_number,
            corporation_name=names[a.corporation_id],
            account_type=a.account_type,
            status=a.status,
            display_name=a.display_name,
            email=a.email,
            role=a.role,
            procedures=procedures[a.id],
            created_at=a.created_at,
            activated_at=a.activated_at,
            removed_at=a.removed_at,
        )
        for a in accounts
    ]


def accounts_of_person(session: Session, person_id: uuid.UUID) -> list[BusinessAccount]:
    """The person's active accounts, prime accounts first."""
    return list(
        session.scalars(
            select(BusinessAccount)
            .where(
                BusinessAccount.person_id == person_id,
                BusinessAccount.status == AccountStatus.ACTIVE,
            )
            .order_by(BusinessAccount.account_type.desc(), BusinessAccount.corporate_number)
        )
    )


def _account_in(
    session: Session, corporation_id: uuid.UUID, person_id: uuid.UUID
) -> BusinessAccount | None:
    """The person's active account in the corporation, if any."""
    return session.scalar(
        select(BusinessAccount).where(
            BusinessAccount.corporation_id == corporation_id,
            BusinessAccount.person_id == person_id,
            BusinessAccount.status == AccountStatus.ACTIVE,
        )
    )


@dataclass(frozen=True)
class _Prime:
    account: BusinessAccount
    corporation: corporations.CorporationRead


def _require_prime(session: Session, corporate_number: str, person_id: uuid.UUID) -> _Prime:
    """The caller's prime account of the corporation; ``identity.business_prime_required``
    for anyone else, members included."""
    corporation = corporations.get_corporation_by_number(session, corporate_number)
    account = _account_in(session, corporation.id, person_id)
    if account is None or account.account_type is not AccountType.PRIME:
        raise PrimeRequired
    return _Prime(account, corporation)


def _member_of(
    session: Session, corporation_id: uuid.UUID, account_id: uuid.UUID, *, for_update: bool
) -> BusinessAccount:
    account = session.get(BusinessAccount, account_id, with_for_update=for_update)
    if (
        account is None
        or account.corporation_id != corporation_id
        or account.account_type is not AccountType.MEMBER
    ):
        raise AccountNotFound
    return account


def accounts_of_corporation(
    session: Session, corporate_number: str, *, person_id: uuid.UUID
) -> list[BusinessAccount]:
    """Every account of the corporation, removed ones included (prime only)."""
    prime = _require_prime(session, corporate_number, person_id)
    return list(
        session.scalars(
            select(BusinessAccount)
            .where(BusinessAccount.corporation_id == prime.corporation.id)
            .order_by(BusinessAccount.account_type.desc(), BusinessAccount.created_at)
        )
    )


def is_delegated(session: Session, account_id: uuid.UUID, procedure_code: str) -> bool:
    """Whether the account may file ``procedure_code`` for its corporation: an active prime
    account may file every procedure, an active member those delegated to it."""
    account = session.get(BusinessAccount, account_id)
    if account is None or account.status is not AccountStatus.ACTIVE:
        return False
    if account.account_type is AccountType.PRIME:
        return True
    delegation = session.scalar(
        select(BusinessDelegation.id).where(
            BusinessDelegation.account_id == account_id,
            BusinessDelegation.procedure_code == procedure_code,
            BusinessDelegation.revoked_at.is_(None),
        )
    )
    return delegation is not None


def business_claims(session: Session, person_id: uuid.UUID) -> dict[str, Any] | None:
    """The ``business`` claim of the OpenID provider: for each of the person's active business
    accounts, the corporation and the person's role there (account type and title) — what the
    consent screen names, nothing more (no delegations, members or account ids). ``None`` when
    they hold none."""
    accounts = read_accounts(session, accounts_of_person(session, person_id))
    if not accounts:
        return None
    return {
        "accounts": [
            {
                "corporate_number": a.corporate_number,
                "corporation_name": a.corporation_name,
                "account_type": a.account_type.value,
                "role": a.role,
            }
            for a in accounts
        ]
    }


# --- writes --------------------------------------------------------------------------------------


def _record(
    session: Session,
    account: BusinessAccount,
    action: str,
    topic: str,
    *,
    actor: str,
    payload: dict[str, Any] | None = None,
) -> None:
    session.flush()
    body = {
        "account_id": str(account.id),
        "corporation_id": str(account.corporation_id),
        "corporate_number": account.corporate_number,
    } | (payload or {})
    audit.record(
        session,
        tag=f"{AUDIT_SOURCE}:business_account:{action}",
        actor=actor,
        subject=str(account.id),
        data=body,
    )
    events.emit(session, topic, body, key=account.corporate_number)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def do_apply_prime(
    session: Session,
    data: PrimeApplicationCreate,
    *,
    person_id: uuid.UUID | None,
    actor: str,
) -> BusinessAccount:
    """Verify a signed prime application and create the corporation's prime account.

    ``person_id`` is the signed-in applicant when there is one: the certificate must be theirs.
    """
    content = data.application
    corporation = corporations.get_corporation_by_number(
        session, content.corporate_number, field="application.corporate_number"
    )
    try:
        signed_at = datetime.fromtimestamp(content.signed_at, tz=UTC)
    except (OverflowError, OSError, ValueError):
        signed_at = None
    if signed_at is None or abs(clock.now() - signed_at) > APPLICATION_WINDOW:
        raise ApplicationInvalid(
            "署名の時刻が現在時刻から10分以上離れています。",
            "The signing time is more than 10 minutes away from now; sign again.",
            field="application.signed_at",
        )
    certificate = _certificate_der(data.certificate)
    signature = _b64url(data.signature, "signature")
    verified = cards.verify_signature(
        session,
        certificate,
        prime_application_bytes(content),
        signature,
        kind=CertificateKind.SIGNING,
    )
    if person_id is not None and verified.person_id != person_id:
        raise NotCertificateHolder
    _check_representative(session, corporation, verified)
    if corporation.status is not corporations.CorporationStatus.ACTIVE:
        raise CorporationClosed
    if session.scalar(select(BusinessAccount.id).where(BusinessAccount.prime_of == corporation.id)):
        raise PrimeExists
    if session.scalar(
        select(BusinessApplication.id).where(BusinessApplication.nonce == content.nonce)
    ):
        raise NonceReused
    now = clock.now()
    account = BusinessAccount(
        id=uuid.uuid4(),
        corporation_id=corporation.id,
        corporate_number=corporation.corporate_number,
        account_type=AccountType.PRIME,
        status=AccountStatus.ACTIVE,
        prime_of=corporation.id,
        person_id=verified.person_id,
        display_name=content.display_name,
        email=content.email,
        role=corporation.representative.title,
        activated_at=now,
    )
    application = BusinessApplication(
        corporation_id=corporation.id,
        corporate_number=corporation.corporate_number,
        person_id=verified.person_id,
        account_id=account.id,
        certificate_serial=verified.serial,
        nonce=content.nonce,
        application=content.model_dump(mode="json"),
        signature=data.signature,
        recorded_at=now,
    )
    # Two applications for the same corporation (or with the same nonce) may race past the
    # checks above; the unique constraints decide, and the loser gets the same clear 409.
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
            session.add(application)
            session.flush()
    except IntegrityError:
        if session.scalar(
            select(BusinessAccount.id).where(BusinessAccount.prime_of == corporation.id)
        ):
            raise PrimeExists from None
        raise NonceReused from None
    _record(
        session,
        account,
        "prime_created",
        ACCOUNT_CREATED,
        actor=actor,
        payload={
            "account_type": AccountType.PRIME.value,
            "person_id": str(verified.person_id),
            "certificate_serial": verified.serial,
        },
    )
    return account


def do_invite_member(
    session: Session,
    corporate_number: str,
    data: MemberInvite,
    *,
    person_id: uuid.UUID,
    actor: str,
) -> tuple[BusinessAccount, str]:
    """The prime invites a member: a new account and its one-time invitation code."""
    prime = _require_prime(session, corporate_number, person_id)
    code = secrets.token_urlsafe(24)
    account = BusinessAccount(
        id=uuid.uuid4(),
        corporation_id=prime.corporation.id,
        corporate_number=prime.corporation.corporate_number,
        account_type=AccountType.MEMBER,
        status=AccountStatus.INVITED,
        display_name=data.display_name,
        email=data.email,
        role=data.role,
        invited_by=prime.account.id,
        invitation_code_hash=_digest(code),
        invitation_expires_at=clock.now() + INVITATION_LIFETIME,
    )
    session.add(account)
    _record(
        session,
        account,
        "member_invited",
        ACCOUNT_INVITED,
        actor=actor,
        payload={"invited_by": str(prime.account.id), "role": data.role},
    )
    return account, code


def do_redeem_invitation(
    session: Session, invitation_code: str, *, person_id: uuid.UUID, actor: str
) -> BusinessAccount:
    """A signed-in resident redeems an invitation: the member account becomes theirs."""
    account = session.scalar(
        select(BusinessAccount)
        .where(BusinessAccount.invitation_code_hash == _digest(invitation_code))
        .with_for_update()
    )
    if account is None or account.status is not AccountStatus.INVITED:
        raise InvitationInvalid
    if account.invitation_expires_at is None or clock.now() >= account.invitation_expires_at:
        raise InvitationExpired
    if _account_in(session, account.corporation_id, person_id) is not None:
        raise AccountExists
    account.person_id = person_id
    account.status = AccountStatus.ACTIVE
    account.activated_at = clock.now()
    account.invitation_code_hash = None
    _record(
        session,
        account,
        "member_activated",
        ACCOUNT_ACTIVATED,
        actor=actor,
        payload={"person_id": str(person_id)},
    )
    return account


def do_remove_member(
    session: Session,
    corporate_number: str,
    account_id: uuid.UUID,
    *,
    person_id: uuid.UUID,
    actor: str,
) -> BusinessAccount:
    """The prime removes a member (invited or active): the account is deactivated, its open
    invitation voided and its delegations revoked; the rows stay as history."""
    prime = _require_prime(session, corporate_number, person_id)
    account = _member_of(session, prime.corporation.id, account_id, for_update=True)
    if account.status is AccountStatus.REMOVED:
        raise AccountNotActive(account.status.value)
    now = clock.now()
    account.status = AccountStatus.REMOVED
    account.removed_at = now
    account.removed_by = prime.account.id
    account.invitation_code_hash = None
    revoked = []
    for delegation in session.scalars(
        select(BusinessDelegation).where(
            BusinessDelegation.account_id == account.id, BusinessDelegation.revoked_at.is_(None)
        )
    ):
        delegation.revoked_at = now
        delegation.revoked_by = prime.account.id
        revoked.append(delegation.procedure_code)
    _record(
        session,
        account,
        "member_removed",
        ACCOUNT_REMOVED,
        actor=actor,
        payload={"removed_by": str(prime.account.id), "delegations_revoked": sorted(revoked)},
    )
    return account


def do_delegate(
    session: Session,
    corporate_number: str,
    account_id: uuid.UUID,
    procedure_code: str,
    *,
    person_id: uuid.UUID,
    actor: str,
) -> BusinessAccount:
    """The prime delegates a procedure to an active member."""
    prime = _require_prime(session, corporate_number, person_id)
    # Locking the member's row serialises delegations to it, so a procedure is delegated once.
    account = _member_of(session, prime.corporation.id, account_id, for_update=True)
    if account.status is not AccountStatus.ACTIVE:
        raise AccountNotActive(account.status.value)
    if _open_delegation(session, account.id, procedure_code) is not None:
        raise AlreadyDelegated
    session.add(
        BusinessDelegation(
            account_id=account.id,
            procedure_code=procedure_code,
            granted_by=prime.account.id,
            granted_at=clock.now(),
        )
    )
    _record(
        session,
        account,
        "delegated",
        ACCOUNT_DELEGATED,
        actor=actor,
        payload={"procedure_code": procedure_code},
    )
    return account


def _open_delegation(
    session: Session, account_id: uuid.UUID, procedure_code: str
) -> BusinessDelegation | None:
    return session.scalar(
        select(BusinessDelegation).where(
            BusinessDelegation.account_id == account_id,
            BusinessDelegation.procedure_code == procedure_code,
            BusinessDelegation.revoked_at.is_(None),
        )
    )


def do_revoke_delegation(
    session: Session,
    corporate_number: str,
    account_id: uuid.UUID,
    procedure_code: str,
    *,
    person_id: uuid.UUID,
    actor: str,
) -> BusinessAccount:
    """The prime revokes a delegation; the row keeps when it was granted and revoked."""
    prime = _require_prime(session, corporate_number, person_id)
    account = _member_of(session, prime.corporation.id, account_id, for_update=True)
    delegation = _open_delegation(session, account.id, procedure_code)
    if delegation is None:
        raise DelegationNotFound
    delegation.revoked_at = clock.now()
    delegation.revoked_by = prime.account.id
    _record(
        session,
        account,
        "delegation_revoked",
        ACCOUNT_DELEGATION_REVOKED,
        actor=actor,
        payload={"procedure_code": procedure_code},
    )
    return account


# --- what the facade exports (DTOs in, DTOs out) -------------------------------------------------


def _one(session: Session, account: BusinessAccount) -> BusinessAccountRead:
    return read_accounts(session, [account])[0]


def apply_prime_account(
    session: Session,
    data: PrimeApplicationCreate,
    *,
    person_id: uuid.UUID | None,
    actor: str,
) -> BusinessAccountRead:
    """A corporation's prime account, applied for with the representative's signing
    certificate; ``identity.business_account_created``.

    The signature must be over :func:`prime_application_bytes` of ``data.application``, made
    with the signing key of a good signing certificate whose basic four name the registered
    representative (name exactly, address at least to the town). ``person_id`` is the
    signed-in applicant, who must hold the certificate. Errors: ``kiban.identifier.*`` and
    ``corporations.not_found`` (field ``application.corporate_number``),
    ``identity.certificate_*`` and ``identity.signature_invalid`` (401),
    ``identity.business_not_certificate_holder`` and
    ``identity.business_representative_mismatch`` (403), ``identity.business_prime_exists``,
    ``identity.business_nonce_reused``, ``identity.business_corporation_closed`` (409),
    ``identity.business_application_invalid`` (422).
    """
    return _one(session, do_apply_prime(session, data, person_id=person_id, actor=actor))


def invite_member(
    session: Session,
    corporate_number: str,
    data: MemberInvite,
    *,
    person_id: uuid.UUID,
    actor: str,
) -> MemberInvited:
    """The prime (``person_id``) invites a member; the one-time code is in the answer only,
    for the prime's own portal page (it goes to the invitee through the prime, never into an
    API response). ``identity.business_prime_required`` (403) for anyone else."""
    account, code = do_invite_member(
        session, corporate_number, data, person_id=person_id, actor=actor
    )
    assert account.invitation_expires_at is not None  # noqa: S101 - set just above.
    return MemberInvited(
        account=_one(session, account),
        invitation_code=code,
        invitation_expires_at=account.invitation_expires_at,
    )


def redeem_invitation(
    session: Session, invitation_code: str, *, person_id: uuid.UUID, actor: str
) -> BusinessAccountRead:
    """The signed-in resident ``person_id`` takes the invited member account.
    ``identity.business_invitation_invalid`` (404), ``identity.business_invitation_expired``,
    ``identity.business_account_exists`` (409)."""
    return _one(
        session, do_redeem_invitation(session, invitation_code, person_id=person_id, actor=actor)
    )


def remove_member(
    session: Session,
    corporate_number: str,
    account_id: uuid.UUID,
    *,
    person_id: uuid.UUID,
    actor: str,
) -> BusinessAccountRead:
    """The prime removes a member (history kept, delegations revoked)."""
    return _one(
        session,
        do_remove_member(session, corporate_number, account_id, person_id=person_id, actor=actor),
    )


def delegate_procedure(
    session: Session,
    corporate_number: str,
    account_id: uuid.UUID,
    procedure_code: str,
    *,
    person_id: uuid.UUID,
    actor: str,
) -> BusinessAccountRead:
    """The prime delegates ``procedure_code`` to an active member."""
    account = do_delegate(
        session, corporate_number, account_id, procedure_code, person_id=person_id, actor=actor
    )
    return _one(session, account)


def revoke_delegation(
    session: Session,
    corporate_number: str,
    account_id: uuid.UUID,
    procedure_code: str,
    *,
    person_id: uuid.UUID,
    actor: str,
) -> BusinessAccountRead:
    """The prime revokes a delegation (``identity.business_delegation_not_found`` if none)."""
    account = do_revoke_delegation(
        session, corporate_number, account_id, procedure_code, person_id=person_id, actor=actor
    )
    return _one(session, account)


def list_business_accounts(session: Session, person_id: uuid.UUID) -> list[BusinessAccountRead]:
    """The person's active business accounts, prime accounts first."""
    return read_accounts(session, accounts_of_person(session, person_id))


def list_corporation_accounts(
    session: Session, corporate_number: str, *, person_id: uuid.UUID
) -> list[BusinessAccountRead]:
    """Every account of the corporation, removed ones included; only its prime may ask."""
    return read_accounts(
        session, accounts_of_corporation(session, corporate_number, person_id=person_id)
    )
