"""Stable error codes of consent for companies (CONVENTIONS.md §5).

The four refusals of :func:`kiban.blocks.mesh.consent.check_consent` are 403 with the field
``consent``; the gateway passes them on to the requesting company unchanged.
"""

from __future__ import annotations

from kiban.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed


class ConsentRequired(Forbidden):
    code = "mesh.consent_required"

    def __init__(self) -> None:
        super().__init__(
            "この会社への提供について、ご本人の同意がありません。",
            "The person has not consented to this company receiving the data.",
            field="consent",
        )


class ConsentNotActive(Forbidden):
    code = "mesh.consent_not_active"

    def __init__(self, status: str) -> None:
        super().__init__(
            f"ご本人の同意は有効ではありません（{_STATUS_JA.get(status, status)}）。",
            f"The person's consent is not in effect ({status}).",
            field="consent",
        )
        self.consent_status = status


class ConsentItemsNotCovered(Forbidden):
    code = "mesh.consent_items_not_covered"

    def __init__(self, items: list[str]) -> None:
        listed = ", ".join(items)
        super().__init__(
            f"同意の範囲に含まれない項目があります: {listed}",
            f"The consent does not cover these items: {listed}",
            field="consent",
        )
        self.items = items


class ConsentFrequencyExceeded(Forbidden):
    code = "mesh.consent_frequency_exceeded"

    def __init__(self) -> None:
        super().__init__(
            "この同意で認められた回数の取得はすでに行われました。",
            "The fetches this consent allows for the period have already been made.",
            field="consent",
        )


class ConsentNotFound(NotFound):
    code = "mesh.consent_not_found"

    def __init__(self, field: str = "consent_id") -> None:
        super().__init__("該当する同意が見つかりません。", "No such consent.", field=field)


class ConsentStatusConflict(Conflict):
    """The change is not possible from the current status (a revoked or expired consent is
    final), or another change of the same consent was made at the same moment."""

    code = "mesh.consent_status_conflict"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(
            f"現在の状態（{_STATUS_JA.get(current, current)}）からは"
            f"{_STATUS_JA.get(wanted, wanted)}にできません。",
            f"A consent that is {current} cannot become {wanted}.",
            field="status",
        )


class ConsentInvalid(ValidationFailed):
    """Grant input that breaks a rule; ``field`` names it."""

    code = "mesh.consent_invalid"


class ConsentArtefactInvalid(ValidationFailed):
    code = "mesh.consent_artefact_invalid"

    def __init__(self) -> None:
        super().__init__(
            "同意の証跡（署名）を検証できません。",
            "The consent artefact's signature does not verify.",
            field="jws",
        )


_STATUS_JA = {
    "active": "有効",
    "paused": "一時停止中",
    "revoked": "撤回済み",
    "expired": "期限切れ",
    "not_yet_valid": "開始前",
}
