"""Consent for companies (本人同意): signed artefacts, a hash-chained status and the check the
gateway runs on every request of a company.

The model follows the consent artefact of India's Account Aggregator framework and GovStack's
Consent building block, reduced to what the mesh needs:

- The **artefact** is immutable: person (internal id), company (the subsystem id of a COM
  member), purpose, data items, period, once-only or periodic with a frequency, and how long the
  company may keep the data (data life). The mesh signs its canonical JSON as a compact JWS
  (ES256, key ``mesh-consent``) and stores it with the row; anyone holding the public key
  (:func:`jwks`) can check it with :func:`verify_artefact`.
- The **status** (active, paused, revoked, expired) is separate: each change appends an entry to
  the consent's own hash chain, whose first ``prev_hash`` is the SHA-256 of the JWS, so the log
  is bound to the artefact. :func:`verify_status_chain` finds modified, missing or reordered
  entries. ``expired`` is derived from ``valid_until`` and written by :func:`sweep_expired`.
- :func:`check_consent` reads the database every time (no cache), so a revocation takes effect
  for the very next request. A once-only consent is used up by its first fetch and a periodic
  one allows ``frequency.value`` fetches per calendar period; each fetch takes a row in
  ``mesh_consent_uses`` whose unique constraint lets only one of two concurrent fetches have it.

Every function works in the caller's transaction and never commits.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal, cast

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws as jose_jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from pydantic import ValidationError
from sqlalchemy import Insert, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kiban.blocks.mesh.consent_errors import (
    ConsentArtefactInvalid,
    ConsentFrequencyExceeded,
    ConsentInvalid,
    ConsentItemsNotCovered,
    ConsentNotActive,
    ConsentNotFound,
    ConsentRequired,
    ConsentStatusConflict,
)
from kiban.blocks.mesh.consent_models import MeshConsent, MeshConsentStatus, MeshConsentUse
from kiban.blocks.mesh.consent_schemas import (
    ConsentCreate,
    ConsentRead,
    ConsentState,
    ConsentStatusRead,
    FetchType,
    Frequency,
    Purpose,
    SettableState,
)
from kiban.blocks.mesh.models import MeshMember, MeshService, MeshSubsystem
from kiban.kernel import clock
from kiban.platform import audit, events
from kiban.platform.keys import get_key_store

__all__ = [
    "CONSENT_GRANTED",
    "CONSENT_KEY_NAME",
    "CONSENT_STATUS_CHANGED",
    "ChainProblem",
    "active_consent",
    "check_consent",
    "data_item_catalogue",
    "do_grant_consent",
    "get_consent",
    "grant_consent",
    "is_company",
    "jwks",
    "list_consents",
    "set_consent_status",
    "sweep_expired",
    "verify_artefact",
    "verify_status_chain",
    "verify_stored_artefact",
]

CONSENT_KEY_NAME = "mesh-consent"
CONSENT_GRANTED = "mesh.consent_granted"
CONSENT_STATUS_CHANGED = "mesh.consent_status_changed"
ARTEFACT_TYPE = "kiban-consent+jws"
ARTEFACT_VERSION = 1
_AUDIT = "mesh:consent"

# Which status may follow which. Revoked and expired are final.
_TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"paused", "revoked", "expired"}),
    "paused": frozenset({"active", "revoked", "expired"}),
    "revoked": frozenset(),
    "expired": frozenset(),
}


# --- Keys and the artefact ----------------------------------------------------------------------


@lru_cache(maxsize=4)
def _jwk_for(private_key: ec.EllipticCurvePrivateKey) -> ECKey:
    key = ECKey.import_key(private_key)
    key.ensure_kid()
    return key


def _signing_key() -> ECKey:
    private_key = get_key_store().get_or_create(CONSENT_KEY_NAME, "ec-p256")
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"key {CONSENT_KEY_NAME} is not an EC key")
    return _jwk_for(private_key)


def jwks() -> dict[str, Any]:
    """The public key consent artefacts are signed with, as a JSON Web Key Set."""
    key = _signing_key()
    public = key.as_dict(private=False)
    return {"keys": [{**public, "kid": key.kid, "use": "sig", "alg": "ES256"}]}


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _artefact(row: MeshConsent) -> dict[str, Any]:
    """The signed content: every field of the row, in a fixed shape."""
    return {
        "ver": ARTEFACT_VERSION,
        "id": str(row.id),
        "person": str(row.person_id),
        "company": row.company,
        "purpose": {"code": row.purpose_code, "text": row.purpose_text},
        "items": sorted(row.items),
        "valid_from": row.valid_from.isoformat(),
        "valid_until": row.valid_until.isoformat(),
        "fetch": {"type": row.fetch_type, "frequency": row.frequency},
        "data_life": {"unit": "day", "value": row.data_life_days},
        "created_at": row.created_at.isoformat(),
    }


def _sign(payload: dict[str, Any]) -> str:
    key = _signing_key()
    header = {"alg": "ES256", "typ": ARTEFACT_TYPE, "kid": key.kid}
    return jose_jws.serialize_compact(header, _canonical(payload), key, algorithms=["ES256"])


def verify_artefact(token: str, public_jwks: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check a consent artefact's signature and return its content.

    ``public_jwks`` is the key set published at ``GET /api/v1/mesh/consent/jwks``; without it
    the mesh's own key is used. Raises ``mesh.consent_artefact_invalid`` (422).
    """
    try:
        keys = (public_jwks or jwks())["keys"]
        header = jose_jws.extract_compact(token.encode("ascii")).protected
        matching = [k for k in keys if k.get("kid") == header.get("kid")]
        if header.get("typ") != ARTEFACT_TYPE or not matching:
            raise ConsentArtefactInvalid
        key = ECKey.import_key(matching[0])
        verified = jose_jws.deserialize_compact(token, key, algorithms=["ES256"])
        content = json.loads(verified.payload)
    except (JoseError, ValueError, KeyError, TypeError, UnicodeError):
        raise ConsentArtefactInvalid from None
    if not isinstance(content, dict) or content.get("ver") != ARTEFACT_VERSION:
        raise ConsentArtefactInvalid
    return content


