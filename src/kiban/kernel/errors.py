"""Domain errors with stable machine codes, an HTTP status and a message in Japanese and English.

Every block raises subclasses of :class:`KibanError`; the web layer turns them into a JSON body
``{"error": {"code", "message", "field"}}`` with the status given here, and the CLI prints the
message and exits non-zero. Nothing else should be raised for bad input.
"""

from __future__ import annotations


class KibanError(Exception):
    """Base class of every error kiban reports to a user.

    ``code`` is stable (documented per operation), ``status`` is the HTTP status, ``field`` names
    the input at fault when there is one.
    """

    code: str = "kiban.error"
    status: int = 400

    def __init__(
        self,
        message_ja: str,
        message_en: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def message(self, lang: str) -> str:
        """The message in ``lang`` (``ja`` or ``en``); Japanese is the default."""
        return self.message_en if lang == "en" else self.message_ja

    def as_dict(self, lang: str = "ja") -> dict[str, str | None]:
        return {"code": self.code, "message": self.message(lang), "field": self.field}


class ValidationFailed(KibanError):
    """Input that breaks a rule; ``field`` names the input."""

    code = "kiban.invalid"
    status = 422


class NotFound(KibanError):
    """The thing asked for does not exist (or the caller may not know that it does)."""

    code = "kiban.not_found"
    status = 404


class Conflict(KibanError):
    """The request is well formed but the current state does not allow it."""

    code = "kiban.conflict"
    status = 409


class Unauthorized(KibanError):
    """No valid credentials were presented."""

    code = "kiban.unauthorized"
    status = 401


class Forbidden(KibanError):
    """The caller is known but may not do this."""

    code = "kiban.forbidden"
    status = 403
