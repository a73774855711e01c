"""``kiban credentials``: issue SD-JWT VC credentials and make OpenID4VCI offers, for tests and
integrators.

``issue`` writes the credential as issued (the issuer-signed JWT and every disclosure, in the
compact form) for a holder's public key read from a JWK file; the holder keeps its private key.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import typer

from kiban.blocks import credentials
from kiban.cli.output import fail, fail_error, print_json
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="Issue SD-JWT VC credentials and offers.")

OPERATOR_ACTOR = "operator:cli"
PERSON = typer.Option(..., "--person-id", help="The person's id (UUID) in the register.")
TYPE = typer.Option(
    "resident",
    "--type",
    help="The credential type: resident, or qualification-<code> (qualification-nurse).",
)


def _person_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail("IDの形式が正しくありません。", "not a valid person id (UUID)", "person_id")


@app.command("issue")
def issue(
    person_id: str = PERSON,
    credential_type: str = TYPE,
    holder_key: Path = typer.Option(
        ..., "--holder-key", help="The holder's public key as a JWK file (EC P-256)."
    ),
    out: Path = typer.Option(..., "--out", help="Where to write the SD-JWT VC."),
) -> None:
    """Issue a credential about a person bound to a holder key; write it to --out and print
    its id, type and expiry."""
    key = _person_id(person_id)
    try:
        jwk = json.loads(holder_key.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        fail(
            "所持者の鍵ファイルを JWK として読めません。", "cannot read the JWK file", "holder_key"
        )
    try:
        with transaction() as session:
            issued = credentials.issue_credential(
                session,
                person_id=key,
                credential_type=credential_type,
                holder_jwk=jwk,
                actor=OPERATOR_ACTOR,
            )
    except KibanError as error:
        fail_error(error)
    out.write_text(issued.credential, encoding="ascii")
    print_json(
        {
            "id": str(issued.id),
            "type": issued.credential_type,
            "vct": issued.vct,
            "expires_at": issued.expires_at.isoformat(),
            "status": {"uri": issued.status_uri, "idx": issued.status_index},
            "out": str(out),
        }
    )


@app.command("offer")
def offer(person_id: str = PERSON, credential_type: str = TYPE) -> None:
    """Offer a credential by the pre-authorized code flow: the link goes to the person's inbox;
    the transaction code printed here is handed over separately."""
    key = _person_id(person_id)
    try:
        with transaction() as session:
            made = credentials.offer_credential(
                session, person_id=key, credential_type=credential_type, actor=OPERATOR_ACTOR
            )
    except KibanError as error:
        fail_error(error)
    print_json(
        {
            "id": str(made.id),
            "offer_uri": made.offer_uri,
            "tx_code": made.tx_code,
            "expires_at": made.expires_at.isoformat(),
        }
    )
