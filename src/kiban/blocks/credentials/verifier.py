"""Verifying a presentation of a kiban credential (SD-JWT VC with a KB-JWT).

The checks, in order, each refusing with its own reason (errors.REASONS): the form; the
issuer-signed JWT's ``typ`` (``dc+sd-jwt``), issuer and signature; the ``vct``; ``_sd_alg``;
the disclosures against the digests; the validity (``nbf``, ``exp``); the KB-JWT (present,
signed by the ``cnf`` key, ``sd_hash``, ``nonce``, ``aud``, ``iat`` recent); the status in
the Token Status List.

Status lists are read from kiban's own publication and kept for at most their ``ttl`` (the
publication interval); a revocation committed in this process drops the cached list at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import URL
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from kiban.blocks.credentials import issuer, service
from kiban.blocks.credentials.errors import PresentationRefused, StatusListNotFound
from kiban.blocks.credentials.types import CredentialType, type_by_vct
from kiban.kernel import clock
from kiban.platform import sdjwt, status_list

LEEWAY: Final = 60
"""Seconds of clock skew allowed for ``nbf``, ``exp`` and the KB-JWT's ``iat`` in the future."""
KB_MAX_AGE: Final = 300
"""A KB-JWT older than this many seconds is refused (it was made for another presentation)."""


@dataclass(frozen=True)
class VerifiedPresentation:
    """What a verifier learns from a presentation that verified."""

    vct: str
    credential_type: str
    issuer: str
    claims: dict[str, Any]
    issued_at: datetime
    expires_at: datetime
    status: str


_cache_lock = threading.Lock()
# (database, list number) -> (valid until, bit array, bits): one process may serve more than
# one installation (the tests do), and each has its own list 1.
_cache: dict[tuple[URL, int], tuple[float, bytes, int]] = {}


def _database(session: Session) -> URL:
    return session.get_bind().engine.url


def clear_status_cache() -> None:
    """Forget every cached status list (tests, and operators after restoring a backup)."""
    with _cache_lock:
        _cache.clear()


@sa_event.listens_for(Session, "after_commit")
def _drop_stale_lists(session: Session) -> None:
    stale = session.info.pop(service.STALE_LISTS, None)
    if stale:
        with _cache_lock:
            for number in stale:
                _cache.pop((_database(session), number), None)


def _status_array(session: Session, uri: str) -> tuple[bytes, int]:
    prefix = service.status_list_uri(0)[:-1]
    if not uri.startswith(prefix) or not uri[len(prefix) :].isdigit():
        raise PresentationRefused("status_unavailable")
    number = int(uri[len(prefix) :])
    with _cache_lock:
        cached = _cache.get((_database(session), number))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1], cached[2]
    try:
        token = service.status_list_token(session, number)
    except StatusListNotFound as exc:
        raise PresentationRefused("status_unavailable") from exc
    # The list is read back exactly as a verifier elsewhere would: signature, typ, sub, exp.
    try:
        parsed = sdjwt.parse_jws(token)
        parsed.check_es256(issuer.verification_key()[1])
        payload = parsed.payload
        if parsed.header.get("typ") != status_list.TYP or payload.get("sub") != uri:
            raise PresentationRefused("status_unavailable")
        if int(payload["exp"]) < clock.now().timestamp():
            raise PresentationRefused("status_unavailable")
        bits = int(payload["status_list"]["bits"])
        array = status_list.decode(payload["status_list"]["lst"])
        ttl = int(payload.get("ttl", service.PUBLICATION_TTL))
    except (sdjwt.SdJwtError, KeyError, TypeError, ValueError) as exc:
        raise PresentationRefused("status_unavailable") from exc
    with _cache_lock:
        _cache[(_database(session), number)] = (time.monotonic() + ttl, array, bits)
    return array, bits


def _refuse(exc: sdjwt.SdJwtError) -> PresentationRefused:
    return PresentationRefused(exc.reason)


