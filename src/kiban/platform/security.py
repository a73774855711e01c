"""Browser-facing protections every response gets, as two ASGI middlewares.

:class:`OriginCheckMiddleware` refuses (403, ``kiban.cross_site``) an unsafe request (POST, PUT,
PATCH, DELETE, …) that carries a kiban cookie and that the browser says comes from another
site: ``Sec-Fetch-Site`` other than ``same-origin``/``none``, or else an ``Origin`` other than
kiban's own. It backs up the per-form CSRF token (:func:`kiban.platform.sessions.check_csrf`)
for every cookie-driven route, the office's included, without each route having to remember
it. Requests without cookies (API clients with bearer tokens, relying parties' back channels)
and requests that name no origin at all (non-browser clients) pass: they carry no ambient
authority a forged page could borrow.

:class:`SecurityHeadersMiddleware` sets the headers of :func:`security_headers`: a
Content-Security-Policy without inline script or style (the pages have none; the Swagger UI at
``/docs`` is the one exception, see :data:`DOCS_CSP`), no framing, ``nosniff``, no referrer,
HSTS when ``KIBAN_BASE_URL`` is https, and ``Cache-Control: no-store`` on every answer whose
handler set no caching of its own (only public documents do: the static files, the JWKS), so
no page or API answer with personal data is kept by a browser or a proxy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiban.platform import i18n
from kiban.platform.settings import get_settings

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
COOKIE_PREFIX: Final = "kiban_"
"""kiban's cookies: sessions (``kiban_resident``, ``kiban_office``) and sign-in state."""
NON_AUTHORITY_COOKIES: Final = frozenset({"kiban_lang"})
"""kiban cookies that carry no authority (the language choice)."""
SAME_SITE_FETCHES: Final = frozenset({"same-origin", "none"})
CROSS_SITE_PATHS: Final = frozenset({"/oidc/authorize"})
"""Unsafe endpoints other sites may use on purpose: a relying party may send the browser to the
authorization endpoint with a form post (OpenID Connect Core §3.1.2.1). It reads no session."""
CROSS_SITE_PATTERNS: Final = (
    re.compile(r"^/portal/applications/[0-9a-fA-F-]{36}/signed$"),
    re.compile(r"^/portal/business/prime/callback$"),
)
"""Unsafe endpoints that authenticate the request by what it carries, not by a cookie: the card
reader's page (another origin) posts a signature over one application's exact version, which
only the applicant's card can make (see ``kiban.web.portal.procedures.signed``), or over a
business prime application the session keeps, named by its random nonce
(``kiban.web.portal.business.prime_callback``)."""

CSP: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        # No form-action: the sign-in sends the browser to the card reader (another origin)
        # and the consent form redirects to the relying party, which form-action would block.
    )
)
DOCS_CSP: Final = "; ".join(
    (
        "default-src 'self'",
        # Swagger UI (served from this server, kiban.web.docs) sets styles inline and draws
        # its icons as data URLs. The page holds no personal data.
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
DOCS_PATHS: Final = ("/docs",)
CACHEABLE_PREFIXES: Final = ("/static/",)
"""Paths whose answers hold no personal data and may be cached; everything else is no-store."""
HSTS: Final = "max-age=31536000; includeSubDomains"


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(scope: Scope) -> set[str]:
    """The origins kiban answers as: ``KIBAN_BASE_URL``'s, and the one this request came to."""
    origins = set()
    base = _origin_of(get_settings().base_url)
    if base:
        origins.add(base)
    host = Headers(scope=scope).get("host")
    if host:
        origins.add(f"{scope.get('scheme', 'http')}://{host}".lower())
    return origins


def carries_session_cookie(headers: Headers) -> bool:
    """Whether the request carries a kiban cookie that may carry authority."""
    for header in headers.getlist("cookie"):
        for pair in header.split(";"):
            name = pair.split("=", 1)[0].strip()
            if name.startswith(COOKIE_PREFIX) and name not in NON_AUTHORITY_COOKIES:
                return True
    return False


def is_cross_site(scope: Scope) -> bool:
    """Whether the browser says this request was made by another site's page."""
    headers = Headers(scope=scope)
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() not in SAME_SITE_FETCHES
    origin = headers.get("origin")
    if origin is None:
        return False  # Not a browser, or one too old to say: the form tokens still apply.
    return origin.lower() not in own_origins(scope)


class OriginCheckMiddleware:
    """Refuses cross-site unsafe requests that carry a kiban cookie (403 ``kiban.cross_site``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["path"] in CROSS_SITE_PATHS
            or any(pattern.match(scope["path"]) for pattern in CROSS_SITE_PATTERNS)
            or not carries_session_cookie(Headers(scope=scope))
            or not is_cross_site(scope)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        lang = i18n.negotiate(None, None, accept_language=headers.get("accept-language"))
        t = i18n.translations(lang)
        body = json.dumps(
            {
                "error": {
                    "code": "kiban.cross_site",
                    "message": t.gettext("This request came from another site and was refused."),
                    "field": None,
                }
            },
            ensure_ascii=False,
        ).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def security_headers(path: str) -> dict[str, str]:
    """The security headers of a response to ``path`` (see the module's docstring)."""
    headers = {
        "content-security-policy": DOCS_CSP if path in DOCS_PATHS else CSP,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
    }
    if get_settings().base_url.startswith("https://"):
        headers["strict-transport-security"] = HSTS
    if not path.startswith(CACHEABLE_PREFIXES):
        headers["cache-control"] = "no-store"
    return headers


_CACHE_CONTROL: Final = b"cache-control"


def _encoded(headers: dict[str, str]) -> Iterable[tuple[bytes, bytes]]:
    return ((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items())


class SecurityHeadersMiddleware:
    """Sets :func:`security_headers` on every HTTP response; a ``Cache-Control`` the handler
    set itself (public documents such as the JWKS) is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                added = dict(extra)
                if any(name.lower() == _CACHE_CONTROL for name, _ in own):
                    added.pop("cache-control", None)
                names = {name.encode("latin-1") for name in added}
                kept = [(k, v) for k, v in own if k.lower() not in names]
                message = {**message, "headers": [*kept, *_encoded(added)]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
