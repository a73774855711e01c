"""The child-support programme registry (子育て支援制度): what a municipality offers a family
when a child is born, as data, matched to the family and offered in the parent's inbox.

A :class:`SupportProgramme` names who runs it (the family's municipality), its legal basis, an
eligibility rule over the child (the same rule tree as the benefits engine: age, days since the
birth, municipality, household), what it is and how to use it. Most are services (a medical
subsidy, vaccinations, a home visit): the offer is a notice with what to do. One that pays
money (``payment``) is pushed like any programme of this block: on the first match the
municipality's own programme (``<code>-<lg_code>``, payer = the municipality's code) is
defined from the registry entry and determined for the household (:func:`do_determine_household`),
so the household's recipient gets the usual determination notice and can decline it.

:func:`do_offer_support` is idempotent: one offer per programme × child (the notice's dedupe
key), one determination per programme × period × recipient.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from kiban.blocks import notifications, residents
from kiban.blocks.benefits import events as topics
from kiban.blocks.benefits import notices
from kiban.blocks.benefits.household import do_determine_household, ensure_programme
from kiban.blocks.benefits.rules import (
    Amount,
    HouseholdFacts,
    ProgrammeDefinition,
    Rule,
    evaluate,
)
from kiban.blocks.benefits.service import member_facts
from kiban.platform import audit

# The Tokyo special wards' own 乳幼児医療費助成 (マル乳) is the example of a programme only some
# municipalities run; the test family lives in 千代田区 (131016), 札幌市中央区 (011011) is not one.
TOKYO_WARDS: Final = ("131016", "131024", "131032", "131041", "131059", "131067", "131075")


class SupportProgramme(BaseModel):
    """One entry of the registry (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")
    title_ja: str = Field(min_length=1, max_length=120)
    title_en: str = Field(min_length=1, max_length=120)
    legal_basis: str = Field(min_length=1, max_length=200)
    runner: Literal["municipality"] = "municipality"
    eligible: Rule = Field(description="The rule the child meets, on the day of the offer")
    kind: Literal["service", "payment"] = "service"
    what_ja: str = Field(min_length=1, max_length=400)
    what_en: str = Field(min_length=1, max_length=400)
    how_ja: str = Field(min_length=1, max_length=400)
    how_en: str = Field(min_length=1, max_length=400)
    payment: Amount | None = None
    """For ``payment``: the amount, paid once to the household's head."""

    @model_validator(mode="after")
    def _paid(self) -> SupportProgramme:
        if (self.kind == "payment") != (self.payment is not None):
            raise ValueError("payment: given exactly for kind payment")
        return self

    def programme_for(self, lg_code: str) -> ProgrammeDefinition:
        """The municipality's own benefits programme for a ``payment`` entry."""
        assert self.payment is not None  # noqa: S101 - only called for payments.
        return ProgrammeDefinition(
            code=f"{self.code}-{lg_code}",
            title_ja=self.title_ja,
            title_en=self.title_en,
            legal_basis=self.legal_basis,
            payer=lg_code,
            eligible={"kind": "all", "rules": [{"kind": "resident"}, self.eligible]},
            amount=self.payment,
            recipient="household_head",
            opt_out_days=14,
        )


_REGISTRY: Final[tuple[dict[str, Any], ...]] = (
    {
        "code": "birth-support",
        "title_ja": "出産・子育て応援給付金",
        "title_en": "Birth and child-rearing support payment",
        "legal_basis": "子ども・子育て支援法第10条の2 (妊婦のための支援給付)",
        "eligible": {"kind": "born_within", "days": 0},
        "kind": "payment",
        "payment": {"child_additions": [{"min": 0, "below": 1, "by_rank": [50_000]}]},
        "what_ja": "お子さん1人につき5万円を、市区町村が世帯主の公金受取口座に振り込みます。",
        "what_en": "The municipality pays 50,000 yen per child into the household head's "
        "public-funds account.",
        "how_ja": "申請は不要です。支給の決定は世帯主の受信箱に届き、辞退もそこからできます。",
        "how_en": "No application is needed. The decision goes to the head of household's inbox, "
        "where it can also be declined.",
    },
    {
        "code": "infant-medical",
        "title_ja": "乳幼児医療費助成（マル乳）",
        "title_en": "Medical expenses for infants (Tokyo wards)",
        "legal_basis": "東京都乳幼児医療費助成制度実施要綱",
        "eligible": {
            "kind": "all",
            "rules": [
                {"kind": "age", "min": 0, "below": 6},
                {"kind": "municipality", "lg_codes": list(TOKYO_WARDS)},
            ],
        },
        "what_ja": "小学校に入るまで、健康保険の自己負担分を区が助成します。",
        "what_en": "Until school age, the ward pays your share of the child's medical costs.",
        "how_ja": "健康保険の資格が登録されたら、区の窓口またはオンラインで医療証を申請してください"
        "（出生の日から30日以内の申請で出生日から対象）。",
        "how_en": "Once the child's health insurance is registered, apply for the medical "
        "certificate at the ward office or online (within 30 days of the birth to be covered "
        "from the day of birth).",
    },
    {
        "code": "child-medical",
        "title_ja": "子ども医療費助成",
        "title_en": "Medical expenses for children",
        "legal_basis": "札幌市子ども医療費助成条例",
        "eligible": {
            "kind": "all",
            "rules": [
                {"kind": "age", "min": 0, "below": 18},
                {"kind": "municipality", "lg_codes": ["011011"]},
            ],
        },
        "what_ja": "18歳になった後の3月31日まで、医療費の自己負担の一部を市が助成します。",
        "what_en": "Until the March after the 18th birthday, the city pays part of the "
        "child's medical costs.",
        "how_ja": "区役所で受給者証を申請してください。",
        "how_en": "Apply for the certificate at the ward office.",
    },
    {
        "code": "vaccination",
        "title_ja": "定期予防接種",
        "title_en": "Routine vaccinations",
        "legal_basis": "予防接種法第5条",
        "eligible": {"kind": "age", "min": 0, "below": 1},
        "what_ja": "生後2か月からB型肝炎、ロタウイルス、小児用肺炎球菌、五種混合などの定期接種を"
        "無料で受けられます。",
        "what_en": "From two months of age the routine vaccinations (hepatitis B, rotavirus, "
        "pneumococcal, the five-in-one) are free.",
        "how_ja": "予診票は郵送でお届けします。市区町村の指定医療機関で予約してください。",
        "how_en": "The forms come by post; book at one of the municipality's clinics.",
    },
    {
        "code": "home-visit",
        "title_ja": "乳児家庭全戸訪問（こんにちは赤ちゃん事業）",
        "title_en": "Home visit for every newborn",
        "legal_basis": "児童福祉法第6条の3第4項",
        "eligible": {"kind": "born_within", "days": 120},
        "what_ja": "生後4か月までに保健師・助産師がご家庭を訪問し、育児の相談に応じます。",
        "what_en": "Before the child is four months old, a public health nurse or midwife "
        "visits you at home to help with questions.",
        "how_ja": "保健センターから日程の連絡があります。",
        "how_en": "The health centre will contact you to agree a date.",
    },
)

REGISTRY: Final[tuple[SupportProgramme, ...]] = tuple(
    SupportProgramme.model_validate(entry) for entry in _REGISTRY
)
"""The shipped registry, validated at import (a mistake in it fails every test)."""


def day_of(programme: SupportProgramme, child: residents.PersonRead, on: date) -> date:
    """The day eligibility is judged on: a payment's base date is the day of birth (it pays
    for the birth, whenever the office accepts it); a service's is the day of the offer."""
    return child.birth_date if programme.kind == "payment" else on


def matching(
    child: residents.PersonRead, members: list[residents.PersonRead], on: date
) -> list[str]:
    """The codes of the registry's programmes ``child`` (living with ``members``) qualifies
    for, offered on ``on`` (pure: no I/O)."""
    codes = []
    for programme in REGISTRY:
        day = day_of(programme, child, on)
        household = HouseholdFacts(child.household_id, tuple(member_facts(p, day) for p in members))
        if evaluate(programme.eligible, member_facts(child, day), household, day):
            codes.append(programme.code)
    return codes


def do_offer_support(
    session: Session, child_id: uuid.UUID, parent_id: uuid.UUID, on: date, *, actor: str
) -> list[str]:
    """Offer ``parent_id`` every registry programme ``child_id`` qualifies for on ``on``: a
    notice each (what, how, legal basis), and for a payment its determination for the
    household. Returns the codes offered (the same on a second call, which changes nothing)."""
    child = residents.get_person(session, child_id)
    codes = matching(child, residents.get_household(session, child.household_id), on)
    by_code = {p.code: p for p in REGISTRY}
    for code in codes:
        programme = by_code[code]
        how_ja, how_en = programme.how_ja, programme.how_en
        if programme.payment is not None:
            definition = programme.programme_for(child.address.lg_code)
            ensure_programme(session, definition.code, actor=actor, definition=definition)
            decided = do_determine_household(
                session,
                definition.code,
                child.household_id,
                base_date=day_of(programme, child, on),
                actor=actor,
            )
            if decided:
                amount = sum(d.amount_yen for d in decided)
                how_ja = f"{amount:,}円の支給を決定しました。" + how_ja
                how_en = f"{amount:,} yen was determined. " + how_en
        notifications.do_send_notice(
            session,
            parent_id,
            notices.SUPPORT_OFFER,
            {
                "programme_ja": programme.title_ja,
                "programme_en": programme.title_en,
                "child": child.full_name,
                "what_ja": programme.what_ja,
                "what_en": programme.what_en,
                "how_ja": how_ja,
                "how_en": how_en,
                "legal_basis": programme.legal_basis,
            },
            actor=actor,
            link=notices.PORTAL_LINK,
            dedupe_key=f"benefits:support:{code}:{child_id}",
        )
    audit.record(
        session,
        tag=topics.AUDIT_SUPPORT_OFFERED,
        actor=actor,
        subject=f"person:{child_id}",
        data={"programmes": codes, "parent": str(parent_id)},
    )
    return codes
