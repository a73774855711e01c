"""``kiban staff``: officials, service accounts, their roles and API keys.

Writes act as a named administrator: ``--as staff:<account id>@<organisation>/<role>`` (or the
``KIBAN_ACTING_AS`` environment variable), and the one policy function decides
(``staff.manage`` / ``staff.keys.manage`` on the organisation concerned). Only ``bootstrap``
acts without one: it makes kiban's first administrator, and is refused once there is one.
Reading commands (``list``, ``show``) take ``--as`` too and then ask for ``staff.read``;
without it they run as the database's owner on this machine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from typing import Any, Final

import typer
from sqlalchemy.orm import Session

from kiban.blocks import staff
from kiban.cli.output import FORMAT_OPTION, Format, fail, fail_error, print_json, print_table
from kiban.kernel.errors import KibanError
from kiban.life_events import emergency
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="Officials, service accounts, roles and API keys.")
keys = typer.Typer(no_args_is_help=True, help="Service accounts' API keys.")
app.add_typer(keys, name="keys")

BOOTSTRAP_ACTOR = "operator:bootstrap"

AS_OPTION = typer.Option(
    None,
    "--as",
    envvar="KIBAN_ACTING_AS",
    help="Act as staff:<account id>@<organisation>/<role> (an administrator's membership).",
)


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail("IDの形式が正しくありません。", f"not a valid id (UUID): {value}", field)


CLI_RUN: Final = uuid.uuid4()
"""This command-line run, named as the session of the audit entries made with ``--as``."""


def acting(session: Session, value: str | None, *, required: bool = True) -> staff.Principal | None:
    """The principal named by ``--as``; fails unless it is a live membership."""
    if not value:
        if required:
            fail(
                "--as で操作する管理者（staff:<ID>@<団体>/<役割>）を指定してください。",
                "name the administrator acting with --as staff:<account id>@<organisation>/<role>",
                "as",
            )
        return None
    ident, _, rest = value.removeprefix("staff:").partition("@")
    organisation, _, role = rest.partition("/")
    principal = staff.principal_for(
        session, _uuid(ident, "as"), organisation=organisation, role=role
    )
    if principal is None:
        fail(
            "--as の所属（団体・役割）は有効ではありません。",
            "--as does not name an active account's membership (organisation and role)",
            "as",
        )
    # The audit entries of this run name it: one reference per command-line run.
    staff.bind_principal(session, principal, f"cli:{CLI_RUN}")
    return principal


@contextmanager
def _administering(as_: str | None) -> Iterator[tuple[Session, staff.Principal]]:
    """One transaction acting as the administrator named by ``--as`` (required); a refusal
    ends the command with its message (nothing written)."""
    try:
        with transaction() as session:
            principal = acting(session, as_)
            assert principal is not None  # noqa: S101 - acting() fails without one.
            yield session, principal
    except KibanError as error:
        fail_error(error)


@contextmanager
def _reading(as_: str | None) -> Iterator[tuple[Session, staff.Principal | None]]:
    """One transaction for a reading command, as ``--as`` when given (else as the database's
    owner on this machine)."""
    try:
        with transaction() as session:
            yield session, acting(session, as_, required=False)
    except KibanError as error:
        fail_error(error)


def _print_accounts(accounts: list[staff.AccountRead], output: Format) -> None:
    if output is Format.json:
        print_json([_json(a) for a in accounts])
        return
    print_table(
        "職員 / staff", ["id", "kind", "name", "status", "memberships"], _account_rows(accounts)
    )


def _account_rows(accounts: list[staff.AccountRead]) -> list[tuple[Any, ...]]:
    return [
        (
            a.id,
            a.kind,
            a.name,
            a.status,
            ", ".join(f"{m.organisation}/{m.role}" for m in a.memberships),
        )
        for a in accounts
    ]


def _plain(value: Any) -> Any:
    """JSON-ready: ids and instants as text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _json(account: staff.AccountRead) -> dict[str, Any]:
    return _plain(asdict(account))  # type: ignore[no-any-return]


@app.command("bootstrap")
def bootstrap(
    person_id: str = typer.Option(..., "--person-id", help="The person's id in the register."),
    name: str = typer.Option(..., "--name", help="The administrator's name as shown."),
) -> None:
    """Make kiban's first administrator (refused once there is one)."""
    try:
        with transaction() as session:
            account = staff.do_bootstrap(
                session,
                person_id=_uuid(person_id, "person_id"),
                name=name,
                actor=BOOTSTRAP_ACTOR,
            )
    except KibanError as error:
        fail_error(error)
    print_json(_json(account))


