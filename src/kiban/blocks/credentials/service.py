"""Issuing and revoking credentials, and publishing the status lists (actions never commit).

Issuing reads the register through the residents facade, so a credential says what the
register says at that moment. Each credential gets its own index, drawn at random, in a status
list of :data:`LIST_SIZE` entries, so an index says nothing about when or to whom it was issued
(herd privacy); a new list starts once half of the current one is taken.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Final

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.credentials import events as topics
from kiban.blocks.credentials import issuer
from kiban.blocks.credentials.errors import (
    CredentialNotFound,
    HolderKeyInvalid,
    PersonNotEligible,
    StatusListNotFound,
    UnknownCredentialType,
)
from kiban.blocks.credentials.models import CredentialsCredential, CredentialsStatusList
from kiban.blocks.credentials.types import TYPES
from kiban.kernel import clock
from kiban.platform import audit, events, sdjwt, status_list

LIST_SIZE: Final = 1 << 17  # 131,072 entries: 32 KiB uncompressed, a few hundred bytes sent.
# Two bits per credential, so that a licence's suspension (status 2) can be published beside
# revocation (1); lists made with one bit are widened by migration 0035 (ADR 0031).
LIST_BITS: Final = 2
PUBLICATION_TTL: Final = 300
"""Seconds a published status list may be cached (its ``ttl``): the publication interval."""

VALID, REVOKED, SUSPENDED = "valid", "revoked", "suspended"
STATUS_VALUES: Final = {
    VALID: status_list.VALID,
    REVOKED: status_list.INVALID,
    SUSPENDED: status_list.SUSPENDED,
}
STALE_LISTS: Final = "kiban.credentials.stale_lists"
"""``session.info`` key: status lists this transaction changed (caches drop them on commit)."""


@dataclass(frozen=True)
class IssuedCredential:
    """A credential as issued: the compact SD-JWT VC (issuer-signed JWT and every disclosure)."""

    id: uuid.UUID
    credential_type: str
    vct: str
    credential: str
    issued_at: datetime
    expires_at: datetime
    status_uri: str
    status_index: int


def status_list_uri(number: int) -> str:
    return f"{issuer.issuer_id()}/credentials/status/{number}"


def holder_key_of(jwk: Any) -> ECKey:
    """The holder's public P-256 key from a JWK; a private key or another kind is refused."""
    if not isinstance(jwk, dict):
        raise HolderKeyInvalid("JWK オブジェクトではありません", "not a JWK object")
    if "d" in jwk:
        raise HolderKeyInvalid("秘密鍵が含まれています", "it contains the private key")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise HolderKeyInvalid("P-256 の EC 鍵ではありません", "not an EC P-256 key")
    try:
        return ECKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y")})
    except (JoseError, KeyError, ValueError, TypeError) as exc:
        raise HolderKeyInvalid("鍵として読めません", "not a readable key") from exc


def check_eligible(session: Session, person_id: uuid.UUID) -> residents.PersonRead:
    """The person, if a credential may be issued about them (a current resident)."""
    person = residents.get_person(session, person_id)
    if person.status != residents.Status.RESIDENT:
        raise PersonNotEligible
    return person


def check_issuable(
    session: Session, person_id: uuid.UUID, credential_type: str
) -> residents.PersonRead:
    """The person, if a ``credential_type`` credential may be issued about them today (a
    current resident whom the type's claims hold for: a qualification's active
    registration, say). Errors as :func:`do_issue_credential`."""
    kind = TYPES.get(credential_type)
    if kind is None:
        raise UnknownCredentialType(credential_type)
    person = check_eligible(session, person_id)
    kind.build(session, person, clock.today_jst())
    return person


def _current_list(session: Session) -> CredentialsStatusList:
    latest = session.scalars(
        select(CredentialsStatusList).order_by(CredentialsStatusList.number.desc()).limit(1)
    ).first()
    if latest is not None:
        taken = session.scalar(
            select(func.count()).where(CredentialsCredential.status_list_number == latest.number)
        )
        if (taken or 0) < latest.size // 2:
            return latest
    fresh = CredentialsStatusList(
        number=(latest.number + 1) if latest else 1, size=LIST_SIZE, bits=LIST_BITS
    )
    session.add(fresh)
    session.flush()
    return fresh


