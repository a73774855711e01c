"""OpenID4VP 1.0 for integrators: a DCQL request and the check of the vp_token it gets back."""

from __future__ import annotations

from typing import Any

from joserfc.jwk import ECKey

from kiban.blocks import credentials

from .conftest import TestClient, present

SHOP = "redirect_uri:https://shop.example.jp/cb"


def _request(client: TestClient, claims: list[str]) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/credentials/presentation-requests",
        json={
            "client_id": SHOP,
            "response_uri": "https://shop.example.jp/cb",
            "credential_type": "resident",
            "claims": claims,
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _answer(client: TestClient, request: dict[str, Any], vp_token: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/credentials/presentation-responses/verify",
        json={"request": request, "vp_token": vp_token},
    )


def test_the_request_asks_by_dcql_with_a_fresh_nonce(client: TestClient) -> None:
    first, second = _request(client, ["age_over_20"]), _request(client, ["age_over_20"])
    assert first["nonce"] != second["nonce"]
    assert first["response_mode"] == "direct_post"
    (query,) = first["dcql_query"]["credentials"]
    assert query["format"] == "dc+sd-jwt"
    assert query["meta"]["vct_values"] == [credentials.vct_of("resident")]
    assert query["claims"] == [{"path": ["age_over_20"]}]
    unknown = client.post(
        "/api/v1/credentials/presentation-requests",
        json={"client_id": SHOP, "response_uri": "https://x", "credential_type": "resident",
              "claims": ["blood_type"]},
    )  # fmt: skip
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "claims"


def test_the_shop_keeps_age_over_20_even_when_the_wallet_discloses_more(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    request = _request(client, ["age_over_20"])
    too_much = present(
        issued, holder_key, ["age_over_20", "birthdate"], nonce=request["nonce"], audience=SHOP
    )
    answer = _answer(client, request, {"resident": [too_much]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["credentials"]["resident"]["claims"] == {"age_over_20": True}


def test_refusals_name_what_is_wrong(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    request = _request(client, ["age_over_20", "address"])
    partial = present(issued, holder_key, ["age_over_20"], nonce=request["nonce"], audience=SHOP)
    codes = {
        "claim_missing": {"resident": [partial]},
        "credential_missing": {"nurse": [partial]},
    }
    for code, vp_token in codes.items():
        answer = _answer(client, request, vp_token)
        assert answer.json()["error"]["code"] == f"credentials.presentation.{code}"
    other_verifier = present(
        issued, holder_key, ["age_over_20", "address"], nonce=request["nonce"],
        audience="redirect_uri:https://other.example/cb",
    )  # fmt: skip
    answer = _answer(client, request, {"resident": [other_verifier]})
    assert answer.json()["error"]["code"] == "credentials.presentation.audience_mismatch"
    replayed = present(issued, holder_key, ["age_over_20", "address"], audience=SHOP)
    answer = _answer(client, request, {"resident": [replayed]})
    assert answer.json()["error"]["code"] == "credentials.presentation.nonce_mismatch"
