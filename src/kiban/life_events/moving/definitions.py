"""The moving procedures as data: 転出届 (``move_out``), 転入届 (``move_in``) and 転居届
(``move_within``), with the effects that change the resident register.

- ``move_out``: the resident files it online, prefilled from the register through the mesh
  (name, birth date, address, municipality, household), chooses who moves with them, types the
  new address (normalized against the address registry) and the date, and signs it with the
  card. The old office approves it (or sends it back with a reason): the movers become removed
  records there and each mover's moving-out data goes to the new office through the mesh
  (:mod:`kiban.life_events.moving.offices`), where it opens the ``move_in`` application.
- ``move_in``: opened by the new office when the packet arrives; the resident reserves a visit
  slot; the new office completes it, which registers the movers at the new address. The
  register's ``resident.moved_in`` events then reach the agencies through the mesh, and the
  card's signing certificate is revoked (see :mod:`kiban.life_events.moving.subscribers`).
- ``move_within``: the same form with one office, completed by it.

Every step that concerns the applicant puts a notice in their inbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import address, mesh, notifications, procedures, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.life_events import filing
from kiban.life_events.filing import office_name
from kiban.life_events.moving import errors, notices, offices, opening
from kiban.platform import i18n

MOVE_OUT: Final = "move_out"
MOVE_IN: Final = "move_in"
MOVE_WITHIN: Final = "move_within"
CODES: Final = (MOVE_OUT, MOVE_IN, MOVE_WITHIN)
# A moving-out notice may be filed up to 14 days before the move (住民基本台帳法第24条 and
# the register's own rule) and is expected within 14 days after it.
NOTICE_DAYS: Final = 14
HEAD: Final = "世帯主"
LODGER: Final = "同居人"
# Visit slots of the new office: four a day on its opening days, for two weeks from the day
# the resident can first come (the moving date, and never today or earlier).
SLOT_TIMES: Final = (time(9, 30), time(11, 0), time(13, 30), time(15, 0))
SLOT_DAYS: Final = 14

_REGISTER_JA: Final = "住民基本台帳"
_REGISTER_EN: Final = "Resident register"


def _from_register(item: str) -> procedures.PrefillSource:
    return procedures.PrefillSource(
        service=mesh.BASIC_FOUR_SERVICE,
        item=item,
        registry_ja=_REGISTER_JA,
        registry_en=_REGISTER_EN,
    )


# --- the form ---------------------------------------------------------------------------------

_PERSON_FIELDS: Final = (
    procedures.FieldDef("name", "氏名", "Name", "text", prefill=_from_register("name")),
    procedures.FieldDef(
        "birth_date", "生年月日", "Date of birth", "date", prefill=_from_register("birth_date")
    ),
    procedures.FieldDef(
        "address", "現在の住所", "Current address", "address", prefill=_from_register("address")
    ),
    procedures.FieldDef(
        "lg_code",
        "現在の市区町村コード",
        "Current municipality code",
        "text",
        prefill=_from_register("lg_code"),
    ),
    procedures.FieldDef(
        "household",
        "世帯員",
        "Household members",
        "people",
        required=False,
        prefill=procedures.PrefillSource(
            service=mesh.HOUSEHOLD_SERVICE,
            item="members",
            registry_ja=_REGISTER_JA,
            registry_en=_REGISTER_EN,
        ),
    ),
)
_MOVE_FIELDS: Final = (
    procedures.FieldDef(
        "movers",
        "一緒に異動する世帯員",
        "Household members moving too",
        "people",
        required=False,
    ),
    procedures.FieldDef("destination", "新しい住所", "New address", "address"),
    procedures.FieldDef("moved_on", "異動日（引越しの日）", "Moving date", "date"),
)


def place_destination(session: Session, text: str) -> address.PlacedAddress:
    """The new address read against the registry (``address.invalid_address`` naming
    ``destination.text`` when it cannot be read down to the town and block number)."""
    return address.place_address(session, address.AddressInput(text=text), field="destination")


def _check_date(values: Mapping[str, Any]) -> date:
    moved_on = date.fromisoformat(str(values["moved_on"]))
    today = clock.today_jst()
    if abs((moved_on - today).days) > NOTICE_DAYS:
        raise errors.MovingDateInvalid(NOTICE_DAYS)
    return moved_on


def _validate_move_out(session: Session, values: Mapping[str, Any]) -> None:
    _check_date(values)
    placed = place_destination(session, str(values["destination"]))
    if placed.town.lg_code == filing.lg_code_of(values):
        raise errors.SameMunicipality()


def _validate_move_within(session: Session, values: Mapping[str, Any]) -> None:
    _check_date(values)
    placed = place_destination(session, str(values["destination"]))
    if placed.town.lg_code != filing.lg_code_of(values):
        raise errors.OtherMunicipality()


# --- helpers ----------------------------------------------------------------------------------


def mover_ids(session: Session, app: procedures.ApplicationRead) -> list[uuid.UUID]:
    """The applicant, then the household members they chose (each named in the form by the
    procedures subsystem's code, turned back into the member within the household)."""
    chosen = app.values.get("movers") or []
    ids = [app.applicant_id]
    for code in chosen:
        member = procedures.household_member_id(session, app.applicant_id, str(code))
        if member not in ids:
            ids.append(member)
    return ids


def _notify(
    session: Session,
    app: procedures.ApplicationRead,
    template: str,
    params: Mapping[str, Any],
    *,
    step: str,
    actor: str,
    link: str | None = None,
) -> None:
    notifications.do_send_notice(
        session,
        app.applicant_id,
        template,
        params,
        actor=actor,
        link=link or f"/portal/applications/{app.id}",
        dedupe_key=f"moving:{app.id}:{app.version}:{step}",
    )


def move_in_deadline(moved_on: date) -> date:
    """The last day for the 転入届: 14 days from the move (住民基本台帳法第22条)."""
    return moved_on + timedelta(days=NOTICE_DAYS)


def _expected(app: procedures.ApplicationRead) -> date:
    return app.timeline.expected_completion or clock.today_jst()


# --- move_out effects -------------------------------------------------------------------------


def _submitted(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> None:
    for person_id in mover_ids(session, app):  # A member outside the household is refused.
        if residents.get_person(session, person_id).status != residents.Status.RESIDENT:
            raise errors.NotResident()
    lg_code = filing.lg_code_of(app.values)
    template = notices.MOVE_OUT_RECEIVED if app.code == MOVE_OUT else notices.MOVE_WITHIN_RECEIVED
    moved_on = date.fromisoformat(str(app.values["moved_on"]))
    params: dict[str, Any] = {
        "office": office_name(session, lg_code),
        "moved_on": moved_on,
        "destination": str(app.values["destination"]),
        "expected": _expected(app),
        "reference": procedures.reference_of(app.id),
    }
    if app.code == MOVE_OUT:
        params["move_in_by"] = move_in_deadline(moved_on)
    _notify(
        session,
        app,
        template,
        params,
        step="submitted",
        actor=action.actor,
        link=f"/portal/applications/{app.id}/receipt",
    )


def _approve_move_out(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    """The old office accepts: the movers leave the register here, and each one's moving-out
    data goes to the new office through the mesh (which opens the move-in there)."""
    from_lg = filing.lg_code_of(app.values)
    placed = place_destination(session, str(app.values["destination"]))
    to_lg = placed.town.lg_code
    moved_on = date.fromisoformat(str(app.values["moved_on"]))
    movers = [residents.get_person(session, pid) for pid in mover_ids(session, app)]
    # The new household keeps its head when the head moves too (and everyone keeps their
    # relationship to them); otherwise the applicant founds it and the others live with them.
    head = next((person for person in movers if person.relationship == HEAD), None)
    founder = head or movers[0]
    packets: list[dict[str, Any]] = []
    move_in_id: str | None = None
    # The packets go first, while the movers are still in the household the receiving side
    # checks them against; the removal below is in the same transaction, so either both
    # happen or neither does.
    for person in movers:
        data: dict[str, Any] = {
            "reference": str(app.id),
            "name": person.full_name,
            "name_kana": f"{person.family_name_kana}\u3000{person.given_name_kana}",
            "birth_date": person.birth_date.isoformat(),
            "sex": person.sex.value,
            "previous_address": person.address.text,
            "destination": placed.text,
            "moved_out_on": moved_on.isoformat(),
            "relationship": HEAD
            if person.id == founder.id
            else (person.relationship if head is not None else LODGER),
            "head_of_household": person.id == founder.id,
        }
        reply = offices.send_packet(
            session,
            from_lg_code=from_lg,
            to_lg_code=to_lg,
            person_id=person.id,
            data=data,
            actor=action.actor,
        )
        if not reply.ok:
            raise errors.PacketRefused(reply.error or str(reply.status))
        body = reply.body if isinstance(reply.body, dict) else {}
        move_in_id = move_in_id or body.get("move_in_application")
        # What was sent, as the sending office's page lists it (the packet's own items).
        packets.append(
            {
                "name": person.full_name,
                "birth_date": data["birth_date"],
                "relationship": data["relationship"],
                "previous_address": data["previous_address"],
                "to_office": offices.office_subsystem(to_lg),
                "message_id": reply.message_id,
            }
        )
    for person in movers:
        residents.move_out(
            session,
            person.id,
            residents.MoveOutCreate(moved_on=moved_on, destination=placed.text),
            actor=action.actor,
        )
    _notify(
        session,
        app,
        notices.MOVE_OUT_APPROVED,
        {"office": office_name(session, from_lg), "new_office": office_name(session, to_lg)},
        step="approved",
        actor=action.actor,
        link=f"/portal/applications/{move_in_id}" if move_in_id else None,
    )
    return {
        "to_lg_code": to_lg,
        "destination": placed.text,
        "packets": packets,
        "move_in_application": move_in_id,
    }


# --- the new office receives the packet ---------------------------------------------------------


def _office_actor(lg_code: str) -> str:
    return f"system:{offices.office_subsystem(lg_code)}"


def _move_in_for(
    session: Session, move_out: procedures.ApplicationRead
) -> procedures.ApplicationRead | None:
    """The move-in the new office opened for this moving-out notice, if any."""
    found = procedures.list_applications(
        session, applicant=move_out.applicant_id, code=MOVE_IN, limit=50
    ).items
    for summary in found:
        app = procedures.get_application(session, summary.id)
        if app.outputs.get("reference") == str(move_out.id):
            return app
    return None


def receive_packet(session: Session, packet: offices.Packet) -> Mapping[str, Any]:
    """The new office keeps a mover's packet: it checks the moving-out notice the packet
    cites and that the packet is about one of its movers (by the new office's own code), then
    opens the move-in application (for the applicant's packet) or adds to it."""
    try:
        move_out = procedures.get_application(session, uuid.UUID(str(packet.data.get("reference"))))
    except (ValueError, KibanError):
        raise errors.PacketUnknown() from None
    # Only the office that accepted the notice sends its packets, and only once it accepted it.
    sender = offices.office_subsystem(filing.lg_code_of(move_out.values))
    if move_out.code != MOVE_OUT or move_out.state != "approved" or packet.from_office != sender:
        raise errors.PacketUnknown()
    receiver = offices.office_subsystem(packet.to_lg_code)
    person_id = next(
        (
            pid
            for pid in mover_ids(session, move_out)
            if mesh.agency_code(session, receiver, pid) == packet.agency_code
        ),
        None,
    )
    if person_id is None:
        raise errors.PacketUnknown()
    actor = _office_actor(packet.to_lg_code)
    opened = _move_in_for(session, move_out)
    if opened is None:
        if person_id != move_out.applicant_id:
            raise errors.PacketUnknown()
        opened = procedures.do_start_application(
            session, MOVE_IN, applicant=move_out.applicant_id, actor=actor
        )
    elif any(p.get("person_id") == str(person_id) for p in opened.outputs.get("packets", [])):
        # The same packet again (a retry): received already, nothing new is written.
        return {"received": True, "move_in_application": str(opened.id)}
    move_in = opened
    received = procedures.do_take_action(
        session,
        move_in.id,
        "receive_packet",
        role="system",
        actor=actor,
        expected_version=move_in.version,
        data={
            "person_id": str(person_id),
            "message_id": packet.message_id,
            "from_office": packet.from_office,
            "to_lg_code": packet.to_lg_code,
            "legal_basis": packet.legal_basis,
            "packet": dict(packet.data),
        },
    )
    return {"received": True, "move_in_application": str(received.id)}


def _packet_received(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    data = action.data.get("data", {})
    packet = dict(data.get("packet", {}))
    entry = {
        "person_id": data.get("person_id"),
        "message_id": data.get("message_id"),
        "from_office": data.get("from_office"),
        "legal_basis": data.get("legal_basis"),
        **packet,
    }
    packets = [*app.outputs.get("packets", []), entry]
    from_lg = str(data.get("from_office", "")).split("/")[2] if data.get("from_office") else ""
    return {
        "reference": packet.get("reference"),
        "from_lg_code": app.outputs.get("from_lg_code") or from_lg,
        "to_lg_code": data.get("to_lg_code"),
        "destination": packet.get("destination") or app.outputs.get("destination"),
        "moved_on": packet.get("moved_out_on") or app.outputs.get("moved_on"),
        "packets": packets,
    }


# --- move_in effects --------------------------------------------------------------------------


def offered_slots(moved_on: date | None = None, today: date | None = None) -> list[datetime]:
    """The visit slots the new office offers (JST): on its opening days (weekdays that are not
    national holidays or the year-end closure), from the moving date on but never before
    tomorrow, for two weeks."""
    tomorrow = (today or clock.today_jst()) + timedelta(days=1)
    start = max(tomorrow, moved_on) if moved_on is not None else tomorrow
    slots: list[datetime] = []
    for offset in range(SLOT_DAYS):
        day = start + timedelta(days=offset)
        if opening.is_open(day):
            slots.extend(datetime.combine(day, at) for at in SLOT_TIMES)
    return slots


def moved_out_on(app: procedures.ApplicationRead) -> date | None:
    """The moving date of a move-in (from the moving-out data the new office received)."""
    value = app.outputs.get("moved_on")
    return date.fromisoformat(str(value)) if value else None


def office_visit(session: Session, lg_code: str) -> opening.OfficeVisit:
    """Where the resident goes for the move-in, and the counter's hours."""
    return opening.office_visit(lg_code, office_name(session, lg_code))


def check_move_in_ready(app: procedures.ApplicationRead) -> None:
    """``moving.move_in_too_early`` before the moving date: the move-in is completed on or
    after the day the resident moved, so its task is not taken up before it."""
    moving_day = moved_out_on(app)
    if moving_day is not None and clock.today_jst() < moving_day:
        raise errors.MoveInTooEarly(moving_day)


def slot_value(slot: datetime) -> str:
    """How a slot is stored: ``2026-11-27T09:30`` (Japan time)."""
    return slot.strftime("%Y-%m-%dT%H:%M")


def _reserved(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    slot = str(app.values.get("slot") or "")
    if slot not in {slot_value(s) for s in offered_slots(moved_out_on(app))}:
        raise errors.SlotInvalid()
    to_lg = str(app.outputs.get("to_lg_code") or "")
    visit = office_visit(session, to_lg)
    day, at = date.fromisoformat(slot[:10]), slot[11:]
    _notify(
        session,
        app,
        notices.MOVE_IN_RESERVED,
        {
            "office": office_name(session, to_lg),
            "slot": f"{i18n.day_ja(day)} {at}",
            "slot_en": f"{i18n.day_en(day)}, {at}",
            "place": f"{visit.name} {visit.address}" if visit.address else visit.name,
            "hours": visit.hours,
        },
        step=f"reserved:{slot}",
        actor=action.actor,
    )
    return {"reserved_slot": slot}


def _complete_move_in(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    """The new office registers every mover at the new address: the applicant founds the
    household, the others join it."""
    destination = str(app.outputs["destination"])
    moved_on = _moved_in_on(app, action)
    packets = list(app.outputs.get("packets", []))
    household_id: uuid.UUID | None = None
    registered = ""
    for packet in sorted(packets, key=lambda p: not p.get("head_of_household")):
        person_id = uuid.UUID(str(packet["person_id"]))
        choice = (
            residents.HouseholdChoice()
            if household_id is None
            else residents.HouseholdChoice(
                household_id=household_id, relationship=str(packet.get("relationship") or LODGER)
            )
        )
        person = residents.move_in(
            session,
            person_id,
            residents.MoveInCreate(
                moved_on=moved_on,
                address=residents.AddressInput(text=destination),
                household=choice,
            ),
            actor=action.actor,
        )
        if household_id is None:
            household_id = person.household_id
            registered = person.address.text
    _notify(
        session,
        app,
        notices.MOVE_IN_COMPLETED,
        {"office": office_name(session, str(app.outputs["to_lg_code"])), "address": registered},
        step="completed",
        actor=action.actor,
    )
    return {
        "registered_address": registered,
        "household_id": str(household_id),
        "moved_in_on": moved_on.isoformat(),
    }


def _moved_in_on(app: procedures.ApplicationRead, action: procedures.ActionRead) -> date:
    """The day the resident says they moved in (stated at the visit; today when the office
    gives none): on or after the moving-out day, and not after today."""
    check_move_in_ready(app)
    moving_day = moved_out_on(app) or clock.today_jst()
    today = clock.today_jst()
    stated = action.data.get("data", {}).get("moved_in_on")
    try:
        day = date.fromisoformat(str(stated)) if stated else today
    except ValueError:
        raise errors.MoveInDateInvalid(moving_day, today) from None
    if not moving_day <= day <= today:
        raise errors.MoveInDateInvalid(moving_day, today)
    return day


# --- move_within effects ----------------------------------------------------------------------


def _complete_move_within(
    session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
) -> Mapping[str, Any]:
    moved_on = date.fromisoformat(str(app.values["moved_on"]))
    registered = ""
    for person_id in mover_ids(session, app):
        person = residents.move_within(
            session,
            person_id,
            residents.MoveWithinCreate(
                moved_on=moved_on,
                address=residents.AddressInput(text=str(app.values["destination"])),
            ),
            actor=action.actor,
        )
        registered = registered or person.address.text
    _notify(
        session,
        app,
        notices.MOVE_WITHIN_COMPLETED,
        {"office": office_name(session, filing.lg_code_of(app.values)), "address": registered},
        step="completed",
        actor=action.actor,
    )
    return {"registered_address": registered}


# --- the definitions --------------------------------------------------------------------------

MOVE_OUT_DEF: Final = procedures.ProcedureDef(
    code=MOVE_OUT,
    title_ja="転出届",
    title_en="Moving-out notice",
    states=("draft", "submitted", "sent_back", "approved", "withdrawn"),
    initial="draft",
    final_states=("approved", "withdrawn"),
    actions=(
        procedures.SIGN_AND_SUBMIT,
        procedures.WITHDRAW,
        procedures.ActionDef("approve", "受理", "Accept", ("submitted",), "approved", "official"),
        procedures.SEND_BACK,
    ),
    fields=(*_PERSON_FIELDS, *_MOVE_FIELDS),
    evidence_in=("resident_record", "signing_certificate"),
    evidence_out=("moving_out_certificate_data",),
    sla_days=2,
    effects={
        "submit": _submitted,
        "approve": _approve_move_out,
        "send_back": filing.sent_back_effect("moving"),
    },
    validate=_validate_move_out,
    office_of=lambda app: filing.lg_code_of(app.values),
    department="citizens",
)

MOVE_IN_DEF: Final = procedures.ProcedureDef(
    code=MOVE_IN,
    title_ja="転入届",
    title_en="Moving-in notice",
    states=("awaiting_reservation", "reserved", "completed"),
    initial="awaiting_reservation",
    final_states=("completed",),
    actions=(
        procedures.ActionDef(
            "receive_packet",
            "転出証明書情報の受信",
            "Moving-out data received",
            ("awaiting_reservation",),
            "awaiting_reservation",
            "system",
        ),
        procedures.ActionDef(
            "reserve",
            "来庁予約",
            "Reserve a visit",
            ("awaiting_reservation", "reserved"),
            "reserved",
            "applicant",
        ),
        procedures.ActionDef(
            "complete", "転入の完了", "Complete the move-in", ("reserved",), "completed", "official"
        ),
    ),
    fields=(procedures.FieldDef("slot", "来庁日時", "Visit time", "slot"),),
    evidence_in=("moving_out_certificate_data",),
    evidence_out=("resident_record",),
    sla_days=14,
    effects={
        "receive_packet": _packet_received,
        "reserve": _reserved,
        "complete": _complete_move_in,
    },
    office_of=lambda app: str(app.outputs.get("to_lg_code") or ""),
    check_ready=check_move_in_ready,
    department="citizens",
)

MOVE_WITHIN_DEF: Final = procedures.ProcedureDef(
    code=MOVE_WITHIN,
    title_ja="転居届",
    title_en="Notice of a move within the municipality",
    states=("draft", "submitted", "sent_back", "completed", "withdrawn"),
    initial="draft",
    final_states=("completed", "withdrawn"),
    actions=(
        procedures.SIGN_AND_SUBMIT,
        procedures.WITHDRAW,
        procedures.ActionDef(
            "complete",
            "受理して住所を変更",
            "Accept and change the address",
            ("submitted",),
            "completed",
            "official",
        ),
        procedures.SEND_BACK,
    ),
    fields=(*_PERSON_FIELDS, *_MOVE_FIELDS),
    evidence_in=("resident_record", "signing_certificate"),
    evidence_out=("resident_record",),
    sla_days=2,
    effects={
        "submit": _submitted,
        "complete": _complete_move_within,
        "send_back": filing.sent_back_effect("moving"),
    },
    validate=_validate_move_within,
    office_of=lambda app: filing.lg_code_of(app.values),
    department="citizens",
)


def register() -> None:
    """Register the three procedures and the packet receiver (idempotent)."""
    for definition in (MOVE_OUT_DEF, MOVE_IN_DEF, MOVE_WITHIN_DEF):
        procedures.register_procedure(definition)
    offices.set_packet_receiver(receive_packet)
