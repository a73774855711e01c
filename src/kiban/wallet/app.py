"""The wallet's web pages (``kiban wallet serve``), on the resident's own computer.

- ``/``: the credentials held (type and validity; no claim without the PIN) and the log of
  presentations; the first visit asks for a PIN (``/setup``).
- ``/receive``: an ``openid-credential-offer://`` link (from the inbox, or pasted) and its
  six-digit transaction code, then the PIN that seals the new holder key.
- ``/present?link=openid4vp://…``: who asks (the relying party as registered at kiban), why,
  and exactly which claims; the person ticks the claims to send (all asked, by default), or
  declines. Sending needs the PIN; either way the log gets an entry.

Like the card reader, the wallet listens on loopback, answers loopback host names only, and
binds every form to a signed token and its own origin, so another site in the browser cannot
post to it. It talks to the one kiban server it was started with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

import httpx
from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import i18n, localapp
from kiban.platform.localapp import LOOPBACK_HOSTS, Lang
from kiban.platform.webkit import public
from kiban.wallet import client
from kiban.wallet.store import Presentation, WalletStore

_FORM_SALT: Final = "kiban.wallet.form"
TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"


def _jst(instant: datetime) -> str:
    """An instant as Japan's wall-clock time, to the minute."""
    return clock.to_jst(instant).strftime("%Y-%m-%d %H:%M")


@lru_cache(maxsize=1)
def _pages() -> localapp.LocalPages:
    return localapp.LocalPages(TEMPLATE_DIR, {"jst": _jst})


class ReceiveForm(BaseModel):
    """The receive form: the offer link, its transaction code, the wallet's PIN."""

    form_token: str = ""
    offer: str = Field(default="", max_length=4096)
    tx_code: str = Field(default="", max_length=16)
    pin: str = Field(default="", max_length=32)


class PresentForm(BaseModel):
    """The present form: the request link, send or decline, the credential, claims, PIN."""

    form_token: str = ""
    link: str = Field(default="", max_length=4096)
    action: str = Field(default="send", max_length=16)
    credential_id: str = Field(default="", max_length=64)
    claims: list[str] = Field(default_factory=list, max_length=64)
    pin: str = Field(default="", max_length=32)