@app.command("add")
def add(  # noqa: PLR0917 - Typer passes each option as a parameter.
    organisation: str = typer.Option(..., "--organisation", help="Organisation code."),
    role: str = typer.Option(..., "--role", help="Role in that organisation."),
    name: str = typer.Option(..., "--name", help="Name as shown on pages and in logs."),
    person_id: str | None = typer.Option(
        None, "--person-id", help="The official's person id (UUID)."
    ),
    service: bool = typer.Option(False, "--service", help="A service account (no person)."),
    department: str | None = typer.Option(None, "--department", help="Department code."),
    as_: str | None = AS_OPTION,
) -> None:
    """Add an official (--person-id) or a service account (--service) with a role."""
    if service == (person_id is not None):
        fail(
            "--person-id か --service のどちらかを指定してください。",
            "give --person-id or --service",
            "person_id",
        )
    with _administering(as_) as (session, principal):
        staff.authorize(session, principal, "staff.manage", organisation=organisation)
        if service:
            account = staff.do_create_service_account(session, name=name, actor=principal.actor)
        else:
            account = staff.do_create_official(
                session,
                person_id=_uuid(person_id or "", "person_id"),
                name=name,
                actor=principal.actor,
            )
        account = staff.do_grant(
            session,
            account.id,
            organisation=organisation,
            role=role,
            department=department,
            actor=principal.actor,
        )
    print_json(_json(account))


@app.command("list")
def list_accounts(
    organisation: str | None = typer.Option(None, "--organisation", help="Only its members."),
    output: Format = FORMAT_OPTION,
    as_: str | None = AS_OPTION,
) -> None:
    """List staff accounts (JSON: a list of objects with an "id" field)."""
    with _reading(as_) as (session, principal):
        if principal is not None:
            organisation = organisation or principal.organisation
            staff.authorize(session, principal, "staff.read", organisation=organisation)
        accounts = staff.list_accounts(session, organisation=organisation)
    _print_accounts(accounts, output)


@app.command("show")
def show(
    account_id: str = typer.Argument(help="The account's id."),
    output: Format = FORMAT_OPTION,
    as_: str | None = AS_OPTION,
) -> None:
    """One account with its memberships, keys and history."""
    with _reading(as_) as (session, principal):
        account = staff.get_account(session, _uuid(account_id, "account"))
        if principal is not None:
            _ask_for_account(session, principal, "staff.read", account)
    if output is Format.json:
        print_json(_json(account))
        return
    _print_accounts([account], output)
    print_table(
        "履歴 / history",
        ["at", "action", "actor", "data"],
        [(s.at.isoformat(), s.action, s.actor, s.data) for s in account.history],
    )


def _ask_for_account(
    session: Session, principal: staff.Principal, action: str, account: staff.AccountRead
) -> None:
    """The principal must hold ``action`` over every organisation the account belongs to (one
    is enough for an account with none left)."""
    organisations = {m.organisation for m in account.memberships} or {principal.organisation}
    for organisation in sorted(organisations):
        staff.authorize(session, principal, action, organisation=organisation)


@app.command("suspend")
def suspend(
    account_id: str = typer.Argument(help="The account's id."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the history)."),
    as_: str | None = AS_OPTION,
) -> None:
    """Suspend an account: its sessions and keys stop acting at once."""
    with _administering(as_) as (session, principal):
        key = _uuid(account_id, "account")
        _ask_for_account(session, principal, "staff.manage", staff.get_account(session, key))
        account = staff.do_suspend_account(session, key, reason=reason, actor=principal.actor)
    print_json(_json(account))


@app.command("grant")
def grant(
    account_id: str = typer.Argument(help="The account's id."),
    organisation: str = typer.Option(..., "--organisation"),
    role: str = typer.Option(..., "--role"),
    department: str | None = typer.Option(None, "--department"),
    as_: str | None = AS_OPTION,
) -> None:
    """Give an account a role in an organisation."""
    with _administering(as_) as (session, principal):
        staff.authorize(session, principal, "staff.manage", organisation=organisation)
        account = staff.do_grant(
            session,
            _uuid(account_id, "account"),
            organisation=organisation,
            role=role,
            department=department,
            actor=principal.actor,
        )
    print_json(_json(account))


@app.command("revoke")
def revoke(
    account_id: str = typer.Argument(help="The account's id."),
    organisation: str = typer.Option(..., "--organisation"),
    role: str = typer.Option(..., "--role"),
    as_: str | None = AS_OPTION,
) -> None:
    """End an account's role in an organisation."""
    with _administering(as_) as (session, principal):
        staff.authorize(session, principal, "staff.manage", organisation=organisation)
        account = staff.do_revoke(
            session,
            _uuid(account_id, "account"),
            organisation=organisation,
            role=role,
            actor=principal.actor,
        )
    print_json(_json(account))


@keys.command("create")
def create_key(
    account_id: str = typer.Argument(help="The service account's id."),
    organisation: str = typer.Option(..., "--organisation"),
    permission: list[str] = typer.Option(..., "--permission", help="Repeat for each."),
    days: int = typer.Option(90, "--days", min=1, max=366),
    as_: str | None = AS_OPTION,
) -> None:
    """Create an API key; the secret is printed once and never stored."""
    with _administering(as_) as (session, principal):
        staff.authorize(session, principal, "staff.keys.manage", organisation=organisation)
        created = staff.do_create_key(
            session,
            _uuid(account_id, "account"),
            organisation=organisation,
            permissions=permission,
            days=days,
            actor=principal.actor,
        )
    print_json({"key": _plain(asdict(created.key)), "secret": created.secret})


