"""The `sd-jwt` reference library (openwallet-foundation-labs) against kiban, both ways.

The library verifies kiban's credentials and presentations with kiban's published issuer key,
and builds presentations (its own disclosure selection and KB-JWT) that kiban verifies.
"""

from __future__ import annotations

import json

from joserfc.jwk import ECKey
from jwcrypto.jwk import JWK
from sd_jwt.holder import SDJWTHolder
from sd_jwt.verifier import SDJWTVerifier
from sqlalchemy.orm import Session

from kiban.blocks import credentials

from .conftest import SHOP, TestClient, present
from .test_relying_parties import post_answer, request_of

NONCE = "XZOUco1u_gEPknxS78sWWg"


def _issuer_key_from_metadata(client: TestClient) -> JWK:
    metadata = client.get("/.well-known/jwt-vc-issuer").json()
    assert metadata["issuer"] == credentials.issuer_id()
    (key,) = metadata["jwks"]["keys"]
    return JWK.from_json(json.dumps(key))


def test_the_reference_library_verifies_kibans_presentation(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    issuer_key = _issuer_key_from_metadata(client)
    seen: list[str] = []

    def issuer_key_for(iss: str, header: dict[str, object]) -> JWK:
        seen.append(iss)
        assert header["typ"] == "dc+sd-jwt"
        return issuer_key

    presentation = present(issued, holder_key, ["age_over_20", "address"], nonce=NONCE)
    verifier = SDJWTVerifier(presentation, issuer_key_for, expected_aud=SHOP, expected_nonce=NONCE)
    claims = verifier.get_verified_payload()
    assert seen == [credentials.issuer_id()]
    assert claims["age_over_20"] is True
    assert claims["address"]["lg_code"] == "131016"
    assert "birthdate" not in claims
    assert "family_name" not in claims


def test_the_reference_library_reads_every_claim_of_the_issued_credential(
    client: TestClient, issued: credentials.IssuedCredential
) -> None:
    issuer_key = _issuer_key_from_metadata(client)
    verifier = SDJWTVerifier(issued.credential, lambda _iss, _header: issuer_key)
    claims = verifier.get_verified_payload()
    assert claims["family_name"] == "山田"
    assert claims["birthdate"] == "1982-02-03"
    assert claims["age_over_65"] is False
    assert claims["cnf"]["jwk"]["crv"] == "P-256"


def test_kiban_verifies_a_presentation_the_reference_library_builds(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    holder = SDJWTHolder(issued.credential)
    private = JWK.from_json(json.dumps(holder_key.as_dict(private=True)))
    holder.create_presentation(
        {"age_over_20": True, "given_name": True}, nonce=NONCE, aud=SHOP, holder_key=private
    )
    answer = client.post(
        "/api/v1/credentials/verify",
        json={"presentation": holder.sd_jwt_presentation, "nonce": NONCE, "audience": SHOP},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["claims"] == {"age_over_20": True, "given_name": "花子"}
    # And its presentation for another verifier is refused here.
    refused = client.post(
        "/api/v1/credentials/verify",
        json={
            "presentation": holder.sd_jwt_presentation,
            "nonce": NONCE,
            "audience": "https://hospital.example.jp",
        },
    )
    assert refused.json()["error"]["code"] == "credentials.presentation.audience_mismatch"


def test_a_stored_request_answered_by_the_reference_library_by_direct_post(
    client: TestClient,
    session: Session,
    issued: credentials.IssuedCredential,
    holder_key: ECKey,
) -> None:
    """The reference library as the wallet: it reads the request object kiban serves by
    reference, builds the presentation for its nonce and client id, and kiban's verifier
    accepts it at the response URI, keeping only the claim asked."""
    credentials.register_relying_party(
        session,
        name="interop-shop",
        display_ja="相互運用の店",
        display_en="Interop shop",
        purpose_ja="20歳以上の確認",
        purpose_en="Age check",
        credential_type="resident",
        claims=["age_over_20"],
        actor="test",
    )
    made = credentials.create_presentation_request(
        session, relying_party="interop-shop", actor="test"
    )
    session.commit()
    request = request_of(client, made.request_uri)
    holder = SDJWTHolder(issued.credential)
    private = JWK.from_json(json.dumps(holder_key.as_dict(private=True)))
    # It discloses more than asked: kiban keeps only what the request asked for.
    holder.create_presentation(
        {"age_over_20": True, "birthdate": True},
        nonce=request["nonce"],
        aud=request["client_id"],
        holder_key=private,
    )
    answer = post_answer(client, request, holder.sd_jwt_presentation)
    assert answer.status_code == 200, answer.text
    outcome = credentials.get_presentation_outcome(
        session, made.handle, relying_party="interop-shop"
    )
    assert outcome.result is not None
    assert outcome.result["resident"]["claims"] == {"age_over_20": True}
    # And the reference library verifies the presentation kiban's wallet code builds for it.
    issuer_key = _issuer_key_from_metadata(client)
    ours = present(
        issued,
        holder_key,
        ["age_over_20"],
        nonce=request["nonce"],
        audience=request["client_id"],
    )
    verified = SDJWTVerifier(
        ours,
        lambda _iss, _header: issuer_key,
        expected_aud=request["client_id"],
        expected_nonce=request["nonce"],
    ).get_verified_payload()
    assert verified["age_over_20"] is True
    assert "birthdate" not in verified
