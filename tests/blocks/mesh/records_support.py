"""Helpers of the access-record tests: record factories and an independent RFC 6962 verifier.

The Merkle functions here are written from RFC 6962 §2.1 and RFC 9162 §2.1.3.2 on purpose
without reusing kiban's, so that a proof accepted here is a proof any outside auditor accepts.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime
from typing import Any

from kiban.blocks import mesh

REQUESTER = "JP/GOV/00001/pension"
PROVIDER = "JP/MUN/131016/residents"
WHEN = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def record(
    person_id: uuid.UUID,
    message_id: str,
    *,
    side: str = "requester",
    outcome: str = "ok",
    non_disclosure_until: date | None = None,
    **overrides: Any,
) -> mesh.AccessRecordCreate:
    """One side's record of an exchange about ``person_id``."""
    fields: dict[str, Any] = {
        "person_id": person_id,
        "side": side,
        "member": REQUESTER if side == "requester" else PROVIDER,
        "counterpart": PROVIDER if side == "requester" else REQUESTER,
        "agency_code": f"code-{side}-{str(person_id)[:8]}",
        "service": f"{PROVIDER}/address",
        "items": ["address", "moved_on"],
        "legal_basis": "国民年金法第108条",
        "consent_id": None,
        "message_id": message_id,
        "request_hash": hashlib.sha256(message_id.encode()).hexdigest(),
        "response_hash": hashlib.sha256(b"response" + message_id.encode()).hexdigest(),
        "outcome": outcome,
        "requested_at": WHEN,
        "provided_at": WHEN,
        "non_disclosure_until": non_disclosure_until,
    }
    fields.update(overrides)
    return mesh.AccessRecordCreate(**fields)


def exchange(person_id: uuid.UUID, message_id: str) -> list[mesh.AccessRecordCreate]:
    """Both sides' records of one exchange."""
    return [
        record(person_id, message_id, side="requester"),
        record(person_id, message_id, side="provider"),
    ]


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(entries: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 §2.1, by its recursive definition."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return _leaf(entries[0])
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return _node(mth(entries[:k]), mth(entries[k:]))


def root_of(record_hashes: list[str]) -> str:
    return mth([bytes.fromhex(h) for h in record_hashes]).hex()


def verify_inclusion(
    record_hash: str, leaf_index: int, tree_size: int, proof: list[str], root: str
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf ``leaf_index`` is in the tree with ``root``?"""
    if leaf_index >= tree_size:
        return False
    fn, sn = leaf_index, tree_size - 1
    r = _leaf(bytes.fromhex(record_hash))
    for p_hex in proof:
        p = bytes.fromhex(p_hex)
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == root
