"""``kiban residents``: read the resident register from the operator's terminal.

Every person shown is recorded as read, in the transaction that reads them, with the route
``cli: kiban residents <command>``: by the official named with ``--as`` (after the policy,
``staff.authorize``, let them read that municipality's register), else by the operator at this
terminal (``operator:<login name>``).
"""

from __future__ import annotations

import getpass
import uuid

import typer

from kiban.blocks import residents, staff
from kiban.cli.output import FORMAT_OPTION, Format, fail, fail_error, print_json, print_table
from kiban.cli.staff import AS_OPTION, acting
from kiban.kernel import identifiers
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="Read the resident register (住民基本台帳).")


def terminal_reader() -> residents.Reader:
    """The operator at this terminal, named by their login name where the system knows it."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # No user name in the environment or the password database.
        login = "unknown"
    return residents.Reader(actor=f"operator:{login}", actor_id=login, role="operator")


@app.command("list")
def list_residents(
    municipality: str | None = typer.Option(
        None, "--municipality", help="Only this municipality (6-digit lg_code)."
    ),
    limit: int = typer.Option(20, min=1, max=10_000, help="How many to show."),
    output: Format = FORMAT_OPTION,
    as_: str | None = AS_OPTION,
) -> None:
    """List residents (JSON: a list of objects with an "id" field). With --as, the
    official's own municipality unless another is named, and the policy decides."""
    try:
        if municipality is not None:
            identifiers.validate_lg_code(municipality, field="municipality")
        with transaction() as session:
            principal = acting(session, as_, required=False)
            if principal is not None:
                municipality = municipality or principal.organisation
                staff.authorize(session, principal, "residents.read", organisation=municipality)
            people = residents.access_people_by_municipality(
                session,
                principal or terminal_reader(),
                lg_code=municipality,
                limit=limit,
                purpose=residents.ReadPurpose.OPERATION,
                route="cli: kiban residents list",
            )
    except KibanError as error:
        fail_error(error)
    if output is Format.json:
        print_json(people)
        return
    print_table(
        "住民 / residents",
        ["id", "氏名", "フリガナ", "生年月日", "性別", "住所"],
        [
            (
                p.id,
                p.full_name,
                f"{p.family_name_kana} {p.given_name_kana}",
                p.birth_date,
                p.sex.value,
                p.address.text,
            )
            for p in people
        ],
    )


@app.command("show")
def show(
    person_id: str = typer.Option(..., "--person-id", help="The person's id (UUID)."),
    output: Format = FORMAT_OPTION,
    as_: str | None = AS_OPTION,
) -> None:
    """Show one person's current record and its history (with --as, if the policy lets
    that official read the person's municipality)."""
    try:
        key = uuid.UUID(person_id)
    except ValueError:
        fail("IDの形式が正しくありません。", "not a valid person id (UUID)", "person_id")
    try:
        with transaction() as session:
            principal = acting(session, as_, required=False)
            if principal is not None:
                staff.authorize(
                    session,
                    principal,
                    "residents.read",
                    organisation=residents.get_person(session, key).address.lg_code,
                    resource=staff.Resource(person=key),
                )
            person, versions = residents.access_record_by_person_id(
                session,
                principal or terminal_reader(),
                key,
                purpose=residents.ReadPurpose.OPERATION,
                route="cli: kiban residents show",
            )
    except KibanError as error:
        fail_error(error)
    if output is Format.json:
        print_json(
            person.model_dump(mode="json")
            | {"history": [v.model_dump(mode="json") for v in versions]}
        )
        return
    print_table(
        f"{person.full_name} ({person.id})",
        ["項目 / field", "値 / value"],
        [
            ("フリガナ", f"{person.family_name_kana} {person.given_name_kana}"),
            ("生年月日 / birth date", person.birth_date),
            ("性別 / sex", person.sex.value),
            ("住所 / address", person.address.text),
            ("続柄 / relationship", person.relationship),
            ("状態 / status", person.status.value),
            ("住民となった日 / resident since", person.resident_since),
            ("世帯 / household", person.household_id),
        ],
    )
    print_table(
        "履歴 / history",
        ["version", "reason", "effective on", "recorded at"],
        [(v.version, v.reason.value, v.effective_on, v.recorded_at) for v in versions],
    )
