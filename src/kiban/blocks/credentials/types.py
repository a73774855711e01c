"""Credential types as data: each type's claims, their display names and its validity.

A type is named by a short ``name`` in kiban (``resident``) and by its ``vct`` URL outside,
``<KIBAN_BASE_URL>/credentials/types/<name>``, where its type metadata is served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from kiban.blocks import residents
from kiban.platform.settings import get_settings

AGE_THRESHOLDS: Final = (18, 20, 65)


@dataclass(frozen=True)
class ClaimInfo:
    """A claim of a type, with its label in Japanese and English."""

    name: str
    label_ja: str
    label_en: str


ClaimsBuilder = Callable[[residents.PersonRead, date], tuple[dict[str, Any], date | None]]
"""A type's claims about a person on a day, and the first day they would stop being true (the
credential expires then at the latest), or ``None``."""


@dataclass(frozen=True)
class CredentialType:
    """A credential kiban issues. A new type (one per qualification, say) is one more value
    with its own ``build``; the register's and registries' events revoke it in
    ``subscribers``."""

    name: str
    display_ja: str
    display_en: str
    description_en: str
    claims: tuple[ClaimInfo, ...]
    validity: timedelta
    build: ClaimsBuilder

    @property
    def vct(self) -> str:
        return vct_of(self.name)


def types_base() -> str:
    return f"{get_settings().base_url.rstrip('/')}/credentials/types/"


def vct_of(name: str) -> str:
    """The ``vct`` of the type called ``name``."""
    return types_base() + name


def type_by_vct(vct: str) -> CredentialType | None:
    """The type whose ``vct`` is ``vct``, if kiban issues it."""
    base = types_base()
    if not vct.startswith(base):
        return None
    return TYPES.get(vct[len(base) :])


def age_on(birth: date, day: date) -> int:
    """Age in whole years on ``day`` (a 29 February birthday counts from 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birthday(birth: date, years: int) -> date:
    """The day someone born on ``birth`` turns ``years``."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year.
        return date(birth.year + years, 3, 1)


def resident_claims(
    person: residents.PersonRead, today: date
) -> tuple[dict[str, Any], date | None]:
    """The claims of a ``resident`` credential, and the first day one of its age claims would
    turn true (the credential must not outlive it), or ``None``."""
    address = person.address
    # As the OpenID provider's address claim: the line after the prefecture and municipality.
    prefix = address.pref_name + address.municipality_name
    street = address.text[len(prefix) :] if address.text.startswith(prefix) else address.text
    age = age_on(person.birth_date, today)
    claims: dict[str, Any] = {
        "family_name": person.family_name,
        "given_name": person.given_name,
        "family_name_kana": person.family_name_kana,
        "given_name_kana": person.given_name_kana,
        "birthdate": person.birth_date.isoformat(),
        "address": {
            "formatted": address.text,
            "region": address.pref_name,
            "locality": address.municipality_name,
            "street_address": street.strip(),
            "lg_code": address.lg_code,
        },
    }
    changes: list[date] = []
    for years in AGE_THRESHOLDS:
        claims[f"age_over_{years}"] = age >= years
        if age < years:
            changes.append(birthday(person.birth_date, years))
    return claims, min(changes) if changes else None


RESIDENT: Final = CredentialType(
    name="resident",
    display_ja="住民票の記載事項（住民証明）",
    display_en="Resident credential",
    description_en=(
        "A resident's name, kana, address and birth date as the resident register holds them, "
        "and age_over_18, age_over_20 and age_over_65, each disclosable on its own."
    ),
    claims=(
        ClaimInfo("family_name", "氏", "Family name"),
        ClaimInfo("given_name", "名", "Given name"),
        ClaimInfo("family_name_kana", "氏（カナ）", "Family name (kana)"),
        ClaimInfo("given_name_kana", "名（カナ）", "Given name (kana)"),
        ClaimInfo("birthdate", "生年月日", "Date of birth"),
        ClaimInfo("address", "住所", "Address"),
        ClaimInfo("age_over_18", "18歳以上", "Aged 18 or over"),
        ClaimInfo("age_over_20", "20歳以上", "Aged 20 or over"),
        ClaimInfo("age_over_65", "65歳以上", "Aged 65 or over"),
    ),
    # A year, and never past the day an age claim would change (see resident_claims).
    validity=timedelta(days=365),
    build=resident_claims,
)

TYPES: Final[dict[str, CredentialType]] = {RESIDENT.name: RESIDENT}
