"""Server-side web sessions for every audience (residents on the portal, officials in the office).

The cookie carries only an opaque random token, signed (HMAC-SHA256) with the installation
secret: a cookie signed under another secret is refused, so rotating ``KIBAN_SECRET_KEY`` (or
the generated secret file) ends every session it signed. The row in ``platform_web_sessions``
*is* the session; the token is stored only as its SHA-256, so a copy of the table opens no
session. A session ends when it is revoked (logout, "sign out everywhere"), when it was idle
for longer than its idle timeout, or at its absolute limit, whichever comes first.

Forms posted with a session cookie carry :func:`csrf_token`, an HMAC of the session's id under
the secret; :func:`check_csrf` refuses any other value with 403 (``kiban.csrf_failed``, field
``csrf_token``). Starting and revoking sessions are audited (``platform:session:*``).

Usage (the portal's sign-in, for example)::

    cookie, ws = sessions.start_session(db, audience="resident", subject=str(person_id),
                                        data={}, idle=timedelta(minutes=30),
                                        absolute=timedelta(hours=8), user_agent=ua,
                                        source=client_host, actor=f"person:{person_id}")
    sessions.set_session_cookie(response, "kiban_resident", cookie, max_age=8 * 3600)
    ...
    ws = sessions.load_session(db, audience="resident", cookie=request.cookies.get(...))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from starlette.responses import Response

from kiban.kernel import clock
from kiban.kernel.errors import Forbidden, NotFound
from kiban.platform import audit
from kiban.platform.models import WebSessionRecord
from kiban.platform.settings import get_settings

__all__ = [
    "CSRF_DEPENDENCIES",
    "CSRF_FIELD",
    "CsrfFailed",
    "WebSession",
    "check_csrf",
    "clear_session_cookie",
    "csrf_dependency",
    "csrf_token",
    "list_sessions",
    "live_session",
    "load_session",
    "revoke_session",
    "revoke_sessions_of",
    "set_flash",
    "set_session_cookie",
    "start_session",
    "take_flash",
    "update_session",
]

CSRF_FIELD: Final = "csrf_token"
TOUCH_EVERY: Final = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often per session, to keep page views cheap."""
KEEP_ENDED: Final = timedelta(days=30)
"""Rows of sessions that ended longer ago than this are deleted when their subject signs in
again (the audit log keeps their start and end), so the table does not grow without bound."""

_COOKIE_CONTEXT: Final = b"kiban.web-session.v1:"
_CSRF_CONTEXT: Final = b"kiban.csrf.v1:"
_MAX_USER_AGENT: Final = 500
_MAX_SOURCE: Final = 100


@dataclass(frozen=True)
class WebSession:
    """A live session, as its owner's code sees it."""

    id: uuid.UUID
    audience: str  # "resident" | "office" (free text, one per cookie)
    subject: str  # person id (resident) or staff account id (office), as text
    data: Mapping[str, Any]  # audience-specific: office keeps organisation, role, ... here
    created_at: datetime  # aware UTC
    last_seen_at: datetime
    authenticated_at: datetime  # last time the card (or 2nd factor) was presented: for step-up
    expires_at: datetime  # absolute limit
    idle_timeout: timedelta
    user_agent: str | None
    source: str | None  # client address as seen by the server


class CsrfFailed(Forbidden):
    """A state-changing form came without the token of the session it was posted with."""

    code = "kiban.csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "このフォームは有効期限が切れたか、別のページから送られました。"
            "ページを開き直して、もう一度お試しください。",
            "This form has expired or was sent from another page. "
            "Please open the page again and try once more.",
            field=CSRF_FIELD,
        )


# --- Tokens -----------------------------------------------------------------------------------


def _secret() -> bytes:
    return get_settings().secret_key.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(context: bytes, value: str) -> str:
    return _b64(hmac.new(_secret(), context + value.encode("ascii"), hashlib.sha256).digest())


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _token_of(cookie: str | None) -> str | None:
    """The token inside a well-formed cookie signed with the current secret, else None."""
    if not cookie or len(cookie) > 200 or not cookie.isascii():
        return None
    token, dot, signature = cookie.partition(".")
    if not dot or not token or not signature:
        return None
    if not hmac.compare_digest(signature, _sign(_COOKIE_CONTEXT, token)):
        return None
    return token


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


def _view(row: WebSessionRecord) -> WebSession:
    return WebSession(
        id=row.id,
        audience=row.audience,
        subject=row.subject,
        data=dict(row.data),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        authenticated_at=row.authenticated_at,
        expires_at=row.expires_at,
        idle_timeout=timedelta(seconds=row.idle_seconds),
        user_agent=row.user_agent,
        source=row.source,
    )


