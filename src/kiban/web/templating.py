"""Server-rendered pages: one Jinja2 environment per language, with gettext installed.

Each language gets its own environment so that concurrent requests in different languages never
share translation callables. Templates live in ``kiban/web/templates`` and use ``_()``/
``{% trans %}``; ``make messages`` extracts them into the catalogs.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse

import kiban
from kiban.kernel import clock
from kiban.platform import i18n, sessions

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

LANGUAGE_NAMES: dict[i18n.Language, str] = {"ja": "日本語", "en": "English"}


def _environment(lang: i18n.Language) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = i18n.translations(lang)
    env.install_gettext_callables(  # type: ignore[attr-defined]  # Added by the i18n extension.
        translations.gettext, translations.ngettext, newstyle=True
    )
    env.filters["number"] = lambda value: format_decimal(value, locale=lang)
    # The one way pages show time, portal and office alike: instants (stored in UTC) in Japan
    # time to the minute and days, each with its weekday; ISO texts are read first.
    env.filters["when"] = lambda value: i18n.format_when(lang, value)
    # Days as residents read them, with the weekday: 2026年12月14日（月） / Monday 14 December 2026.
    env.filters["day"] = lambda value: i18n.format_day(lang, value)
    env.filters["isoday"] = date.fromisoformat
    env.filters["official_day"] = lambda value: i18n.official_day(lang, value)
    env.filters["jst_day"] = lambda value: clock.to_jst(value).date()
    return env


def language_url(request: Request, lang: i18n.Language) -> str:
    """This page's address in ``lang`` (other query parameters kept)."""
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    query.append(("lang", lang))
    return f"{request.url.path}?{urlencode(query)}"


class Pages:
    """Renders the page templates in the language of each request."""

    def __init__(self) -> None:
        self._environments = {lang: _environment(lang) for lang in i18n.LANGUAGES}

    def render(
        self,
        request: Request,
        lang: i18n.Language,
        name: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        template = self._environments[lang].get_template(name)
        # The forms of a page rendered for a session carry that session's CSRF token.
        web_session = getattr(request.state, "web_session", None)
        html = template.render(
            {
                "request": request,
                "lang": lang,
                "version": kiban.__version__,
                "languages": [
                    {"code": code, "name": LANGUAGE_NAMES[code], "url": language_url(request, code)}
                    for code in i18n.LANGUAGES
                ],
                "path": request.url.path,
                "csrf_field": sessions.CSRF_FIELD,
                "csrf_token": sessions.csrf_token(web_session) if web_session else "",
                **(context or {}),
            }
        )
        return HTMLResponse(html, status_code=status_code, headers={"Content-Language": lang})


@lru_cache(maxsize=1)
def get_pages() -> Pages:
    """The page renderer of this process."""
    return Pages()
