"""Stable error codes of the access records (CONVENTIONS.md §5).

401 ``mesh.records_token_required``, ``mesh.records_token_invalid``; 409
``mesh.records_log_broken`` and 503 ``mesh.record_write_failed`` live in
:mod:`kiban.blocks.mesh.records`.
"""

from __future__ import annotations

from kiban.kernel.errors import Unauthorized


class RecordsTokenRequired(Unauthorized):
    code = "mesh.records_token_required"

    def __init__(self) -> None:
        super().__init__(
            "マイページのアクセストークンが必要です。",
            "An access token of a sign-in to My page is required.",
            field="Authorization",
        )


class RecordsTokenInvalid(Unauthorized):
    code = "mesh.records_token_invalid"

    def __init__(self) -> None:
        super().__init__(
            "アクセストークンが無効です。",
            "The access token is not valid (unknown, expired, revoked or not for My page).",
            field="Authorization",
        )