def _live(row: WebSessionRecord, now: datetime) -> bool:
    return (
        row.revoked_at is None
        and now < row.expires_at
        and now < row.last_seen_at + timedelta(seconds=row.idle_seconds)
    )


# --- Actions ----------------------------------------------------------------------------------


def start_session(
    db: Session,
    *,
    audience: str,
    subject: str,
    data: Mapping[str, Any],
    idle: timedelta,
    absolute: timedelta,
    user_agent: str | None,
    source: str | None,
    actor: str,
) -> tuple[str, WebSession]:
    """Create a session; returns (cookie value, session). Audited (tag platform:session:start)."""
    if idle <= timedelta(0) or absolute <= timedelta(0):
        raise ValueError("session timeouts must be positive")
    now = clock.now()
    db.execute(
        delete(WebSessionRecord).where(
            WebSessionRecord.audience == audience,
            WebSessionRecord.subject == subject,
            WebSessionRecord.expires_at < now - KEEP_ENDED,
        )
    )
    token = secrets.token_urlsafe(32)
    row = WebSessionRecord(
        id=uuid.uuid4(),
        token_hash=_hash(token),
        audience=audience,
        subject=subject,
        data=dict(data),
        created_at=now,
        last_seen_at=now,
        authenticated_at=now,
        expires_at=now + absolute,
        idle_seconds=int(idle.total_seconds()),
        user_agent=_clip(user_agent, _MAX_USER_AGENT),
        source=_clip(source, _MAX_SOURCE),
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        tag="platform:session:start",
        actor=actor,
        subject=subject,
        data={
            "audience": audience,
            "session_id": str(row.id),
            "expires_at": row.expires_at.isoformat(),
        },
    )
    return f"{token}.{_sign(_COOKIE_CONTEXT, token)}", _view(row)


def load_session(db: Session, *, audience: str, cookie: str | None) -> WebSession | None:
    """The live session behind `cookie`: None if absent, forged, signed by another secret,
    revoked, idle past its timeout or past its absolute limit. Touches last_seen_at (at most
    once a minute, to keep reads cheap)."""
    token = _token_of(cookie)
    if token is None:
        return None
    row = db.scalars(
        select(WebSessionRecord).where(WebSessionRecord.token_hash == _hash(token))
    ).one_or_none()
    now = clock.now()
    if row is None or row.audience != audience or not _live(row, now):
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.flush()
    return _view(row)


def live_session(db: Session, *, audience: str, session_id: uuid.UUID) -> WebSession | None:
    """The live session with this row id (not its cookie), for an answer that comes back
    without the browser's cookie (a cross-site form post) but names a server-side state the
    session holds: the caller must still check that state's own secret."""
    row = db.get(WebSessionRecord, session_id)
    if row is None or row.audience != audience or not _live(row, clock.now()):
        return None
    return _view(row)


def _row(db: Session, session_id: uuid.UUID) -> WebSessionRecord:
    row = db.get(WebSessionRecord, session_id)
    if row is None:
        raise NotFound(
            "セッションが見つかりません。",
            "There is no such session.",
            code="platform.session_not_found",
        )
    return row


def update_session(
    db: Session,
    session_id: uuid.UUID,
    *,
    data: Mapping[str, Any] | None = None,
    authenticated: bool = False,
) -> WebSession:
    """Replace `data` (e.g. the organisation and role chosen after sign-in) and/or set
    authenticated_at to now (step-up)."""
    row = _row(db, session_id)
    if data is not None:
        row.data = dict(data)
    if authenticated:
        row.authenticated_at = clock.now()
    db.flush()
    return _view(row)


_FLASH: Final = "flash"


def set_flash(db: Session, ws: WebSession, message: str) -> None:
    """Keep a message for the next page of this session (post/redirect/get: a form's handler
    says what it did, and the page it redirects to shows it once). Kept server-side in the
    session's row, never in the URL."""
    update_session(db, ws.id, data={**_current_data(db, ws.id), _FLASH: message[:2000]})


def take_flash(db: Session, ws: WebSession) -> str | None:
    """The message :func:`set_flash` kept, removed so that it shows once; ``None`` if none."""
    message = ws.data.get(_FLASH)
    if not isinstance(message, str):
        return None
    data = {k: v for k, v in _current_data(db, ws.id).items() if k != _FLASH}
    update_session(db, ws.id, data=data)
    return message


def _current_data(db: Session, session_id: uuid.UUID) -> dict[str, Any]:
    return dict(_row(db, session_id).data or {})


