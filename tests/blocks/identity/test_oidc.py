"""The OpenID Connect provider through HTTP: discovery, the code flow with the card, PKCE, codes,
scopes, pairwise subjects, consent, userinfo, and what never leaves kiban."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from kiban.blocks import identity, residents
from kiban.blocks.residents.models import Person
from kiban.cardreader.errors import PinLocked, WrongPin
from kiban.cardreader.store import CardStore
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings
from tests.staff_support import admin_key

from .conftest import TestClient
from .oidc_support import (
    PINS,
    ReaderCard,
    Rp,
    card_answer,
    card_in_reader,
    exchange,
    path_of,
    query_of,
    register_rp,
    sign_in_through_pages,
)

OPERATOR_TOKEN = "test-operator-token-oidc"  # noqa: S105 - a test fixture value.
ISSUER = "http://testserver"
TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The application with the issuer at the test client's own address."""
    monkeypatch.setenv("KIBAN_BASE_URL", ISSUER)
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", OPERATOR_TOKEN)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


@pytest.fixture
def card(session: Session, resident: residents.PersonRead, tmp_path: Path) -> ReaderCard:
    return card_in_reader(session, resident, tmp_path / "cards")


@pytest.fixture
def shop(http: TestClient) -> Rp:
    return register_rp(
        http, admin_key(), name="例示商店", scopes=["openid", "name", "address", "birthdate"]
    )


def authorize_url(rp: Rp, scope: str | None = None, **extra: str) -> str:
    return "/oidc/authorize?" + "&".join(
        f"{key}={value}" for key, value in _quoted(rp.authorize_params(scope, **extra)).items()
    )


def _quoted(params: dict[str, str]) -> dict[str, str]:
    return {key: quote(value, safe="") for key, value in params.items()}


def code_from(location: str, rp: Rp) -> str:
    assert location.startswith(rp.redirect_uri + "?"), location
    query = query_of(location)
    assert "error" not in query, query
    assert query["iss"] == ISSUER
    return query["code"]


def full_sign_in(http: TestClient, card: ReaderCard, rp: Rp, **kwargs: object) -> dict[str, str]:
    return full_sign_in_at(http, card, rp, authorize_url(rp), **kwargs)


def full_sign_in_at(
    http: TestClient, card: ReaderCard, rp: Rp, url: str, **kwargs: object
) -> dict[str, str]:
    location = sign_in_through_pages(http, card, url, **kwargs)  # type: ignore[arg-type]
    response = exchange(http, rp, code_from(location, rp))
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def id_token_claims(http: TestClient, token: str) -> dict[str, object]:
    keys = KeySet.import_key_set(http.get("/oidc/jwks").json())
    decoded = jwt.decode(token, keys, algorithms=["RS256", "ES256"])
    return dict(decoded.claims)


