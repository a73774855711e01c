"""Agency codes (機関別符号): how each member knows a person.

A member's code for a person is HMAC-SHA-256 over the internal person id (never the individual
number) under a key that belongs to that member and never leaves the mesh: 160 bits of it, in
lower-case base32. Codes for one person therefore differ across members and cannot be linked
without the mesh's keys. Each code is stored with its person (``mesh_agency_codes``) so that the
gateway can turn the requester's code back into the person and on into the provider's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kiban.blocks.mesh.models import MeshAgencyCode, MeshMember
from kiban.blocks.mesh.service import member_of
from kiban.kernel import clock
from kiban.platform.keys import KeyStore, get_key_store

_keys: dict[tuple[int, str], tuple[KeyStore, bytes]] = {}


def _member_key(store: KeyStore, member: str) -> bytes:
    cached = _keys.get((id(store), member))
    if cached is not None and cached[0] is store:
        return cached[1]
    key = _derive(store, member)
    _keys[id(store), member] = (store, key)
    return key


def _derive(store: KeyStore, member: str) -> bytes:
    # The member's code key is derived from a key-store key of its own, so it lives (and would be
    # rotated or moved to an HSM) with the other keys of the system.
    name = "mesh-codes-" + member.lower().replace("/", ".")
    secret = store.get_or_create(name, "ed25519")
    if not isinstance(secret, ed25519.Ed25519PrivateKey):
        raise TypeError("agency code keys are kept as Ed25519 keys")
    raw = secret.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"kiban mesh agency code"
    ).derive(raw)


def compute(member: str, person_id: uuid.UUID) -> str:
    """The member's code for the person (pure: no database)."""
    key = _member_key(get_key_store(), member_of(member))
    digest = hmac.new(key, person_id.bytes, hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode().lower()


def agency_code(session: Session, member_or_subsystem: str, person_id: uuid.UUID) -> str:
    """The member's code for the person, stored for the reverse lookup on first use."""
    member = member_of(member_or_subsystem)
    code = compute(member, person_id)
    row = {"id": uuid.uuid4(), "member": member, "code": code, "person_id": person_id}
    row["created_at"] = clock.now()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(MeshAgencyCode).values(row).on_conflict_do_nothing())
    return code


def person_for(session: Session, member_or_subsystem: str, code: str) -> uuid.UUID | None:
    """The person a member knows by ``code``, or None."""
    return session.scalar(
        select(MeshAgencyCode.person_id).where(
            MeshAgencyCode.member == member_of(member_or_subsystem), MeshAgencyCode.code == code
        )
    )


def convert(session: Session, from_member: str, code: str, to_member: str) -> str | None:
    """The ``to_member``'s code for the person ``from_member`` knows by ``code`` (or None)."""
    person = person_for(session, from_member, code)
    if person is None:
        return None
    return agency_code(session, to_member, person)


def enrol_person(session: Session, person_id: uuid.UUID) -> dict[str, str]:
    """Make the person's code for every active member; returns member → code."""
    members = session.scalars(select(MeshMember.xroad_id).where(MeshMember.active.is_(True)))
    return {member: agency_code(session, member, person_id) for member in members}