def _check_key_binding(
    parts: sdjwt.Parts, payload: dict[str, Any], *, nonce: str, audience: str, now: float
) -> None:
    if parts.kb_jwt is None:
        raise PresentationRefused("key_binding_missing")
    try:
        cnf = payload.get("cnf")
        holder = sdjwt.p256_public_key(cnf.get("jwk") if isinstance(cnf, dict) else None)
        kb_jws = sdjwt.parse_jws(parts.kb_jwt)
        kb_jws.check_es256(holder)
    except sdjwt.SdJwtError as exc:
        raise PresentationRefused("key_binding_invalid") from exc
    kb = kb_jws.payload
    if kb_jws.header.get("typ") != sdjwt.TYP_KB:
        raise PresentationRefused("key_binding_invalid")
    if kb.get("sd_hash") != sdjwt.digest(parts.without_kb):
        raise PresentationRefused("sd_hash_mismatch")
    if kb.get("nonce") != nonce:
        raise PresentationRefused("nonce_mismatch")
    if kb.get("aud") != audience:
        raise PresentationRefused("audience_mismatch")
    issued = kb.get("iat")
    if not isinstance(issued, int) or not now - KB_MAX_AGE <= issued <= now + LEEWAY:
        raise PresentationRefused("key_binding_stale")


def _check_credential(parts: sdjwt.Parts, now: float) -> tuple[dict[str, Any], CredentialType]:
    """The issuer-signed JWT's payload once its typ, issuer, signature, vct, ``_sd_alg`` and
    validity are checked."""
    try:
        token = sdjwt.parse_jws(parts.issuer_jwt)
    except sdjwt.SdJwtError as exc:
        raise _refuse(exc) from exc
    if token.header.get("typ") != issuer.TYP:
        raise PresentationRefused("wrong_type")
    kid, key = issuer.verification_key()
    payload = token.payload
    if payload.get("iss") != issuer.issuer_id() or token.header.get("kid") not in (None, kid):
        raise PresentationRefused("unknown_issuer")
    try:
        token.check_es256(key)
    except sdjwt.SdJwtError as exc:
        raise _refuse(exc) from exc
    kind = type_by_vct(str(payload.get("vct", "")))
    if kind is None:
        raise PresentationRefused("unknown_vct")
    if payload.get("_sd_alg", sdjwt.SD_ALG) != sdjwt.SD_ALG:
        raise PresentationRefused("unsupported_sd_alg")
    try:
        not_before = int(payload.get("nbf", payload["iat"]))
        expires = int(payload["exp"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PresentationRefused("malformed") from exc
    if not_before > now + LEEWAY:
        raise PresentationRefused("not_yet_valid")
    if expires <= now - LEEWAY:
        raise PresentationRefused("expired")
    return payload, kind


def _check_status(session: Session, payload: dict[str, Any]) -> None:
    try:
        reference = payload["status"]["status_list"]
        index, uri = int(reference["idx"]), str(reference["uri"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PresentationRefused("status_unavailable") from exc
    array, bits = _status_array(session, uri)
    try:
        value = status_list.status_at(array, index, bits)
    except sdjwt.SdJwtError as exc:
        raise _refuse(exc) from exc
    if value == status_list.INVALID:
        raise PresentationRefused("revoked")
    if value == status_list.SUSPENDED:
        raise PresentationRefused("suspended")
    if value != status_list.VALID:
        raise PresentationRefused("status_unavailable")


def verify_presentation(
    session: Session, presentation: str, *, nonce: str, audience: str
) -> VerifiedPresentation:
    """Verify ``presentation`` for a verifier that sent ``nonce`` and is ``audience``.

    Answers the disclosed claims, or raises :class:`PresentationRefused` with the reason.
    """
    now = clock.now().timestamp()
    try:
        parts = sdjwt.split(presentation)
    except sdjwt.SdJwtError as exc:
        raise _refuse(exc) from exc
    # Validity is checked before the disclosures: an expired credential is refused as expired.
    payload, kind = _check_credential(parts, now)
    try:
        claims = sdjwt.unpack(payload, parts.disclosures)
    except sdjwt.SdJwtError as exc:
        raise _refuse(exc) from exc
    _check_key_binding(parts, payload, nonce=nonce, audience=audience, now=now)
    _check_status(session, payload)
    for name in ("iss", "vct", "iat", "nbf", "exp", "cnf", "status"):
        claims.pop(name, None)
    return VerifiedPresentation(
        vct=kind.vct,
        credential_type=kind.name,
        issuer=issuer.issuer_id(),
        claims=claims,
        issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        status=service.VALID,
    )
