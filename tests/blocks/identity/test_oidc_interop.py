"""Interop: an OpenID Connect client library kiban did not write (Authlib) accepts the
discovery document, completes the code flow with PKCE against the running server (asking for
scopes kiban does not know, as generic clients do) and validates the RS256 ID token against
the JWKS.

The resident's part (the sign-in page, the card, the consent page) is done by a plain HTTP
client and the card reader's client library, as a relying-party developer would script it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.oidc.discovery import OpenIDProviderMetadata
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.platform.settings import get_settings
from tests.live import free_port, serving
from tests.staff_support import admin_key

from .oidc_support import ReaderCard, card_answer, card_in_reader

# Authlib warns at import time that its httpx integration will move to the ``httpx2`` package;
# the integration is what this test exercises, so that one warning is not an error.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2", category=AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

OPERATOR_TOKEN = "test-operator-token-interop"  # noqa: S105 - a test fixture value.
NAME_CLAIMS = (
    "name",
    "family_name",
    "given_name",
    "name_kana",
    "family_name_kana",
    "given_name_kana",
)


@pytest.fixture
def server(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """kiban under uvicorn on a loopback port, with its issuer at that address."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("KIBAN_BASE_URL", base)
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", OPERATOR_TOKEN)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with serving(create_app(), "kiban-oidc-server", port):
        yield base


class AuthlibRelyingParty(OpenIDMixin):
    """Authlib's OpenID client logic (metadata, JWKS, ID token validation) over its httpx
    OAuth2 client; Authlib's framework integrations bring the same mixin."""

    def __init__(self, oauth: OAuth2Client, metadata_url: str) -> None:
        self.oauth = oauth
        self.client_id = oauth.client_id
        self.metadata_url = metadata_url
        self.server_metadata: dict[str, Any] = {}

    def load_server_metadata(self) -> dict[str, Any]:
        if not self.server_metadata:
            response = self.oauth.request("GET", self.metadata_url, withhold_token=True)
            response.raise_for_status()
            self.server_metadata = response.json()
        return self.server_metadata

    def _get_session(self) -> contextlib.AbstractContextManager[OAuth2Client]:
        return contextlib.nullcontext(self.oauth)


def _resident_signs_in(browser: httpx.Client, card: ReaderCard, url: str, base: str) -> str:
    """The sign-in page, the card, the consent page; returns the redirect to the RP."""
    response = browser.get(url)
    assert response.status_code == 303, response.text
    signin = browser.get(urljoin(base, response.headers["location"]))
    assert signin.status_code == 200
    callback = browser.get(card_answer(card, signin.text))
    assert callback.status_code == 303, callback.text
    consent_url = urljoin(base, callback.headers["location"])
    consent = browser.get(consent_url)
    items = re.findall(r'name="scope" value="([a-z]+)"', consent.text)
    decided = browser.post(consent_url, data={"decision": "approve", "scope": items})
    assert decided.status_code == 303, decided.text
    return str(decided.headers["location"])


@pytest.mark.slow
def test_authlib_completes_the_code_flow_against_the_running_server(
    server: str, session: Session, resident: residents.PersonRead, tmp_path: Path
) -> None:
    card = card_in_reader(session, resident, tmp_path / "cards")
    with httpx.Client(base_url=server) as operator:
        registered = operator.post(
            "/api/v1/identity/clients",
            json={
                "name": "Authlib RP",
                "purpose": "interop",
                "scopes": ["openid", "name", "address", "birthdate", "gender"],
                "redirect_uris": ["http://127.0.0.1:1/callback"],
            },
            headers={"Authorization": f"Bearer {admin_key()}"},
        )
    assert registered.status_code == 201, registered.text
    client = registered.json()

    oauth = OAuth2Client(
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        # profile and email are not kiban's scopes: ignored (Core §3.1.2.1), releasing nothing.
        scope="openid profile email name address",
        redirect_uri="http://127.0.0.1:1/callback",
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name.
    )
    with oauth:
        rp = AuthlibRelyingParty(oauth, f"{server}/.well-known/openid-configuration")
        metadata = rp.load_server_metadata()
        assert metadata["issuer"] == server
        # Authlib's own check of the discovery document (RS256 is mandatory, Core §15.1).
        OpenIDProviderMetadata(metadata).validate()
        verifier, nonce = generate_token(48), generate_token(20)
        url, state = oauth.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )

        with httpx.Client(follow_redirects=False) as browser:
            back = _resident_signs_in(browser, card, url, server)

        token = oauth.fetch_token(
            metadata["token_endpoint"],
            authorization_response=back,
            state=state,
            code_verifier=verifier,
        )
        userinfo = rp.parse_id_token(token, nonce=nonce)
        claims_from_endpoint = oauth.get(metadata["userinfo_endpoint"]).json()
        keys = oauth.get(metadata["jwks_uri"]).json()["keys"]

    # The client registered no algorithm: RS256, the registration default, with a key of the
    # JWKS that says its alg.
    header = json.loads(base64.urlsafe_b64decode(token["id_token"].split(".")[0] + "=="))
    assert header["alg"] == "RS256"
    published = {key["kid"]: key for key in keys}
    assert published[header["kid"]]["alg"] == "RS256"
    assert published[header["kid"]]["kty"] == "RSA"
    assert sorted(key["alg"] for key in keys) == ["ES256", "RS256"]
    assert userinfo["iss"] == server
    assert userinfo["aud"] == client["client_id"]
    assert userinfo["sub"] == claims_from_endpoint["sub"]
    # Only the items consented to; profile and email released nothing.
    assert token["scope"] == "openid name address"
    assert set(claims_from_endpoint) == {"sub", *NAME_CLAIMS, "address"}
    assert claims_from_endpoint["name"] == "山田\u3000花子"
    assert claims_from_endpoint["address"]["country"] == "JP"

    # A tampered ID token fails Authlib's validation.
    forged = dict(token)
    header, payload, signature = token["id_token"].split(".")
    forged["id_token"] = f"{header}.{payload}.{signature[::-1]}"
    with pytest.raises(Exception, match=r"(?i)signature|bad"):
        rp.parse_id_token(forged, nonce=nonce)
    # So does a wrong nonce.
    with pytest.raises(Exception, match=r"(?i)nonce"):
        rp.parse_id_token(token, nonce="not-the-nonce")
