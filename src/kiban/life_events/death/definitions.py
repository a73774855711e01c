"""The death notice (死亡届) as a procedure definition, and who may file it.

A member of the deceased's household (a relative living with them, or the household head:
戸籍法第87条) opens the notice on the portal naming the deceased; the draft is prefilled through
the mesh *about the deceased* — the register's basic facts, and the physician's death
certificate (死亡診断書) from the physician's office — so nothing the physician wrote is typed
again and each value shows its source. The filer says in what capacity they file, signs with the
card, and the deceased's municipality accepts it (``procedures.death.accept``): the register
marks the death (``residents.record_death``), which fans out by subscription (see
:mod:`.subscribers`). On acceptance the family as the register knows it at that moment is kept
in the application (for the legal heirs, :mod:`.heirs`), with the household the bereaved page
is shown to.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import mesh, notifications, procedures, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.life_events.death import errors, heirs, notices

DEATH: Final = "death"
NOTICE_DAYS: Final = 7
"""The 死亡届 is filed within 7 days of learning of the death (戸籍法第86条第1項)."""
PHYSICIAN_SERVICE: Final = "JP/MED/KIBAN-CLINIC/clinic/death-certificate"
"""The reference physician's office's service (``kiban.agencies.physician``)."""
CAPACITIES: Final = ("同居の親族", "同居していない親族", "同居者", "家主・地主・家屋管理人")

_REGISTER_JA: Final = "住民基本台帳"
_REGISTER_EN: Final = "Resident register"
_PHYSICIAN_JA: Final = "死亡診断書（医療機関）"
_PHYSICIAN_EN: Final = "Death certificate (physician)"


def _register(item: str) -> procedures.PrefillSource:
    return procedures.PrefillSource(mesh.BASIC_FOUR_SERVICE, item, _REGISTER_JA, _REGISTER_EN)


def _physician(item: str) -> procedures.PrefillSource:
    return procedures.PrefillSource(PHYSICIAN_SERVICE, item, _PHYSICIAN_JA, _PHYSICIAN_EN)


FIELDS: Final = (
    procedures.FieldDef(
        "name", "亡くなった方の氏名", "Name of the deceased", "text", prefill=_register("name")
    ),
    procedures.FieldDef(
        "birth_date", "生年月日", "Date of birth", "date", prefill=_register("birth_date")
    ),
    procedures.FieldDef("address", "住所", "Address", "address", prefill=_register("address")),
    procedures.FieldDef(
        "lg_code", "市区町村コード", "Municipality code", "text", prefill=_register("lg_code")
    ),
    procedures.FieldDef(
        "died_at", "死亡したとき", "Time of death", "text", prefill=_physician("died_at")
    ),
    procedures.FieldDef(
        "place_kind",
        "死亡したところの種別",
        "Kind of place of death",
        "text",
        prefill=_physician("place_kind"),
    ),
    procedures.FieldDef(
        "place", "死亡したところ", "Place of death", "text", prefill=_physician("place")
    ),
    procedures.FieldDef(
        "cause_category",
        "死因の種類",
        "Cause category",
        "text",
        prefill=_physician("cause_category"),
    ),
    procedures.FieldDef(
        "physician", "診断した医師", "Certifying physician", "text", prefill=_physician("physician")
    ),
    procedures.FieldDef(
        "capacity", "届出人の資格", "Filer's capacity", "choice", choices=CAPACITIES
    ),
)


def deceased_of(app: procedures.ApplicationRead) -> uuid.UUID:
    """The person the notice is about (kept when the draft was opened)."""
    return uuid.UUID(str(app.outputs["deceased_id"]))


def died_on(app: procedures.ApplicationRead) -> date:
    """The day of death in Japan, from the physician's time of death."""
    return clock.to_jst(datetime.fromisoformat(str(app.values["died_at"]))).date()


