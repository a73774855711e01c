"""Helpers of the OpenID Connect tests: a card in a virtual card reader, relying parties, and
the browser's part of the code flow done with an HTTP client and the reader's client library."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.cardreader.client import sign_challenge
from kiban.cardreader.store import CardStore
from kiban.cli.card import issue_into

AUTH_PIN = "1234"
SIGNING_PIN = "KIBAN2026"
PINS = {"auth": AUTH_PIN, "signing": SIGNING_PIN}
OFFICIAL = "official:test"
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


@dataclass
class ReaderCard:
    """A card issued by the identity block and kept in a virtual card reader's store."""

    store: CardStore
    card_number: str
    person_id: Any


def card_in_reader(session: Session, person: residents.PersonRead, directory: Path) -> ReaderCard:
    """Issue a card the way a municipal office does: the reader makes the keys, the identity
    block certifies them, the reader stores keys and certificates under the PINs."""
    store = CardStore(directory)
    card = issue_into(
        session, store, person.id, auth_pin=AUTH_PIN, signing_pin=SIGNING_PIN, actor=OFFICIAL
    )
    session.commit()
    return ReaderCard(store=store, card_number=card.card_number, person_id=person.id)


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Rp:
    """A registered relying party as a test uses it."""

    client_id: str
    client_secret: str | None
    redirect_uri: str
    scopes: list[str]
    verifier: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def authorize_params(self, scope: str | None = None, **extra: str) -> dict[str, str]:
        """The query of an authorization request, with a fresh PKCE pair, state and nonce."""
        self.verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope or " ".join(self.scopes),
            "state": secrets.token_urlsafe(12),
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(extra)
        return params


def register_rp(
    http: httpx.Client,
    api_key: str,
    *,
    name: str,
    scopes: list[str],
    redirect_uri: str = "https://rp.example/callback",
    auth_method: str = "client_secret_basic",
    sector_identifier: str | None = None,
) -> Rp:
    """Register a relying party through the operator API."""
    body: dict[str, Any] = {
        "name": name,
        "purpose": f"{name} のテスト / testing {name}",
        "scopes": scopes,
        "redirect_uris": [redirect_uri],
        "auth_method": auth_method,
    }
    if sector_identifier:
        body["sector_identifier"] = sector_identifier
    response = http.post(
        "/api/v1/identity/clients",
        json=body,
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 201, response.text
    data = response.json()
    return Rp(data["client_id"], data["client_secret"], redirect_uri, data["scopes"])


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def path_of(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of the sign-in page's form to the card reader."""
    return dict(_HIDDEN.findall(html))


def card_answer(card: ReaderCard, signin_html: str, pins: Mapping[str, str] = PINS) -> str:
    """What the reader would redirect to: the callback URL with the card's signatures."""
    fields = hidden_fields(signin_html)
    signed = sign_challenge(
        card.store,
        card.card_number,
        {kind: pins[kind] for kind in fields["keys"].split(",")},
        fields["challenge"],
        fields["keys"].split(","),
    )
    query = urlencode({"request_id": fields["request_id"], **signed})
    return f"{fields['return_to']}?{query}"


def card_post(
    card: ReaderCard, page_html: str, pins: Mapping[str, str] = PINS
) -> tuple[str, dict[str, str]]:
    """What the reader posts with ``response_mode=form_post``: the callback's path and the
    form's fields (the card's signatures and certificates in the body, not in a URL)."""
    fields = hidden_fields(page_html)
    assert fields.get("response_mode") == "form_post", "the page asks for a URL answer"
    signed = sign_challenge(
        card.store,
        card.card_number,
        {kind: pins[kind] for kind in fields["keys"].split(",")},
        fields["challenge"],
        fields["keys"].split(","),
    )
    return path_of(fields["return_to"]), {"request_id": fields["request_id"], **signed}


def sign_in_through_pages(
    http: httpx.Client,
    card: ReaderCard,
    authorize_url: str,
    *,
    decision: str = "approve",
    scopes: list[str] | None = None,
) -> str:
    """A resident's part of the flow, from the authorization request to the redirect back to
    the relying party; returns that redirect's URL.

    ``scopes`` are the items ticked on the consent page (default: every item shown).
    """
    response = http.get(authorize_url)
    assert response.status_code == 303, response.text
    signin = http.get(path_of(response.headers["location"]))
    assert signin.status_code == 200, signin.text
    callback = http.get(path_of(card_answer(card, signin.text)))
    assert callback.status_code == 303, callback.text
    consent_path = callback.headers["location"]
    consent = http.get(consent_path)
    assert consent.status_code == 200, consent.text
    ticked = (
        scopes if scopes is not None else re.findall(r'name="scope" value="([a-z]+)"', consent.text)
    )
    decided = http.post(consent_path, data={"decision": decision, "scope": ticked})
    assert decided.status_code == 303, decided.text
    return str(decided.headers["location"])


def exchange(http: httpx.Client, rp: Rp, code: str, **overrides: str) -> httpx.Response:
    """A token request with client_secret_basic (or none for public clients)."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": rp.verifier,
    }
    data.update(overrides)
    auth = (rp.client_id, rp.client_secret) if rp.client_secret else None
    if auth is None:
        data["client_id"] = rp.client_id
    return http.post("/oidc/token", data=data, auth=auth)
