"""``kiban qualifications``: the national qualifications registry from the terminal.

``types`` lists the qualification types; ``holders`` lists registrations with their holders'
names (recorded as reads of those people); ``register``, ``suspend``, ``reinstate``, ``renew``
and ``revoke`` act as an issuing authority's official named by ``--as`` (the staff policy
decides), each an action with its audit entry. A suspension or revocation reaches the
holder's licence credentials through the registry's events (their status list entries).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date
from typing import Any

import typer

from kiban.blocks import qualifications, residents
from kiban.cli.output import FORMAT_OPTION, Format, fail, fail_error, print_json, print_table
from kiban.cli.residents import terminal_reader
from kiban.cli.staff import AS_OPTION, acting
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="The national qualifications registry.")

ROUTE = "cli: kiban qualifications holders"


FORMAT = FORMAT_OPTION


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail("IDの形式が正しくありません。", f"not a valid id (UUID): {value}", field)


def _date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail("日付は YYYY-MM-DD で指定してください。", "a date must be YYYY-MM-DD", field)


def _plain(holder: qualifications.HolderRead, name: str | None = None) -> dict[str, Any]:
    data = {
        k: (str(v) if isinstance(v, (uuid.UUID, date)) else v) for k, v in asdict(holder).items()
    }
    data["changed_at"] = holder.changed_at.isoformat()
    if name is not None:
        data["name"] = name
    return data


@app.command("types")
def types(output: Format = FORMAT) -> None:
    """List the qualification types (JSON: objects with a "code" field)."""
    rows = [
        {
            "code": t.code,
            "name_ja": t.name_ja,
            "name_en": t.name_en,
            "authority": t.authority,
            "legal_basis": t.legal_basis,
            "fields": [f.name for f in t.fields],
            "renewal_years": t.renewal_years,
            "credential_type": f"qualification-{t.code}",
        }
        for t in qualifications.QUALIFICATION_TYPES
    ]
    if output is Format.json:
        print_json(rows)
        return
    print_table(
        "国家資格 / qualification types",
        ["code", "name", "authority", "legal basis"],
        [(r["code"], r["name_ja"], r["authority"], r["legal_basis"]) for r in rows],
    )


@app.command("holders")
def holders(  # noqa: PLR0917 - Typer passes each option as a parameter.
    qualification: str | None = typer.Option(None, "--qualification", help="A type's code."),
    authority: str | None = typer.Option(
        None, "--authority", help="The issuing authority (default with --as: its organisation)."
    ),
    number: str | None = typer.Option(None, "--number", help="A registration number."),
    status: str | None = typer.Option(None, "--status", help="active, suspended or revoked."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_: str | None = AS_OPTION,
    output: Format = FORMAT,
) -> None:
    """List registrations with the holders' names (each holder shown is recorded as read)."""
    if status is not None and status not in qualifications.STATUSES:
        fail("状態が正しくありません。", "status must be active, suspended or revoked", "status")
    try:
        with transaction() as session:
            principal = acting(session, as_, required=False)
            if qualification is not None:
                qualifications.get_type(qualification)
            if principal is not None:
                found = qualifications.access_holders(
                    session,
                    principal,
                    authority=authority or principal.organisation,
                    qualification=qualification,
                    registration_number=number,
                    status=status,
                    limit=limit,
                    route=ROUTE,
                )
                rows = [(h.holder, h.name) for h in found]
            else:
                listed = qualifications.list_holders(
                    session,
                    authority=authority,
                    qualification=qualification,
                    registration_number=number,
                    status=status,
                    limit=limit,
                )
                names = residents.access_names_by_person_ids(
                    session,
                    terminal_reader(),
                    [h.person_id for h in listed],
                    purpose=residents.ReadPurpose.QUALIFICATIONS,
                    route=ROUTE,
                )
                rows = [(h, names.get(h.person_id, "")) for h in listed]
    except KibanError as error:
        fail_error(error)
    if output is Format.json:
        print_json([_plain(h, name) for h, name in rows])
        return
    print_table(
        "資格の登録 / registrations",
        ["id", "qualification", "number", "name", "registered", "authority", "status"],
        [
            (
                str(h.id),
                h.qualification,
                h.registration_number,
                name,
                h.registered_on.isoformat(),
                h.authority,
                h.status,
            )
            for h, name in rows
        ],
    )


@app.command("register")
def register(  # noqa: PLR0917 - Typer passes each option as a parameter.
    qualification: str = typer.Option(..., "--qualification", help="The type's code (nurse)."),
    person_id: str = typer.Option(..., "--person-id", help="The person's id in the register."),
    number: str = typer.Option(..., "--number", help="The registration number (登録番号)."),
    registered_on: str = typer.Option(..., "--registered-on", help="YYYY-MM-DD."),
    detail: list[str] = typer.Option([], "--detail", help="A type's field as name=value."),
    as_: str | None = AS_OPTION,
) -> None:
    """Register a person's qualification as an official of its issuing authority."""
    details: dict[str, str] = {}
    for item in detail:
        name, sep, value = item.partition("=")
        if not sep:
            fail("--detail は 項目=値 で指定してください。", "--detail takes name=value", "detail")
        details[name.strip()] = value
    day = _date(registered_on, "registered_on")
    assert day is not None  # noqa: S101 - the option is required.
    try:
        with transaction() as session:
            principal = acting(session, as_)
            assert principal is not None  # noqa: S101 - acting() fails without one.
            made = qualifications.do_register(
                session,
                principal,
                qualification=qualification,
                person_id=_uuid(person_id, "person_id"),
                registration_number=number,
                registered_on=day,
                details=details,
            )
    except KibanError as error:
        fail_error(error)
    print_json(_plain(made))


def _change(
    action: str, holder_id: str, reason: str | None, until: str | None, as_: str | None
) -> None:
    day = _date(until, "until")
    try:
        with transaction() as session:
            principal = acting(session, as_)
            assert principal is not None  # noqa: S101 - acting() fails without one.
            changed = qualifications.do_change(
                session, principal, _uuid(holder_id, "holder_id"), action, reason=reason, until=day
            )
    except KibanError as error:
        fail_error(error)
    print_json(_plain(changed))


HOLDER = typer.Argument(help="The registration's id.")
REASON = typer.Option(None, "--reason", help="Why (kept in the history and the audit log).")


@app.command("suspend")
def suspend(
    holder_id: str = HOLDER,
    reason: str | None = REASON,
    until: str | None = typer.Option(None, "--until", help="The suspension's last day."),
    as_: str | None = AS_OPTION,
) -> None:
    """Suspend a registration (業務停止): its licence credentials become suspended."""
    _change("suspended", holder_id, reason, until, as_)


@app.command("reinstate")
def reinstate(
    holder_id: str = HOLDER, reason: str | None = REASON, as_: str | None = AS_OPTION
) -> None:
    """End a suspension: the licence credentials are valid again."""
    _change("reinstated", holder_id, reason, None, as_)


@app.command("renew")
def renew(
    holder_id: str = HOLDER,
    until: str | None = typer.Option(None, "--until", help="The new end of validity."),
    as_: str | None = AS_OPTION,
) -> None:
    """Renew a registration that must be renewed (介護支援専門員, say)."""
    _change("renewed", holder_id, None, until, as_)


@app.command("revoke")
def revoke(
    holder_id: str = HOLDER, reason: str | None = REASON, as_: str | None = AS_OPTION
) -> None:
    """Revoke a registration (免許の取消): its licence credentials are revoked for good."""
    _change("revoked", holder_id, reason, None, as_)
