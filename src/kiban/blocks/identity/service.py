"""Actions on cards and certificates. Each ``do_*`` validates everything first (bad input
writes nothing), then writes, records the audit entry and queues the events — all in the
caller's transaction. Services never commit.

The server certifies public keys the card (the reader) made; it never sees a private key.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jws
from joserfc.jwk import RSAKey
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.identity import events as topics
from kiban.blocks.identity import pki
from kiban.blocks.identity.errors import (
    CardExists,
    CardNotActive,
    CardNotFound,
    CertificateExpired,
    CertificateInvalid,
    CertificateRevoked,
    InvalidPublicKey,
    NotResident,
    SignatureInvalid,
)
from kiban.blocks.identity.models import (
    Card,
    CardStatus,
    Certificate,
    CertificateKind,
    CertificateStatus,
)
from kiban.blocks.identity.schemas import (
    BasicFour,
    CardRead,
    CertificateRead,
    VerifiedCertificate,
)
from kiban.kernel import clock, identifiers
from kiban.platform import audit, events
from kiban.platform.statements import DriverStatement

ADULT_AGE = 18
"""From this age a card is valid until the 10th birthday after issue, before it the 5th."""
PIN_UNLOCK_LIFETIME = timedelta(minutes=10)
PIN_UNLOCK_PURPOSE = "pin-unlock"

# RFC 5280 CRLReason names (cryptography's ReasonFlags values) used by the card rules.
KEY_COMPROMISE = x509.ReasonFlags.key_compromise.value  # The card was lost.
AFFILIATION_CHANGED = x509.ReasonFlags.affiliation_changed.value  # Address or name changed.
SUPERSEDED = x509.ReasonFlags.superseded.value  # A new key pair replaced the old one.
CESSATION_OF_OPERATION = x509.ReasonFlags.cessation_of_operation.value  # The holder died.


# --- reads -------------------------------------------------------------------------------------


def _certificate_read(row: Certificate) -> CertificateRead:
    return CertificateRead(
        serial=row.serial,
        kind=row.kind,
        status=row.status.value,
        not_before=row.not_before,
        not_after=row.not_after,
        revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason,
        pem=row.pem,
    )


def _current_certificates(
    session: Session, card_id: uuid.UUID, *, for_update: bool = False
) -> dict[CertificateKind, Certificate]:
    """The newest certificate of each kind of a card."""
    query = (
        select(Certificate)
        .where(Certificate.card_id == card_id)
        .order_by(Certificate.not_before, Certificate.created_at)
    )
    if for_update:
        query = query.with_for_update()
    return {row.kind: row for row in session.scalars(query)}


def _card_status(card: Card) -> str:
    if card.status is CardStatus.ACTIVE and card.expires_on < clock.today_jst():
        return CardStatus.EXPIRED.value
    return card.status.value


def to_read(session: Session, card: Card) -> CardRead:
    current = _current_certificates(session, card.id)
    return CardRead(
        id=card.id,
        person_id=card.person_id,
        card_number=card.card_number,
        status=_card_status(card),
        issued_at=card.issued_at,
        expires_on=card.expires_on,
        auth_certificate=_certificate_read(current[CertificateKind.AUTH]),
        signing_certificate=_certificate_read(current[CertificateKind.SIGNING]),
    )


def get_card(
    session: Session, card_id: uuid.UUID, *, for_update: bool = False, field: str = "card_id"
) -> Card:
    card = session.get(Card, card_id, with_for_update=for_update)
    if card is None:
        raise CardNotFound(field)
    return card


def get_card_by_person(session: Session, person_id: uuid.UUID) -> Card | None:
    """The person's active card, or else the card issued to them last."""
    return session.scalars(
        select(Card)
        .where(Card.person_id == person_id)
        .order_by((Card.status == CardStatus.ACTIVE).desc(), Card.issued_at.desc())
        .limit(1)
    ).first()


