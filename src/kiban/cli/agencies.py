"""``kiban agencies birth``: make a birth happen at the reference maternity hospital.

The hospital (:mod:`kiban.agencies.hospital`) certifies the birth and sends the 出生証明書
through the mesh to the mother's municipal office, which opens her 出生届 prefilled from it
(:mod:`kiban.life_events.birth`). The mother is named by her person id here, at the operator's
terminal (as the seed does); the mesh turns it into the hospital's own code for her, and the
hospital sees nothing else of kiban's.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import typer
from sqlalchemy.orm import Session

from kiban.agencies import hospital, wiring
from kiban.blocks import mesh, procedures, residents
from kiban.cli.output import fail, fail_error, print_json
from kiban.kernel.errors import KibanError
from kiban.life_events import birth
from kiban.platform.db import get_engine, transaction

app = typer.Typer(no_args_is_help=True, help="The reference agencies (参照機関).")

ACTOR = "system:agencies"


def make_birth(
    session: Session,
    mother_id: uuid.UUID,
    *,
    sex: residents.Sex,
    weight_grams: int,
    born_at: datetime | None = None,
) -> dict[str, Any]:
    """The hospital certifies a birth and sends it to the mother's municipal office; what was
    sent and the 出生届 it opened. Registers the hospital and the office's route first."""
    mother = residents.get_person(session, mother_id)
    wiring.register_reference_agencies(session, actor=ACTOR)
    birth.offices.ensure_certificate_route(
        session, mother.address.lg_code, hospital.AGENCY.subsystem, actor=ACTOR
    )
    code = mesh.agency_code(session, hospital.AGENCY.subsystem, mother.id)
    certified = hospital.deliver_child(
        session, code, sex=sex.value, weight_grams=weight_grams, born_at=born_at, user_id=ACTOR
    )
    opened = [
        item
        for item in procedures.list_applications(
            session, applicant=mother.id, code=birth.BIRTH, limit=50
        ).items
        if procedures.get_application(session, item.id).values.get("certificate_number")
        == certified.certificate_number
    ]
    return {
        "certificate": hospital.certificate_of(certified),
        "sent_to": certified.sent_to,
        "message_id": certified.message_id,
        "birth_application": str(opened[0].id) if opened else None,
    }


@app.command("birth")
def birth_command(
    mother_id: str = typer.Option(..., "--mother-id", help="The mother's person id (UUID)."),
    sex: residents.Sex = typer.Option(residents.Sex.FEMALE, "--sex", help="The child's sex."),
    weight: int = typer.Option(3000, "--weight", min=300, max=7000, help="Weight in grams."),
) -> None:
    """A child is born at the reference hospital: its 出生証明書 goes to the mother's office."""
    try:
        person_id = uuid.UUID(mother_id)
    except ValueError:
        fail("UUID ではありません。", "Not a UUID.", "mother_id")
    try:
        with transaction(get_engine()) as session:
            result = make_birth(session, person_id, sex=sex, weight_grams=weight)
    except KibanError as error:
        fail_error(error)
    print_json(result)
