"""The verifier: registered relying parties, stored single-use requests served by reference,
``direct_post`` answers checked and kept to the claims asked, refusals with their reason."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import credentials
from kiban.blocks.credentials.models import CredentialsPresentationRequest
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import sdjwt

from .conftest import TestClient, present

SHOP = {
    "name": "corner-shop",
    "display_ja": "角の酒店",
    "display_en": "Corner liquor store",
    "purpose_ja": "20歳以上であることを確認します。",
    "purpose_en": "To confirm you are 20 or older.",
    "credential_type": "resident",
    "claims": ["age_over_20"],
}


def _register(session: Session, **changes: Any) -> credentials.RelyingParty:
    party = credentials.register_relying_party(session, **{**SHOP, **changes}, actor="test")
    session.commit()
    return party


def _start(session: Session) -> credentials.PresentationRequest:
    _register(session)
    made = credentials.create_presentation_request(
        session, relying_party=SHOP["name"], actor="test"
    )
    session.commit()
    return made


def request_of(client: TestClient, request_uri: str) -> dict[str, Any]:
    """Fetch a request object by reference, as a wallet does, and read its (unsigned) body."""
    answer = client.get(urlsplit(request_uri).path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/oauth-authz-req+jwt"
    header, body, signature = answer.text.split(".")
    assert json.loads(sdjwt.b64url_decode(header)) == {
        "alg": "none",
        "typ": "oauth-authz-req+jwt",
    }
    assert signature == ""
    return json.loads(sdjwt.b64url_decode(body))  # type: ignore[no-any-return]


def post_answer(client: TestClient, request: dict[str, Any], presentation: str | None) -> Any:
    vp_token = None if presentation is None else json.dumps({"resident": [presentation]})
    return client.post(
        urlsplit(request["response_uri"]).path,
        data={"state": request["state"], **({"vp_token": vp_token} if vp_token else {})},
    )


def test_registration_names_the_claims_a_party_may_ask(session: Session) -> None:
    party = _register(session)
    assert party.claims == ("age_over_20",)
    assert party.client_id == "redirect_uri:" + party.response_uri
    again = _register(session)
    assert again == party
    with pytest.raises(KibanError) as unknown:
        _register(session, claims=["blood_type"])
    assert unknown.value.field == "claims"
    with pytest.raises(KibanError) as bad_name:
        _register(session, name="Shop!")
    assert bad_name.value.field == "name"
    with pytest.raises(KibanError) as no_type:
        _register(session, credential_type="qualification-astronaut")
    assert no_type.value.code == "credentials.unknown_type"


def test_the_request_is_served_by_reference_with_who_asks_and_why(
    client: TestClient, session: Session
) -> None:
    made = _start(session)
    query = parse_qs(urlsplit(made.wallet_link).query)
    assert made.wallet_link.startswith("openid4vp://?")
    assert query["request_uri"] == [made.request_uri]
    request = request_of(client, made.request_uri)
    assert request["client_id"] == made.client_id
    assert request["response_mode"] == "direct_post"
    assert request["kiban_relying_party"]["purpose_en"] == SHOP["purpose_en"]
    assert request["dcql_query"]["credentials"][0]["claims"] == [{"path": ["age_over_20"]}]
    assert request["exp"] - request["iat"] == 600
    other = _start(session)
    assert request_of(client, other.request_uri)["nonce"] != request["nonce"]
    assert client.get("/credentials/requests/no-such-request").status_code == 404


def test_the_answer_keeps_only_the_claims_asked_and_is_single_use(
    client: TestClient,
    session: Session,
    issued: credentials.IssuedCredential,
    holder_key: ECKey,
) -> None:
    made = _start(session)
    request = request_of(client, made.request_uri)
    too_much = present(
        issued,
        holder_key,
        ["age_over_20", "birthdate", "name"],
        nonce=request["nonce"],
        audience=request["client_id"],
    )
    answer = post_answer(client, request, too_much)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"outcome": "verified"}
    outcome = credentials.get_presentation_outcome(session, made.handle, relying_party=SHOP["name"])
    assert outcome.outcome == "verified"
    assert outcome.result is not None
    assert outcome.result["resident"]["claims"] == {"age_over_20": True}
    stored = session.scalars(
        select(CredentialsPresentationRequest.result).where(
            CredentialsPresentationRequest.handle == made.handle
        )
    ).one()
    assert "1982" not in json.dumps(stored, ensure_ascii=False)
    assert "花子" not in json.dumps(stored, ensure_ascii=False)
    session.rollback()  # End the read, so the server may write (SQLite).
    replay = post_answer(client, request, too_much)
    assert replay.status_code == 422
    assert replay.json()["error"]["code"] == "credentials.presentation.request_used"
    # Once answered, the request object is no longer served.
    assert client.get(urlsplit(made.request_uri).path).status_code == 409


def _refused(client: TestClient, request: dict[str, Any], presentation: str | None) -> str:
    answer = post_answer(client, request, presentation)
    assert answer.status_code == 422, answer.text
    return str(answer.json()["error"]["code"]).removeprefix("credentials.presentation.")


def test_refusals_name_the_reason_and_use_up_the_request(
    client: TestClient,
    session: Session,
    issued: credentials.IssuedCredential,
    holder_key: ECKey,
) -> None:
    def fresh() -> dict[str, Any]:
        return request_of(client, _start(session).request_uri)

    request = fresh()
    wrong_nonce = present(
        issued, holder_key, ["age_over_20"], nonce="another", audience=request["client_id"]
    )
    assert _refused(client, request, wrong_nonce) == "nonce_mismatch"
    # A refused request is used up: the right answer afterwards is refused too.
    right = present(
        issued,
        holder_key,
        ["age_over_20"],
        nonce=request["nonce"],
        audience=request["client_id"],
    )
    assert _refused(client, request, right) == "request_used"

    request = fresh()
    wrong_audience = present(
        issued, holder_key, ["age_over_20"], nonce=request["nonce"], audience="https://evil"
    )
    assert _refused(client, request, wrong_audience) == "audience_mismatch"

    request = fresh()
    assert _refused(client, request, None) == "credential_missing"

    request = fresh()
    withheld = present(
        issued, holder_key, ["age_over_18"], nonce=request["nonce"], audience=request["client_id"]
    )
    assert _refused(client, request, withheld) == "claim_missing"

    request = fresh()
    answer = client.post(
        urlsplit(request["response_uri"]).path,
        data={"state": request["state"], "vp_token": "not json"},
    )
    assert answer.json()["error"]["code"] == "credentials.presentation.vp_token_malformed"

    request = fresh()
    answer = client.post(
        urlsplit(request["response_uri"]).path, data={"state": "guessed", "vp_token": "{}"}
    )
    assert answer.json()["error"]["code"] == "credentials.presentation.request_unknown"

    # Answered at another relying party's response URI: not that party's request.
    answer = client.post(
        "/credentials/verifiers/hospital/response",
        data={"state": request["state"], "vp_token": json.dumps({"resident": [right]})},
    )
    assert answer.json()["error"]["code"] == "credentials.presentation.request_unknown"

    request = fresh()
    credentials.revoke_credential(session, issued.id, reason="test", actor="test")
    session.commit()
    revoked = present(
        issued, holder_key, ["age_over_20"], nonce=request["nonce"], audience=request["client_id"]
    )
    assert _refused(client, request, revoked) == "revoked"
    outcome = credentials.get_presentation_outcome(
        session, request_handle(session, request["state"]), relying_party=SHOP["name"]
    )
    assert (outcome.outcome, outcome.reason, outcome.result) == ("refused", "revoked", None)


def request_handle(session: Session, state: str) -> str:
    return session.scalars(
        select(CredentialsPresentationRequest.handle).where(
            CredentialsPresentationRequest.state == state
        )
    ).one()


def test_an_expired_request_is_refused(
    client: TestClient,
    session: Session,
    issued: credentials.IssuedCredential,
    holder_key: ECKey,
) -> None:
    made = _start(session)
    request = request_of(client, made.request_uri)
    with clock.travel(timedelta(minutes=11)):
        late = present(
            issued,
            holder_key,
            ["age_over_20"],
            nonce=request["nonce"],
            audience=request["client_id"],
        )
        assert _refused(client, request, late) == "request_expired"
        assert client.get(urlsplit(made.request_uri).path).status_code == 409
