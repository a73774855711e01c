"""Output helpers shared by the commands: tables or JSON on stdout, errors on stderr."""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from kiban.kernel.errors import KibanError


class Format(StrEnum):
    """How a listing command prints: a table for people, JSON for programs."""

    table = "table"
    json = "json"


FORMAT_OPTION = typer.Option(Format.table, "--format", help="table or json.")


def operator_actor() -> str:
    """The operator at this terminal as an audit actor, named by their login name."""
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):  # No user name in the environment or the password database.
        return "operator:unknown"


def fail(message_ja: str, message_en: str, field: str | None = None) -> NoReturn:
    """Print an error naming the field at fault, in English and Japanese, and exit with status
    1. The lines are not wrapped, so that a command the message gives can be copied whole."""
    where = f" ({field})" if field else ""
    Console(stderr=True, soft_wrap=True).print(
        f"[red]error{where}:[/red] {message_en} / {message_ja}"
    )
    raise typer.Exit(1)


def fail_error(error: KibanError) -> NoReturn:
    """Print a domain error (its field and both messages) and exit with status 1."""
    fail(error.message_ja, error.message_en, error.field)


def print_json(data: Any) -> None:
    """Print ``data`` (pydantic models allowed) as indented JSON."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console().print(table)


def print_listing(
    output: Format,
    data: Any,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Print ``data`` as JSON, or ``rows`` as a table headed ``columns``, as ``output`` says."""
    if output is Format.json:
        print_json(data)
    else:
        print_table(title, columns, rows)
