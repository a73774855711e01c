"""Stable error codes of the mesh core (CONVENTIONS.md §5).

Registry codes: ``mesh.invalid_id`` (422), ``mesh.invalid_items`` (422),
``mesh.member_exists`` (409), ``mesh.member_not_found`` (404), ``mesh.subsystem_exists`` (409),
``mesh.subsystem_not_found`` (404), ``mesh.service_exists`` (409),
``mesh.service_not_found`` (404), ``mesh.subscription_exists`` (409),
``mesh.invalid_subscription`` (422), ``mesh.person_unknown`` (404).

Gateway refusals (:class:`MeshRefusal`) carry an X-Road style code as well, sent in the
``X-Road-Error`` header; see :data:`REFUSALS`.
"""

from __future__ import annotations

from typing import Final

from kiban.kernel.errors import Conflict, KibanError, NotFound, ValidationFailed


class InvalidId(ValidationFailed):
    code = "mesh.invalid_id"

    def __init__(self, value: str, field: str) -> None:
        super().__init__(
            f"識別子の形式が正しくありません: {value}",
            f"Malformed identifier: {value}",
            field=field,
        )


class InvalidItems(ValidationFailed):
    code = "mesh.invalid_items"

    def __init__(self, items: list[str], field: str = "items") -> None:
        shown = ", ".join(items)
        super().__init__(
            f"サービスが提供しないデータ項目です: {shown}",
            f"Data items the service does not provide: {shown}",
            field=field,
        )


class MemberExists(Conflict):
    code = "mesh.member_exists"

    def __init__(self, field: str = "member_code") -> None:
        super().__init__(
            "このメンバーは既に登録されています。",
            "This member is already registered.",
            field=field,
        )


class MemberNotFound(NotFound):
    code = "mesh.member_not_found"

    def __init__(self, field: str = "member") -> None:
        super().__init__("該当するメンバーがありません。", "No such member.", field=field)


class SubsystemExists(Conflict):
    code = "mesh.subsystem_exists"

    def __init__(self, field: str = "subsystem_code") -> None:
        super().__init__(
            "このサブシステムは既に登録されています。",
            "This subsystem is already registered.",
            field=field,
        )


class SubsystemNotFound(NotFound):
    code = "mesh.subsystem_not_found"

    def __init__(self, field: str = "subsystem") -> None:
        super().__init__("該当するサブシステムがありません。", "No such subsystem.", field=field)


class ServiceExists(Conflict):
    code = "mesh.service_exists"

    def __init__(self, field: str = "service_code") -> None:
        super().__init__(
            "このサービスは既に登録されています。",
            "This service is already registered.",
            field=field,
        )


class ServiceNotFound(NotFound):
    code = "mesh.service_not_found"

    def __init__(self, field: str = "service") -> None:
        super().__init__("該当するサービスがありません。", "No such service.", field=field)


class SubscriptionExists(Conflict):
    code = "mesh.subscription_exists"

    def __init__(self, field: str = "event_type") -> None:
        super().__init__(
            "この購読は既に登録されています。", "This subscription already exists.", field=field
        )


class InvalidSubscription(ValidationFailed):
    code = "mesh.invalid_subscription"

    def __init__(self, message_ja: str, message_en: str, field: str) -> None:
        super().__init__(message_ja, message_en, field=field)


class PersonUnknown(NotFound):
    code = "mesh.person_unknown"

    def __init__(self, field: str = "agency_code") -> None:
        super().__init__(
            "この機関別符号に対応する者はいません。",
            "No person is known by this agency code.",
            field=field,
        )


# X-Road style error codes of the gateway, with the kiban code and HTTP status of each.
REFUSALS: Final[dict[str, tuple[str, int, str, str]]] = {
    "Client.BadRequest": (
        "mesh.bad_request",
        400,
        "要求の形式が正しくありません。",
        "The request is malformed.",
    ),
    "Client.InvalidSignature": (
        "mesh.invalid_signature",
        401,
        "要求の署名を検証できません。",
        "The request's signature does not verify.",
    ),
    "Client.StaleRequest": (
        "mesh.stale_request",
        401,
        "要求の署名時刻(iat)が古すぎるか、未来です。新たに署名して送ってください。",
        "The request was signed too long ago or in the future (iat); sign it again.",
    ),
    "Client.ReplayedRequest": (
        "mesh.replayed_request",
        409,
        "このメッセージIDの要求は既に受け付けています。",
        "A request with this message id was taken already.",
    ),
    "Client.BodyTooLarge": (
        "mesh.body_too_large",
        413,
        "要求の本文が大きすぎます。",
        "The request body is too large.",
    ),
    "Client.RateLimited": (
        "mesh.rate_limited",
        429,
        "要求が多すぎます。しばらくしてから再度お試しください。",
        "Too many requests; try again shortly.",
    ),
    "Server.ClientProxy.UnknownClient": (
        "mesh.unknown_client",
        403,
        "要求元のサブシステムが登録されていないか、有効ではありません。",
        "The client subsystem is unknown or not active.",
    ),
    "Server.ServerProxy.UnknownService": (
        "mesh.unknown_service",
        404,
        "該当するサービスがありません。",
        "No such service.",
    ),
    "Server.ServerProxy.ServiceDisabled": (
        "mesh.service_disabled",
        503,
        "このサービスは現在無効です。",
        "This service is disabled.",
    ),
    "Server.ServerProxy.AccessDenied": (
        "mesh.access_denied",
        403,
        "この要求を認める許可(事務・法令の根拠)がありません。",
        "No grant (task and legal basis) allows this request.",
    ),
    "Server.ServerProxy.ConsentRequired": (
        "mesh.consent_required",
        403,
        "本人の有効な同意がありません。",
        "The person has not given a consent that is in force.",
    ),
    "Server.ServerProxy.UnknownAgencyCode": (
        "mesh.unknown_agency_code",
        404,
        "この機関別符号に対応する者はいません。",
        "No person is known by this agency code.",
    ),
    "Server.ServerProxy.ServiceFailed": (
        "mesh.service_failed",
        502,
        "提供機関が応答しませんでした。",
        "The provider did not answer.",
    ),
    "Server.ServerProxy.InvalidResponseSignature": (
        "mesh.invalid_response_signature",
        502,
        "提供機関の応答の署名を検証できません。",
        "The provider's response signature does not verify.",
    ),
}


class MeshRefusal(KibanError):
    """The gateway refused or could not complete an exchange; ``xroad_code`` goes in the
    ``X-Road-Error`` header."""

    def __init__(
        self, xroad_code: str, detail: str | None = None, field: str | None = None
    ) -> None:
        code, status, message_ja, message_en = REFUSALS[xroad_code]
        if detail:
            message_ja = f"{message_ja}({detail})"
            message_en = f"{message_en} ({detail})"
        super().__init__(message_ja, message_en, field=field, code=code, status=status)
        self.xroad_code = xroad_code
