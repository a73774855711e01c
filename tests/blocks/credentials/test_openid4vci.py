"""OpenID4VCI 1.0: metadata, an offer to the inbox, the pre-authorized code with a transaction
code, the nonce, and the credential endpoint with a JWT proof of possession."""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from kiban.blocks import credentials, notifications, residents
from kiban.platform import sdjwt
from tests.staff_support import bearer, municipality_key

from .conftest import SHOP, TestClient, present

GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def _issuer(person: residents.PersonRead) -> dict[str, str]:
    """A service key of the municipality whose register holds ``person`` (its counter)."""
    return bearer(municipality_key(person.address.lg_code, "counter"))


def _offer(client: TestClient, person: residents.PersonRead) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/credentials/offers",
        json={"person_id": str(person.id), "credential_type": "resident"},
        headers=_issuer(person),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _proof(key: ECKey, nonce: str, *, aud: str | None = None) -> str:
    header = {"alg": "ES256", "typ": "openid4vci-proof+jwt", "jwk": key.as_dict(private=False)}
    claims = {"aud": aud or credentials.issuer_id(), "iat": int(time.time()), "nonce": nonce}
    return jwt.encode(header, claims, key)


def _token(client: TestClient, code: str, tx_code: str) -> Any:
    return client.post(
        "/credentials/token",
        data={"grant_type": GRANT, "pre-authorized_code": code, "tx_code": tx_code},
    )


def test_metadata_names_the_endpoints_and_the_resident_configuration(client: TestClient) -> None:
    metadata = client.get("/.well-known/openid-credential-issuer").json()
    base = credentials.issuer_id()
    assert metadata["credential_issuer"] == base
    assert metadata["credential_endpoint"] == f"{base}/credentials/credential"
    assert metadata["nonce_endpoint"] == f"{base}/credentials/nonce"
    resident = metadata["credential_configurations_supported"]["resident"]
    assert resident["format"] == "dc+sd-jwt"
    assert resident["vct"] == credentials.vct_of("resident")
    assert resident["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == [
        "ES256"
    ]
    server, provider = metadata["authorization_servers"]
    assert provider == base  # kiban's OpenID provider, for the authorization code flow
    path = urllib.parse.urlsplit(server).path
    oauth = client.get(f"/.well-known/oauth-authorization-server{path}").json()
    assert oauth["issuer"] == server
    assert oauth["token_endpoint"] == f"{server}/token"
    assert GRANT in oauth["grant_types_supported"]
    vct = client.get(urllib.parse.urlsplit(resident["vct"]).path).json()
    assert vct["vct"] == resident["vct"]
    assert [c["path"] for c in vct["claims"]][-1] == ["age_over_65"]


def test_pre_authorized_flow_issues_a_credential_bound_to_the_proof_key(
    client: TestClient, session: Session, resident: residents.PersonRead
) -> None:
    made = _offer(client, resident)
    # The offer is in the inbox as a link; the transaction code is not in it.
    inbox = notifications.list_inbox(session, resident.id)
    (notice,) = inbox.items
    assert notice.link == made["offer_uri"]
    assert made["tx_code"] not in (notice.body_ja + notice.body_en + (notice.link or ""))
    session.rollback()
    offer = json.loads(
        urllib.parse.parse_qs(urllib.parse.urlsplit(made["offer_uri"]).query)["credential_offer"][0]
    )
    code = offer["grants"][GRANT]["pre-authorized_code"]

    wrong = _token(client, code, "000000" if made["tx_code"] != "000000" else "111111")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    token = _token(client, code, made["tx_code"])
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    # The code is spent.
    assert _token(client, code, made["tx_code"]).json()["error"] == "invalid_grant"

    key = ECKey.generate_key("P-256", private=True)
    c_nonce = client.post("/credentials/nonce").json()["c_nonce"]
    bearer = {"Authorization": f"Bearer {access}"}
    request = {"credential_configuration_id": "resident", "proofs": {"jwt": [_proof(key, c_nonce)]}}
    # A proof for another issuer, or over a made-up nonce, is refused.
    bad_aud = {**request, "proofs": {"jwt": [_proof(key, c_nonce, aud="https://evil")]}}
    assert (
        client.post("/credentials/credential", json=bad_aud, headers=bearer).json()["error"]
        == "invalid_proof"
    )
    bad_nonce = {**request, "proofs": {"jwt": [_proof(key, "made-up")]}}
    assert (
        client.post("/credentials/credential", json=bad_nonce, headers=bearer).json()["error"]
        == "invalid_nonce"
    )
    answer = client.post("/credentials/credential", json=request, headers=bearer)
    assert answer.status_code == 200, answer.text
    (issued,) = answer.json()["credentials"]
    _header, payload = sdjwt.peek(sdjwt.split(issued["credential"]).issuer_jwt)
    assert payload["cnf"]["jwk"] == key.as_dict(private=False)
    # One credential per offer.
    again = client.post("/credentials/credential", json=request, headers=bearer)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_token"
    # And the credential it issued presents and verifies.
    verified = client.post(
        "/api/v1/credentials/verify",
        json={
            "presentation": present(issued["credential"], key, ["family_name"]),
            "nonce": "n-0S6_WzA2Mj",
            "audience": SHOP,
        },
    )
    assert verified.json()["claims"] == {"family_name": "山田"}


def test_five_wrong_transaction_codes_end_the_offer(
    client: TestClient, resident: residents.PersonRead
) -> None:
    made = _offer(client, resident)
    code = made["credential_offer"]["grants"][GRANT]["pre-authorized_code"]
    wrong = "000000" if made["tx_code"] != "000000" else "111111"
    for _ in range(5):
        assert _token(client, code, wrong).json()["error"] == "invalid_grant"
    refused = _token(client, code, made["tx_code"])
    assert refused.status_code == 400
    assert "too many" in refused.json()["error_description"]


def test_offers_need_an_official_of_the_persons_municipality(
    client: TestClient, resident: residents.PersonRead
) -> None:
    answer = client.post(
        "/api/v1/credentials/offers",
        json={"person_id": str(resident.id), "credential_type": "resident"},
    )
    assert answer.status_code == 401
    unknown = client.post(
        "/api/v1/credentials/offers",
        json={"person_id": str(resident.id), "credential_type": "nurse"},
        headers=_issuer(resident),
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "credential_type"
