"""``kiban card``: issue and manage residents' My Number cards (software tokens) at the office.

The card reader (:class:`kiban.cardreader.store.CardStore`, a directory of card files, by
default ``<data_dir>/cards``) makes the key pairs; the identity block certifies the public
keys; the reader writes the card with its PINs. Private keys never reach the server.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from pathlib import Path

import typer
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from kiban.blocks import identity
from kiban.cardreader.store import CardStore, check_pin, new_private_key
from kiban.cli.output import FORMAT_OPTION, Format, fail, fail_error, print_json, print_table
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings

app = typer.Typer(
    no_args_is_help=True,
    help="Issue and manage My Number cards (software tokens) and their certificates.",
)

OPERATOR_ACTOR = "operator:cli"


class Kind(StrEnum):
    auth = "auth"
    signing = "signing"


def _person_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail("IDの形式が正しくありません。", "not a valid person id (UUID)", "person_id")


def _first_pem(chain: str) -> str:
    end = "-----END CERTIFICATE-----\n"
    return chain[: chain.index(end) + len(end)]


def _store(cards: Path | None) -> CardStore:
    return CardStore(cards if cards is not None else get_settings().data_dir / "cards")


def _card(person_id: uuid.UUID) -> identity.CardRead:
    with transaction() as session:
        card = identity.get_card_by_person(session, person_id)
    if card is None:
        issue = f"kiban card issue --person-id {person_id}"
        fail(
            f"この住民にはカードが発行されていません。発行するには: {issue}",
            f"this person has no card; issue one with: {issue}",
            "person_id",
        )
    return card


PERSON = typer.Option(..., "--person-id", help="The person's id (UUID) in the register.")
CARDS = typer.Option(
    None, "--cards", help="The card reader's directory (default: <data_dir>/cards)."
)


@app.command("issue")
def issue(
    person_id: str = PERSON,
    auth_pin: str = typer.Option(
        ...,
        "--auth-pin",
        prompt="利用者証明用暗証番号 / authentication PIN (4 digits)",
        hide_input=True,
        confirmation_prompt=True,
        help="Authentication PIN: exactly 4 digits (locks after 3 wrong tries).",
    ),
    signing_pin: str = typer.Option(
        ...,
        "--signing-pin",
        prompt="署名用パスワード / signing PIN (6-16 of A-Z, 0-9)",
        hide_input=True,
        confirmation_prompt=True,
        help="Signing PIN: 6 to 16 upper-case letters and digits (locks after 5 wrong tries).",
    ),
    cards: Path | None = CARDS,
) -> None:
    """Issue a card to a resident and print its card number.

    The reader makes two RSA-2048 key pairs, the CAs certify them, and the card is written to
    the reader's directory under the PINs.
    """
    key = _person_id(person_id)
    store = _store(cards)
    try:
        with transaction() as session:
            card = issue_into(session, store, key, auth_pin=auth_pin, signing_pin=signing_pin)
    except KibanError as error:
        fail_error(error)
    typer.echo(card.card_number)


def issue_into(
    session: Session,
    store: CardStore,
    person_id: uuid.UUID,
    *,
    auth_pin: str,
    signing_pin: str,
    actor: str = OPERATOR_ACTOR,
) -> identity.CardRead:
    """Issue a card to a resident into the reader's ``store`` (in the caller's transaction):
    the reader makes the keys, the identity block certifies them, the reader keeps keys and
    certificates under the PINs. The one way cards are made (CLI, seed, tests, benchmarks)."""
    check_pin("auth", auth_pin)
    check_pin("signing", signing_pin)
    keys = CardStore.new_keys()
    card = identity.issue_card(
        session,
        person_id,
        auth_public_key=keys.auth_public_der,
        signing_public_key=keys.signing_public_der,
        actor=actor,
    )
    # Written before the commit: if the reader refuses the card, nothing is issued.
    store.save(
        keys,
        card_number=card.card_number,
        auth_certificate_pem=card.auth_certificate.pem,
        signing_certificate_pem=card.signing_certificate.pem,
        auth_chain_pem=identity.ca_chain_pem(identity.CertificateKind.AUTH),
        signing_chain_pem=identity.ca_chain_pem(identity.CertificateKind.SIGNING),
        auth_pin=auth_pin,
        signing_pin=signing_pin,
    )
    return card


@app.command("export")
def export(
    person_id: str = PERSON,
    directory: Path = typer.Option(..., "--dir", help="Where to write the PEM files."),
) -> None:
    """Write the card's certificates and the CA chain as PEM files.

    Files: auth.pem and signing.pem (the two certificates); chain-auth.pem and
    chain-signing.pem (issuing CA, then root: for -untrusted); root.pem (for -CAfile);
    ca-auth.pem and ca-signing.pem (the issuing CA alone: for openssl ocsp -issuer). Check with
    openssl verify -CAfile root.pem -untrusted chain-signing.pem signing.pem, and
    openssl ocsp -issuer ca-signing.pem -cert signing.pem -CAfile root.pem
    -url <base_url>/pki/ocsp/signing.
    """
    try:
        card = _card(_person_id(person_id))
        files = {
            "auth.pem": card.auth_certificate.pem,
            "signing.pem": card.signing_certificate.pem,
            "chain-auth.pem": identity.ca_chain_pem(identity.CertificateKind.AUTH),
            "chain-signing.pem": identity.ca_chain_pem(identity.CertificateKind.SIGNING),
            "root.pem": identity.root_ca_pem(),
        }
        for kind in identity.CertificateKind:
            files[f"ca-{kind.value}.pem"] = _first_pem(files[f"chain-{kind.value}.pem"])
    except KibanError as error:
        fail_error(error)
    directory.mkdir(parents=True, exist_ok=True)
    for name, pem in files.items():
        (directory / name).write_text(pem, encoding="ascii")
    typer.echo(f"wrote {', '.join(files)} to {directory}")


@app.command("show")
def show(
    person_id: str = PERSON,
    output: Format = FORMAT_OPTION,
) -> None:
    """Show the person's card and the status of its certificates."""
    try:
        card = _card(_person_id(person_id))
    except KibanError as error:
        fail_error(error)
    if output is Format.json:
        data = card.model_dump(mode="json")
        for kind in ("auth_certificate", "signing_certificate"):
            data[kind].pop("pem")
        print_json(data)
        return
    print_table(
        f"カード / card {card.card_number}",
        ["項目 / field", "値 / value"],
        [
            ("状態 / status", card.status),
            ("発行 / issued", card.issued_at),
            ("有効期限 / expires on", card.expires_on),
        ],
    )
    print_table(
        "電子証明書 / certificates",
        ["kind", "serial", "status", "not after", "revoked at", "reason"],
        [
            (c.kind.value, c.serial, c.status, c.not_after, c.revoked_at, c.revocation_reason)
            for c in (card.auth_certificate, card.signing_certificate)
        ],
    )


