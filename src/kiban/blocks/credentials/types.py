"""Credential types as data: each type's claims, their display names and its validity.

A type is named by a short ``name`` in kiban (``resident``) and by its ``vct`` URL outside,
``<KIBAN_BASE_URL>/credentials/types/<name>``, where its type metadata is served. Each
national qualification of the qualifications registry is a type ``qualification-<code>``
(``qualification-nurse`` for 看護師), its claims read through the registry's facade.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import qualifications, residents
from kiban.blocks.credentials.errors import NotQualified
from kiban.blocks.credentials.insurance import insurance_claims
from kiban.platform.settings import get_settings

AGE_THRESHOLDS: Final = (18, 20, 65)


@dataclass(frozen=True)
class ClaimInfo:
    """A claim of a type, with its label in Japanese and English."""

    name: str
    label_ja: str
    label_en: str


ClaimsBuilder = Callable[[Session, residents.PersonRead, date], tuple[dict[str, Any], date | None]]
"""A type's claims about a person on a day, and the first day they would stop being true (the
credential expires then at the latest), or ``None``. It may read registries through their
facades in the session, and refuses (a ``KibanError``) when the person may not have it."""


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
    session: Session, person: residents.PersonRead, today: date
) -> tuple[dict[str, Any], date | None]:
    """The claims of a ``resident`` credential, and the first day one of its age claims would
    turn true (the credential must not outlive it), or ``None``."""
    del session
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

HEALTH_INSURANCE: Final = CredentialType(
    name="health-insurance",
    display_ja="健康保険の資格確認",
    display_en="Health insurance eligibility",
    description_en=(
        "Eligibility for health insurance as the insurer answers it through the public "
        "service mesh today: the insurer and its number, the card's symbol and number, the "
        "period and the co-payment rate, with the holder's name, kana and birth date, each "
        "disclosable on its own."
    ),
    claims=(
        ClaimInfo("name", "氏名", "Name"),
        ClaimInfo("name_kana", "氏名（カナ）", "Name (kana)"),
        ClaimInfo("birthdate", "生年月日", "Date of birth"),
        ClaimInfo("insurer_name", "保険者名", "Insurer"),
        ClaimInfo("insurer_number", "保険者番号", "Insurer number"),
        ClaimInfo("symbol", "記号", "Symbol"),
        ClaimInfo("number", "番号", "Number"),
        ClaimInfo("eligible_from", "資格取得年月日", "Eligible from"),
        ClaimInfo("eligible_until", "資格喪失予定日", "Eligible until"),
        ClaimInfo("copay_percent", "一部負担金の割合（%）", "Co-payment (%)"),
    ),
    # A month: eligibility can end (a new job, another scheme) without an event kiban hears,
    # so a short life bounds how long a stale credential can be shown.
    validity=timedelta(days=30),
    build=insurance_claims,
)

QUALIFICATION_PREFIX: Final = "qualification-"
QUALIFICATION_VALIDITY: Final = timedelta(days=365)
"""A licence credential lives a year (or to the registration's end, if sooner): the status
list carries suspensions and revocations in between, and a name change revokes it."""

_QUALIFICATION_CLAIMS: Final = (
    ClaimInfo("qualification", "資格", "Qualification"),
    ClaimInfo("qualification_name", "資格の名称", "Name of the qualification"),
    ClaimInfo("name", "氏名", "Name"),
    ClaimInfo("name_kana", "氏名（カナ）", "Name (kana)"),
    ClaimInfo("registration_number", "登録番号", "Registration number"),
    ClaimInfo("registered_on", "登録年月日", "Date of registration"),
    ClaimInfo("issuing_authority", "登録機関", "Issuing authority"),
)


def qualification_type_name(code: str) -> str:
    """The credential type of the qualification ``code`` (``qualification-nurse``)."""
    return QUALIFICATION_PREFIX + code


def _qualification_builder(kind: qualifications.QualificationType) -> ClaimsBuilder:
    def build(
        session: Session, person: residents.PersonRead, today: date
    ) -> tuple[dict[str, Any], date | None]:
        holding = qualifications.live_holding(session, person.id, kind.code)
        if holding is None or holding.status != qualifications.ACTIVE:
            raise NotQualified
        if holding.valid_until is not None and holding.valid_until < today:
            raise NotQualified
        authority_ja, _ = qualifications.authority_name(session, holding.authority)
        claims: dict[str, Any] = {
            "qualification": kind.code,
            "qualification_name": kind.name_ja,
            "name": person.full_name,
            "name_kana": f"{person.family_name_kana}\u3000{person.given_name_kana}",
            "registration_number": holding.registration_number,
            "registered_on": holding.registered_on.isoformat(),
            "issuing_authority": authority_ja,
        }
        if holding.valid_until is not None:
            claims["valid_until"] = holding.valid_until.isoformat()
        for field in kind.fields:
            if field.name in holding.details:
                claims[field.name] = holding.details[field.name]
        ends = holding.valid_until + timedelta(days=1) if holding.valid_until else None
        return claims, ends

    return build


def _qualification_type(kind: qualifications.QualificationType) -> CredentialType:
    extra = tuple(ClaimInfo(f.name, f.label_ja, f.label_en) for f in kind.fields)
    if kind.renewal_years:
        extra = (ClaimInfo("valid_until", "有効期限", "Valid until"), *extra)
    return CredentialType(
        name=qualification_type_name(kind.code),
        display_ja=f"{kind.name_ja}免許（資格）証明",
        display_en=f"{kind.name_en} licence",
        description_en=(
            f"A {kind.name_en.lower()}'s registration ({kind.legal_basis}) as the national "
            "qualifications registry holds it: the qualification, the holder's name and kana, "
            "the registration number and date and the issuing authority, each disclosable on "
            "its own."
        ),
        claims=(*_QUALIFICATION_CLAIMS, *extra),
        validity=QUALIFICATION_VALIDITY,
        build=_qualification_builder(kind),
    )


QUALIFICATIONS: Final[dict[str, CredentialType]] = {
    t.name: t for t in (_qualification_type(k) for k in qualifications.QUALIFICATION_TYPES)
}
"""One credential type per national qualification, by name (``qualification-<code>``)."""

TYPES: Final[dict[str, CredentialType]] = {
    RESIDENT.name: RESIDENT,
    HEALTH_INSURANCE.name: HEALTH_INSURANCE,
    **QUALIFICATIONS,
}


def issuing_organisation(session: Session, person_id: uuid.UUID, credential_type: str) -> str:
    """The staff organisation that issues ``credential_type`` about the person: the authority
    of their live registration for a licence (``credentials.not_qualified`` without one), the
    municipality whose register holds them otherwise."""
    if credential_type.startswith(QUALIFICATION_PREFIX):
        code = credential_type[len(QUALIFICATION_PREFIX) :]
        holding = qualifications.live_holding(session, person_id, code)
        if holding is None:
            raise NotQualified
        return holding.authority
    return residents.get_person(session, person_id).address.lg_code
