"""The access log keeps the path and drops the query string (issue 13, item 14)."""

from __future__ import annotations

import io
import logging
import threading
import time

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from kiban.platform.access_log import log_config
from tests.live import free_port


def _ok(request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


def test_a_served_request_is_logged_without_its_query() -> None:
    app = Starlette(routes=[Route("/portal/applications/x/review", _ok)])
    port = free_port()
    access = logging.getLogger("uvicorn.access")
    saved = (access.handlers[:], access.level, access.propagate)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=log_config(), access_log=True, ws="none"
    )
    stream = io.StringIO()
    for handler in access.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        reply = httpx.get(
            f"http://127.0.0.1:{port}/portal/applications/x/review?typed=山田太郎&lang=en"
        )
        assert reply.status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        access.handlers[:], access.level, access.propagate = saved
    logged = stream.getvalue()
    assert "GET /portal/applications/x/review HTTP/1.1" in logged
    assert "typed" not in logged
    assert "lang=en" not in logged
