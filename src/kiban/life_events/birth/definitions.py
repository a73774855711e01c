"""The birth notice (出生届, ``birth``) as data, the office's receipt of the hospital's
certificate, and the effects that put the child on the register.

- The hospital sends the 出生証明書 through the mesh to the mother's municipal office
  (:mod:`kiban.life_events.birth.offices`); :func:`receive_certificate` opens the mother's
  出生届 with the certificate's facts prefilled (source: the hospital, the mesh message) and
  the register's facts about her (name, address, municipality, household).
- The parent types the child's name in kanji and kana (the given name checked against 常用漢字,
  人名用漢字 and kana, :mod:`.names`; the family name is the parent's, 民法第790条) and the
  child's relationship to the head of household, and signs it with the card.
- The office accepts it (``procedures.birth.accept``): the register adds the child with a new
  individual number to the parent's household (``residents.register_birth``), whose
  ``resident.registered`` event the mesh delivers to the subscribed agencies (the insurer
  insures the child and sends the card to the guardians' inbox); the parent is told, the
  benefits block's child allowance is determined for the family (pushed, no application) and
  the municipality's child-support programmes that match the family are offered, the same day.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import benefits, mesh, notifications, procedures, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.life_events import filing
from kiban.life_events.birth import errors, names, notices, offices
from kiban.life_events.filing import office_name
from kiban.life_events.moving import offices as moving_offices

BIRTH: Final = "birth"
# 戸籍法第49条: within 14 days of the birth.
NOTICE_DAYS: Final = 14
# The benefits block's 児童手当, pushed on acceptance: no application, so no 15-day rule.
CHILD_ALLOWANCE_PROGRAMME: Final = "child-allowance"
RELATIONSHIPS: Final = ("子", "孫", "同居人")
ACTOR: Final = "system:birth"

_REGISTER_JA: Final = "住民基本台帳"
_REGISTER_EN: Final = "Resident register"
_HOSPITAL_JA: Final = "出生証明書（医療機関）"
_HOSPITAL_EN: Final = "Birth certificate (the hospital)"
CHILD_FIELDS: Final = (
    "child_family_name",
    "child_given_name",
    "child_family_name_kana",
    "child_given_name_kana",
    "relationship",
)


def _from_register(item: str, service: str = mesh.BASIC_FOUR_SERVICE) -> procedures.PrefillSource:
    return procedures.PrefillSource(
        service=service, item=item, registry_ja=_REGISTER_JA, registry_en=_REGISTER_EN
    )


def _from_hospital(item: str) -> procedures.PrefillSource:
    return procedures.PrefillSource(
        service=offices.CERTIFICATE_SERVICE_CODE,
        item=item,
        registry_ja=_HOSPITAL_JA,
        registry_en=_HOSPITAL_EN,
    )


HOSPITAL_FIELDS: Final = (
    procedures.FieldDef(
        "born_at", "出生の日時", "Date and time of birth", "text", prefill=_from_hospital("born_at")
    ),
    procedures.FieldDef(
        "birth_place", "出生の場所", "Place of birth", "text", prefill=_from_hospital("birth_place")
    ),
    procedures.FieldDef(
        "weight_grams",
        "体重（グラム）",
        "Weight (grams)",
        "text",
        prefill=_from_hospital("weight_grams"),
    ),
    procedures.FieldDef("sex", "性別", "Sex", "text", prefill=_from_hospital("sex")),
    procedures.FieldDef(
        "hospital", "医療機関", "Hospital", "text", prefill=_from_hospital("hospital")
    ),
    procedures.FieldDef(
        "certificate_number",
        "出生証明書番号",
        "Certificate number",
        "text",
        prefill=_from_hospital("certificate_number"),
    ),
)
PARENT_FIELDS: Final = (
    procedures.FieldDef(
        "name", "届出人の氏名", "Your name", "text", prefill=_from_register("name")
    ),
    procedures.FieldDef("address", "住所", "Address", "address", prefill=_from_register("address")),
    procedures.FieldDef(
        "lg_code", "市区町村コード", "Municipality code", "text", prefill=_from_register("lg_code")
    ),
    procedures.FieldDef(
        "household",
        "子が入る世帯",
        "The household the child joins",
        "people",
        required=False,
        prefill=_from_register("members", mesh.HOUSEHOLD_SERVICE),
    ),
)
TYPED_FIELDS: Final = (
    procedures.FieldDef("child_family_name", "子の氏", "Child's family name", "text"),
    procedures.FieldDef("child_given_name", "子の名", "Child's given name", "text"),
    procedures.FieldDef(
        "child_family_name_kana", "子の氏（フリガナ）", "Family name (katakana)", "text"
    ),
    procedures.FieldDef(
        "child_given_name_kana", "子の名（フリガナ）", "Given name (katakana)", "text"
    ),
    procedures.FieldDef(
        "relationship",
        "世帯主との続柄",
        "Relationship to the head of household",
        "choice",
        choices=RELATIONSHIPS,
    ),
)


def family_name_of(values: Mapping[str, Any]) -> str:
    """The parent's family name, from the register's name (``山田\u3000花子``)."""
    return str(values.get("name") or "").split("\u3000")[0]


def check_child_name(values: Mapping[str, Any]) -> None:
    """The typed name against the register's rules, naming the field at fault: the given name
    in 常用漢字, 人名用漢字 and kana; the family name the parent's; both readings katakana."""
    given = str(values.get("child_given_name") or "")
    if given:
        bad = names.disallowed_characters(given)
        if bad:
            raise errors.NameCharacterNotAllowed("child_given_name", bad)
    family = str(values.get("child_family_name") or "")
    if family and family_name_of(values) and family != family_name_of(values):
        raise errors.FamilyNameNotParents()
    for name in ("child_family_name_kana", "child_given_name_kana"):
        kana = str(values.get(name) or "")
        if kana and not names.is_kana_reading(kana):
            raise errors.KanaInvalid(name)


