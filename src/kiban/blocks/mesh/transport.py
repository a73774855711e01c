"""The gateway's HTTP client for providers in other processes: kept-alive connections."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

from kiban.blocks.mesh.errors import MeshRefusal
from kiban.blocks.mesh.guards import get_limits
from kiban.blocks.mesh.provider import ProviderAnswer
from kiban.blocks.mesh.signing import JSON_TYPE, SIGNATURE_HEADER, unverified_claims


class _Connections:
    """Keep-alive HTTP/1.1 connections to remote providers, a few idle ones per host.

    The standard library's client, not httpx: the gateway spends its time on the hop, and
    httpx's layers cost several times what the request itself does. A request sent on a kept
    connection that the provider had already closed (it closes idle ones) is sent once more on
    a new connection, as other pooling clients do: the provider never saw the first."""

    MAX_IDLE = 32

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def _take(
        self, key: tuple[str, str, int], timeout: float
    ) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                connection = idle.pop()
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                return connection, True
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout), False
        return http.client.HTTPConnection(host, port, timeout=timeout), False

    def _give(self, key: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.MAX_IDLE:
                idle.append(connection)
                return
        connection.close()

    def request(
        self, method: str, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> tuple[int, bytes, str]:
        """``(status, body, X-Road-Signature)``; OSError or HTTPException when it fails."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise http.client.InvalidURL(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            connection, reused = self._take(key, timeout)
            try:
                connection.request(method, target, body=body, headers=dict(headers))
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                stale = isinstance(
                    exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                )
                if reused and stale and attempt == 1:
                    continue
                raise
            signature = response.getheader(SIGNATURE_HEADER, "") or ""
            if response.will_close:
                connection.close()
            else:
                self._give(key, connection)
            return response.status, data, signature
        raise http.client.HTTPException("unreachable")  # pragma: no cover - the loop returns.

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


_connections = _Connections()


def close_http() -> None:
    """Close the kept connections to remote providers (shutdown, tests)."""
    _connections.close()


def call_endpoint(
    url: str, *, token: str, body: bytes, method: str = "POST", path: str = ""
) -> ProviderAnswer:
    """Send a signed mesh message to a member's HTTP endpoint and return its (unverified)
    answer; connection failures are ``Server.ServerProxy.ServiceFailed``."""
    claims = unverified_claims(token)
    headers = {
        SIGNATURE_HEADER: token,
        "X-Road-Client": str(claims.get("client", "")),
        "X-Road-Id": str(claims.get("id", "")),
        "Content-Type": JSON_TYPE,
    }
    if claims.get("userId"):
        headers["X-Road-UserId"] = str(claims["userId"])
    target = f"{url}/{path}" if path else url
    try:
        status, data, signature = _connections.request(
            method,
            target,
            body=body,
            headers=headers,
            timeout=get_limits().provider_timeout_seconds,
        )
    except (OSError, http.client.HTTPException) as exc:
        raise MeshRefusal("Server.ServerProxy.ServiceFailed", type(exc).__name__) from None
    return ProviderAnswer(status, data, signature)
