"""``kiban ids``: check My Numbers, corporate numbers and local government codes."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from kiban.kernel.identifiers import (
    IdentifierKind,
    InvalidIdentifier,
    classify,
    normalize,
    validate,
)
from kiban.platform.i18n import Language
from kiban.platform.settings import get_settings

app = typer.Typer(
    no_args_is_help=True,
    help="Check identifiers: My Number (12 digits), corporate number (13), local government "
    "code (6).",
)


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class MessageLanguage(StrEnum):
    JA = "ja"
    EN = "en"


def _shown(kind: IdentifierKind | None, value: str) -> str | None:
    """The value as it may be printed: a My Number is masked, as everywhere else in kiban."""
    if kind is not IdentifierKind.MY_NUMBER:
        return normalize(value)
    return f"****-****-{normalize(value)[-4:]}"


@app.command("check")
def check(
    value: Annotated[
        str,
        typer.Argument(help="The identifier; hyphens, spaces and full-width digits are accepted."),
    ],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="Plain text or one JSON object.")
    ] = OutputFormat.TEXT,
    lang: Annotated[
        MessageLanguage | None,
        typer.Option("--lang", help="Language of the message (default: KIBAN_DEFAULT_LANGUAGE)."),
    ] = None,
) -> None:
    """Tell which kind of identifier VALUE is and whether its check digit is right.

    Prints "KIND: valid" and exits with 0, or "KIND: invalid — RULE THAT FAILED" and exits with 1.

    KIND is my_number, corporate_number, lg_code, or unknown when VALUE is not 6, 12 or 13 digits.

    A My Number is never printed in full.
    """
    language: Language = "en" if (lang or get_settings().default_language) == "en" else "ja"
    kind: IdentifierKind | None = None
    error: InvalidIdentifier | None = None
    try:
        kind = classify(value, field="value")
        validate(kind, value, field="value")
    except InvalidIdentifier as exc:
        error = exc

    kind_name = kind.value if kind else "unknown"
    if output is OutputFormat.JSON:
        body: dict[str, Any] = {
            "kind": kind.value if kind else None,
            "valid": error is None,
            "value": _shown(kind, value) if error is None or kind else None,
            "error": None,
        }
        if error is not None:
            body["error"] = {
                **error.as_dict(language),
                "rule": error.rule.value,
                "actual": error.actual,
                "expected": error.expected,
            }
        typer.echo(json.dumps(body, ensure_ascii=False))
    elif error is None:
        typer.echo(f"{kind_name}: valid")
    else:
        typer.echo(f"{kind_name}: invalid — {error.message(language)}")
    if error is not None:
        raise typer.Exit(1)