def get_card_by_number(session: Session, card_number: str) -> Card:
    card = session.scalars(select(Card).where(Card.card_number == card_number)).first()
    if card is None:
        raise CardNotFound("card_number")
    return card


# --- issuance ----------------------------------------------------------------------------------


def _public_key(der: bytes, field: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        raise InvalidPublicKey(field) from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 2048:
        raise InvalidPublicKey(field)
    return key


def _resident(session: Session, person_id: uuid.UUID) -> residents.PersonRead:
    person = residents.get_person(session, person_id)
    if person.status is not residents.Status.RESIDENT:
        raise NotResident()
    return person


def basic_four_of(person: residents.PersonRead) -> BasicFour:
    """The basic four of a person as the signing certificate carries them."""
    return BasicFour(
        name=person.full_name,
        name_kana=f"{person.family_name_kana}\u3000{person.given_name_kana}",
        birth_date=person.birth_date,
        sex=person.sex.value,
        address=person.address.text,
    )


def _age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def card_expiry(birth_date: date, issued_on: date) -> date:
    """The card's expiry: the 10th birthday after issue for adults, the 5th for minors."""
    years = 10 if _age_on(birth_date, issued_on) >= ADULT_AGE else 5
    return pki.birthday_after(birth_date, issued_on, years=years)


def _new_card_number(session: Session) -> str:
    while True:
        number = f"{secrets.randbelow(10**12):012d}"
        # A card number is never one that passes the My Number check digit, so that nobody
        # (and no scanner looking for leaked individual numbers) can take one for the other.
        if identifiers.is_valid_my_number(number):
            continue
        if session.scalar(select(Card.id).where(Card.card_number == number)) is None:
            return number


def _certify(
    session: Session,
    card: Card,
    kind: CertificateKind,
    public_key: rsa.RSAPublicKey,
    person: residents.PersonRead,
    *,
    actor: str,
) -> Certificate:
    not_before, not_after = pki.certificate_validity(
        person.birth_date, clock.today_jst(), card.expires_on
    )
    serial = x509.random_serial_number()
    certificate = pki.build_card_certificate(
        kind,
        public_key,
        serial=serial,
        not_before=not_before,
        not_after=not_after,
        basic_four=basic_four_of(person) if kind is CertificateKind.SIGNING else None,
    )
    row = Certificate(
        id=uuid.uuid4(),
        card_id=card.id,
        kind=kind,
        serial=f"{serial:X}",
        status=CertificateStatus.GOOD,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        revoked_at=None,
        revocation_reason=None,
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        tag=f"{topics.AUDIT_SOURCE}:certificate:issued",
        actor=actor,
        subject=str(card.person_id),
        data={"card_id": str(card.id), "serial": row.serial, "kind": kind.value},
    )
    events.emit(
        session,
        topics.CERTIFICATE_ISSUED,
        {"card_id": str(card.id), "serial": row.serial, "kind": kind.value},
        key=str(card.id),
    )
    return row


def do_issue_card(
    session: Session,
    person_id: uuid.UUID,
    *,
    auth_public_key: bytes,
    signing_public_key: bytes,
    actor: str,
) -> Card:
    """Issue a card with both certificates to a resident who holds no active card."""
    auth_key = _public_key(auth_public_key, "auth_public_key")
    signing_key = _public_key(signing_public_key, "signing_public_key")
    if auth_key == signing_key:
        raise InvalidPublicKey("signing_public_key")
    person = _resident(session, person_id)
    previous = session.scalars(
        select(Card).where(Card.person_id == person_id).with_for_update()
    ).all()
    if any(_card_status(c) == CardStatus.ACTIVE.value for c in previous):
        raise CardExists()
    for card in previous:
        # An active card past its expiry date becomes expired now, which frees the slot.
        if card.status is CardStatus.ACTIVE:
            _close_card(session, card, CardStatus.EXPIRED, None, actor=actor)
    session.flush()
    now = clock.now()
    card = Card(
        id=uuid.uuid4(),
        person_id=person_id,
        card_number=_new_card_number(session),
        status=CardStatus.ACTIVE,
        active_person_id=person_id,
        issued_at=now,
        expires_on=card_expiry(person.birth_date, clock.today_jst()),
    )
    session.add(card)
    session.flush()
    _certify(session, card, CertificateKind.AUTH, auth_key, person, actor=actor)
    _certify(session, card, CertificateKind.SIGNING, signing_key, person, actor=actor)
    audit.record(
        session,
        tag=f"{topics.AUDIT_SOURCE}:card:issued",
        actor=actor,
        subject=str(person_id),
        data={"card_id": str(card.id), "card_number": card.card_number},
    )
    events.emit(
        session,
        topics.CARD_ISSUED,
        {"card_id": str(card.id), "person_id": str(person_id), "card_number": card.card_number},
        key=str(card.id),
    )
    return card


def _active_card(session: Session, card_id: uuid.UUID) -> Card:
    card = get_card(session, card_id, for_update=True)
    status = _card_status(card)
    if status != CardStatus.ACTIVE.value:
        raise CardNotActive(status)
    return card


def do_reissue_certificate(
    session: Session, card_id: uuid.UUID, kind: CertificateKind, *, public_key: bytes, actor: str
) -> Card:
    """Certify a new key of ``kind`` for an active card; the previous one is superseded."""
    key = _public_key(public_key, "public_key")
    card = _active_card(session, card_id)
    person = _resident(session, card.person_id)
    current = _current_certificates(session, card.id, for_update=True)
    _revoke(session, card, [current[kind]], SUPERSEDED, actor=actor)
    _certify(session, card, kind, key, person, actor=actor)
    return card


# --- revocation ----------------------------------------------------------------------------------


def _revoke(
    session: Session,
    card: Card,
    certificates: Iterable[Certificate],
    reason: str,
    *,
    actor: str,
) -> list[Certificate]:
    """Revoke those of ``certificates`` that are still good; returns the ones revoked."""
    now = clock.now()
    done = []
    for row in certificates:
        if row.status is CertificateStatus.REVOKED:
            continue
        row.status = CertificateStatus.REVOKED
        row.revoked_at = now
        row.revocation_reason = reason
        done.append(row)
        audit.record(
            session,
            tag=f"{topics.AUDIT_SOURCE}:certificate:revoked",
            actor=actor,
            subject=str(card.person_id),
            data={
                "card_id": str(card.id),
                "serial": row.serial,
                "kind": row.kind.value,
                "reason": reason,
            },
        )
        events.emit(
            session,
            topics.CERTIFICATE_REVOKED,
            {
                "card_id": str(card.id),
                "serial": row.serial,
                "kind": row.kind.value,
                "reason": reason,
            },
            key=str(card.id),
        )
    session.flush()
    return done


def _close_card(
    session: Session, card: Card, status: CardStatus, reason: str | None, *, actor: str
) -> None:
    """End a card: revoke every good certificate (when ``reason``) and set its status."""
    if reason is not None:
        rows = session.scalars(
            select(Certificate).where(Certificate.card_id == card.id).with_for_update()
        ).all()
        _revoke(session, card, rows, reason, actor=actor)
    card.status = status
    card.active_person_id = None
    audit.record(
        session,
        tag=f"{topics.AUDIT_SOURCE}:card:{status.value}",
        actor=actor,
        subject=str(card.person_id),
        data={"card_id": str(card.id), "reason": reason},
    )


def do_report_card_lost(session: Session, card_id: uuid.UUID, *, actor: str) -> Card:
    """The card was lost (紛失): both certificates are revoked (keyCompromise)."""
    card = _active_card(session, card_id)
    _close_card(session, card, CardStatus.LOST, KEY_COMPROMISE, actor=actor)
    events.emit(
        session,
        topics.CARD_LOST,
        {"card_id": str(card.id), "person_id": str(card.person_id)},
        key=str(card.id),
    )
    return card


def do_revoke_signing_for_person(
    session: Session, person_id: uuid.UUID, reason: str, *, actor: str
) -> int:
    """Revoke the good signing certificates of the person's active cards (address or name
    change); returns how many were revoked. Running it again revokes nothing more."""
    cards = session.scalars(
        select(Card).where(Card.person_id == person_id, Card.status == CardStatus.ACTIVE)
    ).all()
    revoked = 0
    for card in cards:
        rows = session.scalars(
            select(Certificate)
            .where(
                Certificate.card_id == card.id,
                Certificate.kind == CertificateKind.SIGNING,
                Certificate.status == CertificateStatus.GOOD,
            )
            .with_for_update()
        ).all()
        revoked += len(_revoke(session, card, rows, reason, actor=actor))
    return revoked


def do_revoke_cards_for_person(
    session: Session, person_id: uuid.UUID, reason: str, *, actor: str
) -> int:
    """Revoke every active card of the person with both certificates (death); returns how
    many cards. Running it again changes nothing."""
    cards = session.scalars(
        select(Card)
        .where(Card.person_id == person_id, Card.status == CardStatus.ACTIVE)
        .with_for_update()
    ).all()
    for card in cards:
        _close_card(session, card, CardStatus.REVOKED, reason, actor=actor)
    return len(cards)


# --- PIN unlock --------------------------------------------------------------------------------


def do_authorize_pin_unlock(
    session: Session, card_id: uuid.UUID, kind: CertificateKind, *, actor: str
) -> str:
    """A token (compact JWS, RS256, signed by the issuing CA of ``kind``) that lets the card
    reader reset the PIN counter of ``kind`` on this card; valid for 10 minutes."""
    card = _active_card(session, card_id)
    now = clock.now()
    jti = uuid.uuid4().hex
    claims = {
        "card_number": card.card_number,
        "kind": kind.value,
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int((now + PIN_UNLOCK_LIFETIME).timestamp()),
        "purpose": PIN_UNLOCK_PURPOSE,
    }
    key = RSAKey.import_key(pki.issuing_ca(kind).key)
    token = jws.serialize_compact(
        {"alg": "RS256", "typ": "JWT"}, json.dumps(claims, separators=(",", ":")).encode(), key
    )
    audit.record(
        session,
        tag=f"{topics.AUDIT_SOURCE}:pin:unlock_authorized",
        actor=actor,
        subject=str(card.person_id),
        data={"card_id": str(card.id), "kind": kind.value, "jti": jti},
    )
    events.emit(
        session,
        topics.PIN_UNLOCK_AUTHORIZED,
        {"card_id": str(card.id), "kind": kind.value},
        key=str(card.id),
    )
    return token


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Checked:
    """What the first full check of a certificate found that cannot change afterwards: the
    certificate is signed by the issuing CA, has the key usage of its kind and is the one
    registered as row ``row_id``. Its status (revocation) is never kept here."""

    row_id: uuid.UUID
    card_id: uuid.UUID
    person_id: uuid.UUID
    serial: str
    not_before: datetime
    not_after: datetime
    public_key: rsa.RSAPublicKey
    basic_four: BasicFour | None


_CHECKED_MAX = 50_000
_checked: dict[tuple[bytes, bytes, CertificateKind], _Checked] = {}
_checked_lock = threading.Lock()


def _check_fully(
    session: Session, certificate_der: bytes, kind: CertificateKind, ca: pki.CertificateAuthority
) -> _Checked:
    """Parse ``certificate_der`` and check what does not change: issuer signature, key usage,
    and that it is the certificate registered under its serial."""
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError:
        raise CertificateInvalid() from None
    try:
        certificate.verify_directly_issued_by(ca.certificate)
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        raise CertificateInvalid() from None
    if not usage.digital_signature or (kind is CertificateKind.SIGNING) != usage.content_commitment:
        raise CertificateInvalid()
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateInvalid()
    serial = f"{certificate.serial_number:X}"
    row = session.scalar(
        select(Certificate).where(Certificate.serial == serial, Certificate.kind == kind)
    )
    if row is None or row.pem.encode() != certificate.public_bytes(serialization.Encoding.PEM):
        raise CertificateInvalid()
    card = get_card(session, row.card_id)
    return _Checked(
        row_id=row.id,
        card_id=card.id,
        person_id=card.person_id,
        serial=serial,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        public_key=key,
        basic_four=pki.read_basic_four(certificate) if kind is CertificateKind.SIGNING else None,
    )


def _checked_certificate(
    session: Session, certificate_der: bytes, kind: CertificateKind
) -> _Checked:
    """The lasting part of a certificate's check, from the cache when this process has made
    it before (keyed by the issuing CA's and the certificate's DER digests and the kind)."""
    ca = pki.issuing_ca(kind)
    key = (ca.fingerprint, hashlib.sha256(certificate_der).digest(), kind)
    found = _checked.get(key)
    if found is None:
        found = _check_fully(session, certificate_der, kind, ca)
        with _checked_lock:
            if len(_checked) >= _CHECKED_MAX:
                _checked.clear()
            _checked[key] = found
    return found


# Every card check reads the certificate's status, where SQLAlchemy's statement handling
# would cost a few times the RSA verification itself: the SELECT is compiled once per
# dialect and sent as driver SQL (ADR 0028; the shared helper of ADR 0037).
_STATUS = DriverStatement(
    select(Certificate.__table__.c.status).where(
        Certificate.__table__.c.id == bindparam("certificate_id")
    )
)


def _status(session: Session, row_id: uuid.UUID) -> CertificateStatus | None:
    """The status of certificate ``row_id`` (``None`` when there is no such row), read from
    the register on every call."""
    row = _STATUS.first(session, certificate_id=row_id)
    return None if row is None else CertificateStatus(row[0])


def forget_checked_certificates() -> None:
    """Empty the cache of certificate checks (it only ever holds facts that cannot change;
    for tests and for an operator who replaces a CA)."""
    with _checked_lock:
        _checked.clear()


def verify_certificate(
    session: Session,
    certificate_der: bytes,
    *,
    kind: CertificateKind,
    at: datetime | None = None,
) -> VerifiedCertificate:
    """Check a card certificate: issued by the CA of ``kind``, for that use, registered here,
    inside its validity period and not revoked at ``at`` (now by default).

    What cannot change (issuer signature, key usage, the registered PEM) is checked once per
    process and certificate; the status is read from the register on every call (one lookup
    by primary key), so a revocation written by any process refuses the next request.
    """
    return _verify(session, certificate_der, kind, at)[0]


def _verify(
    session: Session, certificate_der: bytes, kind: CertificateKind, at: datetime | None
) -> tuple[VerifiedCertificate, _Checked]:
    checked = _checked_certificate(session, certificate_der, kind)
    when = at or clock.now()
    if _status(session, checked.row_id) is not CertificateStatus.GOOD:
        # populate_existing: a row this session loaded earlier may predate the revocation.
        row = session.get(Certificate, checked.row_id, populate_existing=True)
        if row is None:
            raise CertificateInvalid()
        if row.status is CertificateStatus.REVOKED and (
            row.revoked_at is None or row.revoked_at <= when
        ):
            raise CertificateRevoked()
    if not checked.not_before <= when <= checked.not_after:
        raise CertificateExpired()
    verified = VerifiedCertificate.model_construct(
        card_id=checked.card_id,
        person_id=checked.person_id,
        serial=checked.serial,
        kind=kind,
        basic_four=checked.basic_four,
    )
    return verified, checked


def verify_signature(
    session: Session,
    certificate_der: bytes,
    data: bytes,
    signature: bytes,
    *,
    kind: CertificateKind,
) -> VerifiedCertificate:
    """Check the certificate as :func:`verify_certificate` does, then that ``signature`` is
    its key's RSA PKCS#1 v1.5 SHA-256 signature over ``data``."""
    verified, checked = _verify(session, certificate_der, kind, None)
    try:
        checked.public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureInvalid() from None
    return verified