@app.command("lost")
def lost(person_id: str = PERSON) -> None:
    """Report the person's card lost; both certificates are revoked (keyCompromise)."""
    try:
        card = _card(_person_id(person_id))
        with transaction() as session:
            identity.report_card_lost(session, card.id, actor=OPERATOR_ACTOR)
    except KibanError as error:
        fail_error(error)
    typer.echo(f"card {card.card_number}: lost, certificates revoked")


@app.command("unlock")
def unlock(
    person_id: str = PERSON,
    kind: Kind = typer.Option(..., "--kind", help="Which PIN: auth or signing."),
    cards: Path | None = CARDS,
) -> None:
    """Unlock a locked PIN (the PIN itself stays the same).

    The issuing CA signs a one-time unlock token and the reader resets the counter with it.
    """
    try:
        card = _card(_person_id(person_id))
        with transaction() as session:
            token = identity.authorize_pin_unlock(
                session, card.id, identity.CertificateKind(kind.value), actor=OPERATOR_ACTOR
            )
        _store(cards).unlock(card.card_number, kind.value, token)
    except KibanError as error:
        fail_error(error)
    typer.echo(f"card {card.card_number}: {kind.value} PIN unlocked")


@app.command("reset-pin")
def reset_pin(
    person_id: str = PERSON,
    kind: Kind = typer.Option(..., "--kind", help="Which PIN: auth or signing."),
    new_pin: str = typer.Option(
        ...,
        "--new-pin",
        prompt="新しい暗証番号 / new PIN",
        hide_input=True,
        confirmation_prompt=True,
        help="The new PIN (auth: 4 digits; signing: 6-16 of A-Z, 0-9).",
    ),
    cards: Path | None = CARDS,
) -> None:
    """Reset a forgotten PIN with a new key pair and certificate.

    The reader makes a new key pair for that slot, the CA certifies it (the old certificate is
    revoked as superseded) and the slot is sealed under the new PIN.
    """
    certificate_kind = identity.CertificateKind(kind.value)
    try:
        check_pin(kind.value, new_pin)
        card = _card(_person_id(person_id))
        private_key = new_private_key()
        public_der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with transaction() as session:
            updated = identity.reissue_certificate(
                session, card.id, certificate_kind, public_key=public_der, actor=OPERATOR_ACTOR
            )
            certificate = (
                updated.auth_certificate
                if certificate_kind is identity.CertificateKind.AUTH
                else updated.signing_certificate
            )
            # Written before the commit: if the reader refuses, the old certificate stays good.
            _store(cards).replace_key(
                card.card_number,
                kind.value,
                private_key,
                certificate.pem,
                new_pin,
                chain_pem=identity.ca_chain_pem(certificate_kind),
            )
    except KibanError as error:
        fail_error(error)
    typer.echo(
        f"card {card.card_number}: {kind.value} PIN reset, new certificate {certificate.serial}"
    )