def _validate(session: Session, values: Mapping[str, Any]) -> None:
    del session
    check_child_name(values)


def born_on(values: Mapping[str, Any]) -> date:
    """The day of birth, from the certificate's date and time (Japan time)."""
    return datetime.fromisoformat(str(values["born_at"])).date()


def child_name(values: Mapping[str, Any]) -> str:
    return f"{values.get('child_family_name') or ''}\u3000{values.get('child_given_name') or ''}"


def _notify(
    session: Session,
    person_id: uuid.UUID,
    template: str,
    params: Mapping[str, Any],
    *,
    key: str,
    actor: str,
    link: str,
) -> None:
    notifications.do_send_notice(
        session, person_id, template, params, actor=actor, link=link, dedupe_key=f"birth:{key}"
    )


# --- the office receives the hospital's certificate ------------------------------------------


def _office_actor(lg_code: str) -> str:
    return f"system:{moving_offices.office_subsystem(lg_code)}"


def _opened_for(
    session: Session, mother: uuid.UUID, number: str
) -> procedures.ApplicationRead | None:
    for summary in procedures.list_applications(
        session, applicant=mother, code=BIRTH, limit=50
    ).items:
        app = procedures.get_application(session, summary.id)
        if app.values.get("certificate_number") == number:
            return app
    return None


