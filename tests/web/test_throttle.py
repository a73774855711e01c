"""Throttling of guesses: lockouts with back-off per key, refused even with the right secret
while locked, and each lockout in the audit log; on bearer tokens (API keys, the retired
operator token), My page tokens and the token endpoint's client authentication."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.kernel import clock
from kiban.platform import throttle
from kiban.platform.models import AuditEntry, ThrottleCount
from tests.staff_support import admin_key, bearer, municipality_key


def _lockouts(session: Session) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.tag == throttle.LOCKOUT_TAG)))


def test_a_key_is_locked_after_the_limit_and_the_lockouts_double(database_url: str) -> None:
    limiter = throttle.Throttle("test", limit=3, window=60, lockout=10, max_lockout=40)
    for _ in range(2):
        limiter.failure("k")
    limiter.check("k")  # Two failures: not yet locked.
    limiter.failure("k")
    with pytest.raises(throttle.TooManyAttempts) as locked:
        limiter.check("k")
    assert locked.value.status == 429
    assert 9 <= locked.value.retry_after <= 10
    assert locked.value.headers == {"Retry-After": str(locked.value.retry_after)}
    limiter.check("other")  # Keys are apart.
    for _ in range(3):
        limiter.failure("k")
    assert 19 <= limiter.retry_after("k") <= 20  # Back-off: twice as long.
    for _ in range(9):
        limiter.failure("k")
    assert limiter.retry_after("k") <= 40  # Never beyond the maximum.
    limiter.success("k")
    limiter.check("k")


def test_a_lockout_is_recorded_in_the_audit_log(session: Session) -> None:
    limiter = throttle.Throttle("test-audit", limit=2, window=60, lockout=5, max_lockout=5)
    limiter.failure("source:192.0.2.7")
    limiter.failure("source:192.0.2.7")
    (entry,) = _lockouts(session)
    assert entry.subject == "test-audit:source:192.0.2.7"
    assert entry.data["failures"] == 2
    assert entry.data["lockout_seconds"] == 5


def test_two_processes_share_one_budget(database_url: str, tmp_path: Path) -> None:
    """Two ``kiban serve`` processes count against one budget: half the limit in another
    process and half here lock the key out in both (issue 20: rate limits per cluster)."""
    script = (
        "from kiban.platform import throttle\n"
        "limiter = throttle.Throttle('shared', limit=6, window=60, lockout=30)\n"
        "for _ in range(3):\n"
        "    limiter.failure('source:192.0.2.9')\n"
    )
    env = {**os.environ, "KIBAN_DATABASE_URL": database_url, "KIBAN_DATA_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    here = throttle.Throttle("shared", limit=6, window=60, lockout=30)
    here.check("source:192.0.2.9")  # Three failures elsewhere: not yet locked.
    for _ in range(3):
        here.failure("source:192.0.2.9")
    with pytest.raises(throttle.TooManyAttempts):
        here.check("source:192.0.2.9")
    # The other process sees the lockout too.
    check = (
        "from kiban.platform import throttle\n"
        "limiter = throttle.Throttle('shared', limit=6, window=60, lockout=30)\n"
        "print(limiter.retry_after('source:192.0.2.9'))\n"
    )
    seen = subprocess.run(
        [sys.executable, "-c", check], env=env, check=True, timeout=120, capture_output=True
    )
    assert 0 < int(seen.stdout.decode().strip()) <= 30


def test_quiet_keys_are_pruned(session: Session) -> None:
    limiter = throttle.Throttle("test-prune", limit=5, window=60, lockout=5, max_lockout=5)
    limiter.failure("source:192.0.2.1")
    assert session.scalar(select(func.count()).select_from(ThrottleCount)) == 1
    assert throttle.prune(session, clock.now() + timedelta(hours=2)) == 1
    session.commit()
    assert session.scalar(select(func.count()).select_from(ThrottleCount)) == 0


def test_300_wrong_api_keys_then_the_right_one_is_refused(
    client: TestClient, session: Session
) -> None:
    key = municipality_key("131016", "approval")  # May read Chiyoda's register.
    listing = "/api/v1/residents?municipality=131016"
    assert client.get(listing, headers=bearer(key)).status_code == 200
    # Guesses at the secret of a key whose public part (kiban_sk_<prefix>) is known.
    known_prefix = "_".join(key.split("_", 3)[:3])
    statuses = {
        client.get(listing, headers=bearer(f"{known_prefix}_wrong{guess}")).status_code
        for guess in range(300)
    }
    assert statuses == {401, 429}
    right = client.get(listing, headers=bearer(key))
    assert right.status_code == 429
    assert right.json()["error"]["code"] == "kiban.too_many_attempts"
    assert int(right.headers["retry-after"]) > 0
    entries = _lockouts(session)
    assert len(entries) == 1  # Guesses while locked out are refused before they count.
    assert entries[0].data["key"] == "source:testclient"
    assert entries[0].data["throttle"] == "bearer-token"


def test_wrong_my_page_tokens_are_throttled(client: TestClient, session: Session) -> None:
    for guess in range(throttle.BEARER_TOKENS.limit):
        answer = client.get(
            "/api/v1/notifications/inbox", headers={"Authorization": f"Bearer nope-{guess}"}
        )
        assert answer.status_code == 401
    locked = client.get("/api/v1/notifications/inbox", headers={"Authorization": "Bearer x"})
    assert locked.status_code == 429
    assert len(_lockouts(session)) == 1


def test_token_endpoint_client_authentication_is_throttled(
    client: TestClient, session: Session
) -> None:
    registered = client.post(
        "/api/v1/identity/clients",
        json={
            "name": "Throttle test",
            "purpose": "テスト / testing",
            "scopes": ["openid"],
            "redirect_uris": ["https://rp.example/callback"],
            "auth_method": "client_secret_basic",
        },
        headers={"Authorization": f"Bearer {admin_key()}"},
    ).json()

    def attempt(secret: str) -> int:
        basic = base64.b64encode(f"{registered['client_id']}:{secret}".encode()).decode()
        return client.post(
            "/oidc/token",
            data={"grant_type": "authorization_code", "code": "c", "redirect_uri": "x"},
            headers={"Authorization": f"Basic {basic}"},
        ).status_code

    assert [attempt(f"guess-{n}") for n in range(throttle.CLIENT_AUTHENTICATION.limit)] == [
        401
    ] * throttle.CLIENT_AUTHENTICATION.limit
    # Locked: even the right secret gets no further than the lockout.
    refused = client.post(
        "/oidc/token",
        data={"grant_type": "authorization_code", "code": "c", "redirect_uri": "x"},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert refused.status_code == 429
    assert refused.json()["error"] == "invalid_client"
    assert "retry-after" in refused.headers
    (entry,) = _lockouts(session)
    assert entry.data["throttle"] == "oidc-client"
