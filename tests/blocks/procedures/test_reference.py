"""The reference number: readable, and its check symbol catches a wrong or swapped character."""

from __future__ import annotations

import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from kiban.blocks import procedures
from kiban.blocks.procedures.reference import ALPHABET

SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z*~$=U]$")


@given(st.uuids())
def test_a_reference_has_its_shape_and_its_check_symbol(application_id: uuid.UUID) -> None:
    reference = procedures.reference_of(application_id)
    assert SHAPE.match(reference)
    assert procedures.is_valid_reference(reference)
    assert procedures.is_valid_reference(reference.lower().replace("-", " "))


@given(st.uuids(), st.integers(0, 9), st.sampled_from(ALPHABET))
def test_one_wrong_character_is_caught(application_id: uuid.UUID, at: int, typo: str) -> None:
    code = procedures.reference_of(application_id).replace("-", "")
    if code[at] == typo:
        return
    wrong = code[:at] + typo + code[at + 1 :]
    assert not procedures.is_valid_reference(wrong)


@given(st.uuids(), st.integers(0, 8))
def test_two_neighbours_swapped_are_caught(application_id: uuid.UUID, at: int) -> None:
    code = procedures.reference_of(application_id).replace("-", "")
    if code[at] == code[at + 1]:
        return
    swapped = code[:at] + code[at + 1] + code[at] + code[at + 2 :]
    assert not procedures.is_valid_reference(swapped)
