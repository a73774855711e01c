"""``GET /api/v1/mesh/my-records``: a person reads their own records with a My page token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import identity, mesh, residents
from kiban.platform.settings import get_settings
from tests.blocks.identity.conftest import TestClient, resident, towns
from tests.blocks.identity.oidc_support import (
    ReaderCard,
    Rp,
    card_in_reader,
    exchange,
    query_of,
    register_rp,
    sign_in_through_pages,
)
from tests.staff_support import admin_key

from .records_support import exchange as mesh_exchange
from .records_support import verify_inclusion

__all__ = ["resident", "towns"]  # Fixtures imported from the identity tests.

OPERATOR_TOKEN = "test-operator-token-records"  # noqa: S105 - a test fixture value.


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", OPERATOR_TOKEN)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


@pytest.fixture
def card(session: Session, resident: residents.PersonRead, tmp_path: Path) -> ReaderCard:
    return card_in_reader(session, resident, tmp_path / "cards")


def _token(http: TestClient, card: ReaderCard, rp: Rp) -> str:
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + urlencode(rp.authorize_params())
    )
    tokens = exchange(http, rp, query_of(location)["code"])
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["access_token"])


def _portal(session: Session) -> Rp:
    portal = identity.ensure_portal_client(session)
    session.commit()
    return Rp(portal.client_id, None, portal.redirect_uris[0], ["openid"])


def test_the_person_reads_their_own_records_with_proofs(
    http: TestClient, session: Session, card: ReaderCard
) -> None:
    me = card.person_id
    for i in range(3):
        mesh.append_records(session, mesh_exchange(me, f"mine-{i}"))
        mesh.append_records(session, mesh_exchange(uuid.uuid4(), f"theirs-{i}"))
    session.commit()
    mesh.make_checkpoint(session)
    session.commit()
    token = _token(http, card, _portal(session))

    response = http.get(
        "/api/v1/mesh/my-records?limit=4", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert [r["message_id"] for r in page["records"]] == ["mine-2", "mine-2", "mine-1", "mine-1"]
    checkpoint = page["checkpoint"]
    for item in page["records"]:
        assert verify_inclusion(
            item["hash"],
            item["leaf_index"],
            checkpoint["tree_size"],
            item["proof"],
            checkpoint["root_hash"],
        )
    rest = http.get(
        f"/api/v1/mesh/my-records?limit=4&before={page['next_before']}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert [r["message_id"] for r in rest.json()["records"]] == ["mine-0", "mine-0"]
    assert rest.json()["next_before"] is None


def test_no_token_or_a_relying_partys_token_is_refused(
    http: TestClient, session: Session, card: ReaderCard
) -> None:
    missing = http.get("/api/v1/mesh/my-records")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "identity.my_page_token_required"
    bogus = http.get("/api/v1/mesh/my-records", headers={"Authorization": "Bearer nonsense"})
    assert bogus.json()["error"]["code"] == "identity.my_page_token_invalid"
    # A company the person signed in to must not read the list of exchanges about them.
    shop = register_rp(http, admin_key(), name="ショップ", scopes=["openid"])
    token = _token(http, card, shop)
    refused = http.get("/api/v1/mesh/my-records", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "identity.my_page_token_invalid"


def test_a_bad_page_size_names_the_field(
    http: TestClient, session: Session, card: ReaderCard
) -> None:
    token = _token(http, card, _portal(session))
    response = http.get(
        "/api/v1/mesh/my-records?limit=1000", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "query.limit"
