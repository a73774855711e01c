"""``kiban corporations``: the corporate registry from the operator's terminal."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from kiban.blocks import address, corporations
from kiban.cli.output import FORMAT_OPTION, Format, fail, fail_error, print_json, print_table
from kiban.kernel import identifiers
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="The corporate registry (法人番号, 商業登記).")

OPERATOR_ACTOR = "operator:cli"


def _fail_validation(error: ValidationError) -> None:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ()))
    fail("入力が正しくありません。", f"invalid input: {first.get('msg', '')}", field or None)


@app.command("add")
def add(
    *,
    corporate_number: str = typer.Option(..., "--number", help="Corporate number (13 digits)."),
    name: str = typer.Option(..., "--name", help="Name, with its legal form (株式会社…)."),
    kana: str = typer.Option(..., "--kana", help="Furigana in full-width katakana."),
    kind: corporations.CorporationKind = typer.Option(
        corporations.CorporationKind.KABUSHIKI_KAISHA, "--kind", help="Legal form."
    ),
    municipality: str = typer.Option(..., "--municipality", help="Head office lg_code."),
    town: str = typer.Option(..., "--town", help="Head office town (町字) name."),
    chome: int | None = typer.Option(None, "--chome", help="Head office chome."),
    block: str = typer.Option(..., "--block", help="Head office block and house number."),
    building: str | None = typer.Option(None, "--building", help="Head office building."),
    representative: str = typer.Option(..., "--representative", help="Representative's name."),
    representative_kana: str | None = typer.Option(None, "--representative-kana"),
    title: str = typer.Option("代表取締役", "--title", help="Representative's title."),
    representative_municipality: str = typer.Option(..., "--representative-municipality"),
    representative_town: str = typer.Option(..., "--representative-town"),
    representative_chome: int | None = typer.Option(None, "--representative-chome"),
    representative_block: str = typer.Option(..., "--representative-block"),
    representative_building: str | None = typer.Option(None, "--representative-building"),
    output: Format = FORMAT_OPTION,
) -> None:
    """Register a corporation with its head office and representative."""
    try:
        with transaction() as session:
            office_town = address.find_town(session, municipality, town)
            rep_town = address.find_town(session, representative_municipality, representative_town)
            data = corporations.CorporationCreate(
                corporate_number=corporate_number,
                name=name,
                name_kana=kana,
                kind=kind,
                head_office=corporations.AddressInput(
                    town_id=office_town.id, chome=chome, block_number=block, building=building
                ),
                representative=corporations.RepresentativeInput(
                    name=representative,
                    name_kana=representative_kana,
                    title=title,
                    address=corporations.AddressInput(
                        town_id=rep_town.id,
                        chome=representative_chome,
                        block_number=representative_block,
                        building=representative_building,
                    ),
                ),
            )
            corporation = corporations.register_corporation(session, data, actor=OPERATOR_ACTOR)
    except ValidationError as error:
        _fail_validation(error)
        return
    except KibanError as error:
        fail_error(error)
    _show(corporation, output)


@app.command("list")
def list_corporations(
    municipality: str | None = typer.Option(
        None, "--municipality", help="Only head offices in this municipality (lg_code)."
    ),
    name: str | None = typer.Option(None, "--name", help="Part of the name or furigana."),
    limit: int = typer.Option(20, min=1, max=10_000, help="How many to show."),
    output: Format = FORMAT_OPTION,
) -> None:
    """List corporations in furigana order."""
    try:
        if municipality is not None:
            identifiers.validate_lg_code(municipality, field="municipality")
        with transaction() as session:
            found = corporations.list_corporations(
                session, lg_code=municipality, name=name, limit=limit
            )
    except KibanError as error:
        fail_error(error)
    if output is Format.json:
        print_json(found)
        return
    print_table(
        "法人 / corporations",
        ["法人番号", "商号又は名称", "代表者", "本店所在地"],
        [(c.corporate_number, c.name, c.representative.name, c.head_office.text) for c in found],
    )


@app.command("show")
def show(
    corporate_number: str = typer.Argument(help="The corporate number (13 digits)."),
    output: Format = FORMAT_OPTION,
) -> None:
    """Show one corporation."""
    try:
        with transaction() as session:
            corporation = corporations.get_corporation_by_number(session, corporate_number)
    except KibanError as error:
        fail_error(error)
    _show(corporation, output)


def _show(corporation: corporations.CorporationRead, output: Format) -> None:
    if output is Format.json:
        print_json(corporation)
        return
    c = corporation
    print_table(
        f"{c.name} ({c.corporate_number})",
        ["項目 / field", "値 / value"],
        [
            ("フリガナ", c.name_kana),
            ("法人の種類 / kind", c.kind_label),
            ("本店所在地 / head office", c.head_office.text),
            ("代表者 / representative", f"{c.representative.title} {c.representative.name}"),
            ("代表者の住所 / representative's address", c.representative.address.text),
            ("状態 / status", c.status.value),
            ("id", c.id),
        ],
    )
