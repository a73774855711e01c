"""Check digits of the My Number, the corporate number and the local government code.

The property tests state exactly what each scheme guarantees, including where it is blind (see
the module docstring of ``kiban.kernel.identifiers``); the blind spots have concrete examples
below so that the documentation cannot drift from the arithmetic.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiban.kernel.errors import ValidationFailed
from kiban.kernel.identifiers import (
    CorporateNumber,
    IdentifierKind,
    InvalidIdentifier,
    LgCode,
    MyNumber,
    Rule,
    classify,
    compute_corporate_number_check_digit,
    compute_lg_code_check_digit,
    compute_my_number_check_digit,
    generate_corporate_number,
    generate_lg_code,
    generate_my_number,
    is_valid_corporate_number,
    is_valid_lg_code,
    is_valid_my_number,
    normalize,
    validate_corporate_number,
    validate_lg_code,
    validate_my_number,
)

DIGITS = "0123456789"


def digit_strings(length: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=DIGITS, min_size=length, max_size=length)


valid_my_numbers = digit_strings(11).map(lambda b: b + str(compute_my_number_check_digit(b)))
valid_corporate_numbers = digit_strings(12).map(
    lambda b: str(compute_corporate_number_check_digit(b)) + b
)
valid_lg_codes = digit_strings(5).map(lambda b: b + str(compute_lg_code_check_digit(b)))


def substitutions(value: str, positions: range) -> Iterator[tuple[str, str, str]]:
    """Every string that differs from ``value`` in one digit: (old digit, new digit, string)."""
    for i in positions:
        for digit in DIGITS:
            if digit != value[i]:
                yield value[i], digit, value[:i] + digit + value[i + 1 :]


def swapped(value: str, i: int, j: int) -> str:
    chars = list(value)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


# --- known examples -----------------------------------------------------------------------


def test_known_valid_examples() -> None:
    assert validate_my_number("123456789018") == "123456789018"
    assert validate_corporate_number("4011001098993") == "4011001098993"
    assert validate_lg_code("131016") == "131016"  # Chiyoda-ku, Tokyo.
    assert validate_lg_code("011002") == "011002"  # Sapporo.
    assert validate_lg_code("271004") == "271004"  # Osaka.


def test_known_check_digits() -> None:
    assert compute_my_number_check_digit("12345678901") == 8
    assert compute_corporate_number_check_digit("011001098993") == 4
    assert compute_lg_code_check_digit("13101") == 6


def test_corporate_check_digit_is_nine_when_the_sum_is_a_multiple_of_nine() -> None:
    # The bracket reading 9 - (sum mod 9): a sum divisible by 9 gives 9, not 0.
    assert compute_corporate_number_check_digit("000000000000") == 9
    assert compute_corporate_number_check_digit("000000000009") == 9
    assert is_valid_corporate_number("9000000000000")
    assert not is_valid_corporate_number("0000000000000")


@pytest.mark.parametrize(
    ("validate", "value", "rule", "expected"),
    [
        (validate_my_number, "123456789017", Rule.CHECK_DIGIT_MISMATCH, 8),
        (validate_my_number, "12345678901", Rule.WRONG_LENGTH, None),
        (validate_my_number, "1234567890188", Rule.WRONG_LENGTH, None),
        (validate_my_number, "12345678901a", Rule.NOT_DIGITS, None),
        (validate_my_number, "", Rule.NOT_DIGITS, None),
        (validate_corporate_number, "3011001098993", Rule.CHECK_DIGIT_MISMATCH, 4),
        (validate_corporate_number, "011001098993", Rule.WRONG_LENGTH, None),
        (validate_corporate_number, "4011OO1098993", Rule.NOT_DIGITS, None),
        (validate_lg_code, "131015", Rule.CHECK_DIGIT_MISMATCH, 6),
        (validate_lg_code, "13101", Rule.WRONG_LENGTH, None),
        (validate_lg_code, "13101x", Rule.NOT_DIGITS, None),
        # Digits of other scripts are digits to str.isdigit but not to an identifier.
        (validate_lg_code, "١٣١٠١٦", Rule.NOT_DIGITS, None),
    ],
)
def test_invalid_values_name_the_rule(
    validate: Callable[[str], str], value: str, rule: Rule, expected: int | None
) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate(value)
    error = caught.value
    assert isinstance(error, ValidationFailed)
    assert error.rule is rule
    assert error.code == f"kiban.identifier.{rule}"
    assert error.status == 422
    assert error.expected == expected
    assert error.message_ja
    assert error.message_en
    assert error.message_ja != error.message_en


def test_check_digit_mismatch_message_says_found_and_expected_digit() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_corporate_number("3011001098993")
    assert caught.value.actual == 3
    assert caught.value.expected == 4
    assert "is 3, expected 4" in caught.value.message_en
    assert "3" in caught.value.message_ja
    assert "正しくは4" in caught.value.message_ja


def test_error_names_the_field_given_by_the_caller() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_my_number("123", field="applicant.my_number")
    assert caught.value.field == "applicant.my_number"
    assert caught.value.as_dict("en")["field"] == "applicant.my_number"
    with pytest.raises(InvalidIdentifier) as caught:
        validate_lg_code("123")
    assert caught.value.field == "lg_code"


def test_my_number_never_appears_in_an_error_message() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_my_number("123456789017")
    for text in (caught.value.message_ja, caught.value.message_en, str(caught.value)):
        assert "12345678901" not in text


# --- normalisation and classification ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "123456789018",
        "1234-5678-9018",
        "1234 5678 9018",
        "１２３４５６７８９０１８",
        "１２３４－５６７８－９０１８",
        "1234\u30005678\u30009018",  # Ideographic spaces.
        "1234‐5678‐9018",  # U+2010 HYPHEN.
        "1234ー5678ー9018",  # Katakana prolonged sound mark, as typed by Japanese IMEs.
        " 123456789018\n",
    ],
)
def test_written_forms_are_normalised(value: str) -> None:
    assert normalize(value) == "123456789018"
    assert validate_my_number(value) == "123456789018"
    assert classify(value) is IdentifierKind.MY_NUMBER


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("123456789018", IdentifierKind.MY_NUMBER),
        ("123456789017", IdentifierKind.MY_NUMBER),  # Classification ignores the check digit.
        ("4011001098993", IdentifierKind.CORPORATE_NUMBER),
        ("4-0110-0109-8993", IdentifierKind.CORPORATE_NUMBER),
        ("131016", IdentifierKind.LG_CODE),
        ("１３１０１６", IdentifierKind.LG_CODE),
    ],
)
def test_classify_by_length(value: str, kind: IdentifierKind) -> None:
    assert classify(value) is kind


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", Rule.NOT_DIGITS),
        ("12345", Rule.WRONG_LENGTH),
        ("1234567", Rule.WRONG_LENGTH),
        ("12345678901234", Rule.WRONG_LENGTH),
        ("abc", Rule.NOT_DIGITS),
        ("1234.5678.9018", Rule.NOT_DIGITS),
    ],
)
def test_classify_rejects_other_values_naming_the_rule(value: str, rule: Rule) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        classify(value)
    assert caught.value.rule is rule
    assert caught.value.field == "identifier"


def test_classify_wrong_length_lists_the_accepted_lengths() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        classify("1234567")
    assert "7 digits" in caught.value.message_en
    for length in ("12", "13", "6"):
        assert length in caught.value.message_en


# --- value types --------------------------------------------------------------------------


def test_my_number_value_is_masked_when_formatted() -> None:
    number = MyNumber("１２３４-５６７８-９０１８")
    assert number.digits == "123456789018"
    assert repr(number) == "MyNumber(****-****-9018)"
    assert str(number) == "****-****-9018"
    assert f"{number}" == "****-****-9018"
    assert "12345678" not in repr([number, {"n": number}])


def test_value_types_are_frozen_and_compare_by_digits() -> None:
    number = MyNumber("123456789018")
    assert number == MyNumber("1234-5678-9018")
    assert len({number, MyNumber("123456789018")}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        number.digits = "000000000000"  # type: ignore[misc]
    assert CorporateNumber("4011001098993") == CorporateNumber("4 0110 0109 8993")
    assert str(CorporateNumber("4011001098993")) == "4011001098993"
    assert LgCode("131016").pref_code == "13"


@pytest.mark.parametrize(
    ("make", "value"),
    [(MyNumber, "123456789017"), (CorporateNumber, "4011001098994"), (LgCode, "131015")],
)
def test_value_types_refuse_invalid_values(make: Callable[[str], object], value: str) -> None:
    with pytest.raises(InvalidIdentifier):
        make(value)


# --- generation and round trips -----------------------------------------------------------


@given(st.randoms(use_true_random=False))
def test_generated_identifiers_validate(rng: random.Random) -> None:
    my_number = generate_my_number(rng)
    corporate_number = generate_corporate_number(rng)
    lg_code = generate_lg_code(rng)
    assert validate_my_number(my_number) == my_number
    assert validate_corporate_number(corporate_number) == corporate_number
    assert validate_lg_code(lg_code) == lg_code
    assert classify(my_number) is IdentifierKind.MY_NUMBER
    assert classify(corporate_number) is IdentifierKind.CORPORATE_NUMBER
    assert classify(lg_code) is IdentifierKind.LG_CODE
    assert 1 <= int(lg_code[:2]) <= 47


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - synthetic test data, not secrets.


def test_generation_is_deterministic_for_a_seed() -> None:
    first = [generate_my_number(seeded(7)) for _ in range(3)]
    assert len(set(first)) == 1
    assert generate_my_number(seeded(7)) != generate_my_number(seeded(8))
    assert generate_corporate_number(seeded(7)) == generate_corporate_number(seeded(7))
    assert generate_lg_code(seeded(7)) == generate_lg_code(seeded(7))


@given(digit_strings(11))
def test_my_number_compute_round_trips(base: str) -> None:
    check = compute_my_number_check_digit(base)
    assert 0 <= check <= 9
    assert validate_my_number(f"{base}{check}") == f"{base}{check}"


@given(digit_strings(12))
def test_corporate_number_compute_round_trips_and_is_never_zero(base: str) -> None:
    check = compute_corporate_number_check_digit(base)
    assert 1 <= check <= 9
    assert validate_corporate_number(f"{check}{base}") == f"{check}{base}"


@given(digit_strings(5))
def test_lg_code_compute_round_trips(base: str) -> None:
    check = compute_lg_code_check_digit(base)
    assert 0 <= check <= 9
    assert validate_lg_code(f"{base}{check}") == f"{base}{check}"


@pytest.mark.parametrize(
    ("compute", "base"),
    [
        (compute_my_number_check_digit, "1234567890"),
        (compute_my_number_check_digit, "123456789018"),
        (compute_corporate_number_check_digit, "01100109899"),
        (compute_lg_code_check_digit, "1310"),
        (compute_lg_code_check_digit, "1310x"),
    ],
)
def test_compute_refuses_a_base_of_the_wrong_form(compute: Callable[[str], int], base: str) -> None:
    with pytest.raises(InvalidIdentifier):
        compute(base)


# --- what the check digits catch ----------------------------------------------------------


@given(valid_my_numbers)
def test_my_number_wrong_check_digit_is_always_caught(number: str) -> None:
    for _, _, mutated in substitutions(number, range(11, 12)):
        assert not is_valid_my_number(mutated)


@given(valid_my_numbers)
def test_my_number_single_substitution_is_caught_unless_check_digit_is_zero(number: str) -> None:
    # Remainders 0 and 1 both give check digit 0, so only a number ending in 0 can hide a
    # substitution; every other number catches all 99 of them.
    for _, _, mutated in substitutions(number, range(11)):
        if is_valid_my_number(mutated):
            assert number[-1] == "0"


def test_my_number_substitution_blind_spot_exists() -> None:
    # Remainder 0 and remainder 1 (the first digit has weight 6: 2 * 6 = 12 ≡ 1 mod 11).
    assert is_valid_my_number("000000000000")
    assert is_valid_my_number("200000000000")


@given(valid_my_numbers, st.sampled_from([1, 2]))
def test_my_number_transposition_is_caught_unless_check_digit_is_zero(
    number: str, distance: int
) -> None:
    # Adjacent weights differ by 1 or 5, weights two apart by 2 or 4: never 0 mod 11.
    for i in range(11 - distance):
        mutated = swapped(number, i, i + distance)
        if mutated != number and is_valid_my_number(mutated):
            assert number[-1] == "0"


@given(valid_lg_codes)
def test_lg_code_single_substitution_is_caught_unless_check_digit_is_one(code: str) -> None:
    # Remainders 0 and 10 both give check digit 1, so only a code ending in 1 can hide a
    # substitution in its first five digits; a wrong check digit itself is always caught.
    for i in range(6):
        for _, _, mutated in substitutions(code, range(i, i + 1)):
            if is_valid_lg_code(mutated):
                assert i < 5
                assert code[-1] == "1"


def test_lg_code_substitution_blind_spot_exists() -> None:
    assert is_valid_lg_code("000001")
    assert is_valid_lg_code("900001")


@given(valid_lg_codes)
def test_lg_code_adjacent_transposition_is_caught_unless_check_digit_is_one(code: str) -> None:
    for i in range(4):
        mutated = swapped(code, i, i + 1)
        if mutated != code and is_valid_lg_code(mutated):
            assert code[-1] == "1"


@given(valid_corporate_numbers)
def test_corporate_number_substitution_is_caught_except_zero_for_nine(number: str) -> None:
    for old, new, mutated in substitutions(number, range(1, 13)):
        assert is_valid_corporate_number(mutated) == ({old, new} == {"0", "9"})
    for _, _, mutated in substitutions(number, range(1)):
        assert not is_valid_corporate_number(mutated)


@given(valid_corporate_numbers)
def test_corporate_number_adjacent_transposition_is_caught_except_zero_and_nine(
    number: str,
) -> None:
    for i in range(1, 12):
        a, b = number[i], number[i + 1]
        if a != b:
            assert is_valid_corporate_number(swapped(number, i, i + 1)) == ({a, b} == {"0", "9"})


@given(valid_corporate_numbers)
def test_corporate_number_never_catches_a_swap_of_digits_two_apart(number: str) -> None:
    # Digits two places apart carry the same weight, so swapping them leaves the sum unchanged.
    for i in range(1, 11):
        assert is_valid_corporate_number(swapped(number, i, i + 2))