@keys.command("revoke")
def revoke_key(
    key_id: str = typer.Argument(help="The key's id."),
    as_: str | None = AS_OPTION,
) -> None:
    """Revoke an API key at once."""
    with _administering(as_) as (session, principal):
        key = _uuid(key_id, "key")
        organisation = staff.key_organisation(session, key)
        staff.authorize(session, principal, "staff.keys.manage", organisation=organisation)
        staff.do_revoke_key(session, key, actor=principal.actor)
    print_json({"revoked": key_id})


# --- the demo's officials -----------------------------------------------------------------------

DEMO_OFFICIAL_ROLES = ("approval", "counter")
"""Each demo official holds these roles in their municipality, and chooses one after signing in."""
PAYMENTS_ROLE = "payments"
DEMO_PAYMENT_APPROVERS = 2
"""Officials of kiban's operator approving the national programmes' payment batches (two:
maker-checker needs two approvers other than the maker)."""


def seed_demo_officials(
    session: Session,
    people: list[Any],
    issue: Any,
    *,
    agencies: list[tuple[str, str, str]],
) -> list[tuple[Any, Any, str]]:
    """Organisations for every municipality of the registry, prefecture and reference agency;
    one official with a demo card for each municipality that has residents, and kiban's first
    administrator. ``people`` are adult residents (``PersonRead``) not holding a demo card yet;
    ``issue(person)`` gives one a card. Returns (person, card, organisation/role) for printing."""
    staff.do_sync_organisations(session, agencies=agencies, actor="system:seed")
    chosen: list[tuple[Any, Any, str]] = []
    seen: set[str] = set()
    for person in people:
        lg_code = person.address.lg_code
        if lg_code in seen:
            continue
        seen.add(lg_code)
        account = staff.do_create_official(
            session, person_id=person.id, name=person.full_name, actor="system:seed"
        )
        for role in DEMO_OFFICIAL_ROLES:
            staff.do_grant(
                session, account.id, organisation=lg_code, role=role, actor="system:seed"
            )
        chosen.append((person, issue(person), f"{lg_code} {'/'.join(DEMO_OFFICIAL_ROLES)}"))
    administrator = next(p for p in reversed(people) if p.id not in {c[0].id for c in chosen})
    staff.do_bootstrap(
        session, person_id=administrator.id, name=administrator.full_name, actor="system:seed"
    )
    chosen.append(
        (administrator, issue(administrator), f"{staff.OPERATOR_ORGANISATION} administrator")
    )
    # The national payer's two approvers (maker-checker: the seed's job is the maker).
    taken = {c[0].id for c in chosen}
    for person in [p for p in reversed(people) if p.id not in taken][:DEMO_PAYMENT_APPROVERS]:
        account = staff.do_create_official(
            session, person_id=person.id, name=person.full_name, actor="system:seed"
        )
        staff.do_grant(
            session,
            account.id,
            organisation=staff.OPERATOR_ORGANISATION,
            role=PAYMENTS_ROLE,
            actor="system:seed",
        )
        chosen.append((person, issue(person), f"{staff.OPERATOR_ORGANISATION} {PAYMENTS_ROLE}"))
    return chosen


def demo_payment_approvers(session: Session) -> list[staff.Principal]:
    """The demo's officials of kiban's operator holding the payments role, as principals."""
    found = []
    for account in staff.list_accounts(session, organisation=staff.OPERATOR_ORGANISATION):
        principal = staff.principal_for(
            session, account.id, organisation=staff.OPERATOR_ORGANISATION, role=PAYMENTS_ROLE
        )
        if principal is not None:
            found.append(principal)
    return found


@app.command("break-glass")
def break_glass(  # noqa: PLR0917 - Typer passes each option as a parameter.
    account_id: str = typer.Argument(help="The official's account id."),
    person_id: str = typer.Option(..., "--person-id", help="Whose data (person id, UUID)."),
    organisation: str = typer.Option(..., "--organisation", help="Whose register it is."),
    reason: str = typer.Option(..., "--reason", help="Why (the person reads it)."),
    hours: int = typer.Option(4, "--hours", min=1, max=72),
    permission: list[str] = typer.Option(["residents.read"], "--permission"),
    as_: str | None = AS_OPTION,
) -> None:
    """Emergency access to one person's data for a few hours: recorded, told to the person
    (a notice in their inbox), over by itself."""
    with _administering(as_) as (session, principal):
        staff.authorize(session, principal, "staff.manage", organisation=organisation)
        granted = emergency.do_grant_emergency_access(
            session,
            _uuid(account_id, "account"),
            person_id=_uuid(person_id, "person_id"),
            organisation=organisation,
            permissions=permission,
            hours=hours,
            reason=reason,
            actor=principal.actor,
        )
    print_json(_plain(asdict(granted)))