def verify_stored_artefact(session: Session, consent_id: uuid.UUID) -> dict[str, Any]:
    """Check that a stored consent's JWS verifies and says exactly what its row says (so a row
    changed in the database is caught). Raises ``mesh.consent_artefact_invalid``."""
    row = _row(session, consent_id)
    content = verify_artefact(row.jws)
    if content != _artefact(row):
        raise ConsentArtefactInvalid
    return content


# --- The status chain ---------------------------------------------------------------------------


def _insert_once(
    session: Session, table: type[MeshConsentStatus | MeshConsentUse], values: dict[str, Any]
) -> bool:
    """Insert a row unless it breaks a unique constraint; whether it was inserted.

    ``ON CONFLICT DO NOTHING`` rather than a savepoint: the caller's transaction stays usable,
    and a savepoint's release would count as a commit for the event dispatcher.
    """
    dialect = session.get_bind().dialect.name
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - kiban runs on SQLite and PostgreSQL only.
        statement = insert(table).values(values)
    # RETURNING says whether the row went in on both backends (rowcount is not reliable
    # through the ORM's insert path).
    return session.execute(statement.returning(table.id)).first() is not None


def _status_hash(
    *, consent_id: uuid.UUID, seq: int, status: str, actor: str, at: datetime, prev_hash: str
) -> str:
    body = {
        "consent_id": str(consent_id),
        "seq": seq,
        "status": status,
        "actor": actor,
        "at": at.isoformat(),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_canonical(body)).hexdigest()


def _genesis(jws: str) -> str:
    return hashlib.sha256(jws.encode("ascii")).hexdigest()


def _history(session: Session, consent_id: uuid.UUID) -> list[MeshConsentStatus]:
    return list(
        session.scalars(
            select(MeshConsentStatus)
            .where(MeshConsentStatus.consent_id == consent_id)
            .order_by(MeshConsentStatus.seq)
        )
    )