def revoke_session(db: Session, session_id: uuid.UUID, *, reason: str, actor: str) -> None:
    """End one session now (logout). Revoking a revoked session changes nothing."""
    row = _row(db, session_id)
    if row.revoked_at is not None:
        return
    row.revoked_at = clock.now()
    row.revoked_reason = reason[:200]
    db.flush()
    audit.record(
        db,
        tag="platform:session:revoke",
        actor=actor,
        subject=row.subject,
        data={"audience": row.audience, "session_ids": [str(row.id)], "reason": reason},
    )


def revoke_sessions_of(
    db: Session,
    *,
    audience: str,
    subject: str,
    reason: str,
    actor: str,
    keep: uuid.UUID | None = None,
) -> int:
    """End every live session of ``subject`` in ``audience`` except ``keep``; returns how many
    ("sign out everywhere", or an official's account being disabled)."""
    now = clock.now()
    ids = [
        row.id
        for row in db.scalars(
            select(WebSessionRecord).where(
                WebSessionRecord.audience == audience,
                WebSessionRecord.subject == subject,
                WebSessionRecord.revoked_at.is_(None),
            )
        )
        if row.id != keep and _live(row, now)
    ]
    if not ids:
        return 0
    db.execute(
        update(WebSessionRecord)
        .where(WebSessionRecord.id.in_(ids))
        .values(revoked_at=now, revoked_reason=reason[:200])
        .execution_options(synchronize_session="fetch")
    )
    audit.record(
        db,
        tag="platform:session:revoke",
        actor=actor,
        subject=subject,
        data={"audience": audience, "session_ids": [str(i) for i in ids], "reason": reason},
    )
    return len(ids)


def list_sessions(db: Session, *, audience: str, subject: str) -> list[WebSession]:
    """The live sessions of ``subject`` in ``audience``, newest first."""
    now = clock.now()
    rows = db.scalars(
        select(WebSessionRecord)
        .where(
            WebSessionRecord.audience == audience,
            WebSessionRecord.subject == subject,
            WebSessionRecord.revoked_at.is_(None),
            WebSessionRecord.expires_at > now,
        )
        .order_by(WebSessionRecord.created_at.desc())
    )
    return [_view(row) for row in rows if _live(row, now)]


def last_started(db: Session, *, audience: str, subjects: Iterable[str]) -> dict[str, datetime]:
    """When each of ``subjects`` last started a session in ``audience`` (signed in), live or
    not; subjects that never did are left out."""
    wanted = list(subjects)
    if not wanted:
        return {}
    rows = db.execute(
        select(WebSessionRecord.subject, func.max(WebSessionRecord.created_at))
        .where(WebSessionRecord.audience == audience, WebSessionRecord.subject.in_(wanted))
        .group_by(WebSessionRecord.subject)
    )
    # ``max`` keeps the column's type, so the instants come back aware (UTC) like the rows'.
    return {subject: at for subject, at in rows if at is not None}


# --- CSRF -------------------------------------------------------------------------------------


def csrf_token(ws: WebSession) -> str:
    """The token every state-changing form of ``ws``'s pages carries (HMAC of the session id
    under the secret): it changes with the session, and with the secret."""
    return _sign(_CSRF_CONTEXT, str(ws.id))


def check_csrf(ws: WebSession, token: str | None) -> None:
    """Refuse (:class:`CsrfFailed`, 403, field ``csrf_token``) unless ``token`` is ``ws``'s."""
    if not token or not token.isascii() or not hmac.compare_digest(token, csrf_token(ws)):
        raise CsrfFailed


CSRF_DEPENDENCIES: set[Callable[..., Any]] = set()
"""Route dependencies that check the form's CSRF token (the route inventory test reads this:
a cookie-authenticated unsafe route must depend on one, or call :func:`check_csrf` itself)."""

_F = TypeVar("_F", bound=Callable[..., Any])


def csrf_dependency(function: _F) -> _F:
    """Register ``function`` as a dependency that checks the CSRF token of the request."""
    CSRF_DEPENDENCIES.add(function)
    return function


# --- Cookies ----------------------------------------------------------------------------------


def _secure() -> bool:
    return get_settings().base_url.startswith("https://")


def set_session_cookie(
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int,
    samesite: Literal["lax", "strict"] = "lax",
) -> None:
    """Set a session cookie: HttpOnly, Path=/, Secure when base_url is https. ``samesite`` is
    Lax for the portal (the OpenID Connect redirect back must carry it) and Strict for the
    office."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite=samesite,
        secure=_secure(),
    )


def clear_session_cookie(response: Response, name: str) -> None:
    """Remove a session cookie set by :func:`set_session_cookie`."""
    response.delete_cookie(name, path="/", httponly=True, secure=_secure())
