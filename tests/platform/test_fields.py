"""The shared field types: what the JSON schema promises, the validation keeps."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from kiban.platform.fields import MAX_JSON_BYTES, FreeText, JsonObject, Name, StrictDate

NAME = TypeAdapter(Name)
FREE = TypeAdapter(FreeText)


@pytest.mark.parametrize("adapter", [NAME, FREE])
def test_every_value_the_schema_pattern_allows_is_accepted(adapter: TypeAdapter[str]) -> None:
    pattern = adapter.json_schema()["pattern"]

    @settings(max_examples=300, deadline=None)
    @given(st.from_regex(re.compile(pattern), fullmatch=True))
    def check(value: str) -> None:
        adapter.validate_python(value)

    check()


@given(
    st.text(max_size=5),
    st.sampled_from(["\x00", "\x1b", "\x85", "\u202e", "\u2067", "\u200b", "\ufeff"]),
    st.text(max_size=5),
)
def test_a_forbidden_character_is_refused_by_both(before: str, bad: str, after: str) -> None:
    for adapter in (NAME, FREE):
        with pytest.raises(ValidationError):
            adapter.validate_python(before + bad + after)
        assert not re.fullmatch(adapter.json_schema()["pattern"], before + bad + after)


@pytest.mark.parametrize("value", [0, 1_700_000_000, "2026-01-01T00:00:00", "2026-1-1", 3.5])
def test_a_strict_date_is_an_iso_string_only(value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(StrictDate).validate_python(value)
    assert TypeAdapter(StrictDate).validate_python("2026-01-01") == date(2026, 1, 1)
    assert TypeAdapter(StrictDate).validate_json('"2026-01-01"') == date(2026, 1, 1)


def test_a_free_json_object_is_bounded() -> None:
    adapter = TypeAdapter(JsonObject)
    assert adapter.validate_python({"a": "x" * 100}) == {"a": "x" * 100}
    with pytest.raises(ValidationError):
        adapter.validate_python({"a": "x" * MAX_JSON_BYTES})
