"""The web kit: error bodies, operator auth and the per-request database session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from kiban.kernel.errors import NotFound
from kiban.platform.db import get_engine
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang, install_error_handlers, public, require_operator
from kiban.web import create_app


def _test_app() -> FastAPI:
    """The real app plus a few routes that exercise the kit."""
    app = create_app()
    router = APIRouter(prefix="/test")

    @router.get("/missing", dependencies=[Depends(public)])
    def missing() -> None:
        raise NotFound("その人は見つかりません。", "No such person.", field="person_id")

    @router.get("/count", dependencies=[Depends(public)])
    def count(limit: int, lang: Lang) -> dict[str, object]:
        return {"limit": limit, "lang": lang}

    @router.get("/crash", dependencies=[Depends(public)])
    def crash() -> None:
        raise RuntimeError("secret internal detail")

    @router.get("/operator")
    def operator_only(actor: str = Depends(require_operator)) -> dict[str, str]:
        return {"actor": actor}

    @router.post("/write", dependencies=[Depends(public)])
    def write(session: DbSession, fail: bool = False) -> dict[str, bool]:
        session.execute(text("INSERT INTO notes (body) VALUES ('hello')"))
        if fail:
            raise NotFound("ありません。", "Not there.")
        return {"written": True}

    app.include_router(router)
    install_error_handlers(app)
    return app


@pytest.fixture
def kit_client(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", "s3cret-operator-token")
    get_settings.cache_clear()
    with TestClient(_test_app(), raise_server_exceptions=False) as client:
        yield client


# --- Error shapes -----------------------------------------------------------------------------


def test_kiban_error_in_japanese(kit_client: TestClient) -> None:
    response = kit_client.get("/test/missing")

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "kiban.not_found",
            "message": "その人は見つかりません。",
            "field": "person_id",
        }
    }


def test_kiban_error_in_english(kit_client: TestClient) -> None:
    response = kit_client.get("/test/missing", headers={"Accept-Language": "en"})

    assert response.json()["error"]["message"] == "No such person."


def test_validation_error_names_the_field(kit_client: TestClient) -> None:
    response = kit_client.get("/test/count?limit=many&lang=en")

    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "kiban.invalid",
            "message": "The input is not valid: query.limit.",
            "field": "query.limit",
        }
    }


def test_validation_error_in_japanese(kit_client: TestClient) -> None:
    response = kit_client.get("/test/count")

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "query.limit"
    assert response.json()["error"]["message"] == "入力内容が正しくありません：query.limit"


def test_lang_dependency(kit_client: TestClient) -> None:
    assert kit_client.get("/test/count?limit=3").json() == {"limit": 3, "lang": "ja"}
    response = kit_client.get("/test/count?limit=3", headers={"Accept-Language": "en-GB"})
    assert response.json() == {"limit": 3, "lang": "en"}


def test_unknown_path_has_the_error_shape(kit_client: TestClient) -> None:
    response = kit_client.get("/no/such/page?lang=en")

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "kiban.not_found",
            "message": "There is nothing at this address.",
            "field": None,
        }
    }


def test_wrong_method_has_the_error_shape(kit_client: TestClient) -> None:
    response = kit_client.delete("/health")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "kiban.method_not_allowed"


def test_unexpected_errors_are_generic_and_logged(
    kit_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = kit_client.get("/test/crash?lang=en")

    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "kiban.internal",
            "message": "Something went wrong on our side.",
            "field": None,
        }
    }
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert any("secret internal detail" in str(r.exc_info) for r in caplog.records)


# --- Operator bearer auth ---------------------------------------------------------------------


def test_operator_route_without_a_token(kit_client: TestClient) -> None:
    response = kit_client.get("/test/operator")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "kiban.auth.token_required"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong-token", "Basic czNjcmV0LW9wZXJhdG9yLXRva2Vu", "Bearer s3cret-operator-toke"],
)
def test_operator_route_with_a_bad_token(kit_client: TestClient, authorization: str) -> None:
    response = kit_client.get("/test/operator", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"].startswith("kiban.auth.")


def test_operator_route_with_the_token(kit_client: TestClient) -> None:
    response = kit_client.get(
        "/test/operator", headers={"Authorization": "Bearer s3cret-operator-token"}
    )

    assert response.status_code == 200
    assert response.json() == {"actor": "operator"}


def test_operator_auth_is_in_the_openapi_document(kit_client: TestClient) -> None:
    document = kit_client.get("/openapi.json").json()

    assert document["components"]["securitySchemes"]["OperatorToken"]["scheme"] == "bearer"
    assert document["paths"]["/test/operator"]["get"]["security"] == [{"OperatorToken": []}]


# --- One session per request ------------------------------------------------------------------


@pytest.fixture
def notes_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TestClient]:
    """The kit on a scratch SQLite database with a ``notes`` table (not the migrated schema)."""
    monkeypatch.setenv("KIBAN_DATABASE_URL", f"sqlite:///{tmp_path / 'notes.db'}")
    get_settings.cache_clear()
    with get_engine().begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT NOT NULL)"))
    with TestClient(_test_app(), raise_server_exceptions=False) as client:
        yield client


def _notes() -> int:
    with get_engine().connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM notes")).scalar_one())


def test_a_successful_request_commits(notes_client: TestClient) -> None:
    assert notes_client.post("/test/write").status_code == 200

    assert _notes() == 1


def test_a_failed_request_rolls_back(notes_client: TestClient) -> None:
    assert notes_client.post("/test/write?fail=true").status_code == 404

    assert _notes() == 0
