"""Issuing a resident credential and verifying presentations of it, refusals included."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from kiban.blocks import credentials, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import sdjwt, status_list

from .conftest import SHOP, TestClient, present

VERIFY = "/api/v1/credentials/verify"
NONCE = "n-0S6_WzA2Mj"


def _verify(client: TestClient, presentation: str, nonce: str = NONCE, audience: str = SHOP):  # type: ignore[no-untyped-def]
    return client.post(
        VERIFY, json={"presentation": presentation, "nonce": nonce, "audience": audience}
    )


def _refused(client: TestClient, presentation: str, code: str, **kwargs: str) -> None:
    answer = _verify(client, presentation, **kwargs)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == f"credentials.presentation.{code}"


def test_the_payload_holds_no_personal_claim_only_digests_and_decoys(
    issued: credentials.IssuedCredential, holder_key: ECKey, resident: residents.PersonRead
) -> None:
    parts = sdjwt.split(issued.credential)
    header, payload = sdjwt.peek(parts.issuer_jwt)
    assert header["typ"] == "dc+sd-jwt"
    assert header["alg"] == "ES256"
    assert set(payload) == {"iss", "vct", "iat", "nbf", "exp", "cnf", "status", "_sd", "_sd_alg"}
    assert payload["vct"] == credentials.vct_of("resident")
    assert payload["cnf"]["jwk"] == holder_key.as_dict(private=False)
    assert payload["status"]["status_list"]["uri"].endswith("/credentials/status/1")
    # Nine top-level claims and the five members of the address are disclosures; the
    # payload has at least one decoy beyond the nine.
    names = [sdjwt.parse_disclosure(d).name for d in parts.disclosures]
    assert sorted(names) == sorted(
        [
            "family_name", "given_name", "family_name_kana", "given_name_kana", "birthdate",
            "address", "age_over_18", "age_over_20", "age_over_65",
            "formatted", "region", "locality", "street_address", "lg_code",
        ]
    )  # fmt: skip
    assert len(payload["_sd"]) > 9
    assert payload["_sd"] == sorted(payload["_sd"])
    assert "山田" not in json.dumps(payload, ensure_ascii=False)
    assert resident.family_name == "山田"


def test_the_shop_receives_age_over_20_and_nothing_else(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    answer = _verify(client, present(issued, holder_key, ["age_over_20"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["claims"] == {"age_over_20": True}
    assert body["credential_type"] == "resident"
    assert body["status"] == "valid"


def test_a_whole_address_is_disclosed_with_its_members(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    answer = _verify(client, present(issued, holder_key, ["address", "birthdate"]))
    assert answer.status_code == 200, answer.text
    claims = answer.json()["claims"]
    assert claims["birthdate"] == "1982-02-03"
    assert claims["address"]["lg_code"] == "131016"
    assert claims["address"]["locality"] == "千代田区"
    assert claims["address"]["formatted"].startswith("東京都千代田区丸の内")
    assert claims["address"]["street_address"].startswith("丸の内")
    assert claims["address"]["formatted"].endswith(claims["address"]["street_address"])


def test_wrong_nonce_is_refused(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    presentation = present(issued, holder_key, ["age_over_20"], nonce="another-nonce")
    _refused(client, presentation, "nonce_mismatch")


def test_wrong_audience_is_refused(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    presentation = present(issued, holder_key, ["age_over_20"], audience="https://evil.example")
    _refused(client, presentation, "audience_mismatch")


def test_a_tampered_disclosure_is_refused(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    # The holder changes age_over_20's value and even signs a fresh KB-JWT over it.
    parts = sdjwt.split(present(issued, holder_key, ["age_over_20"]))
    original = sdjwt.parse_disclosure(parts.disclosures[0])
    forged = sdjwt.b64url(json.dumps([original.salt, "age_over_20", False]).encode())
    without_kb = "~".join([parts.issuer_jwt, forged, ""])
    kb = sdjwt.key_binding_jwt(
        without_kb, holder_key, nonce=NONCE, audience=SHOP, issued_at=int(time.time())
    )
    _refused(client, without_kb + kb, "disclosure_unknown")


def test_a_disclosure_added_after_the_kb_jwt_is_refused(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    presentation = present(issued, holder_key, ["age_over_20"])
    birthdate = next(
        d
        for d in sdjwt.split(issued.credential).disclosures
        if sdjwt.parse_disclosure(d).name == "birthdate"
    )
    parts = sdjwt.split(presentation)
    smuggled = "~".join([parts.issuer_jwt, *parts.disclosures, birthdate, parts.kb_jwt or ""])
    _refused(client, smuggled, "sd_hash_mismatch")


def test_an_expired_credential_is_refused(
    client: TestClient,
    issued: credentials.IssuedCredential,
    holder_key: ECKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    later = issued.expires_at + timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    presentation = present(issued, holder_key, ["age_over_20"], at=later.timestamp())
    _refused(client, presentation, "expired")


def test_a_revoked_credential_is_refused(
    client: TestClient,
    session: Session,
    issued: credentials.IssuedCredential,
    holder_key: ECKey,
) -> None:
    assert _verify(client, present(issued, holder_key, ["age_over_20"])).status_code == 200
    assert credentials.revoke_credential(session, issued.id, reason="test", actor="t") == 1
    session.commit()
    _refused(client, present(issued, holder_key, ["age_over_20"]), "revoked")
    # Revoking again changes nothing.
    assert credentials.revoke_credential(session, issued.id, reason="test", actor="t") == 0


def test_a_missing_key_binding_is_refused(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    parts = sdjwt.split(present(issued, holder_key, ["age_over_20"]))
    _refused(client, parts.without_kb, "key_binding_missing")


def test_a_key_binding_by_another_key_is_refused(
    client: TestClient, issued: credentials.IssuedCredential
) -> None:
    thief = ECKey.generate_key("P-256", private=True)
    _refused(client, present(issued, thief, ["age_over_20"]), "key_binding_invalid")


def test_an_old_key_binding_is_refused(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    presentation = present(issued, holder_key, ["age_over_20"], at=time.time() - 3600)
    _refused(client, presentation, "key_binding_stale")


def test_a_forged_issuer_signature_is_refused(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    parts = sdjwt.split(issued.credential)
    header, payload = sdjwt.peek(parts.issuer_jwt)
    payload["exp"] += 10 * 365 * 86400
    forged = sdjwt.issue(header, payload, ECKey.generate_key("P-256", private=True))
    tampered = "~".join([forged, *parts.disclosures, ""])
    relabelled = credentials.IssuedCredential(**{**issued.__dict__, "credential": tampered})
    _refused(client, present(relabelled, holder_key, ["age_over_20"]), "signature_invalid")


def test_garbage_is_refused_with_the_field(client: TestClient) -> None:
    answer = _verify(client, "not an sd-jwt")
    assert answer.status_code == 422
    assert answer.json()["error"] == {
        "code": "credentials.presentation.malformed",
        "message": answer.json()["error"]["message"],
        "field": "presentation",
    }


def test_a_private_holder_key_is_refused(
    session: Session, resident: residents.PersonRead, holder_key: ECKey
) -> None:
    with pytest.raises(KibanError) as raised:
        credentials.issue_credential(
            session,
            person_id=resident.id,
            credential_type="resident",
            holder_jwk=holder_key.as_dict(private=True),
            actor="t",
        )
    assert raised.value.code == "credentials.holder_key_invalid"
    assert raised.value.field == "holder_key"


def test_age_claims_and_an_expiry_before_the_next_threshold(
    session: Session,
    towns: dict,
    holder_key: ECKey,  # type: ignore[type-arg]
) -> None:
    from .conftest import public, register  # noqa: PLC0415

    today = clock.today_jst()
    birth = today.replace(year=today.year - 19) - timedelta(days=10)
    young = register(session, towns["kudan"], birth, given="若葉")
    found = credentials.issue_credential(
        session, person_id=young.id, credential_type="resident",
        holder_jwk=public(holder_key), actor="t",
    )  # fmt: skip
    claims = sdjwt.unpack(
        sdjwt.peek(sdjwt.split(found.credential).issuer_jwt)[1],
        sdjwt.split(found.credential).disclosures,
    )
    assert (claims["age_over_18"], claims["age_over_20"], claims["age_over_65"]) == (
        True,
        False,
        False,
    )
    # The credential ends the day she turns 20, when age_over_20 would become wrong.
    assert clock.to_jst(found.expires_at).date() == birth.replace(year=birth.year + 20)


def test_the_status_list_is_published_compressed_with_the_revoked_bit(
    client: TestClient,
    session: Session,
    issued: credentials.IssuedCredential,
) -> None:
    credentials.revoke_credential(session, issued.id, reason="test", actor="t")
    session.commit()
    answer = client.get("/credentials/status/1")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/statuslist+jwt"
    header, payload = sdjwt.peek(answer.text)
    assert header["typ"] == "statuslist+jwt"
    assert payload["sub"] == issued.status_uri
    assert payload["ttl"] == credentials.PUBLICATION_TTL
    # Two bits a credential, so that a licence's suspension (2) can be published too.
    assert payload["status_list"]["bits"] == 2
    array = status_list.decode(payload["status_list"]["lst"])
    assert len(array) == (1 << 17) * 2 // 8
    assert status_list.status_at(array, issued.status_index, 2) == 1
    assert sum(bin(b).count("1") for b in array) == 1
    assert client.get("/credentials/status/99").status_code == 404


def _resigned(issued: credentials.IssuedCredential, **changes: object) -> str:
    """The credential with its header or payload changed and signed again by kiban's issuer."""
    from kiban.blocks.credentials import issuer  # noqa: PLC0415 - the issuer's own key.

    parts = sdjwt.split(issued.credential)
    header, payload = sdjwt.peek(parts.issuer_jwt)
    header.update({k[2:]: v for k, v in changes.items() if k.startswith("h_")})
    payload.update({k: v for k, v in changes.items() if not k.startswith("h_")})
    token = sdjwt.issue(header, payload, issuer.signing_key())
    return "~".join([token, *parts.disclosures, ""])


def test_a_credential_not_valid_yet_an_unknown_vct_and_another_typ_are_refused(
    client: TestClient, issued: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    later = int(time.time()) + 86400
    cases = {
        "not_yet_valid": _resigned(issued, nbf=later),
        "unknown_vct": _resigned(issued, vct="https://elsewhere.example/types/resident"),
        "wrong_type": _resigned(issued, h_typ="vc+sd-jwt"),
        "unknown_issuer": _resigned(issued, iss="https://elsewhere.example"),
    }
    for code, credential in cases.items():
        _refused(client, present(credential, holder_key, ["age_over_20"]), code)
    # The same re-signing with nothing changed verifies: the refusals are the changes'.
    assert (
        _verify(client, present(_resigned(issued), holder_key, ["age_over_20"])).status_code == 200
    )
