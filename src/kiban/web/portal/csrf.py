"""Cross-site request forgery protection of the portal's forms.

The resident's session cookie is ``SameSite=Lax``, which already keeps it off cross-site POSTs
in current browsers; every portal form also carries a token bound to the session cookie it
was rendered for (a signed digest of that cookie), so a form posted from anywhere else, or
after the resident signed in again, is refused with 403 and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kiban.kernel.errors import Forbidden
from kiban.platform.settings import get_settings
from kiban.web.portal.session import RESIDENT_COOKIE, RESIDENT_SESSION_MAX_AGE

CSRF_FIELD: Final = "csrf_token"
_SALT: Final = "kiban.portal-csrf"


class CsrfFailed(Forbidden):
    code = "portal.csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "このフォームは有効期限が切れたか、別のページから送られました。"
            "ページを開き直して、もう一度お試しください。",
            "This form has expired or was sent from another page. "
            "Please open the page again and try once more.",
            field=CSRF_FIELD,
        )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=_SALT)


def _session_digest(request: Request) -> str:
    cookie = request.cookies.get(RESIDENT_COOKIE, "")
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()[:32]


def csrf_token(request: Request) -> str:
    """The token to put in the forms of a page rendered for ``request``."""
    return _serializer().dumps(_session_digest(request))


def check_csrf(request: Request, token: str | None) -> None:
    """Refuse (``portal.csrf_failed``, 403) unless ``token`` was issued for this session."""
    if not token:
        raise CsrfFailed
    try:
        digest = _serializer().loads(token, max_age=RESIDENT_SESSION_MAX_AGE)
    except BadSignature:
        raise CsrfFailed from None
    if not isinstance(digest, str) or not hmac.compare_digest(digest, _session_digest(request)):
        raise CsrfFailed
