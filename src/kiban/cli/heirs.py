"""``kiban heirs``: the legal heirs of a family given as JSON, and their chart.

``kiban heirs compute --input FILE`` prints ``{"heirs": [{"id", "share", "articles"}],
"none": bool}``; ``kiban heirs diagram --input FILE --out FILE.svg|.pdf`` draws the
法定相続情報一覧図. Bad input is reported in English and Japanese, naming the field, with exit
status 2 (the status of a usage error: the input, not kiban, is at fault).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from kiban.blocks import inheritance
from kiban.kernel.clock import today_jst

app = typer.Typer(
    no_args_is_help=True,
    help="Legal heirs (民法 886–901, 939, 32条の2): exact shares and the chart of heirs.",
)

INPUT_EXIT = 2


def _bad_input(message_ja: str, message_en: str, field: str | None) -> NoReturn:
    where = f" ({field})" if field else ""
    Console(stderr=True, soft_wrap=True).print(
        f"[red]error{where}:[/red] {message_en} / {message_ja}", markup=True, highlight=False
    )
    raise typer.Exit(INPUT_EXIT)


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        _bad_input(
            f"入力ファイルを読めません: {path}",
            f"cannot read the input file {path}: {error.strerror}",
            "--input",
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        _bad_input(
            f"入力が JSON として読めません（{error.lineno} 行 {error.colno} 列）。",
            f"the input is not JSON (line {error.lineno}, column {error.colno}): {error.msg}",
            "--input",
        )


def _family(path: Path) -> tuple[inheritance.Family, inheritance.HeirsResult]:
    try:
        family = inheritance.parse_family(_read(path))
        return family, inheritance.compute_heirs(family)
    except inheritance.InvalidFamily as error:
        _bad_input(error.message_ja, error.message_en, error.field)


InputOption = Annotated[
    Path,
    typer.Option(
        "--input",
        help="The family as JSON (decedent, people, relations, renounced, disqualified, "
        "disinherited, simultaneous_deaths, unborn).",
    ),
]


@app.command("compute")
def compute(input_file: InputOption) -> None:
    """Print the heirs with exact shares and the articles applied, as JSON.

    The heirs come spouse first, then by rank and line; shares are reduced fractions ("1/2")
    that add up to exactly 1. With no heir at all, "heirs" is empty and "none" is true.
    """
    _, result = _family(input_file)
    typer.echo(json.dumps(result.as_json(), ensure_ascii=False))


@app.command("diagram")
def diagram(
    input_file: InputOption,
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the chart: a .svg or .pdf file.")
    ],
    made_on: Annotated[
        str | None,
        typer.Option("--made-on", help="The chart's date, YYYY-MM-DD (default: today, JST)."),
    ] = None,
) -> None:
    """Draw the 法定相続情報一覧図 (chart of legal heirs) as SVG or PDF."""
    suffix = out.suffix.lower()
    if suffix not in {".svg", ".pdf"}:
        _bad_input(
            "出力ファイルの拡張子は .svg か .pdf です。",
            "the output file must end in .svg or .pdf",
            "--out",
        )
    day = today_jst()
    if made_on is not None:
        try:
            day = date.fromisoformat(made_on)
        except ValueError:
            _bad_input("日付は YYYY-MM-DD です。", "a date is YYYY-MM-DD", "--made-on")
    family, result = _family(input_file)
    if suffix == ".svg":
        out.write_text(inheritance.chart_svg(result, family, made_on=day), encoding="utf-8")
    else:
        out.write_bytes(inheritance.chart_pdf(result, family, made_on=day))
    typer.echo(f"{out}")
