"""Errors of the OpenID Connect provider.

Two families, because two audiences read them:

- :class:`OAuthError` is what relying parties see: the ``error`` codes of RFC 6749 and OpenID
  Connect Core, as ``{"error", "error_description"}`` on the token and userinfo endpoints, or as
  query parameters on the redirect back from ``/oidc/authorize``.
- ``identity.*`` :class:`~kiban.kernel.errors.KibanError` subclasses are what operators and
  residents see: the client registry API and the sign-in and consent pages.
"""

from __future__ import annotations

from kiban.kernel.errors import Conflict, NotFound, Unauthorized, ValidationFailed


class OAuthError(Exception):
    """An OAuth 2.0 / OpenID Connect protocol error.

    ``status`` is the HTTP status on the token and userinfo endpoints; ``error`` is one of the
    registered codes (``invalid_request``, ``invalid_client``, ``invalid_grant``,
    ``unauthorized_client``, ``unsupported_grant_type``, ``invalid_scope``, ``invalid_token``,
    ``access_denied``, ``unsupported_response_type``, ``login_required``).
    """

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class AuthorizeError(OAuthError):
    """An error of ``/oidc/authorize``.

    When the client and redirect URI are trustworthy (``redirect_uri`` set), the error goes back
    to the relying party as query parameters (RFC 6749 §4.1.2.1); otherwise the resident sees an
    error page and is never sent anywhere (no open redirect).
    """

    def __init__(
        self,
        error: str,
        description: str,
        *,
        redirect_uri: str | None = None,
        state: str | None = None,
    ) -> None:
        super().__init__(error, description)
        self.redirect_uri = redirect_uri
        self.state = state


class ClientInvalid(ValidationFailed):
    """A client registration the registry cannot accept; ``field`` names the input."""

    code = "identity.client_invalid"


class ClientNotFound(NotFound):
    code = "identity.client_not_found"

    def __init__(self, field: str = "client_id") -> None:
        super().__init__(
            "該当する連携サービスが見つかりません。", "No such relying party.", field=field
        )


class ClientExists(Conflict):
    code = "identity.client_exists"

    def __init__(self) -> None:
        super().__init__(
            "このクライアントIDは既に登録されています。",
            "This client id is already registered.",
            field="client_id",
        )


class SectorInvalid(ValidationFailed):
    """A sector approval the registry cannot accept; ``field`` names the input."""

    code = "identity.sector_invalid"


class SectorNotFound(NotFound):
    code = "identity.sector_not_found"

    def __init__(self, field: str = "sector_identifier") -> None:
        super().__init__(
            "承認されたセクターではありません。",
            "No such approved sector.",
            field=field,
        )


class SectorExists(Conflict):
    code = "identity.sector_exists"

    def __init__(self) -> None:
        super().__init__(
            "このセクター識別子は既に承認されています。",
            "This sector identifier is already approved.",
            field="sector_identifier",
        )


class SignInNotFound(NotFound):
    """The sign-in request is unknown, finished, or belongs to another browser."""

    code = "identity.signin_not_found"

    def __init__(self) -> None:
        super().__init__(
            "このサインインの手続きは見つからないか、既に終わっています。"
            "サービスに戻って、もう一度サインインしてください。",
            "This sign-in is unknown or already finished. "
            "Go back to the service and sign in again.",
            field="request_id",
        )


class SignInExpired(Unauthorized):
    code = "identity.signin_expired"

    def __init__(self) -> None:
        super().__init__(
            "時間切れです。もう一度カードで本人確認をしてください。",
            "The time ran out. Confirm your identity with your card again.",
            field="challenge",
        )


class CardMismatch(Unauthorized):
    """The card's answer does not fit the sign-in (missing fields, or two different cards)."""

    code = "identity.card_response_invalid"

    def __init__(self, message_ja: str, message_en: str, *, field: str) -> None:
        super().__init__(message_ja, message_en, field=field)


class MyPageTokenRequired(Unauthorized):
    """A resident's own API call came without a My page access token."""

    code = "identity.my_page_token_required"

    def __init__(self) -> None:
        super().__init__(
            "マイページのアクセストークンが必要です。",
            "A My page access token is required.",
            field="authorization",
        )


class MyPageTokenInvalid(Unauthorized):
    """The token is unknown, expired, revoked, or was issued to another relying party."""

    code = "identity.my_page_token_invalid"

    def __init__(self) -> None:
        super().__init__(
            "アクセストークンが無効です。マイページにサインインし直してください。",
            "The access token is not valid. Please sign in to My page again.",
            field="authorization",
        )
