"""``kiban events relay`` and ``work`` outlive a lost connection when long-running (ADR 0035)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kiban.cli import events as events_cli
from kiban.platform import nats_relay


@pytest.fixture(autouse=True)
def _no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_cli, "RETRY_SECONDS", 0.0)


def _failing(times: int, error: Exception) -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def run() -> int:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return 7

    return calls, run


def test_a_long_running_pass_starts_again_after_a_lost_connection(
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls, run = _failing(2, ConnectionRefusedError("database restarting"))

    assert events_cli._until_stopped(run, "relay", once=False) == 7

    assert len(calls) == 3
    assert capsys.readouterr().err.count("relay: connection lost (ConnectionRefusedError") == 2


def test_once_and_a_misconfigured_stream_still_stop() -> None:
    _, run = _failing(1, ConnectionRefusedError("down"))
    with pytest.raises(ConnectionRefusedError):
        events_cli._until_stopped(run, "relay", once=True)
    calls, run = _failing(5, nats_relay.StreamConflict("another stream takes kiban.>"))
    with pytest.raises(nats_relay.StreamConflict):
        events_cli._until_stopped(run, "work", once=False)
    assert len(calls) == 1
