"""The inbox over HTTP with an access token of a real card sign-in to My page; a relying
party's token is refused, and a person never sees or reads another person's notice."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from kiban.blocks import identity, notifications
from kiban.platform.settings import get_settings
from tests.blocks.identity.oidc_support import (
    ReaderCard,
    Rp,
    card_in_reader,
    exchange,
    query_of,
    register_rp,
    sign_in_through_pages,
)
from tests.blocks.mesh.test_consent_api import register
from tests.staff_support import admin_key

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

OPERATOR_TOKEN = "test-operator-token-inbox"  # noqa: S105 - a test fixture value.
ISSUER = "http://testserver"
TEMPLATE = "tests.api_notice"


@pytest.fixture(autouse=True)
def _template() -> None:
    notifications.register_template(
        TEMPLATE,
        subject_ja="{n}件目のお知らせ",
        subject_en="Notice number {n}",
        body_ja="期限は{day}です。",
        body_en="Due on {day}.",
        params={"n": int, "day": date},
    )


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_BASE_URL", ISSUER)
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", OPERATOR_TOKEN)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


@pytest.fixture
def card(session: Session, tmp_path: Path) -> ReaderCard:
    person = register(session, "高橋", "健", ("タカハシ", "ケン"))
    return card_in_reader(session, person, tmp_path / "cards")


def portal_token(http: TestClient, session: Session, card: ReaderCard) -> str:
    client = identity.ensure_portal_client(session)
    session.commit()
    rp = Rp(client.client_id, None, client.redirect_uris[0], ["openid"])
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + urlencode(rp.authorize_params())
    )
    tokens = exchange(http, rp, query_of(location)["code"])
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def send(session: Session, person_id: uuid.UUID, n: int) -> notifications.NoticeRead:
    notice = notifications.do_send_notice(
        session, person_id, TEMPLATE, {"n": n, "day": date(2026, 12, 1)}, actor="system:test"
    )
    session.commit()
    return notice


def test_the_inbox_lists_reads_and_marks_read(
    http: TestClient, session: Session, card: ReaderCard
) -> None:
    me = bearer(portal_token(http, session, card))
    first, second = send(session, card.person_id, 1), send(session, card.person_id, 2)
    listed = http.get("/api/v1/notifications/inbox", headers=me)
    assert listed.status_code == 200, listed.text
    body: dict[str, Any] = listed.json()
    assert [item["id"] for item in body["items"]] == [str(second.id), str(first.id)]
    assert (body["total"], body["unread"]) == (2, 2)
    assert body["items"][0]["subject_ja"] == "2件目のお知らせ"
    assert body["items"][0]["body_en"] == "Due on December 1, 2026."

    read = http.post(f"/api/v1/notifications/inbox/{first.id}/read", headers=me)
    assert read.status_code == 200, read.text
    assert read.json()["status"] == "read"
    assert [step["status"] for step in read.json()["history"]] == ["created", "delivered", "read"]
    unread = http.get("/api/v1/notifications/inbox?unread_only=true", headers=me).json()
    assert [item["id"] for item in unread["items"]] == [str(second.id)]
    assert unread["unread"] == 1
    one = http.get(f"/api/v1/notifications/inbox/{second.id}", headers=me)
    assert one.json()["read_at"] is None


def test_only_the_owner_with_a_my_page_token_gets_in(
    http: TestClient, session: Session, card: ReaderCard
) -> None:
    missing = http.get("/api/v1/notifications/inbox")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "identity.my_page_token_required"
    wrong = http.get("/api/v1/notifications/inbox", headers=bearer("not-a-token"))
    assert wrong.json()["error"]["code"] == "identity.my_page_token_invalid"

    shop: Rp = register_rp(http, admin_key(), name="例示商店", scopes=["openid", "name"])
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + urlencode(shop.authorize_params())
    )
    shop_token = exchange(http, shop, query_of(location)["code"]).json()["access_token"]
    refused = http.get("/api/v1/notifications/inbox", headers=bearer(shop_token))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "identity.my_page_token_invalid"

    me = bearer(portal_token(http, session, card))
    someone_else = send(session, uuid.uuid4(), 1)
    for response in (
        http.get(f"/api/v1/notifications/inbox/{someone_else.id}", headers=me),
        http.post(f"/api/v1/notifications/inbox/{someone_else.id}/read", headers=me),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "notifications.not_found"
    session.expire_all()
    assert (
        notifications.get_notice(session, someone_else.person_id, someone_else.id).read_at is None
    )
    session.rollback()
    assert http.get("/api/v1/notifications/inbox", headers=me).json()["total"] == 0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/notifications/inbox?offset=99999999999999999999", "query.offset"),
        ("/api/v1/registration/applications?offset=99999999999999999999", "query.offset"),
        (f"/api/v1/mesh/my-records?before={2**64}", "query.before"),
    ],
)
def test_a_huge_paging_number_on_my_page_is_refused_naming_it(
    http: TestClient, session: Session, card: ReaderCard, path: str, field: str
) -> None:
    """Issue 13, item 6: these answered 500 (SQLite cannot hold the number)."""
    me = bearer(portal_token(http, session, card))
    answer = http.get(path, headers=me)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