def _free_index(session: Session, listed: CredentialsStatusList) -> int:
    while True:
        index = secrets.randbelow(listed.size)
        taken = session.scalar(
            select(CredentialsCredential.id).where(
                CredentialsCredential.status_list_number == listed.number,
                CredentialsCredential.status_index == index,
            )
        )
        if taken is None:
            return index


def do_issue_credential(
    session: Session,
    *,
    person_id: uuid.UUID,
    credential_type: str,
    holder_jwk: Any,
    actor: str,
) -> IssuedCredential:
    """Issue a ``credential_type`` credential about ``person_id`` bound to ``holder_jwk``.

    Every personal claim is a disclosure; the payload holds only their digests with decoys,
    ``iss``, ``vct``, the validity, ``cnf`` (the holder key) and ``status``. Errors:
    ``credentials.unknown_type``, ``credentials.holder_key_invalid``,
    ``credentials.person_not_eligible``, ``residents.person_not_found``.
    """
    kind = TYPES.get(credential_type)
    if kind is None:
        raise UnknownCredentialType(credential_type)
    holder = holder_key_of(holder_jwk)
    person = check_eligible(session, person_id)
    now = clock.now().replace(microsecond=0)
    claims, changes_on = kind.build(session, person, clock.today_jst())
    expires = now + kind.validity
    if changes_on is not None:
        expires = min(
            expires, datetime.combine(changes_on, time(), clock.JST).astimezone(now.tzinfo)
        )
    listed = _current_list(session)
    index = _free_index(session, listed)
    row = CredentialsCredential(
        person_id=person.id,
        credential_type=kind.name,
        vct=kind.vct,
        holder_key_thumbprint=holder.thumbprint(),
        status_list_number=listed.number,
        status_index=index,
        status=VALID,
        issued_at=now,
        expires_at=expires,
        issued_by=actor,
    )
    session.add(row)
    session.flush()
    concealed, disclosures = sdjwt.conceal(claims)
    key = issuer.signing_key()
    payload = {
        "iss": issuer.issuer_id(),
        "vct": kind.vct,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "cnf": {"jwk": holder.as_dict(private=False)},
        "status": {"status_list": {"idx": index, "uri": status_list_uri(listed.number)}},
        **concealed,
    }
    header = {"alg": issuer.ALG, "typ": issuer.TYP, "kid": key.kid}
    signed = sdjwt.issue(header, payload, key)
    audit.record(
        session,
        tag=topics.AUDIT_ISSUED,
        actor=actor,
        subject=f"credential:{row.id}",
        data={"person_id": str(person.id), "type": kind.name, "expires_at": expires.isoformat()},
    )
    events.emit(
        session,
        topics.ISSUED,
        {"credential_id": str(row.id), "person_id": str(person.id), "type": kind.name},
        key=str(person.id),
    )
    return IssuedCredential(
        id=row.id,
        credential_type=kind.name,
        vct=kind.vct,
        credential=sdjwt.compact(signed, disclosures),
        issued_at=now,
        expires_at=expires,
        status_uri=status_list_uri(listed.number),
        status_index=index,
    )


def _revoke(session: Session, rows: list[CredentialsCredential], reason: str, actor: str) -> int:
    now = clock.now()
    for row in rows:
        row.status = REVOKED
        row.revoked_at = now
        row.revocation_reason = reason
        session.info.setdefault(STALE_LISTS, set()).add(row.status_list_number)
        audit.record(
            session,
            tag=topics.AUDIT_REVOKED,
            actor=actor,
            subject=f"credential:{row.id}",
            data={"person_id": str(row.person_id), "type": row.credential_type, "reason": reason},
        )
        events.emit(
            session,
            topics.REVOKED,
            {"credential_id": str(row.id), "type": row.credential_type, "reason": reason},
            key=str(row.person_id),
        )
    session.flush()
    return len(rows)


def do_revoke_credentials_for_person(
    session: Session, person_id: uuid.UUID, *, credential_type: str, reason: str, actor: str
) -> int:
    """Revoke every credential of ``credential_type`` about ``person_id`` that is not revoked
    yet; returns how many (0 when there were none, so a repeated event changes nothing)."""
    rows = list(
        session.scalars(
            select(CredentialsCredential)
            .where(
                CredentialsCredential.person_id == person_id,
                CredentialsCredential.credential_type == credential_type,
                CredentialsCredential.status != REVOKED,
            )
            .with_for_update()
        )
    )
    return _revoke(session, rows, reason, actor)