def _append_status(
    session: Session, row: MeshConsent, status: str, *, actor: str, last: MeshConsentStatus | None
) -> MeshConsentStatus:
    seq = 1 if last is None else last.seq + 1
    prev_hash = _genesis(row.jws) if last is None else last.hash
    at = clock.now()
    values = {
        "id": uuid.uuid4(),
        "consent_id": row.id,
        "seq": seq,
        "status": status,
        "actor": actor,
        "at": at,
        "prev_hash": prev_hash,
        "hash": _status_hash(
            consent_id=row.id, seq=seq, status=status, actor=actor, at=at, prev_hash=prev_hash
        ),
    }
    # A concurrent change of the same consent takes the same seq: the unique constraint lets
    # one of them in and the other gets a clear conflict, without spoiling its transaction.
    if not _insert_once(session, MeshConsentStatus, values):
        current = last.status if last is not None else "active"
        raise ConsentStatusConflict(current, status)
    return MeshConsentStatus(**values)


@dataclass(frozen=True)
class ChainProblem:
    """Something wrong in a consent's status log: ``kind`` is ``modified`` (the entry's hash is
    not what its content gives), ``broken_link`` (its ``prev_hash`` is not the previous hash,
    so an entry was removed, inserted or reordered) or ``gap`` (a sequence number is missing)."""

    consent_id: uuid.UUID
    seq: int
    kind: Literal["modified", "broken_link", "gap", "empty"]


def verify_status_chain(
    session: Session, consent_id: uuid.UUID | None = None
) -> list[ChainProblem]:
    """Walk the status log of one consent (or of all) and name every entry that is not as
    written. An empty list means the chains are intact."""
    query = select(MeshConsent)
    if consent_id is not None:
        query = query.where(MeshConsent.id == consent_id)
    problems: list[ChainProblem] = []
    for row in session.scalars(query):
        entries = _history(session, row.id)
        if not entries:
            problems.append(ChainProblem(row.id, 0, "empty"))
            continue
        prev_hash = _genesis(row.jws)
        for expected_seq, entry in enumerate(entries, start=1):
            if entry.seq != expected_seq:
                problems.append(ChainProblem(row.id, entry.seq, "gap"))
            if entry.prev_hash != prev_hash:
                problems.append(ChainProblem(row.id, entry.seq, "broken_link"))
            computed = _status_hash(
                consent_id=entry.consent_id,
                seq=entry.seq,
                status=entry.status,
                actor=entry.actor,
                at=entry.at,
                prev_hash=entry.prev_hash,
            )
            if computed != entry.hash:
                problems.append(ChainProblem(row.id, entry.seq, "modified"))
            prev_hash = entry.hash
    return problems


# --- Reading ------------------------------------------------------------------------------------


def _row(session: Session, consent_id: uuid.UUID) -> MeshConsent:
    row = session.get(MeshConsent, consent_id)
    if row is None:
        raise ConsentNotFound
    return row


def _effective(row: MeshConsent, logged: str, today: date) -> ConsentState:
    if logged in ("active", "paused") and today > row.valid_until:
        return "expired"
    return cast(ConsentState, logged)


def _read(
    row: MeshConsent, history: Sequence[MeshConsentStatus], *, with_history: bool = False
) -> ConsentRead:
    logged = history[-1].status if history else "active"
    return ConsentRead(
        id=row.id,
        person_id=row.person_id,
        company=row.company,
        purpose=Purpose(code=row.purpose_code, text=row.purpose_text),
        items=list(row.items),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        fetch_type=cast(FetchType, row.fetch_type),
        frequency=Frequency.model_validate(row.frequency) if row.frequency else None,
        data_life_days=row.data_life_days,
        created_at=row.created_at,
        status=_effective(row, logged, clock.today_jst()),
        jws=row.jws,
        history=[
            ConsentStatusRead(
                seq=e.seq,
                status=e.status,
                actor=e.actor,
                at=e.at,
                prev_hash=e.prev_hash,
                hash=e.hash,
            )
            for e in history
        ]
        if with_history
        else [],
    )