def _identified(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    del session, app
    return {"deceased_id": str(action.data["data"]["deceased_id"])}


def _accept(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    deceased = deceased_of(app)
    day = died_on(app)
    # The family and the household as the register holds them before the death changes them.
    family = heirs.family_from_register(session, deceased, died_on=day)
    household = [
        str(p.id)
        for p in residents.get_household(
            session, residents.get_person(session, deceased).household_id
        )
    ]
    person = residents.record_death(
        session, deceased, residents.DeathCreate(died_on=day), actor=action.actor
    )
    notifications.do_send_notice(
        session,
        app.applicant_id,
        notices.ACCEPTED,
        {"name": person.full_name, "died_on": day, "reference": procedures.reference_of(app.id)},
        actor=action.actor,
        link=f"/portal/okuyami/{app.id}",
        dedupe_key=f"death:{app.id}:accepted",
    )
    return {"family": family, "household_ids": household, "died_on": day.isoformat()}


def _family_corrected(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    del session, app
    return {"family": dict(action.data["data"]["family"])}


DEATH_DEF: Final = procedures.ProcedureDef(
    code=DEATH,
    title_ja="死亡届",
    title_en="Death notice",
    states=("draft", "submitted", "sent_back", "accepted", "withdrawn"),
    initial="draft",
    final_states=("accepted", "withdrawn"),
    actions=(
        procedures.ActionDef(
            "identify", "亡くなった方の特定", "The deceased named", ("draft",), "draft", "system"
        ),
        procedures.SIGN_AND_SUBMIT,
        procedures.WITHDRAW,
        procedures.ActionDef(
            "accept",
            "受理して死亡を記録",
            "Accept and record the death",
            ("submitted",),
            "accepted",
            "official",
        ),
        # The office completes the family after acceptance (people outside the register,
        # renunciations at the family court). It is not a task to claim: the route asks the
        # policy (``procedures.death.heirs``) and journals the official as the actor.
        procedures.ActionDef(
            "correct_family",
            "相続関係の補正",
            "Family corrected",
            ("accepted",),
            "accepted",
            "system",
        ),
        procedures.SEND_BACK,
    ),
    fields=FIELDS,
    evidence_in=("death_certificate", "resident_record", "signing_certificate"),
    evidence_out=("resident_record",),
    sla_days=1,
    effects={"identify": _identified, "accept": _accept, "correct_family": _family_corrected},
    office_of=lambda app: str(app.values.get("lg_code") or ""),
)


def may_file(session: Session, filer: uuid.UUID, deceased: uuid.UUID) -> bool:
    """Whether ``filer`` may file about ``deceased``: another living member of their household."""
    if filer == deceased:
        return False
    person = residents.get_person(session, deceased)
    if person.status != residents.Status.RESIDENT:
        return False
    return any(m.id == filer for m in residents.get_household(session, person.household_id))


def start_death_notice(
    session: Session, *, filer: uuid.UUID, deceased: uuid.UUID, actor: str
) -> procedures.ApplicationRead:
    """Open a 死亡届 about ``deceased`` for ``filer``, prefilled about the deceased.

    ``death.not_family`` (403) unless the filer is another member of the deceased's household;
    ``death.not_certified`` (409) when no physician's certificate of the death is there.
    """
    if not may_file(session, filer, deceased):
        raise errors.NotFamily()
    try:
        app = procedures.do_start_application(
            session, DEATH, applicant=filer, actor=actor, subject=deceased
        )
    except KibanError as missing:
        if missing.code != "procedures.prefill_unavailable":
            raise
        raise errors.NotCertified() from missing
    return procedures.do_take_action(
        session,
        app.id,
        "identify",
        role="system",
        actor=actor,
        expected_version=app.version,
        data={"deceased_id": str(deceased)},
    )


def correct_family(
    session: Session, app: procedures.ApplicationRead, family: Mapping[str, Any], *, actor: str
) -> procedures.ApplicationRead:
    """Replace the family kept with an accepted 死亡届 by the office's corrected one, after the
    inheritance engine has read it (``inheritance.invalid_family`` naming the field). The
    caller has asked the policy; the journal names ``actor``."""
    if app.code != DEATH or app.state != "accepted":
        raise errors.NotDeceased()
    heirs.compute(dict(family))
    return procedures.do_take_action(
        session,
        app.id,
        "correct_family",
        role="system",
        actor=actor,
        expected_version=app.version,
        data={"family": dict(family)},
    )


def register() -> None:
    """Register the 死亡届 and the notices (idempotent)."""
    procedures.register_procedure(DEATH_DEF)
    notices.register_templates()
