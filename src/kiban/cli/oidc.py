"""``kiban oidc``: the relying-party registry of the OpenID Connect provider."""

from __future__ import annotations

from enum import StrEnum

import typer
from pydantic import ValidationError

from kiban.blocks import identity
from kiban.cli.output import FORMAT_OPTION, Format, fail, fail_error, print_json, print_table
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="OpenID Connect provider (sign-in with the card).")
client_app = typer.Typer(no_args_is_help=True, help="Relying parties (OIDC clients).")
app.add_typer(client_app, name="client")
sector_app = typer.Typer(
    no_args_is_help=True, help="Approved sectors: clients that share one pairwise sub."
)
app.add_typer(sector_app, name="sector")

OPERATOR = "operator:cli"


class AuthMethod(StrEnum):
    """How a client authenticates at the token endpoint (names from RFC 7591, not secrets)."""

    client_secret_basic = "client_secret_basic"  # noqa: S105
    client_secret_post = "client_secret_post"  # noqa: S105
    none = "none"


class IdTokenAlg(StrEnum):
    """The ID token signing algorithms the provider offers."""

    RS256 = "RS256"
    ES256 = "ES256"


@client_app.command("add")
def add(
    *,
    name: str = typer.Option(..., "--name", help="The service's name, as residents see it."),
    purpose: str = typer.Option(..., "--purpose", help="Why it asks (shown before consent)."),
    scope: list[str] = typer.Option(
        ..., "--scope", help="A scope it may ask for (repeat): name address birthdate gender sign"
    ),
    redirect_uri: list[str] = typer.Option(
        ..., "--redirect-uri", help="An exact redirect URI (repeat)."
    ),
    client_id: str | None = typer.Option(None, "--client-id", help="Empty: one is made up."),
    sector_identifier: str | None = typer.Option(
        None,
        "--sector-identifier",
        help="An approved sector (kiban oidc sector approve) listing every redirect URI.",
    ),
    auth_method: AuthMethod = typer.Option(
        AuthMethod.client_secret_basic, "--auth-method", help="`none` for a public client."
    ),
    first_party: bool = typer.Option(False, "--first-party", help="One of kiban's own services."),
    id_token_alg: IdTokenAlg = typer.Option(
        IdTokenAlg.RS256, "--id-token-alg", help="How its ID tokens are signed: RS256 or ES256."
    ),
) -> None:
    """Register a relying party and print its client id and secret (shown only once)."""
    try:
        data = identity.ClientCreate(
            client_id=client_id,
            name=name,
            purpose=purpose,
            scopes=scope,
            redirect_uris=redirect_uri,
            sector_identifier=sector_identifier,
            sector_identifier_uri=None,
            auth_method=auth_method.value,
            first_party=first_party,
            id_token_signed_response_alg=id_token_alg.value,
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        fail("入力が正しくありません。", f"invalid input: {first['msg']}", field)
    try:
        with transaction() as session:
            created = identity.register_client(session, data, actor=OPERATOR)
    except KibanError as error:
        fail_error(error)
    print_json(created)


@client_app.command("list")
def list_clients(
    output: Format = FORMAT_OPTION,
) -> None:
    """List the registered relying parties (never their secrets)."""
    with transaction() as session:
        clients = identity.list_clients(session)
    if output is Format.json:
        print_json(clients)
        return
    print_table(
        "連携サービス / relying parties",
        ["client_id", "名称 / name", "scopes", "redirect URIs", "sector"],
        [
            (
                c.client_id,
                c.name,
                " ".join(c.scopes),
                " ".join(c.redirect_uris),
                c.sector_identifier,
            )
            for c in clients
        ],
    )


@sector_app.command("approve")
def approve_sector(
    *,
    sector_identifier: str = typer.Option(..., "--sector-identifier", help="A host name."),
    name: str = typer.Option(..., "--name", help="Who runs the sector's services."),
    redirect_uri: list[str] = typer.Option(
        ..., "--redirect-uri", help="A redirect URI that belongs to the sector (repeat)."
    ),
) -> None:
    """Approve a sector after checking that one owner runs every listed redirect URI."""
    try:
        data = identity.SectorCreate(
            sector_identifier=sector_identifier, name=name, redirect_uris=redirect_uri
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        fail("入力が正しくありません。", f"invalid input: {first['msg']}", field)
    try:
        with transaction() as session:
            approved = identity.approve_sector(session, data, actor=OPERATOR)
    except KibanError as error:
        fail_error(error)
    print_json(approved)


@sector_app.command("list")
def list_sectors() -> None:
    """List the approved sectors with their redirect URIs and clients (JSON)."""
    with transaction() as session:
        print_json(identity.list_sectors(session))
