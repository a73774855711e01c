"""The gateway's guards: limits, per-client token buckets, the replay guard and the metrics."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

# --- limits, rate and metrics ------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Gateway limits: a token bucket per client (``rate_per_second`` refill, ``burst``
    capacity), the largest request body, how long to wait for a remote provider, and how
    long a signed request stays fresh."""

    rate_per_second: float = 5000.0
    burst: int = 10000
    max_body_bytes: int = 1_048_576
    provider_timeout_seconds: float = 10.0
    # A request is fresh from ``clock_skew_seconds`` before its ``iat`` to ``max_age_seconds``
    # after; while it is, its message id cannot be used again by the same client.
    max_age_seconds: float = 120.0
    clock_skew_seconds: float = 30.0


_limits = Limits()


def get_limits() -> Limits:
    return _limits


def set_limits(limits: Limits) -> None:
    """Change the gateway limits of this process (buckets start full again)."""
    global _limits  # noqa: PLW0603 - process-wide configuration, changed by operators and tests.
    _limits = limits
    rate_limiter.reset()
    replay_guard.reset()


class RateLimiter:
    """Token buckets, one per client subsystem."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def allow(self, client: str) -> bool:
        limits = _limits
        now = time.monotonic()
        with self._lock:
            tokens, updated = self._buckets.get(client, (float(limits.burst), now))
            tokens = min(float(limits.burst), tokens + (now - updated) * limits.rate_per_second)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return False
            self._buckets[client] = (tokens - 1.0, now)
            return True


rate_limiter = RateLimiter()


class ReplayGuard:
    """The message ids each client used in this process while its requests were fresh.

    An id is remembered until the request that carried it goes stale (``iat`` plus the
    maximum age); a replay after that is refused as stale instead. It only saves a query: the
    unique insert of :func:`kiban.blocks.mesh.replay.claim_message` settles a replay that this
    process did not see."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._expiries: deque[tuple[float, tuple[str, str]]] = deque()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
            self._expiries.clear()

    def first_use(self, client: str, message_id: str, *, until: float, now: float) -> bool:
        """Whether ``client`` has not used ``message_id`` before; remembers it until ``until``."""
        key = (client, message_id)
        with self._lock:
            expiries = self._expiries
            # Ids leave in the order they came; one that goes stale early waits for those
            # before it, which only keeps it longer than needed.
            while expiries and expiries[0][0] < now:
                self._seen.discard(expiries.popleft()[1])
            if key in self._seen:
                return False
            self._seen.add(key)
            expiries.append((until, key))
            return True


replay_guard = ReplayGuard()


class Metrics:
    """Counters of exchanges by outcome and the latency of the gateway, in Prometheus text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outcomes: dict[str, int] = {}
        self._latency_sum = 0.0
        self._latency_count = 0
        self._deliveries: dict[str, int] = {}

    def observe(self, outcome: str, seconds: float) -> None:
        with self._lock:
            self._outcomes[outcome] = self._outcomes.get(outcome, 0) + 1
            self._latency_sum += seconds
            self._latency_count += 1

    def delivery(self, outcome: str) -> None:
        with self._lock:
            self._deliveries[outcome] = self._deliveries.get(outcome, 0) + 1

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP kiban_mesh_requests_total Gateway exchanges by outcome.",
                "# TYPE kiban_mesh_requests_total counter",
            ]
            lines += [
                f'kiban_mesh_requests_total{{outcome="{name}"}} {count}'
                for name, count in sorted(self._outcomes.items())
            ]
            lines += [
                "# HELP kiban_mesh_request_seconds Time the gateway spent on an exchange.",
                "# TYPE kiban_mesh_request_seconds summary",
                f"kiban_mesh_request_seconds_sum {self._latency_sum:.6f}",
                f"kiban_mesh_request_seconds_count {self._latency_count}",
                "# HELP kiban_mesh_deliveries_total Subscription delivery attempts by outcome.",
                "# TYPE kiban_mesh_deliveries_total counter",
            ]
            lines += [
                f'kiban_mesh_deliveries_total{{outcome="{name}"}} {count}'
                for name, count in sorted(self._deliveries.items())
            ]
        return "\n".join(lines) + "\n"


metrics = Metrics()
