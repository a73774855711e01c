"""One limit on the size of every request body, enforced before the body is read.

:class:`BodySizeLimitMiddleware` refuses a request whose ``Content-Length`` is over the limit
at once, and reads a body sent without one (chunked) itself, answering 413 as soon as more
than the limit has arrived (a body within the limit is then handed to the application): in
both cases before anything is parsed or written. The mesh gateway (``/r1/...``) keeps its
own limit.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiban.platform import i18n

MAX_BODY_BYTES: Final = 1024 * 1024
"""The largest request body any route reads (1 MiB): a procedure's form, a certificate and a
signature are a few kilobytes, a batch of 1,000 addresses a few hundred."""

_OWN_LIMIT_PREFIXES: Final = ("/r1/",)


def too_large_response(language: i18n.Language, limit: int) -> JSONResponse:
    """The 413 answer, in the one error shape."""
    t = i18n.translations(language)
    message = t.gettext("The request body is larger than %(limit)s bytes.") % {"limit": limit}
    return JSONResponse(
        {"error": {"code": "kiban.body_too_large", "message": message, "field": "body"}},
        status_code=413,
    )


class BodySizeLimitMiddleware:
    """Answers 413 to a body over ``limit`` bytes, reading at most ``limit`` bytes of it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_OWN_LIMIT_PREFIXES):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        language = i18n.negotiate(
            request.query_params.get("lang"),
            request.cookies.get("kiban_lang"),
            accept_language=request.headers.get("accept-language"),
        )
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await too_large_response(language, self.limit)(scope, receive, send)
            return

        if declared is None:
            # No declared length (chunked): read up to the limit here, then replay it.
            messages: list[Message] = []
            received = 0
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                received += len(message.get("body", b""))
                if received > self.limit:
                    await too_large_response(language, self.limit)(scope, receive, send)
                    return
                if not message.get("more_body", False):
                    break
            receive = _replay(messages, receive)
        await self.app(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out ``messages`` first, then what ``receive`` gives."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
