"""Fixtures for the procedures tests: a resident with a spouse on a tiny register, a card in a
virtual reader, and a toy procedure (dog registration, 犬の登録) defined entirely as data.

The toy procedure is not in kiban: it exists only here, to show that adding a procedure means
adding a definition — the engine has no code for it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address, mesh, notifications, procedures, residents
from kiban.cardreader.client import sign_challenge
from kiban.kernel import clock
from kiban.kernel.errors import ValidationFailed
from tests.blocks.identity.conftest import OFFICIAL, resident, towns
from tests.blocks.identity.oidc_support import PINS, ReaderCard, card_in_reader

__all__ = ["resident", "towns"]  # Fixtures imported from the identity tests.

TOY = "test.dog_registration"
REGISTER_JA = "住民基本台帳"
REGISTER_EN = "Resident register"


def _basic_four(item: str) -> procedures.PrefillSource:
    return procedures.PrefillSource(mesh.BASIC_FOUR_SERVICE, item, REGISTER_JA, REGISTER_EN)


def _household() -> procedures.PrefillSource:
    return procedures.PrefillSource(
        mesh.HOUSEHOLD_SERVICE, "members", "住民基本台帳(世帯)", "Resident register (household)"
    )


def _born_in_the_past(_session: Session, values: Mapping[str, Any]) -> None:
    if values.get("born_on") and date.fromisoformat(values["born_on"]) > clock.today_jst():
        raise ValidationFailed(
            "生年月日が未来です。", "The birth date is in the future.", field="born_on"
        )


def _issue_tag(
    _session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    # An effect sees the application after the action and returns what it produced.
    assert action.action == "approve"
    return {"tag_number": f"D-{str(app.id)[:8]}"}


def toy_definition(**overrides: Any) -> procedures.ProcedureDef:
    """Dog registration as data: states, actions, form, evidence, SLA, one effect."""
    field, action = procedures.FieldDef, procedures.ActionDef
    fields = (
        field("name", "氏名", "Name", "text", prefill=_basic_four("name")),
        field("address", "住所", "Address", "address", prefill=_basic_four("address")),
        field("lg_code", "市区町村", "Municipality", "text", prefill=_basic_four("lg_code")),
        field("household", "世帯員", "Household", "people", required=False, prefill=_household()),
        field("dog_name", "犬の名前", "Dog's name", "text"),
        field("breed", "犬種", "Breed", "choice", choices=("shiba", "akita", "mixed")),
        field("born_on", "犬の生年月日", "Dog's birth date", "date"),
        field("co_owners", "共同飼い主", "Co-owners", "people", required=False),
        field("note", "備考", "Note", "text", required=False),
    )
    actions = (
        action(
            "submit", "申請", "Submit", ("draft", "returned"), "submitted", "applicant",
            signed=True, notify="test.dog.submitted",
        ),
        action(
            "approve", "登録", "Register", ("submitted",), "registered", "official",
            notify="test.dog.registered",
        ),
        action(
            "send_back", "差戻し", "Send back", ("submitted",), "returned", "official",
            needs_reason=True, notify="test.dog.sent_back",
        ),
        action("withdraw", "取下げ", "Withdraw", ("draft", "returned"), "withdrawn", "applicant"),
    )  # fmt: skip
    values: dict[str, Any] = {
        "code": TOY,
        "title_ja": "犬の登録",
        "title_en": "Dog registration",
        "states": ("draft", "submitted", "returned", "registered", "withdrawn"),
        "initial": "draft",
        "final_states": ("registered", "withdrawn"),
        "actions": actions,
        "fields": fields,
        "evidence_in": ("resident_record",),
        "evidence_out": ("dog_tag",),
        "sla_days": 7,
        "effects": {"approve": _issue_tag},
        "validate": _born_in_the_past,
        "office_of": lambda app: str(app.values.get("lg_code") or ""),
    }
    values.update(overrides)
    return procedures.ProcedureDef(**values)


def register_toy_templates() -> None:
    notifications.register_template(
        "test.dog.submitted",
        subject_ja="{procedure_ja}を受け付けました",
        subject_en="{procedure_en} received",
        body_ja="{dog_name}の申請を受け付けました。{expected_completion}までに処理します。",
        body_en="We received the application for {dog_name}; expect it by {expected_completion}.",
        params={
            "procedure_ja": str,
            "procedure_en": str,
            "dog_name": str,
            "expected_completion": date,
        },
    )
    notifications.register_template(
        "test.dog.registered",
        subject_ja="{procedure_ja}が完了しました",
        subject_en="{procedure_en} completed",
        body_ja="鑑札番号は{tag_number}です。",
        body_en="The tag number is {tag_number}.",
        params={"procedure_ja": str, "procedure_en": str, "tag_number": str},
    )
    notifications.register_template(
        "test.dog.sent_back",
        subject_ja="{procedure_ja}が差し戻されました",
        subject_en="{procedure_en} sent back",
        body_ja="理由: {reason}",
        body_en="Reason: {reason}",
        params={"procedure_ja": str, "procedure_en": str, "reason": str},
    )


@pytest.fixture
def toy() -> procedures.ProcedureDef:
    register_toy_templates()
    return procedures.register_procedure(toy_definition())


@pytest.fixture
def spouse(
    session: Session, resident: residents.PersonRead, towns: dict[str, address.TownRead]
) -> residents.PersonRead:
    """山田太郎, in the resident's household."""
    town = towns["marunouchi"]
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="山田",
            given_name="太郎",
            family_name_kana="ヤマダ",
            given_name_kana="タロウ",
            birth_date=date(1980, 7, 1),
            sex=residents.Sex.MALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="2番3号"
            ),
            household=residents.HouseholdChoice(
                household_id=resident.household_id, relationship="夫"
            ),
            effective_on=date(2020, 4, 1),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    return person


@pytest.fixture
def card(session: Session, resident: residents.PersonRead, tmp_path: Path) -> ReaderCard:
    return card_in_reader(session, resident, tmp_path / "cards")


@dataclass(frozen=True)
class Signed:
    certificate: bytes
    signature: bytes


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(card: ReaderCard, app: procedures.ApplicationRead) -> Signed:
    """The card's signing key signs what the applicant is shown, through the card reader."""
    answer = sign_challenge(
        card.store,
        card.card_number,
        PINS,
        procedures.submission_payload(app).decode("ascii"),
        keys=("auth", "signing"),
    )
    return Signed(_unb64(answer["signing_certificate"]), _unb64(answer["signing_signature"]))


def applicant(person: residents.PersonRead) -> str:
    return procedures.actor_of(person.id)