class Wallet:
    """The pages and checks of the wallet for one store and one kiban server."""

    def __init__(
        self, store: WalletStore, origin: str, http: httpx.Client, secret_key: str | None
    ) -> None:
        self.store = store
        self.origin = origin
        self.http = http
        self.tokens = localapp.FormTokens(secret_key, _FORM_SALT)
        self.pages = _pages()

    def token(self, purpose: str) -> str:
        return self.tokens.dumps(purpose)

    def form_refusal(self, request: Request, lang: i18n.Language, token: str, purpose: str) -> str:
        """Why a posted form cannot be used ('' when it can)."""
        t = i18n.translations(lang)
        if not localapp.same_origin(request):
            return str(
                t.gettext("This form was sent from another site. Use the wallet's own page.")
            )
        if not self.tokens.binds(token, purpose):
            return str(
                t.gettext("This form has expired or did not come from this wallet. Try again.")
            )
        return ""

    def render(
        self,
        request: Request,
        lang: i18n.Language,
        name: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
        languages: bool = True,
    ) -> Response:
        return self.pages.render(
            lang,
            name,
            {"server_origin": self.origin, **context},
            language_urls=localapp.page_languages(request.url.path, request) if languages else None,
            status_code=status_code,
        )

    # --- pages ------------------------------------------------------------------------------

    def index(self, request: Request, lang: i18n.Language, notice: str = "") -> Response:
        if not self.store.is_set_up:
            return self.setup_page(request, lang)
        return self.render(
            request,
            lang,
            "index.html",
            {
                "held": self.store.credentials(),
                "log": self.store.presentations(),
                "notice": notice,
                "now": datetime.now(UTC),
            },
        )

    def setup_page(
        self,
        request: Request,
        lang: i18n.Language,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        return self.render(
            request,
            lang,
            "setup.html",
            {"errors": errors or {}, "form_token": self.token("setup")},
            status_code=status_code,
        )

    def setup(
        self, request: Request, lang: i18n.Language, token: str, pin: str, pin_again: str
    ) -> Response:
        t = i18n.translations(lang)
        refused = self.form_refusal(request, lang, token, "setup")
        if refused:
            return self.setup_page(request, lang, {"pin": refused}, 403)
        if pin != pin_again:
            return self.setup_page(
                request, lang, {"pin_again": t.gettext("The two PINs differ.")}, 400
            )
        try:
            self.store.set_up(pin)
        except KibanError as error:
            return self.setup_page(request, lang, {"pin": error.message(lang)}, error.status)
        return RedirectResponse(f"/?lang={lang}", status_code=303)

    def receive_page(
        self,
        request: Request,
        lang: i18n.Language,
        offer: str = "",
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        if not self.store.is_set_up:
            return self.setup_page(request, lang)
        return self.render(
            request,
            lang,
            "receive.html",
            {"offer": offer, "errors": errors or {}, "form_token": self.token("receive")},
            status_code=status_code,
            languages=not offer,
        )

    def receive(self, request: Request, lang: i18n.Language, form: ReceiveForm) -> Response:
        offer, tx_code, pin = form.offer, form.tx_code, form.pin
        refused = self.form_refusal(request, lang, form.form_token, "receive")
        if refused:
            return self.receive_page(request, lang, offer, {"offer": refused}, 403)
        try:
            self.store.verify_pin(pin)
            parsed = client.parse_offer(offer, self.origin)
            got = client.receive(self.http, parsed, tx_code)
            self.store.add(
                pin,
                credential=got.credential,
                holder_key=got.holder_key,
                credential_type=got.credential_type,
                vct=got.vct,
                issuer=got.issuer,
                display_ja=got.display_ja,
                display_en=got.display_en,
                expires_at=got.expires_at,
            )
        except KibanError as error:
            return self.receive_page(
                request, lang, offer, {error.field or "offer": error.message(lang)}, error.status
            )
        except httpx.HTTPError:
            t = i18n.translations(lang)
            return self.receive_page(
                request,
                lang,
                offer,
                {"offer": t.gettext("The kiban server cannot be reached.")},
                502,
            )
        return RedirectResponse(f"/?lang={lang}&received={got.credential_type}", status_code=303)

    def present_page(
        self,
        request: Request,
        lang: i18n.Language,
        link: str,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        if not self.store.is_set_up:
            return self.setup_page(request, lang)
        if not link:
            return self.render(
                request,
                lang,
                "open.html",
                {"errors": errors or {}, "link": ""},
                status_code=status_code,
            )
        try:
            asked = client.fetch_request(self.http, link, self.origin)
        except KibanError as error:
            return self.render(
                request,
                lang,
                "open.html",
                {"errors": {"link": error.message(lang)}, "link": link},
                status_code=error.status,
            )
        except httpx.HTTPError:
            t = i18n.translations(lang)
            return self.render(
                request,
                lang,
                "open.html",
                {
                    "errors": {"link": t.gettext("The kiban server cannot be reached.")},
                    "link": link,
                },
                status_code=502,
            )
        matching = [c for c in self.store.credentials() if c.vct == asked.vct]
        return self.render(
            request,
            lang,
            "present.html",
            {
                "link": link,
                "asked": asked,
                "matching": matching,
                "errors": errors or {},
                "form_token": self.token(f"present:{asked.state}"),
            },
            status_code=status_code,
        )

    def present(self, request: Request, lang: i18n.Language, form: PresentForm) -> Response:
        t = i18n.translations(lang)
        token, link, action, pin = form.form_token, form.link, form.action, form.pin
        credential_id, claims = form.credential_id, form.claims
        try:
            asked = client.fetch_request(self.http, link, self.origin)
        except (KibanError, httpx.HTTPError):
            return self.present_page(request, lang, link)
        refused = self.form_refusal(request, lang, token, f"present:{asked.state}")
        if refused:
            return self.present_page(request, lang, link, {"pin": refused}, 403)
        if action == "decline":
            answered = client.decline(self.http, asked, lang=lang)
            self._log(asked, [], "declined", answered.reason)
            return self.render(
                request,
                lang,
                "answered.html",
                {"asked": asked, "answered": answered, "declined": True, "sent": []},
                languages=False,
            )
        chosen = [claim.name for claim in asked.claims if claim.name in set(claims)]
        if not chosen:
            return self.present_page(
                request,
                lang,
                link,
                {"claims": t.gettext("Choose at least one item to send, or decline.")},
                400,
            )
        try:
            credential, holder_key = self.store.open(pin, credential_id)
        except KibanError as error:
            return self.present_page(
                request, lang, link, {error.field or "pin": error.message(lang)}, error.status
            )
        answered = client.answer(self.http, asked, credential, holder_key, chosen, lang=lang)
        self._log(asked, chosen, answered.outcome, answered.reason)
        sent = [claim for claim in asked.claims if claim.name in chosen]
        return self.render(
            request,
            lang,
            "answered.html",
            {"asked": asked, "answered": answered, "declined": False, "sent": sent},
            languages=False,
        )

    def _log(
        self, asked: client.VerifierRequest, claims: list[str], outcome: str, reason: str | None
    ) -> None:
        self.store.log(
            Presentation(
                at=datetime.now(UTC),
                verifier=asked.verifier,
                verifier_ja=asked.verifier_ja,
                verifier_en=asked.verifier_en,
                client_id=asked.client_id,
                credential_type=asked.credential_type,
                claims=tuple(claims),
                outcome=outcome,
                reason=reason,
                labels_ja=tuple(c.label_ja for c in asked.claims if c.name in claims),
                labels_en=tuple(c.label_en for c in asked.claims if c.name in claims),
            )
        )

    @staticmethod
    def security_headers(response: Response) -> None:
        """Forms go to the wallet itself only; nothing it answers is cached."""
        localapp.security_headers(response)
        response.headers.setdefault("Cache-Control", "no-store")


def create_wallet_app(
    store: WalletStore,
    server_origin: str,
    *,
    http: httpx.Client | None = None,
    secret_key: str | None = None,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
) -> FastAPI:
    """The wallet's web application for ``store``, talking to ``server_origin``.

    ``http`` is the client for the server (by default one with ``server_origin`` as its base
    URL); the tests pass kiban's own test client."""
    parts = urlsplit(localapp.normalize_origin(server_origin))
    origin = f"{parts.scheme}://{parts.netloc}"
    wallet = Wallet(
        store,
        origin,
        http or httpx.Client(base_url=origin, timeout=10.0),
        secret_key,
    )
    app = localapp.create_local_app(
        "Kiban wallet", allowed_hosts=allowed_hosts, headers=wallet.security_headers
    )
    app.state.wallet = wallet

    @app.get("/health", dependencies=[Depends(public)])
    def health() -> JSONResponse:
        """The wallet is up; how many credentials it holds."""
        return JSONResponse(
            {"status": "ok", "credentials": len(store.credentials()), "server": origin}
        )

    @app.get("/", dependencies=[Depends(public)], response_model=None)
    def index(request: Request, lang: Lang) -> Response:
        """The credentials held and the log of presentations."""
        received = request.query_params.get("received")
        t = i18n.translations(lang)
        notice = t.gettext("The credential is now in your wallet.") if received else ""
        return wallet.index(request, lang, notice)

    @app.get("/setup", dependencies=[Depends(public)], response_model=None)
    def setup_page(request: Request, lang: Lang) -> Response:
        """Choose the wallet's PIN."""
        if store.is_set_up:
            return RedirectResponse(f"/?lang={lang}", status_code=303)
        return wallet.setup_page(request, lang)

    @app.post("/setup", dependencies=[Depends(public)], response_model=None)
    def setup(
        request: Request,
        lang: Lang,
        form_token: Annotated[str, Form()] = "",
        pin: Annotated[str, Form()] = "",
        pin_again: Annotated[str, Form()] = "",
    ) -> Response:
        """Set the PIN that seals every holder key."""
        return wallet.setup(request, lang, form_token, pin, pin_again)

    @app.get("/receive", dependencies=[Depends(public)], response_model=None)
    def receive_page(
        request: Request, lang: Lang, offer: Annotated[str, Query(max_length=4096)] = ""
    ) -> Response:
        """Paste a credential offer (or arrive with one) and its transaction code."""
        return wallet.receive_page(request, lang, offer)

    @app.post("/receive", dependencies=[Depends(public)], response_model=None)
    def receive(request: Request, lang: Lang, form: Annotated[ReceiveForm, Form()]) -> Response:
        """Receive the offered credential, its holder key sealed under the PIN."""
        return wallet.receive(request, lang, form)

    @app.get("/present", dependencies=[Depends(public)], response_model=None)
    def present_page(
        request: Request, lang: Lang, link: Annotated[str, Query(max_length=4096)] = ""
    ) -> Response:
        """Who asks, why, and exactly which claims; choose or decline."""
        return wallet.present_page(request, lang, link)

    @app.post("/present", dependencies=[Depends(public)], response_model=None)
    def present(request: Request, lang: Lang, form: Annotated[PresentForm, Form()]) -> Response:
        """Send the chosen claims (PIN), or decline."""
        return wallet.present(request, lang, form)

    return app
