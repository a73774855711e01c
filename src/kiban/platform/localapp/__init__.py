"""The kit of kiban's local programs: the virtual card reader (``kiban card-reader serve``) and
the holder wallet (``kiban wallet serve``), small web applications on the resident's own
computer that talk to one kiban server.

What they share lives here, once: the page frame (``templates/local_base.html``) and the one
stylesheet (``static/localapp.css``, kiban's look, so that the programs work when the server is
out of reach), the per-language Jinja2 environments with kiban's gettext catalogs, the request's
language, the checks that keep another site in the browser from posting to them (loopback host
names only, a form token bound to its purpose, the form's own origin), their security headers,
and the FastAPI application with those in place. Each program keeps its own templates (its
``base.html`` extends the frame and names the program) and its routes.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode, urlsplit, urlunsplit

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.middleware.trustedhost import TrustedHostMiddleware

import kiban
from kiban.platform import i18n
from kiban.platform.webkit import install_error_handlers

KIT_TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
LANGUAGE_NAMES: Final[dict[i18n.Language, str]] = {"ja": "日本語", "en": "English"}
LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "[::1]")
FORM_MAX_AGE: Final = 15 * 60  # Seconds a form stays usable: a sign-in takes minutes.


def normalize_origin(server_origin: str) -> str:
    """``http(s)://host[:port]`` of the kiban server, without a trailing slash."""
    parts = urlsplit(server_origin.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"not an http(s) origin: {server_origin!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _language(request: Request) -> i18n.Language:
    return i18n.negotiate(
        request.query_params.get("lang"), accept_language=request.headers.get("accept-language")
    )


Lang = Annotated[i18n.Language, Depends(_language)]


def page_languages(path: str, request: Request) -> dict[i18n.Language, str]:
    """The page at ``path`` in each language, its other query parameters kept."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return {code: f"{path}?{urlencode([*query, ('lang', code)])}" for code in i18n.LANGUAGES}


def same_origin(request: Request) -> bool:
    """Whether a POST came from a page of this program (browsers send ``Origin`` on POST)."""
    sent = request.headers.get("origin")
    if sent is None:
        return True  # Not a browser form post (a script or a test); the form token still binds.
    return sent == f"{request.url.scheme}://{request.url.netloc}"


class FormTokens:
    """Signed form tokens bound to what a form is for. ``secret_key`` by default is a random one
    per process (forms then expire when the program restarts, which is harmless)."""

    def __init__(self, secret_key: str | None, salt: str) -> None:
        self._serializer = URLSafeTimedSerializer(
            secret_key or secrets.token_urlsafe(32), salt=salt
        )

    def dumps(self, binding: Any) -> str:
        return self._serializer.dumps(binding)

    def binds(self, token: str, binding: Any) -> bool:
        """Whether ``token`` was made by this program for ``binding`` and has not expired."""
        try:
            return bool(self._serializer.loads(token, max_age=FORM_MAX_AGE) == binding)
        except BadSignature:  # Also covers an expired token.
            return False


class LocalPages:
    """Renders a program's templates (then the kit's frame) in the language of each request."""

    def __init__(
        self, template_dir: Path, filters: Mapping[str, Callable[..., Any]] | None = None
    ) -> None:
        self._environments = {
            lang: self._environment(lang, template_dir, filters or {}) for lang in i18n.LANGUAGES
        }

    @staticmethod
    def _environment(
        lang: i18n.Language, template_dir: Path, filters: Mapping[str, Callable[..., Any]]
    ) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([template_dir, KIT_TEMPLATE_DIR]),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            extensions=["jinja2.ext.i18n"],
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(filters)
        translations = i18n.translations(lang)
        env.install_gettext_callables(  # type: ignore[attr-defined]  # Added by the i18n extension.
            translations.gettext, translations.ngettext, newstyle=True
        )
        return env

    def render(
        self,
        lang: i18n.Language,
        name: str,
        context: dict[str, Any],
        *,
        language_urls: dict[i18n.Language, str] | None,
        status_code: int = 200,
    ) -> HTMLResponse:
        html = (
            self._environments[lang]
            .get_template(name)
            .render(
                {
                    "lang": lang,
                    "version": kiban.__version__,
                    # A page that carries an answer has no language switch: following it would
                    # drop the answer.
                    "languages": [
                        {"code": code, "name": LANGUAGE_NAMES[code], "url": language_urls[code]}
                        for code in i18n.LANGUAGES
                    ]
                    if language_urls
                    else [],
                    **context,
                }
            )
        )
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={"Content-Language": lang, "Cache-Control": "no-store"},
        )


def security_headers(response: Response, *, form_action: str = "'self'") -> None:
    """A program's pages may not be framed by another site (clickjacking), load nothing from
    elsewhere, and send forms only to ``form_action``."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Not "no-referrer": with it, browsers send "Origin: null" on the program's own form posts,
    # which the origin check must refuse. "same-origin" still keeps the pages' query strings out
    # of any Referer sent to the server.
    response.headers["Referrer-Policy"] = "same-origin"


def create_local_app(
    title: str,
    *,
    allowed_hosts: Sequence[str],
    headers: Callable[[Response], None],
) -> FastAPI:
    """A local program's application: no API documents, kiban's error answers, only the
    ``allowed_hosts`` (loopback by default, so that a site whose name resolves to 127.0.0.1 —
    DNS rebinding — cannot read a form and post to it as same-origin), the kit's static files,
    and ``headers`` set on every answer. The program adds its routes."""
    app = FastAPI(
        title=title,
        version=kiban.__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def security(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        headers(response)
        return response

    return app