def do_revoke_credential(
    session: Session, credential_id: uuid.UUID, *, reason: str, actor: str
) -> int:
    """Revoke one credential (idempotent: 0 when it was revoked already)."""
    row = session.get(CredentialsCredential, credential_id, with_for_update=True)
    if row is None:
        raise CredentialNotFound
    return _revoke(session, [row] if row.status != REVOKED else [], reason, actor)


def _set_status(
    session: Session,
    person_id: uuid.UUID,
    *,
    credential_type: str,
    was: str,
    to: str,
    reason: str,
    actor: str,
) -> int:
    rows = list(
        session.scalars(
            select(CredentialsCredential)
            .where(
                CredentialsCredential.person_id == person_id,
                CredentialsCredential.credential_type == credential_type,
                CredentialsCredential.status == was,
            )
            .with_for_update()
        )
    )
    tag, topic = (
        (topics.AUDIT_SUSPENDED, topics.SUSPENDED)
        if to == SUSPENDED
        else (topics.AUDIT_REINSTATED, topics.REINSTATED)
    )
    for row in rows:
        row.status = to
        session.info.setdefault(STALE_LISTS, set()).add(row.status_list_number)
        audit.record(
            session,
            tag=tag,
            actor=actor,
            subject=f"credential:{row.id}",
            data={"person_id": str(row.person_id), "type": row.credential_type, "reason": reason},
        )
        events.emit(
            session,
            topic,
            {"credential_id": str(row.id), "type": row.credential_type, "reason": reason},
            key=str(row.person_id),
        )
    session.flush()
    return len(rows)


def do_suspend_credentials_for_person(
    session: Session, person_id: uuid.UUID, *, credential_type: str, reason: str, actor: str
) -> int:
    """Suspend (status 2 in the list) every valid ``credential_type`` credential of the
    person; returns how many (0 when none was valid, so a repeated event changes nothing)."""
    return _set_status(
        session,
        person_id,
        credential_type=credential_type,
        was=VALID,
        to=SUSPENDED,
        reason=reason,
        actor=actor,
    )


def do_reinstate_credentials_for_person(
    session: Session, person_id: uuid.UUID, *, credential_type: str, reason: str, actor: str
) -> int:
    """Clear the suspension of every suspended ``credential_type`` credential of the person
    (valid again, 0 in the list); a revoked credential stays revoked. Idempotent."""
    return _set_status(
        session,
        person_id,
        credential_type=credential_type,
        was=SUSPENDED,
        to=VALID,
        reason=reason,
        actor=actor,
    )


def get_status(session: Session, credential_id: uuid.UUID) -> str:
    row = session.get(CredentialsCredential, credential_id)
    if row is None:
        raise CredentialNotFound
    return row.status


def status_list_token(session: Session, number: int) -> str:
    """The status list ``number`` as a signed JWT (``statuslist+jwt``), as of now."""
    listed = session.scalars(
        select(CredentialsStatusList).where(CredentialsStatusList.number == number)
    ).first()
    if listed is None:
        raise StatusListNotFound
    rows = session.execute(
        select(CredentialsCredential.status_index, CredentialsCredential.status).where(
            CredentialsCredential.status_list_number == number,
            CredentialsCredential.status != VALID,
        )
    )
    lst = status_list.encode(
        listed.size, ((index, STATUS_VALUES[status]) for index, status in rows), listed.bits
    )
    now = int(clock.now().timestamp())
    key = issuer.signing_key()
    header = {"alg": issuer.ALG, "typ": status_list.TYP, "kid": key.kid}
    payload = {
        "sub": status_list_uri(number),
        "iss": issuer.issuer_id(),
        "iat": now,
        "exp": now + 2 * PUBLICATION_TTL,
        "ttl": PUBLICATION_TTL,
        "status_list": {"bits": listed.bits, "lst": lst},
    }
    return jwt.encode(header, payload, key, algorithms=[issuer.ALG])
