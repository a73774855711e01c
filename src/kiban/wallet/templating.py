"""The wallet's pages: one Jinja2 environment per language, with kiban's gettext catalogs.

The wallet is its own small web application (it runs on the resident's machine, like the
card reader), so it has its own templates and stylesheet rather than kiban.web's; the look follows
kiban's so that a resident sees one service.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse

import kiban
from kiban.kernel import clock
from kiban.platform import i18n

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
LANGUAGE_NAMES: dict[i18n.Language, str] = {"ja": "日本語", "en": "English"}


def _jst(instant: datetime) -> str:
    """An instant as Japan's wall-clock time, to the minute."""
    return clock.to_jst(instant).strftime("%Y-%m-%d %H:%M")


def _environment(lang: i18n.Language) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["jst"] = _jst
    translations = i18n.translations(lang)
    env.install_gettext_callables(  # type: ignore[attr-defined]  # Added by the i18n extension.
        translations.gettext, translations.ngettext, newstyle=True
    )
    return env


class WalletPages:
    """Renders the wallet's templates in the language of each request."""

    def __init__(self) -> None:
        self._environments = {lang: _environment(lang) for lang in i18n.LANGUAGES}

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


@lru_cache(maxsize=1)
def get_wallet_pages() -> WalletPages:
    """The page renderer of this process."""
    return WalletPages()
