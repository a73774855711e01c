"""Business accounts over HTTP: managed with the person's own My page token (a real card
sign-in to kiban's portal client); a relying party granted the ``business`` scope reads the
corporation and role in userinfo and can do nothing else — the probe of issue 13 item 1."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.blocks import corporations, identity
from kiban.blocks.identity.business_models import BusinessAccount, BusinessDelegation
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


def my_page_token(http: TestClient, session: Session, card: ReaderCard) -> str:
    """The person's own session at kiban: a sign-in to My page (the first-party client)."""
    client = identity.ensure_portal_client(session)
    session.commit()
    portal = Rp(client.client_id, None, client.redirect_uris[0], ["openid"])
    return access_token(http, card, portal)


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


def test_only_a_my_page_access_token_opens_the_api(
    http: TestClient, session: Session, prime_card: ReaderCard, rp: Rp
) -> None:
    missing = http.get("/api/v1/business/accounts")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "identity.my_page_token_required"
    wrong = http.get("/api/v1/business/accounts", headers=bearer("not-a-token"))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "identity.my_page_token_invalid"
    # A relying party's token with the business scope is not the person's session.
    with_scope = http.get(
        "/api/v1/business/accounts", headers=bearer(access_token(http, prime_card, rp))
    )
    assert with_scope.status_code == 401
    assert with_scope.json()["error"]["code"] == "identity.my_page_token_invalid"

    mine = http.get(
        "/api/v1/business/accounts", headers=bearer(my_page_token(http, session, prime_card))
    )
    assert (mine.status_code, mine.json()) == (200, [])


def _counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    accounts = session.scalar(select(func.count()).select_from(BusinessAccount))
    delegations = session.scalar(select(func.count()).select_from(BusinessDelegation))
    session.rollback()  # Ends the read, so the server may write.
    return int(accounts or 0), int(delegations or 0)


def test_a_relying_party_with_the_business_scope_reads_and_manages_nothing(
    http: TestClient,
    session: Session,
    corporation: corporations.CorporationRead,
    prime_card: ReaderCard,
    member_card: ReaderCard,
    rp: Rp,
) -> None:
    """The probe: a service the prime signed in to with ``business`` tries to invite a member
    (and read the one-time code), delegate a procedure and list the accounts."""
    mine = bearer(my_page_token(http, session, prime_card))
    applied = http.post("/api/v1/business/prime", json=prime_application(prime_card), headers=mine)
    assert applied.status_code == 201, applied.text
    invited = identity.invite_member(
        session,
        NUMBER,
        identity.MemberInvite(display_name="佐藤　一郎", email="ichiro@example.jp"),
        person_id=prime_card.person_id,
        actor="test",
    )
    identity.redeem_invitation(
        session, invited.invitation_code, person_id=member_card.person_id, actor="test"
    )
    session.commit()
    member_id = invited.account.id
    before = _counts(session)

    third_party = bearer(access_token(http, prime_card, rp))
    members = f"/api/v1/business/corporations/{NUMBER}/members"
    invite = http.post(
        members,
        json={"display_name": "攻撃　者", "email": "attacker@example.jp", "role": "admin"},
        headers=third_party,
    )
    assert invite.status_code in (404, 405), invite.text
    assert "invitation_code" not in invite.text
    delegate = http.post(
        f"{members}/{member_id}/delegations",
        json={"procedure_code": PROCEDURE},
        headers=third_party,
    )
    assert delegate.status_code == 401
    remove = http.delete(f"{members}/{member_id}", headers=third_party)
    assert remove.status_code == 401
    listing = http.get(f"/api/v1/business/corporations/{NUMBER}/accounts", headers=third_party)
    assert listing.status_code == 401
    assert "ichiro@example.jp" not in listing.text
    assert http.get("/api/v1/business/accounts", headers=third_party).status_code == 401
    assert _counts(session) == before

    # What the consent screen named is what the service reads: the corporation and the role.
    claims = http.get("/oidc/userinfo", headers=third_party).json()
    assert claims["business"] == {
        "accounts": [
            {
                "corporate_number": NUMBER,
                "corporation_name": "株式会社基盤テック",
                "account_type": "prime",
                "role": "代表取締役",
            }
        ]
    }
    # The invitation route does not exist for anyone: the code is shown on the prime's own
    # portal page only.
    by_owner = http.post(
        members, json={"display_name": "鈴木　次郎", "email": "jiro@example.jp"}, headers=mine
    )
    assert by_owner.status_code in (404, 405)
    assert _counts(session) == before


def test_prime_member_and_delegation_over_http(
    http: TestClient,
    session: Session,
    corporation: corporations.CorporationRead,
    prime_card: ReaderCard,
    member_card: ReaderCard,
    rp: Rp,
) -> None:
    prime = bearer(my_page_token(http, session, prime_card))
    member = bearer(my_page_token(http, session, member_card))

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
    # A relying party reads the corporation and role in the business claim of userinfo; the
    # member has none yet.
    service = bearer(access_token(http, prime_card, rp))
    assert (
        http.get("/oidc/userinfo", headers=service).json()["business"]["accounts"][0]["role"]
        == "代表取締役"
    )
    assert (
        "business"
        not in http.get(
            "/oidc/userinfo", headers=bearer(access_token(http, member_card, rp))
        ).json()
    )

    # The prime invites on the portal page (here: the facade it calls); the member redeems the
    # code over the API with their own session.
    invited = identity.invite_member(
        session,
        NUMBER,
        identity.MemberInvite(
            display_name="佐藤　一郎", email="ichiro@example.jp", role="経理担当"
        ),
        person_id=prime_card.person_id,
        actor="test",
    )
    session.commit()
    redeemed = http.post(
        "/api/v1/business/invitations/redeem",
        json={"invitation_code": invited.invitation_code},
        headers=member,
    )
    assert redeemed.status_code == 200, redeemed.text
    account_id = redeemed.json()["id"]
    assert redeemed.json()["status"] == "active"

    # A member cannot manage the corporation's accounts.
    members = f"/api/v1/business/corporations/{NUMBER}/members"
    by_member = http.get(f"/api/v1/business/corporations/{NUMBER}/accounts", headers=member)
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
    member_claim = http.get(
        "/oidc/userinfo", headers=bearer(access_token(http, member_card, rp))
    ).json()["business"]
    assert member_claim["accounts"][0]["account_type"] == "member"
    assert member_claim["accounts"][0]["role"] == "経理担当"
    assert "procedures" not in member_claim["accounts"][0]
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