def receive_certificate(session: Session, message: offices.Message) -> Mapping[str, Any]:
    """The office keeps a hospital's certificate: the mother must live here; the mother's
    出生届 is opened with the certificate's facts (a second copy opens nothing new)."""
    lg_code = message.receiver.split("/")[2]
    try:
        mother = mesh.person_of(session, moving_offices.office_member(lg_code), message.agency_code)
        person = residents.get_person(session, mother)
    except KibanError:
        raise errors.CertificateUnknown() from None
    if person.status != residents.Status.RESIDENT or person.address.lg_code != lg_code:
        raise errors.CertificateUnknown()
    data = {item: message.data.get(item) for item in offices.CERTIFICATE_ITEMS}
    if not all(data.get(item) not in (None, "") for item in offices.CERTIFICATE_ITEMS):
        raise errors.CertificateUnknown()
    try:
        born_on({"born_at": data["born_at"]})
    except ValueError:
        raise errors.CertificateUnknown() from None
    number = str(data["certificate_number"])
    opened = _opened_for(session, mother, number)
    if opened is not None:
        return {"received": True, "birth_application": str(opened.id)}
    actor = _office_actor(lg_code)
    app = procedures.do_start_application(
        session,
        BIRTH,
        applicant=mother,
        actor=actor,
        received=data,
        received_source={"sender": message.client, "message_id": message.message_id},
    )
    day = born_on(app.values)
    _notify(
        session,
        mother,
        notices.DATA_RECEIVED,
        {
            "hospital": str(data["hospital"]),
            "born_on": day,
            "office": office_name(session, lg_code),
            "due": day + timedelta(days=NOTICE_DAYS),
        },
        key=f"{app.id}:received",
        actor=actor,
        link=f"/portal/applications/{app.id}",
    )
    return {"received": True, "birth_application": str(app.id)}


# --- kiban's inbox: a guardian notice from an agency -------------------------------------------


def _guardian_of(session: Session, child: residents.PersonRead) -> tuple[uuid.UUID, str] | None:
    """The parent who filed the child's 出生届, and the application id."""
    for member in residents.get_household(session, child.household_id):
        for summary in procedures.list_applications(
            session, applicant=member.id, code=BIRTH, limit=50
        ).items:
            if summary.state != "accepted":
                continue
            app = procedures.get_application(session, summary.id)
            if app.outputs.get("child_id") == str(child.id):
                return member.id, str(app.id)
    return None


def receive_guardian_notice(session: Session, message: offices.Message) -> Mapping[str, Any]:
    """An agency tells a child's guardians something (the insurer: the child's card); the
    notice goes to the inbox of the parent who filed the 出生届."""
    try:
        child = residents.get_person(
            session, mesh.person_of(session, offices.INBOX_MEMBER, message.agency_code)
        )
    except KibanError:
        raise errors.CertificateUnknown() from None
    found = _guardian_of(session, child)
    if found is None:
        raise errors.NoBirthData()
    parent, application_id = found
    data = message.data
    _notify(
        session,
        parent,
        notices.INSURANCE_CARD,
        {
            "child": child.full_name,
            "insurer": str(data.get("insurer") or ""),
            "insurer_number": str(data.get("insurer_number") or ""),
            "symbol": str(data.get("symbol") or ""),
            "number": str(data.get("number") or ""),
            "eligible_from": date.fromisoformat(str(data.get("eligible_from"))),
        },
        key=f"{application_id}:insurance:{message.client}",
        actor=f"system:{message.client}",
        link="/portal/inbox",
    )
    return {"received": True}


# --- effects -----------------------------------------------------------------------------------


