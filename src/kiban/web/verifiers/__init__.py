"""The two reference verifiers (relying parties), as public web pages.

- **The shop** (``/verifiers/shop``) sells alcohol: it asks a ``resident`` credential for
  ``age_over_20`` and nothing else. What it receives is kept by the credentials block with the
  request, and holds only the claims asked for, whatever the wallet disclosed.
- **The hospital** (``/verifiers/hospital``) checks a nurse's licence
  (``qualification-nurse``) and its status before a shift; a revoked or suspended licence is
  refused with the reason.

Each check is a stored OpenID4VP request (``kiban.blocks.credentials``): the page shows an
``openid4vp://`` link and its QR code for the wallet, and a link to the wallet on this
computer, then the outcome once the wallet has answered. The pages are public (a shop's
customer has no kiban session) and keep no cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from kiban.blocks import credentials
from kiban.kernel.errors import KibanError, NotFound
from kiban.platform import i18n
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang, public
from kiban.web.templating import get_pages

router = APIRouter(include_in_schema=False, dependencies=[Depends(public)])


@dataclass(frozen=True)
class Verifier:
    """A reference relying party, as registered with the credentials block."""

    name: str
    display_ja: str
    display_en: str
    purpose_ja: str
    purpose_en: str
    credential_type: str
    claims: tuple[str, ...]

    def display(self, lang: str) -> str:
        return self.display_en if lang == "en" else self.display_ja

    def purpose(self, lang: str) -> str:
        return self.purpose_en if lang == "en" else self.purpose_ja


SHOP: Final = Verifier(
    name="shop",
    display_ja="さくら酒店（参照用の検証者）",
    display_en="Sakura Liquor Store (reference verifier)",
    purpose_ja="お酒の販売にあたり、20歳以上であることだけを確認します。生年月日は受け取りません。",
    purpose_en="To sell alcohol, we confirm only that you are 20 or older. "
    "We do not receive your date of birth.",
    credential_type="resident",
    claims=("age_over_20",),
)
NURSE_TYPE: Final = "qualification-nurse"
HOSPITAL: Final = Verifier(
    name="hospital",
    display_ja="みなと中央病院 看護部（参照用の検証者）",
    display_en="Minato Central Hospital, Nursing (reference verifier)",
    purpose_ja="勤務の前に、看護師免許が有効であること（失効・停止されていないこと）を確認します。",
    purpose_en="Before a shift, we confirm that your nursing licence is valid "
    "(not revoked or suspended).",
    credential_type=NURSE_TYPE,
    claims=("qualification", "name", "registration_number"),
)
VERIFIERS: Final = {SHOP.name: SHOP, HOSPITAL.name: HOSPITAL}
ACTOR: Final = "verifier:{name}"


class VerifierNotFound(NotFound):
    code = "verifiers.not_found"

    def __init__(self) -> None:
        super().__init__("該当する検証者はありません。", "No such verifier.", field="verifier")


def _verifier(name: str) -> Verifier:
    found = VERIFIERS.get(name)
    if found is None:
        raise VerifierNotFound
    return found


def available(verifier: Verifier) -> bool:
    """Whether kiban issues the credential type the verifier asks for (the nurse's licence
    comes with the qualifications registry)."""
    return verifier.credential_type in credentials.TYPES


def _labels(verifier: Verifier, lang: str) -> dict[str, str]:
    kind = credentials.TYPES.get(verifier.credential_type)
    if kind is None:
        return {name: name for name in verifier.claims}
    return {c.name: (c.label_en if lang == "en" else c.label_ja) for c in kind.claims}


def _qr(link: str, title: str) -> Markup:
    svg = segno.make(link, error="m").svg_inline(scale=4, border=4, title=title, dark="#000")
    return Markup(svg)  # noqa: S704 - segno writes the SVG and escapes the link inside it.


NamePath = Annotated[str, Path(min_length=2, max_length=32)]
HandlePath = Annotated[str, Path(min_length=8, max_length=64)]


@router.get("/verifiers/")
def index(request: Request, lang: Lang) -> HTMLResponse:
    """The reference verifiers."""
    return get_pages().render(
        request,
        lang,
        "verifiers/index.html",
        {"verifiers": list(VERIFIERS.values()), "available": available},
    )


@router.get("/verifiers/{name}", response_model=None)
def verifier_page(request: Request, lang: Lang, name: NamePath) -> HTMLResponse:
    """One verifier: who it is, what it asks and why, and the button that starts a check."""
    verifier = _verifier(name)
    return get_pages().render(
        request,
        lang,
        "verifiers/verifier.html",
        {
            "verifier": verifier,
            "available": available(verifier),
            "labels": _labels(verifier, lang),
        },
    )


@router.post("/verifiers/{name}/checks", response_model=None)
def start_check(request: Request, lang: Lang, name: NamePath, session: DbSession) -> Response:
    """Register the verifier (idempotent) and store a new request; show it."""
    verifier = _verifier(name)
    if not available(verifier):
        return get_pages().render(
            request,
            lang,
            "verifiers/verifier.html",
            {"verifier": verifier, "available": False, "labels": _labels(verifier, lang)},
            status_code=409,
        )
    actor = ACTOR.format(name=verifier.name)
    credentials.register_relying_party(
        session,
        name=verifier.name,
        display_ja=verifier.display_ja,
        display_en=verifier.display_en,
        purpose_ja=verifier.purpose_ja,
        purpose_en=verifier.purpose_en,
        credential_type=verifier.credential_type,
        claims=list(verifier.claims),
        actor=actor,
    )
    made = credentials.create_presentation_request(
        session, relying_party=verifier.name, actor=actor
    )
    return RedirectResponse(
        f"/verifiers/{verifier.name}/checks/{made.handle}?lang={lang}", status_code=303
    )


def _reason_message(reason: str | None, lang: str) -> str:
    if reason is None or reason not in credentials.REASONS:
        return ""
    ja, en, _field = credentials.REASONS[reason]
    return en if lang == "en" else ja


@router.get("/verifiers/{name}/checks/{handle}", response_model=None)
def check_page(
    request: Request, lang: Lang, name: NamePath, handle: HandlePath, session: DbSession
) -> HTMLResponse:
    """A check: the link and QR code for the wallet while it waits, then what was received
    (only the claims asked for) or why the presentation was refused."""
    verifier = _verifier(name)
    try:
        outcome = credentials.get_presentation_outcome(session, handle, relying_party=verifier.name)
    except KibanError as error:
        return get_pages().render(
            request,
            lang,
            "verifiers/missing.html",
            {"verifier": verifier, "message": error.message(lang)},
            status_code=error.status,
        )
    t = i18n.translations(lang)
    party = credentials.get_relying_party(session, verifier.name)
    context: dict[str, Any] = {
        "verifier": verifier,
        "outcome": outcome,
        "labels": _labels(verifier, lang),
        "reason": _reason_message(outcome.reason, lang),
    }
    if outcome.outcome == "pending" and not outcome.expired and party is not None:
        base = get_settings().base_url.rstrip("/")
        request_uri = f"{base}/credentials/requests/{handle}"
        link = "openid4vp://?" + urlencode(
            {"client_id": party.client_id, "request_uri": request_uri}
        )
        wallet = get_settings().wallet_url.rstrip("/")
        context |= {
            "link": link,
            "qr": _qr(link, t.gettext("QR code for your wallet")),
            "wallet_link": f"{wallet}/present?" + urlencode({"link": link, "lang": lang}),
        }
    received = (outcome.result or {}).get(verifier.credential_type)
    context["received"] = received["claims"] if received else None
    return get_pages().render(request, lang, "verifiers/check.html", context)
