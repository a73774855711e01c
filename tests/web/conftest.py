"""Fixtures for the web tests: the real application on the migrated test database."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from starlette.exceptions import StarletteDeprecationWarning

# Starlette 1.x wants the ``httpx2`` package for its test client and warns when it falls back to
# ``httpx``. Until ``httpx2`` is a test dependency, that one import-time warning is not an error.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

from kiban.platform.settings import get_settings
from kiban.web import create_app

OPERATOR_TOKEN = "test-operator-token-0123456789"  # noqa: S105 - a test fixture value.


@pytest.fixture
def operator_token(monkeypatch: pytest.MonkeyPatch) -> str:
    """A known operator token in the settings."""
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", OPERATOR_TOKEN)
    get_settings.cache_clear()
    return OPERATOR_TOKEN


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """A client of ``create_app()`` on a freshly migrated, empty database."""
    with TestClient(create_app()) as client:
        yield client