def get_consent(
    session: Session, consent_id: uuid.UUID, *, person_id: uuid.UUID | None = None
) -> ConsentRead:
    """One consent with its status history. With ``person_id``, a consent of someone else is
    reported as not found (``mesh.consent_not_found``)."""
    row = _row(session, consent_id)
    if person_id is not None and row.person_id != person_id:
        raise ConsentNotFound
    return _read(row, _history(session, row.id), with_history=True)


def list_consents(session: Session, person_id: uuid.UUID) -> list[ConsentRead]:
    """A person's consents, newest first, each with its current status."""
    rows = session.scalars(
        select(MeshConsent)
        .where(MeshConsent.person_id == person_id)
        .order_by(MeshConsent.created_at.desc(), MeshConsent.id)
    )
    return [_read(row, _history(session, row.id)) for row in rows]


# --- Writing ------------------------------------------------------------------------------------


def _check_company(session: Session, company: str) -> None:
    """``company`` must be an active subsystem of an active member of the company class."""
    found = session.execute(
        select(MeshSubsystem.active, MeshMember.active, MeshMember.member_class)
        .join(MeshMember, MeshMember.id == MeshSubsystem.member_id)
        .where(MeshSubsystem.xroad_id == company)
    ).first()
    if found is None or not (found[0] and found[1]) or found[2] != "COM":
        raise ConsentInvalid(
            f"同意先の会社 {company} は、メッシュに登録された会社ではありません。",
            f"{company} is not a registered company of the mesh (an active COM subsystem).",
            field="company",
        )


def data_item_catalogue(session: Session) -> frozenset[str]:
    """Every data item a service of the mesh provides: what a consent may name."""
    catalogue: set[str] = set()
    for items in session.scalars(select(MeshService.items)):
        catalogue.update(str(item) for item in items)
    return frozenset(catalogue)


def _check_items(session: Session, items: Sequence[str]) -> None:
    unknown = sorted(set(items) - data_item_catalogue(session))
    if unknown:
        listed = ", ".join(unknown)
        raise ConsentInvalid(
            f"メッシュのどのサービスも提供しない項目があります: {listed}",
            f"No service of the mesh provides these data items: {listed}",
            field="items",
        )


def do_grant_consent(
    session: Session, data: ConsentCreate, *, person_id: uuid.UUID, actor: str
) -> ConsentRead:
    """Record and sign a consent the person gave; its status starts ``active``.

    The company must be a registered company of the mesh and every item one that a service of
    the mesh provides; otherwise ``mesh.consent_invalid`` (422, field ``company`` or ``items``)
    and nothing is written or signed."""
    _check_company(session, data.company)
    _check_items(session, data.items)
    row = MeshConsent(
        id=uuid.uuid4(),
        person_id=person_id,
        company=data.company,
        purpose_code=data.purpose.code,
        purpose_text=data.purpose.text,
        items=sorted(data.items),
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        fetch_type=data.fetch_type,
        frequency=data.frequency.model_dump() if data.frequency else None,
        data_life_days=data.data_life_days,
        created_at=clock.now(),
    )
    row.jws = _sign(_artefact(row))
    session.add(row)
    session.flush()
    entry = _append_status(session, row, "active", actor=actor, last=None)
    audit.record(
        session,
        tag=f"{_AUDIT}:granted",
        actor=actor,
        subject=str(row.id),
        data={"person_id": str(person_id), "company": row.company, "items": list(row.items)},
    )
    events.emit(
        session,
        CONSENT_GRANTED,
        {"consent_id": str(row.id), "person_id": str(person_id), "company": row.company},
        key=str(person_id),
    )
    return _read(row, [entry])


