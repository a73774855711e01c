"""The shared field types of every HTTP schema, so each rule is written once.

- ``Name`` and ``FreeText``: text a person typed (names, addresses, titles, reasons) under the
  kernel's one rule set (:func:`kiban.kernel.text.clean_text`: NFC; no control, bidi or lone
  zero-width characters). ``FreeText`` may span lines. Give the length with ``Field``:
  ``name: Name = Field(min_length=1, max_length=64)``. The JSON schema carries a ``pattern``
  at least as strict as the check (it refuses every invisible character, and a value made of
  spaces only), so a value valid by the document is accepted.
- ``StrictDate``: a calendar date given as an ISO string ``YYYY-MM-DD`` (or a ``date`` from
  Python code); a JSON number or a date-time is refused.
- ``Offset``, ``Limit``, ``LongLimit`` and ``SequenceNumber``: the paging query parameters,
  bounded, so that no number reaches the database that it cannot hold.
- ``JsonObject``: a free JSON object (procedure data), bounded in size when serialised.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Final

from fastapi import Query
from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from kiban.kernel.text import clean_text

# --- text -------------------------------------------------------------------------------------


def _ranges(codes: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


def _escape(code: int) -> str:
    return f"\\u{code:04X}" if code <= 0xFFFF else chr(code)


@cache
def _invisible_class(*, multiline: bool) -> str:
    """A regular-expression class of every character the JSON schema refuses: controls (but
    line feed and tab in free text), format characters, separators, surrogates, private
    noncharacters and variation selectors."""
    refused = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if multiline and char in "\n\t":
            continue
        category = unicodedata.category(char)
        if (
            category in ("Cc", "Cf", "Zl", "Zp")
            or 0xFE00 <= code <= 0xFE0F
            or 0xE0100 <= code <= 0xE01EF
            or 0xFDD0 <= code <= 0xFDEF
            or (code & 0xFFFE) == 0xFFFE
        ):
            refused.append(code)
    parts = [
        _escape(start) if start == end else f"{_escape(start)}-{_escape(end)}"
        for start, end in _ranges(refused)
    ]
    return "".join(parts)


@dataclass(frozen=True)
class _TextSchema:
    """Adds the JSON-schema ``pattern`` of the text rules to a string field."""

    multiline: bool

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        refused = _invisible_class(multiline=self.multiline)
        # Something visible, so that stripping the spaces leaves a value.
        schema["pattern"] = f"^[^{refused}]*[^{refused}\\s][^{refused}]*$"
        return schema


def _clean_line(value: str) -> str:
    return clean_text(value)


def _clean_lines(value: str) -> str:
    return clean_text(value, multiline=True)


Name = Annotated[str, AfterValidator(_clean_line), _TextSchema(multiline=False)]
"""One line a person typed: a name, an address, a title (the kernel's text rules)."""

FreeText = Annotated[str, AfterValidator(_clean_lines), _TextSchema(multiline=True)]
"""Free text that may span lines: a reason, a purpose (the kernel's text rules)."""

# --- dates ------------------------------------------------------------------------------------

_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("must be a date written as YYYY-MM-DD")


StrictDate = Annotated[date, BeforeValidator(_iso_date_only)]
"""A date: an ISO ``YYYY-MM-DD`` string on the wire (never a number), a ``date`` in Python."""

# --- paging -----------------------------------------------------------------------------------

MAX_OFFSET: Final = 1_000_000_000
"""The largest ``offset`` a list takes: more rows than any register holds."""
MAX_SEQUENCE: Final = 2**63 - 1
"""The largest sequence number (a signed 64-bit integer, what the databases store)."""

Offset = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip (at most 1,000,000,000)")
]
Limit = Annotated[int, Query(ge=1, le=100, description="Rows per page (at most 100)")]
LongLimit = Annotated[int, Query(ge=1, le=1000, description="Rows per page (at most 1,000)")]
SequenceNumber = Annotated[int, Query(ge=1, le=MAX_SEQUENCE)]
"""A position in an append-only log (a record's sequence number)."""

# --- free JSON --------------------------------------------------------------------------------

MAX_JSON_BYTES: Final = 16 * 1024
"""The largest free JSON object a field takes, serialised (procedure data and values)."""


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    serialised = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    size = len(serialised.encode("utf-8"))
    if size > MAX_JSON_BYTES:
        raise ValueError(f"must be at most {MAX_JSON_BYTES} bytes as JSON (it is {size})")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]
"""A free JSON object of at most ``MAX_JSON_BYTES`` bytes when serialised."""
