"""OpenID4VCI's authorization code flow through kiban's OpenID provider: a wallet registered
as a client signs the person in with the card and gets that person's own credential."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.platform import sdjwt
from kiban.platform.settings import get_settings
from tests.blocks.identity.oidc_support import (
    card_in_reader,
    exchange,
    query_of,
    register_rp,
    sign_in_through_pages,
)
from tests.staff_support import admin_key

from .conftest import TestClient

ISSUER = "http://testserver"


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_BASE_URL", ISSUER)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


def _access_token(
    http: TestClient, session: Session, person: residents.PersonRead, tmp: Path
) -> tuple[str, str]:
    card = card_in_reader(session, person, tmp / "cards")
    wallet = register_rp(
        http, admin_key(), name="基盤ウォレット", scopes=["openid"],
        redirect_uri="https://wallet.example/cb",
    )  # fmt: skip
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + urlencode(wallet.authorize_params("openid"))
    )
    token = exchange(http, wallet, query_of(location)["code"])
    assert token.status_code == 200, token.text
    return wallet.client_id, token.json()["access_token"]


def _request(http: TestClient, key: ECKey) -> dict[str, object]:
    c_nonce = http.post("/credentials/nonce").json()["c_nonce"]
    header = {"alg": "ES256", "typ": "openid4vci-proof+jwt", "jwk": key.as_dict(private=False)}
    proof = jwt.encode(header, {"aud": ISSUER, "iat": int(time.time()), "nonce": c_nonce}, key)
    return {"credential_configuration_id": "resident", "proofs": {"jwt": [proof]}}


def test_an_approved_wallet_gets_the_signed_in_persons_credential(
    http: TestClient,
    session: Session,
    resident: residents.PersonRead,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metadata = http.get("/.well-known/openid-credential-issuer").json()
    assert ISSUER in metadata["authorization_servers"]
    client_id, access = _access_token(http, session, resident, tmp_path)
    key = ECKey.generate_key("P-256", private=True)
    bearer = {"Authorization": f"Bearer {access}"}
    # Not approved as a wallet yet: the provider's token alone is not enough.
    refused = http.post("/credentials/credential", json=_request(http, key), headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    monkeypatch.setenv("KIBAN_CREDENTIALS_WALLET_CLIENTS", f"other, {client_id}")
    answer = http.post("/credentials/credential", json=_request(http, key), headers=bearer)
    assert answer.status_code == 200, answer.text
    (issued,) = answer.json()["credentials"]
    parts = sdjwt.split(issued["credential"])
    _header, payload = sdjwt.peek(parts.issuer_jwt)
    assert payload["cnf"]["jwk"] == key.as_dict(private=False)
    claims = sdjwt.unpack(payload, parts.disclosures)
    assert (claims["family_name"], claims["given_name"]) == ("山田", "花子")
    # An unknown configuration is named as such.
    wrong = {**_request(http, key), "credential_configuration_id": "nurse"}
    assert http.post("/credentials/credential", json=wrong, headers=bearer).json()["error"] == (
        "unknown_credential_configuration"
    )