def test_discovery_and_jwks(http: TestClient) -> None:
    metadata = http.get("/.well-known/openid-configuration").json()

    assert metadata["issuer"] == ISSUER
    assert metadata["authorization_endpoint"] == f"{ISSUER}/oidc/authorize"
    assert metadata["token_endpoint"] == f"{ISSUER}/oidc/token"
    assert metadata["userinfo_endpoint"] == f"{ISSUER}/oidc/userinfo"
    assert metadata["jwks_uri"] == f"{ISSUER}/oidc/jwks"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["subject_types_supported"] == ["pairwise"]
    # RS256 is mandatory to implement (Core §15.1); ES256 on request.
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert set(metadata["scopes_supported"]) >= {
        "openid",
        "name",
        "address",
        "birthdate",
        "gender",
        "sign",
    }

    keys = {key["alg"]: key for key in http.get("/oidc/jwks").json()["keys"]}
    assert sorted(keys) == ["ES256", "RS256"]
    ec, rsa = keys["ES256"], keys["RS256"]
    assert (ec["kty"], ec["crv"], ec["use"]) == ("EC", "P-256", "sig")
    assert (rsa["kty"], rsa["use"], rsa["e"]) == ("RSA", "sig", "AQAB")
    assert "d" not in ec
    assert "d" not in rsa
    # RFC 7638: the SHA-256 of the required members in lexicographic order, no whitespace.
    for key, members in ((ec, ("crv", "kty", "x", "y")), (rsa, ("e", "kty", "n"))):
        canonical = json.dumps(
            {name: key[name] for name in members}, separators=(",", ":"), sort_keys=True
        )
        digest = hashlib.sha256(canonical.encode()).digest()
        assert key["kid"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _header(token: str) -> dict[str, str]:
    encoded = token.split(".", maxsplit=1)[0]
    header: dict[str, str] = json.loads(base64.urlsafe_b64decode(encoded + "=="))
    return header


def test_id_tokens_are_rs256_by_default_and_es256_on_request(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    keys = {key["kid"]: key for key in http.get("/oidc/jwks").json()["keys"]}
    default = full_sign_in(http, card, shop)["id_token"]
    assert _header(default)["alg"] == "RS256"
    assert keys[_header(default)["kid"]]["alg"] == "RS256"

    operator = {"Authorization": f"Bearer {admin_key()}"}
    created = http.post(
        "/api/v1/identity/clients",
        json={
            "name": "楕円商店",
            "purpose": "ES256 のテスト",
            "scopes": ["openid"],
            "redirect_uris": ["https://ec.example/cb"],
            "id_token_signed_response_alg": "ES256",
        },
        headers=operator,
    )
    assert created.status_code == 201, created.text
    registered = http.get(f"/api/v1/identity/clients/{shop.client_id}", headers=operator)
    algs = {created.json()["client_id"]: "ES256", shop.client_id: "RS256"}
    assert created.json()["id_token_signed_response_alg"] == algs[created.json()["client_id"]]
    assert registered.json()["id_token_signed_response_alg"] == algs[shop.client_id]
    ec = Rp(
        created.json()["client_id"],
        created.json()["client_secret"],
        "https://ec.example/cb",
        ["openid"],
    )
    token = full_sign_in(http, card, ec)["id_token"]
    assert _header(token)["alg"] == "ES256"
    assert keys[_header(token)["kid"]]["alg"] == "ES256"
    assert id_token_claims(http, token)["aud"] == ec.client_id
    unknown_alg = http.post(
        "/api/v1/identity/clients",
        json={**created.json() | {"client_id": None}, "id_token_signed_response_alg": "HS256"},
        headers=operator,
    )
    assert unknown_alg.status_code == 422


def test_scopes_kiban_does_not_know_are_ignored_and_release_nothing(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    url = authorize_url(shop, "openid profile email name")
    tokens = full_sign_in_at(http, card, shop, url)
    assert tokens["scope"] == "openid name"
    claims = http.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert "email" not in claims
    assert "birthdate" not in claims
    assert "address" not in claims
    assert claims["name"] == "山田\u3000花子"


def test_the_openapi_document_marks_userinfo_as_bearer_protected(http: TestClient) -> None:
    document = http.get("/openapi.json").json()
    for method in ("get", "post"):
        operation = document["paths"]["/oidc/userinfo"][method]
        assert operation["security"] == [{"OidcAccessToken": []}]
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    scheme = document["components"]["securitySchemes"]["OidcAccessToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    token = document["paths"]["/oidc/token"]["post"]["responses"]["401"]
    assert "WWW-Authenticate" in token["headers"]


def test_code_flow_with_the_card(
    http: TestClient, card: ReaderCard, shop: Rp, resident: residents.PersonRead
) -> None:
    params = shop.authorize_params()
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + "&".join(f"{k}={v}" for k, v in _quoted(params).items())
    )
    assert query_of(location)["state"] == params["state"]

    response = exchange(http, shop, code_from(location, shop))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"  # noqa: S105 - the scheme name.
    assert tokens["scope"] == "openid name address birthdate"
    claims = id_token_claims(http, tokens["id_token"])
    assert claims["iss"] == ISSUER
    assert claims["aud"] == shop.client_id
    assert claims["nonce"] == params["nonce"]
    assert claims["amr"] == ["swk", "pin"]
    assert isinstance(claims["auth_time"], int)
    assert isinstance(claims["exp"], int)
    assert isinstance(claims["iat"], int)
    assert claims["exp"] > claims["iat"]
    at_hash = hashlib_half(tokens["access_token"])
    assert claims["at_hash"] == at_hash

    info = http.get("/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200, info.text
    userinfo = info.json()
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["name"] == "山田\u3000花子"
    assert userinfo["family_name"] == "山田"
    assert userinfo["given_name"] == "花子"
    assert userinfo["name_kana"] == "ヤマダ\u3000ハナコ"
    assert userinfo["birthdate"] == "1982-02-03"
    assert userinfo["address"]["formatted"] == resident.address.text
    assert userinfo["address"]["region"] == "東京都"
    assert userinfo["address"]["locality"] == "千代田区"
    assert userinfo["address"]["country"] == "JP"
    assert "gender" not in userinfo


def hashlib_half(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_wrong_pkce_verifier_is_refused_and_burns_the_code(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    code = code_from(sign_in_through_pages(http, card, authorize_url(shop)), shop)
    right = shop.verifier

    wrong = exchange(http, shop, code, code_verifier="x" * 43)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"

    again = exchange(http, shop, code, code_verifier=right)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_missing_pkce_is_refused_at_both_ends(http: TestClient, card: ReaderCard, shop: Rp) -> None:
    params = shop.authorize_params()
    del params["code_challenge"]
    response = http.get("/oidc/authorize", params=params)
    assert response.status_code == 303
    assert query_of(response.headers["location"])["error"] == "invalid_request"

    plain = shop.authorize_params(code_challenge_method="plain")
    response = http.get("/oidc/authorize", params=plain)
    assert query_of(response.headers["location"])["error"] == "invalid_request"

    code = code_from(sign_in_through_pages(http, card, authorize_url(shop)), shop)
    response = exchange(http, shop, code, code_verifier="")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_code_works_once_and_its_reuse_revokes_the_token(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    code = code_from(sign_in_through_pages(http, card, authorize_url(shop)), shop)
    first = exchange(http, shop, code)
    assert first.status_code == 200
    bearer = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert http.get("/oidc/userinfo", headers=bearer).status_code == 200

    second = exchange(http, shop, code)

    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    revoked = http.get("/oidc/userinfo", headers=bearer)
    assert revoked.status_code == 401
    assert revoked.json()["error"] == "invalid_token"
    assert revoked.headers["www-authenticate"].startswith("Bearer")


def test_a_code_redeemed_twice_at_once_issues_one_token(
    engine: Engine, http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    # Given a code, when two token requests redeem it at the same moment, each in its own
    # transaction (the compare-and-set on the code, with PostgreSQL's row lock between them),
    # then exactly one gets tokens and the other is refused.
    code = code_from(sign_in_through_pages(http, card, authorize_url(shop)), shop)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem() -> None:
        with transaction(engine) as session:
            start.wait()
            try:
                identity.exchange_code(
                    session,
                    client_id=shop.client_id,
                    client_secret=shop.client_secret,
                    auth_method="client_secret_basic",
                    code=code,
                    redirect_uri=shop.redirect_uri,
                    code_verifier=shop.verifier,
                )
            except identity.OAuthError as error:
                outcomes.append(error.error)
            else:
                outcomes.append("tokens")

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["invalid_grant", "tokens"]


def test_a_code_is_bound_to_its_client_and_redirect_uri(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    other = register_rp(http, admin_key(), name="別の店", scopes=["openid", "name"])
    code = code_from(sign_in_through_pages(http, card, authorize_url(shop)), shop)
    other.verifier = shop.verifier

    assert exchange(http, other, code).json()["error"] == "invalid_grant"
    wrong_uri = exchange(http, shop, code, redirect_uri="https://rp.example/other")
    assert wrong_uri.json()["error"] == "invalid_grant"


def test_client_authentication_at_the_token_endpoint(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    code = code_from(sign_in_through_pages(http, card, authorize_url(shop)), shop)
    base = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": shop.redirect_uri,
        "code_verifier": shop.verifier,
    }

    wrong = http.post("/oidc/token", data=base, auth=(shop.client_id, "not-the-secret"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    # A client registered for client_secret_basic may not switch to client_secret_post.
    post = http.post(
        "/oidc/token",
        data={**base, "client_id": shop.client_id, "client_secret": shop.client_secret},
    )
    assert post.json()["error"] == "invalid_client"
    # Whatever the way the client tried, a client authentication failure names Basic
    # (RFC 6749 §5.2), never Bearer, which is the scheme of access tokens.
    assert post.status_code == 401
    assert post.headers["www-authenticate"] == 'Basic realm="kiban"'
    nobody = http.post("/oidc/token", data={**base, "client_id": "nobody"})
    assert (nobody.status_code, nobody.headers["www-authenticate"]) == (401, 'Basic realm="kiban"')
    grant = http.post(
        "/oidc/token",
        data={**base, "grant_type": "password"},
        auth=(shop.client_id, shop.client_secret or ""),
    )
    assert grant.json()["error"] == "unsupported_grant_type"


def test_client_secret_post_and_public_clients(http: TestClient, card: ReaderCard) -> None:
    poster = register_rp(
        http,
        admin_key(),
        name="ポスト",
        scopes=["openid"],
        auth_method="client_secret_post",
    )
    code = code_from(sign_in_through_pages(http, card, authorize_url(poster)), poster)
    response = http.post(
        "/oidc/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": poster.redirect_uri,
            "code_verifier": poster.verifier,
            "client_id": poster.client_id,
            "client_secret": poster.client_secret,
        },
    )
    assert response.status_code == 200, response.text

    app = register_rp(
        http,
        admin_key(),
        name="アプリ",
        scopes=["openid", "gender"],
        auth_method="none",
        redirect_uri="http://127.0.0.1:9999/callback",
    )
    assert app.client_secret is None
    code = code_from(sign_in_through_pages(http, card, authorize_url(app)), app)
    response = exchange(http, app, code)
    assert response.status_code == 200, response.text


def test_unknown_redirect_uri_gets_an_error_page_not_a_redirect(http: TestClient, shop: Rp) -> None:
    params = shop.authorize_params(redirect_uri="https://attacker.example/steal")

    response = http.get("/oidc/authorize", params=params)

    assert response.status_code == 400
    assert "location" not in response.headers
    assert "text/html" in response.headers["content-type"]
    assert "attacker.example" not in response.headers.get("location", "")

    unknown_client = http.get("/oidc/authorize", params={**params, "client_id": "nobody"})
    assert unknown_client.status_code == 400
    assert "location" not in unknown_client.headers


def test_a_scope_the_client_was_not_granted_is_refused(http: TestClient, shop: Rp) -> None:
    params = shop.authorize_params("openid name gender")

    response = http.get("/oidc/authorize", params=params)

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(shop.redirect_uri + "?")
    query = query_of(location)
    assert query["error"] == "invalid_scope"
    assert query["state"] == params["state"]
    assert "gender" in query["error_description"]
    no_openid = http.get("/oidc/authorize", params=shop.authorize_params("name"))
    assert query_of(no_openid.headers["location"])["error"] == "invalid_scope"


def test_only_response_type_code(http: TestClient, shop: Rp) -> None:
    response = http.get("/oidc/authorize", params=shop.authorize_params(response_type="token"))
    assert query_of(response.headers["location"])["error"] == "unsupported_response_type"
    response = http.get("/oidc/authorize", params=shop.authorize_params(prompt="none"))
    assert query_of(response.headers["location"])["error"] == "login_required"


def test_pairwise_subjects(http: TestClient, card: ReaderCard, shop: Rp) -> None:
    bookshop = register_rp(
        http,
        admin_key(),
        name="本屋",
        scopes=["openid", "name"],
        redirect_uri="https://books.example/cb",
    )

    first = id_token_claims(http, full_sign_in(http, card, shop)["id_token"])["sub"]
    again = id_token_claims(http, full_sign_in(http, card, shop)["id_token"])["sub"]
    elsewhere = id_token_claims(http, full_sign_in(http, card, bookshop)["id_token"])["sub"]

    assert first == again
    assert first != elsewhere
    # One sector across hosts, approved by the operator: tests/.../test_oidc_sectors.py.
    assert str(card.person_id) not in {first, elsewhere}


def test_the_subject_is_stable_across_restarts(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    before = id_token_claims(http, full_sign_in(http, card, shop)["id_token"])["sub"]
    # A new process: the key store's and the provider's caches start empty; the keys on disk
    # stay.
    from kiban.blocks.identity import oidc_keys  # noqa: PLC0415
    from kiban.platform import keys  # noqa: PLC0415

    keys._store_for.cache_clear()
    oidc_keys._pairwise_secret.cache_clear()
    oidc_keys._jwk_for.cache_clear()

    after = id_token_claims(http, full_sign_in(http, card, shop)["id_token"])["sub"]
    assert after == before


def test_userinfo_returns_only_the_items_consented(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    tokens = full_sign_in(http, card, shop, scopes=["name"])

    assert tokens["scope"] == "openid name"
    info = http.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert set(info) == {
        "sub",
        "name",
        "family_name",
        "given_name",
        "name_kana",
        "family_name_kana",
        "given_name_kana",
    }


def test_consent_is_remembered_per_client(http: TestClient, card: ReaderCard, shop: Rp) -> None:
    full_sign_in(http, card, shop, scopes=["name"])

    response = http.get(authorize_url(shop))
    signin = http.get(path_of(response.headers["location"]))
    callback = http.get(path_of(card_answer(card, signin.text)))
    consent = http.get(callback.headers["location"])

    checked = set(
        re.findall(r'value="([a-z]+)"\s+aria-describedby="choices-hint"\s+checked', consent.text)
    )
    assert checked == {"name"}


def test_declining_sends_access_denied(http: TestClient, card: ReaderCard, shop: Rp) -> None:
    location = sign_in_through_pages(http, card, authorize_url(shop), decision="deny")

    query = query_of(location)
    assert query["error"] == "access_denied"
    assert "code" not in query


def test_the_sign_scope_delivers_the_signing_certificate(
    http: TestClient, card: ReaderCard, session: Session
) -> None:
    notary = register_rp(http, admin_key(), name="電子契約", scopes=["openid", "sign"])
    tokens = full_sign_in(http, card, notary)

    info = http.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()

    held = identity.get_card_by_number(session, card.card_number)
    assert info["signing_certificate"].strip() == held.signing_certificate.pem.strip()
    assert "name" not in info


def test_the_challenge_is_single_use_and_bound_to_the_browser(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    response = http.get(authorize_url(shop))
    signin = http.get(path_of(response.headers["location"]))
    answer = path_of(card_answer(card, signin.text))

    # Another browser (no sign-in cookie) cannot use the answer.
    with TestClient(http.app, follow_redirects=False) as stranger:
        assert stranger.get(answer).status_code == 404
    assert http.get(answer).status_code == 303
    replay = http.get(answer)
    assert replay.status_code == 404
    assert "text/html" in replay.headers["content-type"]


def test_a_failed_answer_consumes_the_challenge(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    response = http.get(authorize_url(shop))
    signin_path = path_of(response.headers["location"])
    answer = path_of(card_answer(card, http.get(signin_path).text))
    tampered = re.sub(r"auth_signature=[^&]+", "auth_signature=AAAA", answer)

    refused = http.get(tampered)
    assert refused.status_code == 401
    # The genuine answer to that challenge is now useless too.
    assert http.get(answer).status_code == 401
    # The sign-in page hands out a new challenge.
    retry = http.get(path_of(card_answer(card, http.get(signin_path).text)))
    assert retry.status_code == 303


def test_a_lost_card_cannot_sign_in(
    http: TestClient, card: ReaderCard, shop: Rp, session: Session
) -> None:
    held = identity.get_card_by_number(session, card.card_number)
    identity.report_card_lost(session, held.id, actor="official:test")
    session.commit()

    response = http.get(authorize_url(shop))
    signin = http.get(path_of(response.headers["location"]))
    refused = http.get(path_of(card_answer(card, signin.text)))

    assert refused.status_code == 401
    assert "失効" in refused.text


def test_three_wrong_pins_lock_the_card_across_a_restart(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    response = http.get(authorize_url(shop))
    signin = http.get(path_of(response.headers["location"]))
    for tries_left in (2, 1, 0):
        with pytest.raises(WrongPin) as wrong:
            card_answer(card, signin.text, {"auth": "0000"})
        assert f"{tries_left}" in wrong.value.message_en or tries_left == 0
    with pytest.raises(PinLocked):
        card_answer(card, signin.text, PINS)

    restarted = ReaderCard(CardStore(card.store.directory), card.card_number, card.person_id)

    with pytest.raises(PinLocked):
        card_answer(restarted, signin.text, PINS)
    assert restarted.store.card(card.card_number).auth.locked


def test_no_token_or_claim_contains_the_individual_number(
    http: TestClient, card: ReaderCard, session: Session
) -> None:
    everything = register_rp(
        http,
        admin_key(),
        name="全部",
        scopes=["openid", "name", "address", "birthdate", "gender", "sign"],
    )
    tokens = full_sign_in(http, card, everything)
    info = http.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    claims = id_token_claims(http, tokens["id_token"])
    number = session.scalar(select(Person.individual_number).where(Person.id == card.person_id))
    assert number is not None

    dumped = json.dumps([tokens, claims, info], ensure_ascii=False)
    assert number not in dumped
    assert number not in base64.b64decode(
        "".join(info["signing_certificate"].splitlines()[1:-1])
    ).decode("latin-1")
    assert TWELVE_DIGITS.findall(json.dumps([claims, info], ensure_ascii=False)) == []


def test_client_registry_api(http: TestClient) -> None:
    body = {
        "name": "例示商店",
        "purpose": "年齢確認",
        "scopes": ["name", "birthdate"],
        "redirect_uris": ["https://shop.example/cb"],
    }
    assert http.post("/api/v1/identity/clients", json=body).status_code == 401
    operator = {"Authorization": f"Bearer {admin_key()}"}

    created = http.post("/api/v1/identity/clients", json=body, headers=operator)

    assert created.status_code == 201
    client = created.json()
    assert client["scopes"] == ["openid", "name", "birthdate"]
    assert client["sector_identifier"] == "shop.example"
    assert len(client["client_secret"]) >= 40
    listed = http.get("/api/v1/identity/clients", headers=operator).json()
    assert [c["client_id"] for c in listed] == [client["client_id"]]
    assert "client_secret" not in listed[0]
    assert (
        http.get(f"/api/v1/identity/clients/{client['client_id']}", headers=operator).json()["name"]
        == "例示商店"
    )
    assert http.get("/api/v1/identity/clients/nobody", headers=operator).status_code == 404

    insecure = {**body, "redirect_uris": ["http://shop.example/cb"]}
    refused = http.post("/api/v1/identity/clients", json=insecure, headers=operator)
    assert refused.status_code == 422
    unknown_scope = {**body, "scopes": ["openid", "individual_number"]}
    assert (
        http.post("/api/v1/identity/clients", json=unknown_scope, headers=operator).status_code
        == 422
    )
    two_hosts = {**body, "redirect_uris": ["https://a.example/cb", "https://b.example/cb"]}
    refused = http.post("/api/v1/identity/clients", json=two_hosts, headers=operator)
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "sector_identifier"
    taken = {**body, "client_id": client["client_id"]}
    assert http.post("/api/v1/identity/clients", json=taken, headers=operator).status_code == 409


def test_the_secret_is_stored_hashed(http: TestClient, session: Session, shop: Rp) -> None:
    from kiban.blocks.identity.oidc_models import OidcClient  # noqa: PLC0415

    stored = session.scalar(select(OidcClient).where(OidcClient.client_id == shop.client_id))
    assert stored is not None
    assert shop.client_secret
    assert shop.client_secret not in (stored.secret_hash or "")


def test_the_business_scope_without_an_account_adds_no_claim(
    http: TestClient, card: ReaderCard
) -> None:
    portal = register_rp(http, admin_key(), name="補助金", scopes=["openid", "business"])
    tokens = full_sign_in(http, card, portal)

    info = http.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()

    assert tokens["scope"] == "openid business"
    assert set(info) == {"sub"}


def test_authorize_by_form_post_and_cancel(http: TestClient, card: ReaderCard, shop: Rp) -> None:
    params = shop.authorize_params()

    response = http.post("/oidc/authorize", data=params)

    assert response.status_code == 303
    signin_path = path_of(response.headers["location"])
    assert http.get(signin_path).status_code == 200
    cancelled = http.post(signin_path + "/cancel")
    assert cancelled.status_code == 303
    query = query_of(cancelled.headers["location"])
    assert (query["error"], query["state"]) == ("access_denied", params["state"])
    # The request is over: the card's answer is no longer accepted.
    assert http.get(signin_path).status_code == 404


def test_expired_codes_and_challenges_are_refused(
    http: TestClient, card: ReaderCard, shop: Rp, session: Session
) -> None:
    from kiban.blocks.identity.oidc_models import OidcAuthorization, OidcCode  # noqa: PLC0415

    past = datetime.now(UTC) - timedelta(seconds=1)
    code = code_from(sign_in_through_pages(http, card, authorize_url(shop)), shop)
    session.execute(update(OidcCode).values(expires_at=past))
    session.commit()
    expired = exchange(http, shop, code)
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"

    response = http.get(authorize_url(shop))
    signin = http.get(path_of(response.headers["location"]))
    session.execute(
        update(OidcAuthorization)
        .where(OidcAuthorization.status == "pending")
        .values(challenge_expires_at=past)
    )
    session.commit()
    late = http.get(path_of(card_answer(card, signin.text)))
    assert late.status_code == 401
    assert "時間切れ" in late.text


def test_sign_in_pages_are_neither_cached_nor_framed(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    response = http.get(authorize_url(shop))
    signin = http.get(path_of(response.headers["location"]))
    callback = http.get(path_of(card_answer(card, signin.text)))
    consent = http.get(callback.headers["location"])

    for page in (signin, consent):
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_acr_values_asking_for_the_card_are_answered_with_the_card_acr(
    http: TestClient, card: ReaderCard, shop: Rp
) -> None:
    """The seam for officials' sign-in: a client asks for card authentication with
    ``acr_values`` and reads it back in the ID token (every sign-in here is with the card)."""
    metadata = http.get("/.well-known/openid-configuration").json()
    assert metadata["acr_values_supported"] == ["urn:kiban:acr:card"]
    url = authorize_url(shop, None, acr_values="urn:kiban:acr:card")
    token = full_sign_in_at(http, card, shop, url)["id_token"]
    claims = id_token_claims(http, token)
    assert claims["acr"] == "urn:kiban:acr:card"
    assert claims["amr"] == ["swk", "pin"]


def test_two_processes_registering_the_portal_client_at_once_get_the_same_one(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given another process registered the portal client after this one looked for it (the
    # look-up is made to miss, as it did between two serve processes' first sign-ins).
    from kiban.blocks.identity import oidc_clients  # noqa: PLC0415 - the race's own seam.
    from kiban.platform import audit  # noqa: PLC0415
    from kiban.platform.db import transaction  # noqa: PLC0415

    with transaction(engine) as other:
        first = identity.ensure_portal_client(other)
    real_find = oidc_clients.find_client
    misses = iter([True])
    monkeypatch.setattr(
        oidc_clients,
        "find_client",
        lambda session, client_id: None if next(misses, False) else real_find(session, client_id),
    )

    # When this one registers it too.
    with transaction(engine) as mine:
        again = identity.ensure_portal_client(mine)

    # Then it answers with the same client, one row, and the audit chain stays whole.
    assert again.client_id == first.client_id == identity.PORTAL_CLIENT_ID
    with Session(engine) as session:
        ids = [c.client_id for c in identity.list_clients(session)]
        assert ids.count(identity.PORTAL_CLIENT_ID) == 1
        assert audit.verify(session).ok
