"""``kiban mesh``: the public service mesh from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.cli import mesh_records
from kiban.cli.output import fail_error, print_json, print_table
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="The public service mesh.")

# --- Registry (M1): members, subsystems, services, grants, deliveries -------------------------

OPERATOR = "operator:cli"

members_app = typer.Typer(no_args_is_help=True, help="Members (GOV, MUN, COM, MED).")
subsystems_app = typer.Typer(no_args_is_help=True, help="Subsystems: keys and certificates.")
services_app = typer.Typer(no_args_is_help=True, help="Services (disabled until enabled).")
grants_app = typer.Typer(no_args_is_help=True, help="Grants: who may call what, and why.")
deliveries_app = typer.Typer(no_args_is_help=True, help="Subscription deliveries.")
app.add_typer(members_app, name="members")
app.add_typer(subsystems_app, name="subsystems")
app.add_typer(services_app, name="services")
app.add_typer(grants_app, name="grants")
app.add_typer(deliveries_app, name="deliveries")


class MemberClassOption(StrEnum):
    GOV = "GOV"
    MUN = "MUN"
    COM = "COM"
    MED = "MED"


def _run(action: Callable[[Session], Any]) -> Any:
    try:
        with transaction() as session:
            return action(session)
    except KibanError as error:
        fail_error(error)


@members_app.command("list")
def members_list() -> None:
    """List the members."""
    rows = _run(mesh.list_members)
    print_table(
        "メンバー / members",
        ["id", "名称 / name", "active"],
        [(m.xroad_id, m.name, m.active) for m in rows],
    )


@members_app.command("add")
def members_add(
    *,
    member_class: MemberClassOption = typer.Option(..., "--class", help="GOV, MUN, COM or MED."),
    code: str = typer.Option(..., "--code", help="The member code, e.g. 00001."),
    name: str = typer.Option(..., "--name", help="The member's name."),
) -> None:
    """Register a member."""
    print_json(
        _run(
            lambda s: mesh.register_member(
                s, member_class=member_class.value, member_code=code, name=name, actor=OPERATOR
            )
        )
    )


@subsystems_app.command("list")
def subsystems_list(member: str | None = typer.Option(None, "--member")) -> None:
    """List the subsystems (of one member)."""
    rows = _run(lambda s: mesh.list_subsystems(s, member))
    print_table(
        "サブシステム / subsystems", ["id", "active"], [(r.xroad_id, r.active) for r in rows]
    )


@subsystems_app.command("add")
def subsystems_add(member: str, code: str) -> None:
    """Register a subsystem of MEMBER (e.g. JP/GOV/00001 pension): key and certificate."""
    print_json(_run(lambda s: mesh.register_subsystem(s, member, code, actor=OPERATOR)))


@services_app.command("list")
def services_list(provider: str | None = typer.Option(None, "--provider")) -> None:
    """List the services (of one provider subsystem)."""
    rows = _run(lambda s: mesh.list_services(s, provider))
    print_table(
        "サービス / services",
        ["id", "items", "enabled", "endpoint"],
        [
            (r.xroad_id, " ".join(r.items), r.enabled, r.endpoint_url or "(in process)")
            for r in rows
        ],
    )


@services_app.command("add")
def services_add(
    subsystem: str,
    code: str,
    *,
    item: list[str] = typer.Option(..., "--item", help="A data item it provides (repeat)."),
    url: str = typer.Option(..., "--url", help="The provider's base URL."),
    openapi: Path | None = typer.Option(None, "--openapi", help="Its OpenAPI description (JSON)."),
) -> None:
    """Register a remote service of SUBSYSTEM, disabled until enabled."""
    description: dict[str, Any] = (
        json.loads(openapi.read_text(encoding="utf-8"))
        if openapi is not None
        else {"openapi": "3.1.0", "info": {"title": code, "version": "1"}, "paths": {}}
    )
    print_json(
        _run(
            lambda s: mesh.register_service(
                s, subsystem, code, openapi=description, items=item, provider=url, actor=OPERATOR
            )
        )
    )


@services_app.command("enable")
def services_enable(service: str) -> None:
    """Enable a service."""
    print_json(_run(lambda s: mesh.enable_service(s, service, actor=OPERATOR)))


@services_app.command("disable")
def services_disable(service: str) -> None:
    """Disable a service."""
    print_json(_run(lambda s: mesh.disable_service(s, service, actor=OPERATOR)))


@grants_app.command("list")
def grants_list(
    client: str | None = typer.Option(None, "--client"),
    service: str | None = typer.Option(None, "--service"),
) -> None:
    """List the grants in force."""
    rows = _run(lambda s: mesh.list_grants(s, client=client, service=service))
    print_table(
        "許可 / grants",
        ["client", "service", "事務 / task", "根拠 / legal basis", "items"],
        [(g.client, g.service, g.task, g.legal_basis, " ".join(g.items)) for g in rows],
    )


@grants_app.command("add")
def grants_add(
    *,
    client: str = typer.Option(..., "--client", help="The client subsystem."),
    service: str = typer.Option(..., "--service", help="The provider's service."),
    task: str = typer.Option(..., "--task", help="The administrative task (事務)."),
    legal_basis: str = typer.Option(..., "--legal-basis", help="The law that allows it."),
    item: list[str] = typer.Option(..., "--item", help="A data item it may receive (repeat)."),
) -> None:
    """Grant a client the right to call a service for a task under a legal basis."""
    print_json(
        _run(
            lambda s: mesh.grant(
                s,
                client=client,
                service=service,
                task=task,
                legal_basis=legal_basis,
                items=item,
                actor=OPERATOR,
            )
        )
    )


@deliveries_app.command("list")
def deliveries_list(
    status: str | None = typer.Option(
        None, "--status", help="pending, delivered, failed or cancelled."
    ),
    subsystem: str | None = typer.Option(None, "--subsystem"),
) -> None:
    """List subscription deliveries, newest first."""
    rows = _run(lambda s: mesh.list_deliveries(s, subsystem=subsystem, status=status))
    print_table(
        "配信 / deliveries",
        ["subsystem", "event", "status", "attempts", "last error"],
        [(d.subsystem, d.event_type, d.status, d.attempts, d.last_error or "") for d in rows],
    )


@deliveries_app.command("retry")
def deliveries_retry() -> None:
    """Try the pending deliveries whose back-off has passed."""
    delivered = _run(mesh.deliver_due)
    print_json({"delivered": delivered})


# --- Access records (M2): verify the log, checkpoint it, export it -----------------------------
app.command("verify")(mesh_records.verify)
app.command("checkpoint")(mesh_records.checkpoint)
app.command("export-log")(mesh_records.export_log)
