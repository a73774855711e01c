"""National qualification types (国家資格) as data: names, issuing authority, legal basis and
the fields a registration records besides the registration number and date.

A type is registered either by one national organisation (厚生労働大臣's 籍簿 kept by
厚生労働省, ``agency:mhlw``) or by any prefecture (``PREFECTURE``: 保育士, 准看護師, 教員免許
are registered by the governor or the prefectural board of education), in which case the
registering prefecture is the holder's authority.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PREFECTURE: Final = "prefecture"
"""The authority of a type registered by prefectures: any prefecture's organisation."""

MHLW: Final = ("agency:mhlw", "厚生労働省", "Ministry of Health, Labour and Welfare")
MLIT: Final = (
    "agency:mlit",
    "国土交通省",
    "Ministry of Land, Infrastructure, Transport and Tourism",
)
AUTHORITIES: Final = (MHLW, MLIT)
"""The national issuing authorities (code, Japanese and English name), staff organisations."""


@dataclass(frozen=True)
class FieldInfo:
    """A field a type's registration records beyond the number and date."""

    name: str
    label_ja: str
    label_en: str


@dataclass(frozen=True)
class QualificationType:
    """A national qualification: ``code`` names it in kiban and in its credential type
    (``qualification-<code>``)."""

    code: str
    name_ja: str
    name_en: str
    authority: str
    """A staff organisation code, or :data:`PREFECTURE`."""
    legal_basis: str
    fields: tuple[FieldInfo, ...] = ()
    renewal_years: int | None = None
    """Years a registration stays valid before it must be renewed (``None``: for life)."""


def _mhlw(code: str, ja: str, en: str, law: str, *fields: FieldInfo) -> QualificationType:
    return QualificationType(code, ja, en, MHLW[0], law, fields)


def _pref(code: str, ja: str, en: str, law: str, *fields: FieldInfo) -> QualificationType:
    return QualificationType(code, ja, en, PREFECTURE, law, fields)


_SCHOOL = FieldInfo("licence_class", "免許状の種類", "Class of licence")
_SUBJECT = FieldInfo("subject", "教科", "Subject")

QUALIFICATION_TYPES: Final[tuple[QualificationType, ...]] = (
    _mhlw("physician", "医師", "Physician", "医師法 第6条"),
    _mhlw("dentist", "歯科医師", "Dentist", "歯科医師法 第6条"),
    _mhlw("pharmacist", "薬剤師", "Pharmacist", "薬剤師法 第7条"),
    _mhlw("nurse", "看護師", "Registered nurse", "保健師助産師看護師法 第12条第3項"),
    _pref("assistant_nurse", "准看護師", "Assistant nurse", "保健師助産師看護師法 第12条第4項"),
    _mhlw("public_health_nurse", "保健師", "Public health nurse", "保健師助産師看護師法 第12条"),
    _mhlw("midwife", "助産師", "Midwife", "保健師助産師看護師法 第12条第2項"),
    _pref("childcare", "保育士", "Childcare worker", "児童福祉法 第18条の18"),
    _mhlw(
        "care_worker", "介護福祉士", "Certified care worker", "社会福祉士及び介護福祉士法 第42条"
    ),
    _mhlw(
        "social_worker",
        "社会福祉士",
        "Certified social worker",
        "社会福祉士及び介護福祉士法 第28条",
    ),
    _mhlw(
        "psychiatric_social_worker",
        "精神保健福祉士",
        "Psychiatric social worker",
        "精神保健福祉士法 第28条",
    ),
    _mhlw(
        "physical_therapist", "理学療法士", "Physical therapist", "理学療法士及び作業療法士法 第5条"
    ),
    _mhlw(
        "occupational_therapist",
        "作業療法士",
        "Occupational therapist",
        "理学療法士及び作業療法士法 第5条",
    ),
    _mhlw(
        "speech_therapist", "言語聴覚士", "Speech-language-hearing therapist", "言語聴覚士法 第5条"
    ),
    _mhlw("orthoptist", "視能訓練士", "Orthoptist", "視能訓練士法 第5条"),
    _mhlw(
        "radiological_technologist",
        "診療放射線技師",
        "Radiological technologist",
        "診療放射線技師法 第5条",
    ),
    _mhlw(
        "clinical_laboratory_technologist",
        "臨床検査技師",
        "Clinical laboratory technologist",
        "臨床検査技師等に関する法律 第5条",
    ),
    _mhlw("clinical_engineer", "臨床工学技士", "Clinical engineer", "臨床工学技士法 第5条"),
    _mhlw("prosthetist", "義肢装具士", "Prosthetist and orthotist", "義肢装具士法 第5条"),
    _mhlw("paramedic", "救急救命士", "Emergency life-saving technician", "救急救命士法 第5条"),
    _mhlw("registered_dietitian", "管理栄養士", "Registered dietitian", "栄養士法 第2条第3項"),
    _pref("dietitian", "栄養士", "Dietitian", "栄養士法 第2条第1項"),
    _mhlw("dental_hygienist", "歯科衛生士", "Dental hygienist", "歯科衛生士法 第6条"),
    _mhlw("dental_technician", "歯科技工士", "Dental technician", "歯科技工士法 第6条"),
    _mhlw("judo_therapist", "柔道整復師", "Judo therapist", "柔道整復師法 第6条"),
    _mhlw(
        "acupuncturist",
        "はり師",
        "Acupuncturist",
        "あん摩マツサージ指圧師、はり師、きゆう師等に関する法律 第3条の2",
    ),
    _mhlw(
        "certified_psychologist",
        "公認心理師",
        "Certified public psychologist",
        "公認心理師法 第28条",
    ),
    _pref("cook", "調理師", "Licensed cook", "調理師法 第3条"),
    QualificationType(
        "care_manager",
        "介護支援専門員",
        "Care manager",
        PREFECTURE,
        "介護保険法 第69条の2",
        renewal_years=5,
    ),
    QualificationType(
        "teacher",
        "教員",
        "Teacher",
        PREFECTURE,
        "教育職員免許法 第5条",
        (_SCHOOL, _SUBJECT),
    ),
    QualificationType(
        "architect", "一級建築士", "First-class architect", MLIT[0], "建築士法 第5条"
    ),
    _pref("architect_second_class", "二級建築士", "Second-class architect", "建築士法 第5条"),
)

TYPES_BY_CODE: Final[dict[str, QualificationType]] = {t.code: t for t in QUALIFICATION_TYPES}


def authority_name(code: str) -> tuple[str, str]:
    """The Japanese and English name of a national authority (the code itself otherwise)."""
    for known, ja, en in AUTHORITIES:
        if known == code:
            return ja, en
    return code, code