def grant_consent(
    session: Session,
    *,
    person_id: uuid.UUID,
    company: str,
    purpose_code: str,
    purpose_text: str,
    items: list[str],
    valid_from: date,
    valid_until: date,
    fetch_type: FetchType = "once",
    frequency: dict[str, Any] | None = None,
    data_life_days: int,
    actor: str,
) -> ConsentRead:
    """:func:`do_grant_consent` with the fields as keywords; bad input is
    ``mesh.consent_invalid`` (422) naming the field."""
    try:
        data = ConsentCreate.model_validate(
            {
                "company": company,
                "purpose": {"code": purpose_code, "text": purpose_text},
                "items": items,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "fetch_type": fetch_type,
                "frequency": frequency,
                "data_life_days": data_life_days,
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "consent"
        raise ConsentInvalid(
            "同意の内容が正しくありません。", f"Invalid consent: {first['msg']}", field=field
        ) from None
    return do_grant_consent(session, data, person_id=person_id, actor=actor)


def set_consent_status(
    session: Session,
    consent_id: uuid.UUID,
    status: SettableState,
    *,
    actor: str,
    person_id: uuid.UUID | None = None,
) -> ConsentRead:
    """Pause (``paused``), resume (``active``) or revoke (``revoked``) a consent.

    With ``person_id`` only that person's consent can be changed. Revoked and expired consents
    are final: ``mesh.consent_status_conflict`` (409).
    """
    row = _row(session, consent_id)
    if person_id is not None and row.person_id != person_id:
        raise ConsentNotFound
    history = _history(session, row.id)
    last = history[-1] if history else None
    current = _effective(row, last.status if last else "active", clock.today_jst())
    if status not in _TRANSITIONS[current]:
        raise ConsentStatusConflict(current, status)
    entry = _append_status(session, row, status, actor=actor, last=last)
    _announce(session, row, current, status, actor)
    return _read(row, [*history, entry], with_history=True)


def _announce(session: Session, row: MeshConsent, before: str, status: str, actor: str) -> None:
    action = {"active": "resumed", "paused": "paused", "revoked": "revoked"}.get(status, status)
    audit.record(
        session,
        tag=f"{_AUDIT}:{action}",
        actor=actor,
        subject=str(row.id),
        data={"person_id": str(row.person_id), "company": row.company, "from": before},
    )
    events.emit(
        session,
        CONSENT_STATUS_CHANGED,
        {
            "consent_id": str(row.id),
            "person_id": str(row.person_id),
            "company": row.company,
            "status": status,
        },
        key=str(row.person_id),
    )


def sweep_expired(session: Session, *, actor: str = "system:mesh") -> int:
    """Write ``expired`` to the log of every active or paused consent whose period has ended;
    returns how many. Safe to run repeatedly."""
    today = clock.today_jst()
    count = 0
    for row in session.scalars(select(MeshConsent).where(MeshConsent.valid_until < today)):
        history = _history(session, row.id)
        last = history[-1] if history else None
        if last is not None and last.status in ("revoked", "expired"):
            continue
        _append_status(session, row, "expired", actor=actor, last=last)
        _announce(session, row, last.status if last else "active", "expired", actor)
        count += 1
    return count


# --- The check the gateway runs -----------------------------------------------------------------


def _period(frequency: dict[str, Any], day: date) -> str:
    unit = frequency["unit"]
    if unit == "day":
        return day.isoformat()
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        return f"{day.year}-{day.month:02d}"
    return str(day.year)


def _take_use(session: Session, row: MeshConsent, at: datetime) -> bool:
    """Take a free fetch slot of the consent for ``at``; False when all are taken."""
    if row.fetch_type == "once" or row.frequency is None:
        period, limit = "once", 1
    else:
        period = _period(row.frequency, clock.to_jst(at).date())
        limit = int(row.frequency["value"])
    taken = set(
        session.scalars(
            select(MeshConsentUse.slot).where(
                MeshConsentUse.consent_id == row.id, MeshConsentUse.period == period
            )
        )
    )
    for slot in range(limit):
        if slot in taken:
            continue
        # The unique constraint decides between concurrent fetches: the loser's insert does
        # nothing (on PostgreSQL after waiting for the winner's commit) and it tries the next
        # slot.
        values = {
            "id": uuid.uuid4(),
            "consent_id": row.id,
            "period": period,
            "slot": slot,
            "used_at": at,
        }
        if _insert_once(session, MeshConsentUse, values):
            return True
    return False


def check_consent(
    session: Session,
    *,
    person_id: uuid.UUID,
    company: str,
    items: list[str],
    at: datetime | None = None,
) -> uuid.UUID:
    """The id of the consent that lets ``company`` receive ``items`` of the person now, with the
    fetch recorded against it (in the caller's transaction: if the caller rolls back, the
    fetch is not counted).

    Refusals (all 403, field ``consent``): ``mesh.consent_required`` (no consent of the person
    for the company), ``mesh.consent_items_not_covered`` (none covers every item),
    ``mesh.consent_not_active`` (paused, revoked, expired or not yet begun),
    ``mesh.consent_frequency_exceeded`` (a once-only consent already used, or this period's
    fetches made). Reads the database every time, so a revocation applies to the next request.
    """
    at = at or clock.now()
    today = clock.to_jst(at).date()
    wanted = set(items)
    rows = list(
        session.scalars(
            select(MeshConsent)
            .where(MeshConsent.person_id == person_id, MeshConsent.company == company)
            .order_by(MeshConsent.created_at, MeshConsent.id)
        )
    )
    if not rows:
        raise ConsentRequired
    covering = [row for row in rows if wanted <= set(row.items)]
    if not covering:
        widest = max(rows, key=lambda row: len(wanted & set(row.items)))
        raise ConsentItemsNotCovered(sorted(wanted - set(widest.items)))
    refusal: ConsentNotActive | ConsentFrequencyExceeded | None = None
    for row in covering:
        history = _history(session, row.id)
        state = _effective(row, history[-1].status if history else "active", today)
        if state != "active":
            refusal = refusal or ConsentNotActive(state)
            continue
        if today < row.valid_from:
            refusal = refusal or ConsentNotActive("not_yet_valid")
            continue
        if _take_use(session, row, at):
            return row.id
        refusal = ConsentFrequencyExceeded()
    assert refusal is not None  # noqa: S101 - every covering consent set one.
    raise refusal


def active_consent(
    session: Session,
    *,
    person_id: uuid.UUID,
    company: str,
    items: list[str],
    at: datetime | None = None,
) -> uuid.UUID | None:
    """The id of the person's oldest consent that lets ``company`` receive ``items`` now (active,
    begun, covering every item), or None. Unlike :func:`check_consent` it takes no fetch: the
    mesh asks it before telling a company that something happened (a subscription delivery),
    and the company's fetch that follows is checked and counted by the gateway. A once-only
    consent whose fetch is made no longer counts."""
    today = clock.to_jst(at or clock.now()).date()
    wanted = set(items)
    rows = session.scalars(
        select(MeshConsent)
        .where(MeshConsent.person_id == person_id, MeshConsent.company == company)
        .order_by(MeshConsent.created_at, MeshConsent.id)
    )
    for row in list(rows):
        if not wanted <= set(row.items) or today < row.valid_from:
            continue
        history = _history(session, row.id)
        if _effective(row, history[-1].status if history else "active", today) != "active":
            continue
        if row.fetch_type == "once" and _used(session, row):
            continue  # Its one fetch is made: the company could not fetch what it is told of.
        return row.id
    return None


def _used(session: Session, row: MeshConsent) -> bool:
    return (
        session.scalar(select(MeshConsentUse.id).where(MeshConsentUse.consent_id == row.id))
        is not None
    )


_COMPANY = re.compile(r"^[A-Z]{2}/COM/")


def is_company(subsystem_id: str) -> bool:
    """Whether a subsystem id belongs to a COM member, whose requests need consent."""
    return bool(_COMPANY.match(subsystem_id))
