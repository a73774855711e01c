"""Stable error codes of the notifications block (CONVENTIONS.md §5)."""

from __future__ import annotations

from kiban.kernel.errors import NotFound, ValidationFailed


class UnknownTemplate(ValidationFailed):
    code = "notifications.unknown_template"

    def __init__(self, template: str) -> None:
        super().__init__(
            f"通知のひな形「{template}」は登録されていません。",
            f"There is no notice template {template!r}.",
            field="template",
        )


class InvalidParams(ValidationFailed):
    """A personalisation value is missing, unknown or of the wrong type; ``field`` names it."""

    code = "notifications.invalid_params"

    def __init__(self, name: str, *, problem_ja: str, problem_en: str) -> None:
        super().__init__(
            f"差し込み項目「{name}」が正しくありません（{problem_ja}）。",
            f"The personalisation value {name!r} is not valid ({problem_en}).",
            field=name,
        )


class NoticeNotFound(NotFound):
    code = "notifications.not_found"

    def __init__(self) -> None:
        super().__init__("該当するお知らせが見つかりません。", "No such notice.", field="notice_id")
