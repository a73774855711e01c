"""The reader's web application: the page where a resident picks a card and types the PIN.

kiban's sign-in page sends the resident here with a GET form::

    /sign?challenge=...&request_id=...&return_to=<server>/...&keys=auth[,signing]

The reader shows the cards it holds and a PIN field per requested key. A correct POST signs the
UTF-8 bytes of the challenge with each key and answers ``303`` to ``return_to`` with
``request_id``, ``auth_certificate``, ``auth_signature`` (and ``signing_certificate``,
``signing_signature``), base64url without padding. ``return_to`` must lie under the server
origin the reader was started with, so signatures only ever go to that server.

With ``response_mode=form_post`` the answer does not travel in a URL (where it would reach
access logs and the browser's history): the reader shows a page whose form POSTs the same
fields to ``return_to``. A signing certificate carries the holder's name, birth date, sex and
address, so documents are signed this way. ``title`` and ``reference`` name the document being
signed, which the page shows, so that the resident knows what they sign; without the signing
key the page says that the resident is signing in.

The reader listens on loopback. Another site in the resident's browser could still post a form
to it, so every form carries a signed token bound to the request (only a page this reader served
has it), a POST with a foreign ``Origin`` is refused, and the pages may not be framed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from kiban.cardreader.client import check_challenge, parse_keys, sign_challenge
from kiban.cardreader.errors import InvalidPin
from kiban.cardreader.store import AUTH, MAX_TRIES, SIGNING, CardInfo, CardStore, check_pin
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform import i18n, localapp
from kiban.platform.localapp import LOOPBACK_HOSTS, Lang
from kiban.platform.webkit import public

TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"

_FORM_SALT: Final = "kiban.cardreader.sign-form"
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._~-]{8,256}")
_MAX_RETURN_TO: Final = 2048
_MAX_LABEL: Final = 200
RESPONSE_MODES: Final = ("query", "form_post")


@dataclass(frozen=True)
class SignRequest:
    """What the server asked for: which keys sign which challenge, and where the answer goes."""

    challenge: str
    request_id: str
    return_to: str
    keys: tuple[str, ...]
    response_mode: str = "query"
    title: str = ""
    reference: str = ""

    def query(self, lang: str) -> str:
        params = {
            "challenge": self.challenge,
            "request_id": self.request_id,
            "return_to": self.return_to,
            "keys": ",".join(self.keys),
        }
        if self.response_mode != "query":
            params["response_mode"] = self.response_mode
        if self.title:
            params["title"] = self.title
        if self.reference:
            params["reference"] = self.reference
        return urlencode({**params, "lang": lang})

    def binding(self) -> str:
        """A digest of the request, which the form token is bound to."""
        joined = "\n".join(
            (
                self.challenge,
                self.request_id,
                self.return_to,
                *self.keys,
                self.response_mode,
                self.title,
                self.reference,
            )
        )
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def check_return_to(return_to: str, server_origin: str) -> str:
    """``return_to`` if it is an address under ``server_origin`` (no open redirect)."""
    ok = (
        isinstance(return_to, str)
        and len(return_to) <= _MAX_RETURN_TO
        and (return_to == server_origin or return_to.startswith(server_origin + "/"))
        and not any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in return_to)
        and "#" not in return_to
    )
    if not ok:
        raise ValidationFailed(
            f"戻り先は {server_origin} のアドレスでなければなりません。",
            f"The return address must be an address on {server_origin}.",
            field="return_to",
            code="cardreader.return_to_invalid",
        )
    return return_to


def check_request_id(request_id: str) -> str:
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise ValidationFailed(
            "リクエスト ID は URL で使える8～256文字です。",
            "The request id is 8 to 256 URL-safe characters.",
            field="request_id",
            code="cardreader.request_id_invalid",
        )
    return request_id


def check_response_mode(mode: str) -> str:
    if mode not in RESPONSE_MODES:
        raise ValidationFailed(
            "response_mode は query か form_post です。",
            "response_mode is query or form_post.",
            field="response_mode",
            code="cardreader.response_mode_invalid",
        )
    return mode


def check_label(value: str, field: str) -> str:
    """A document title or reference to show: one line of at most 200 characters."""
    text = value.strip()
    if len(text) > _MAX_LABEL or any(ord(c) < 0x20 for c in text):
        raise ValidationFailed(
            f"{field} は200文字以内の1行です。",
            f"{field} is one line of at most 200 characters.",
            field=field,
            code="cardreader.label_invalid",
        )
    return text


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to its query string (existing parameters kept)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@dataclass
class FormState:
    """What the sign page shows besides the request: chosen card and errors per field."""

    card_number: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    general_error: str | None = None
    status_code: int = 400


class SignFields(BaseModel):
    """The sign request, as query parameters of ``GET /sign`` and hidden fields of the form."""

    challenge: str = ""
    request_id: str = ""
    return_to: str = ""
    keys: str = AUTH
    response_mode: str = "query"
    title: str = ""
    reference: str = ""


class SignSubmission(SignFields):
    """The posted form: the request again, the form token, the chosen card and the PINs."""

    form_token: str = ""
    card_number: str = ""
    auth_pin: str = ""
    signing_pin: str = ""


class Reader:
    """The pages and checks of the reader for one card store and one kiban server."""

    def __init__(self, store: CardStore, server_origin: str, secret_key: str | None) -> None:
        self.store = store
        self.origin = localapp.normalize_origin(server_origin)
        self.tokens = localapp.FormTokens(secret_key, _FORM_SALT)
        self.pages = _pages()

    def parse(self, fields: SignFields) -> SignRequest:
        """The checked sign request (``ValidationFailed`` naming the field otherwise)."""
        return SignRequest(
            challenge=check_challenge(fields.challenge),
            request_id=check_request_id(fields.request_id),
            return_to=check_return_to(fields.return_to, self.origin),
            keys=parse_keys(fields.keys),
            response_mode=check_response_mode(fields.response_mode),
            title=check_label(fields.title, "title"),
            reference=check_label(fields.reference, "reference"),
        )

    def render_error(self, request: Request, lang: i18n.Language, error: KibanError) -> Response:
        return self.pages.render(
            lang,
            "error.html",
            {"message": error.message(lang), "field": error.field, "server_origin": self.origin},
            language_urls=localapp.page_languages(request.url.path, request),
            status_code=400,
        )

    def render_index(self, request: Request, lang: i18n.Language) -> Response:
        return self.pages.render(
            lang,
            "index.html",
            {"cards": self.store.cards(), "server_origin": self.origin, "max_tries": MAX_TRIES},
            language_urls=localapp.page_languages("/", request),
        )

    def render_sign(
        self, lang: i18n.Language, sign: SignRequest, state: FormState | None = None
    ) -> Response:
        state = state or FormState(status_code=200)
        cards = self.store.cards()
        chosen = state.card_number
        if chosen not in {card.card_number for card in cards}:
            usable = [card for card in cards if not card.auth.locked]
            chosen = (usable or cards)[0].card_number if cards else None
        t = i18n.translations(lang)
        return self.pages.render(
            lang,
            "sign.html",
            {
                "sign": sign,
                "cards": cards,
                "chosen": chosen,
                "errors": state.errors,
                "general_error": state.general_error,
                "form_token": self.tokens.dumps(sign.binding()),
                "server_origin": self.origin,
                "max_tries": MAX_TRIES,
                "cancel_url": with_query(
                    sign.return_to, {"request_id": sign.request_id, "error": "cancelled"}
                ),
                "signing_requested": SIGNING in sign.keys,
                "card_label": lambda card: card_label(t, card),
            },
            language_urls={code: f"/sign?{sign.query(code)}" for code in i18n.LANGUAGES},
            status_code=state.status_code,
        )

    def refusal(
        self, request: Request, lang: i18n.Language, sign: SignRequest, form: SignSubmission
    ) -> FormState | None:
        """Why the posted form cannot be used as it is (``None`` when it can)."""
        t = i18n.translations(lang)
        state = FormState(card_number=form.card_number or None)
        if not localapp.same_origin(request):
            state.general_error = t.gettext(
                "This form was sent from another site. Enter your PIN on this page."
            )
            state.status_code = 403
            return state
        if not self.tokens.binds(form.form_token, sign.binding()):
            state.general_error = t.gettext(
                "This form has expired or did not come from this card reader. Enter your PIN again."
            )
            return state
        if not form.card_number:
            state.errors["card_number"] = t.gettext("Choose a card.")
        pins = {AUTH: form.auth_pin, SIGNING: form.signing_pin}
        for kind in sign.keys:
            try:
                check_pin(kind, pins[kind])
            except InvalidPin as error:
                state.errors[f"{kind}_pin"] = error.message(lang)
        return state if state.errors else None

    def submit(self, request: Request, lang: i18n.Language, form: SignSubmission) -> Response:
        """Sign and redirect to the server, or show the form again with what went wrong."""
        try:
            sign = self.parse(form)
        except KibanError as error:
            return self.render_error(request, lang, error)
        refused = self.refusal(request, lang, sign, form)
        if refused is not None:
            return self.render_sign(lang, sign, refused)
        pins = {AUTH: form.auth_pin, SIGNING: form.signing_pin}
        try:
            fields = sign_challenge(
                self.store,
                form.card_number,
                {kind: pins[kind] for kind in sign.keys},
                sign.challenge,
                sign.keys,
            )
        except KibanError as error:
            # Wrong or locked PIN, unknown card, a damaged card file: say so beside the field.
            state = FormState(card_number=form.card_number, status_code=error.status)
            state.errors[error.field or "card_number"] = error.message(lang)
            return self.render_sign(lang, sign, state)
        answer = {"request_id": sign.request_id, **fields}
        if sign.response_mode == "form_post":
            return self.pages.render(
                lang,
                "return.html",
                {"sign": sign, "answer": answer, "server_origin": self.origin},
                language_urls=None,
            )
        return RedirectResponse(with_query(sign.return_to, answer), status_code=303)

    def security_headers(self, response: Response) -> None:
        """Forms may only go to the reader itself and, through the redirect, to the server."""
        server = urlsplit(self.origin)
        localapp.security_headers(response, form_action=f"'self' {server.scheme}://{server.netloc}")


@lru_cache(maxsize=1)
def _pages() -> localapp.LocalPages:
    return localapp.LocalPages(TEMPLATE_DIR)


def create_reader_app(
    store: CardStore,
    server_origin: str,
    *,
    secret_key: str | None = None,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
) -> FastAPI:
    """The reader's web application for the cards in ``store``, answering ``server_origin``.

    ``secret_key`` signs the form tokens; by default a random one per process (forms then
    expire when the reader restarts, which is harmless). ``allowed_hosts`` are the ``Host``
    names the reader answers to: loopback only by default, so that a web site whose name
    resolves to 127.0.0.1 (DNS rebinding) cannot read the form and post PINs as same-origin.
    """
    reader = Reader(store, server_origin, secret_key)
    app = localapp.create_local_app(
        "Kiban card reader", allowed_hosts=allowed_hosts, headers=reader.security_headers
    )
    app.state.reader = reader

    @app.get("/health", dependencies=[Depends(public)])
    def health() -> JSONResponse:
        """The reader is up; how many cards it holds."""
        return JSONResponse({"status": "ok", "cards": len(store.cards()), "server": reader.origin})

    @app.get("/", dependencies=[Depends(public)], response_model=None)
    def index(request: Request, lang: Lang) -> Response:
        """What the reader is, and the cards in it."""
        return reader.render_index(request, lang)

    @app.get("/sign", dependencies=[Depends(public)], response_model=None)
    def sign_form(request: Request, lang: Lang, fields: Annotated[SignFields, Query()]) -> Response:
        """The card and PIN form for one sign request."""
        try:
            sign = reader.parse(fields)
        except KibanError as error:
            return reader.render_error(request, lang, error)
        return reader.render_sign(lang, sign)

    @app.post("/sign", dependencies=[Depends(public)], response_model=None)
    def sign_submit(
        request: Request, lang: Lang, form: Annotated[SignSubmission, Form()]
    ) -> Response:
        """Check the PINs, sign, and send the resident back to the server with the answer."""
        return reader.submit(request, lang, form)

    return app


def card_label(t: Any, card: CardInfo) -> str:
    """How a card is named on the page: the holder's name (if known) and the card number."""
    number = " ".join(card.card_number[i : i + 4] for i in range(0, 12, 4))
    if card.holder_name:
        return str(
            t.gettext("%(name)s (card %(number)s)") % {"name": card.holder_name, "number": number}
        )
    return str(t.gettext("Card %(number)s") % {"number": number})
