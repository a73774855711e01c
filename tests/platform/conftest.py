"""Fixtures for the platform tests: a clean subscriber registry and an explicit events mode."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from kiban.platform import events
from kiban.platform.settings import get_settings

NATS_URL = os.environ.get("KIBAN_TEST_EVENTS_URL", "")


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    """Subscribers registered by a test disappear after it."""
    saved = dict(events._registry)
    events._registry.clear()
    yield
    events._registry.clear()
    events._registry.update(saved)


@pytest.fixture
def in_process(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The database URL, with events delivered in-process (KIBAN_EVENTS_URL empty)."""
    monkeypatch.delenv("KIBAN_EVENTS_URL", raising=False)
    get_settings.cache_clear()
    return database_url


@pytest.fixture
def nats_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A unique JetStream stream and subject prefix for one test, deleted afterwards."""
    if not NATS_URL:
        pytest.skip("KIBAN_TEST_EVENTS_URL is not set")
    from kiban.platform import nats_relay  # noqa: PLC0415 - only NATS tests need it.

    suffix = uuid.uuid4().hex[:12]
    stream, prefix = f"KIBANTEST_{suffix}", f"kibantest{suffix}"
    monkeypatch.setenv("KIBAN_EVENTS_URL", NATS_URL)
    monkeypatch.setenv("KIBAN_EVENTS_STREAM", stream)
    get_settings.cache_clear()
    yield stream, prefix
    nats_relay.delete_stream(url=NATS_URL, stream=stream)
