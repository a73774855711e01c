"""Business accounts over HTTP, called with access tokens from a real card sign-in through
kiban's OpenID Connect provider (the ``business`` scope)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from kiban.blocks import corporations, identity
from kiban.kernel import clock
from kiban.platform.settings import get_settings
from tests.staff_support import admin_key

from .conftest import CORPORATE_NUMBER as NUMBER
from .conftest import TestClient
from .oidc_support import (
    SIGNING_PIN,
    ReaderCard,
    Rp,
    exchange,
    query_of,
    register_rp,
    sign_in_through_pages,
)

OPERATOR_TOKEN = "test-operator-token-business"  # noqa: S105 - a test fixture value.
ISSUER = "http://testserver"
PROCEDURE = "subsidy.it_introduction"


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_BASE_URL", ISSUER)
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", OPERATOR_TOKEN)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


@pytest.fixture
def rp(http: TestClient) -> Rp:
    """A subsidy portal that signs businesses in."""
    return register_rp(http, admin_key(), name="補助金申請", scopes=["openid", "business"])


def access_token(http: TestClient, card: ReaderCard, rp: Rp) -> str:
    """A sign-in with the card through the provider's pages, then the token request."""
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + urlencode(rp.authorize_params())
    )
    tokens = exchange(http, rp, query_of(location)["code"])
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def prime_application(card: ReaderCard) -> dict[str, Any]:
    """The application body, signed by the reader with the signing key after the signing PIN."""
    application = identity.PrimeApplicationContent(
        corporate_number=NUMBER,
        display_name="山田　花子",
        email="hanako@example.jp",
        nonce=secrets.token_urlsafe(16),
        signed_at=int(clock.now().timestamp()),
    )
    signature = card.store.sign(
        card.card_number, "signing", SIGNING_PIN, identity.prime_application_bytes(application)
    )
    return {
        "application": application.model_dump(mode="json"),
        "certificate": b64url(card.store.certificate_der(card.card_number, "signing")),
        "signature": b64url(signature),
    }


def test_only_a_business_access_token_opens_the_api(
    http: TestClient, prime_card: ReaderCard, rp: Rp
) -> None:
    missing = http.get("/api/v1/business/accounts")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "identity.business_token_required"
    wrong = http.get("/api/v1/business/accounts", headers=bearer("not-a-token"))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "identity.business_token_invalid"

    shop = register_rp(http, admin_key(), name="例示商店", scopes=["openid", "name"])
    no_scope = http.get(
        "/api/v1/business/accounts", headers=bearer(access_token(http, prime_card, shop))
    )
    assert no_scope.status_code == 403
    assert no_scope.json()["error"]["code"] == "identity.business_scope_required"

    assert (
        http.get(
            "/api/v1/business/accounts", headers=bearer(access_token(http, prime_card, rp))
        ).json()
        == []
    )


def test_prime_member_and_delegation_over_http(
    http: TestClient,
    corporation: corporations.CorporationRead,
    prime_card: ReaderCard,
    member_card: ReaderCard,
    rp: Rp,
) -> None:
    prime = bearer(access_token(http, prime_card, rp))
    member = bearer(access_token(http, member_card, rp))

    # The member's card cannot apply for the company (the name is not the representative's),
    refused = http.post(
        "/api/v1/business/prime", json=prime_application(member_card), headers=member
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == {
        "code": "identity.business_representative_mismatch",
        "message": "署名用電子証明書の氏名が登記されている代表者の氏名と一致しません。",
        "field": "representative.name",
    }
    # and the representative's card signed by someone else's sign-in is not theirs to use.
    holder = http.post("/api/v1/business/prime", json=prime_application(prime_card), headers=member)
    assert holder.json()["error"]["code"] == "identity.business_not_certificate_holder"

    # The representative applies with their own card.
    applied = http.post("/api/v1/business/prime", json=prime_application(prime_card), headers=prime)
    assert applied.status_code == 201, applied.text
    assert applied.json()["account_type"] == "prime"
    assert applied.json()["corporation_id"] == str(corporation.id)
    mine = http.get("/api/v1/business/accounts", headers=prime).json()
    assert [a["id"] for a in mine] == [applied.json()["id"]]
    # Relying parties read the same in the business claim of userinfo; the member has none yet.
    claims = http.get("/oidc/userinfo", headers=prime).json()
    assert claims["business"] == {
        "accounts": [
            {
                "corporate_number": NUMBER,
                "corporation_name": "株式会社基盤テック",
                "account_type": "prime",
                "role": "代表取締役",
                "procedures": [],
            }
        ]
    }
    assert "business" not in http.get("/oidc/userinfo", headers=member).json()

    # The prime invites; the member redeems with their own sign-in.
    members = f"/api/v1/business/corporations/{NUMBER}/members"
    invited = http.post(
        members,
        json={"display_name": "佐藤　一郎", "email": "ichiro@example.jp", "role": "経理担当"},
        headers=prime,
    )
    assert invited.status_code == 201, invited.text
    code = invited.json()["invitation_code"]
    redeemed = http.post(
        "/api/v1/business/invitations/redeem", json={"invitation_code": code}, headers=member
    )
    assert redeemed.status_code == 200, redeemed.text
    account_id = redeemed.json()["id"]
    assert redeemed.json()["status"] == "active"

    # A member cannot invite.
    by_member = http.post(
        members, json={"display_name": "鈴木　次郎", "email": "jiro@example.jp"}, headers=member
    )
    assert by_member.status_code == 403
    assert by_member.json()["error"]["code"] == "identity.business_prime_required"

    # Delegation and its revocation.
    delegations = f"{members}/{account_id}/delegations"
    bad = http.post(delegations, json={"procedure_code": "Not A Code"}, headers=prime)
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "body.procedure_code")
    granted = http.post(delegations, json={"procedure_code": PROCEDURE}, headers=prime)
    assert granted.status_code == 201, granted.text
    assert granted.json()["procedures"] == [PROCEDURE]
    assert http.get("/api/v1/business/accounts", headers=member).json()[0]["procedures"] == [
        PROCEDURE
    ]
    member_claim = http.get("/oidc/userinfo", headers=member).json()["business"]
    assert member_claim["accounts"][0]["account_type"] == "member"
    assert member_claim["accounts"][0]["procedures"] == [PROCEDURE]
    revoked = http.delete(f"{delegations}/{PROCEDURE}", headers=prime)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["procedures"] == []
    again = http.delete(f"{delegations}/{PROCEDURE}", headers=prime)
    assert again.json()["error"]["code"] == "identity.business_delegation_not_found"

    # The prime removes the member; the list keeps the history.
    removed = http.delete(f"{members}/{account_id}", headers=prime)
    assert removed.status_code == 200
    assert removed.json()["status"] == "removed"
    assert http.get("/api/v1/business/accounts", headers=member).json() == []
    listed = http.get(f"/api/v1/business/corporations/{NUMBER}/accounts", headers=prime).json()
    assert [(a["account_type"], a["status"]) for a in listed] == [
        ("prime", "active"),
        ("member", "removed"),
    ]