def _submitted(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> None:
    check_child_name(app.values)
    _notify(
        session,
        app.applicant_id,
        notices.RECEIVED,
        {
            "office": office_name(session, filing.lg_code_of(app.values)),
            "child": child_name(app.values),
            "reference": procedures.reference_of(app.id),
            "expected": app.timeline.expected_completion or clock.today_jst(),
        },
        key=f"{app.id}:{app.version}:submitted",
        actor=action.actor,
        link=f"/portal/applications/{app.id}/receipt",
    )


def _push_child_allowance(
    session: Session,
    app: procedures.ApplicationRead,
    child: residents.PersonRead,
    day: date,
    *,
    actor: str,
) -> list[benefits.DeterminationRead]:
    """The benefits block's child allowance, determined for the family for the first period
    that pays for the month after the birth. Its recipient (the household head, as the
    programme says) gets the determination notice; the parent who filed, when not the
    recipient, is told too."""
    programme = benefits.ensure_programme(session, CHILD_ALLOWANCE_PROGRAMME, actor=ACTOR)
    decided = benefits.do_determine_household(
        session,
        programme.code,
        child.household_id,
        base_date=benefits.next_base_date(programme.definition, day),
        actor=actor,
    )
    for determination in decided:
        if determination.recipient_id in (None, app.applicant_id):
            continue
        recipient = residents.get_person(session, determination.recipient_id)
        _notify(
            session,
            app.applicant_id,
            notices.CHILD_ALLOWANCE,
            {
                "programme_ja": determination.title_ja,
                "programme_en": determination.title_en,
                "legal_basis": determination.legal_basis,
                "child": child.full_name,
                "amount": f"{determination.amount_yen:,}",
                "period": determination.period,
                "recipient": recipient.full_name,
                "deadline": clock.to_jst(determination.opt_out_until).date(),
            },
            key=f"{app.id}:child_allowance:{determination.id}",
            actor=actor,
            link="/portal/inbox",
        )
    return decided


def _accept(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    """The register adds the child (a new individual number) to the parent's household; the
    parent is told, the child allowance is pushed and the support programmes offered. The
    agencies learn of the child through their subscriptions to the register's births (the
    insurer sends the card to the inbox)."""
    values = app.values
    check_child_name(values)
    sex = residents.Sex(str(values["sex"]))
    day = born_on(values)
    offices.ensure_guardian_route(session, actor=ACTOR)
    child = residents.register_birth(
        session,
        residents.BirthCreate(
            family_name=str(values["child_family_name"]),
            given_name=str(values["child_given_name"]),
            family_name_kana=str(values["child_family_name_kana"]),
            given_name_kana=str(values["child_given_name_kana"]),
            birth_date=day,
            sex=sex,
            parent_id=app.applicant_id,
            relationship=str(values["relationship"]),
        ),
        actor=action.actor,
    )
    office = office_name(session, filing.lg_code_of(values))
    _notify(
        session,
        app.applicant_id,
        notices.ACCEPTED,
        {"office": office, "child": child.full_name, "relationship": child.relationship},
        key=f"{app.id}:accepted",
        actor=action.actor,
        link=f"/portal/applications/{app.id}",
    )
    allowance = _push_child_allowance(session, app, child, day, actor=action.actor)
    offered = benefits.do_offer_support(
        session, child.id, app.applicant_id, clock.today_jst(), actor=action.actor
    )
    return {
        "child_id": str(child.id),
        "child_name": child.full_name,
        "household_id": str(child.household_id),
        "registered_on": clock.today_jst().isoformat(),
        "child_allowance": [str(d.id) for d in allowance],
        "support_offered": offered,
    }


BIRTH_DEF: Final = procedures.ProcedureDef(
    code=BIRTH,
    title_ja="出生届",
    title_en="Birth notice",
    states=("draft", "submitted", "sent_back", "accepted", "withdrawn"),
    initial="draft",
    final_states=("accepted", "withdrawn"),
    actions=(
        procedures.SIGN_AND_SUBMIT,
        procedures.WITHDRAW,
        procedures.ActionDef(
            "accept",
            "受理して住民票に記載",
            "Accept and register the child",
            ("submitted",),
            "accepted",
            "official",
        ),
        procedures.SEND_BACK,
    ),
    fields=(*HOSPITAL_FIELDS, *PARENT_FIELDS, *TYPED_FIELDS),
    evidence_in=("birth_certificate", "resident_record", "signing_certificate"),
    evidence_out=("resident_record",),
    sla_days=1,
    effects={
        "submit": _submitted,
        "accept": _accept,
        "send_back": filing.sent_back_effect("birth"),
    },
    validate=_validate,
    office_of=lambda app: filing.lg_code_of(app.values),
)


def register() -> None:
    """Register the procedure, its notices and the mesh receivers (idempotent)."""
    procedures.register_procedure(BIRTH_DEF)
    notices.register_templates()
    offices.set_receivers(receive_certificate, receive_guardian_notice)
