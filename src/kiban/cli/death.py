"""``kiban death``: make a death happen in the demo.

``kiban death certify --person-id ID`` is the reference physician's office certifying a patient's
death (死亡診断書): the certificate is kept by the office under its own agency code for the
person, ready for a relative to file the 死亡届 on the portal (``/portal/death``), prefilled
from it through the mesh. The office is joined to the mesh first if it is not yet.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import typer

from kiban.agencies import physician, wiring
from kiban.cli.output import fail_error, print_json
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(help="A death in the demo: the physician's certificate (死亡診断書).")


@app.command("certify")
def certify(
    person_id: uuid.UUID = typer.Option(
        ..., "--person-id", help="The patient (a person id of the register)."
    ),
    *,
    died_at: str | None = typer.Option(
        None, "--died-at", help="ISO 8601 instant with an offset; an hour ago by default."
    ),
    place: str = typer.Option("東京都千代田区丸の内1-1-1 きばん診療所", help="Where they died."),
    place_kind: str = typer.Option("clinic", help="hospital, clinic, elderly_home, home, other."),
    cause: str = typer.Option("illness", help="illness, external or unknown."),
    doctor: str = typer.Option("医師 基盤一郎", "--physician", help="The certifying physician."),
    address: str = typer.Option("", help="The patient's last address, as the family gave it."),
) -> None:
    """The physician's office certifies the death of --person-id (prints its agency code)."""
    try:
        try:
            when = datetime.fromisoformat(died_at) if died_at else clock.now()
        except ValueError:
            raise KibanError(
                "死亡日時が不正です", "died-at is not an ISO 8601 instant", field="died_at"
            ) from None
        with transaction() as session:
            wiring.register_reference_agencies(session)
            code = physician.certify_death(
                session,
                person_id,
                died_at=when,
                place_kind=place_kind,
                place=place,
                cause=cause,
                physician=doctor,
                address=address or place,
            )
    except KibanError as error:
        fail_error(error)
    print_json({"physician": physician.AGENCY.subsystem, "agency_code": code})
