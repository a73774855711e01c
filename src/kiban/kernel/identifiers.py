"""The three public identifiers kiban checks, with their check digits as the law defines them.

* **My Number** (個人番号, ``my_number``): 12 digits, the last one a check digit
  (平成26年総務省令第85号 第5条).
* **Corporate number** (法人番号, ``corporate_number``): 13 digits, the *first* one a check digit
  (平成26年財務省令第70号 第2条).
* **Local government code** (地方公共団体コード, ``lg_code``): 6 digits, the last one a check
  digit (the 総務省 全国地方公共団体コード scheme).

For each kind there is ``validate_*`` (returns the canonical digit string or raises
:class:`InvalidIdentifier`, a :class:`~kiban.kernel.errors.ValidationFailed` naming the rule
that failed), ``is_valid_*``, ``compute_*_check_digit`` and ``generate_*``. :func:`classify`
tells the kinds apart by length. Input is normalised first (:func:`normalize`): NFKC turns
full-width digits into ASCII ones, and hyphens and spaces between digit groups are dropped.

What the check digits do and do not catch (the tests in ``tests/kernel/test_identifiers.py``
check every statement here):

* A wrong check digit is always caught: each base has exactly one check digit.
* My Number: the weights 2–7 are non-zero modulo 11, so any single-digit substitution, any
  adjacent transposition and any transposition across one digit in the base changes the
  weighted sum modulo 11. The law then maps both remainders 0 and 1 to check digit 0, so such an
  error goes unnoticed exactly when it moves the remainder between 0 and 1 — which can only
  happen to a number whose check digit is 0. Numbers with any other check digit catch all of
  these errors.
* Local government code: the same argument with weights 6–2; here remainders 0 and 10 both map
  to check digit 1, so the blind spot is limited to codes whose check digit is 1.
* Corporate number: the weights 1 and 2 work modulo 9, so a substitution of 0 by 9 (or 9 by 0)
  and an adjacent transposition of 0 and 9 are never caught; every other single substitution
  and adjacent transposition is. Digits two places apart share a weight, so swapping them is
  never caught.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from kiban.kernel.errors import ValidationFailed

__all__ = [
    "CorporateNumber",
    "IdentifierKind",
    "InvalidIdentifier",
    "LgCode",
    "MyNumber",
    "Rule",
    "classify",
    "compute_corporate_number_check_digit",
    "compute_lg_code_check_digit",
    "compute_my_number_check_digit",
    "generate_corporate_number",
    "generate_lg_code",
    "generate_my_number",
    "is_valid",
    "is_valid_corporate_number",
    "is_valid_lg_code",
    "is_valid_my_number",
    "normalize",
    "validate",
    "validate_corporate_number",
    "validate_lg_code",
    "validate_my_number",
]


class IdentifierKind(StrEnum):
    """Which identifier a string is; the value is the name used in code, APIs and the CLI."""

    MY_NUMBER = "my_number"
    CORPORATE_NUMBER = "corporate_number"
    LG_CODE = "lg_code"


class Rule(StrEnum):
    """The rule an identifier broke; each has its own stable error code."""

    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"
    CHECK_DIGIT_MISMATCH = "check_digit_mismatch"


class InvalidIdentifier(ValidationFailed):
    """An identifier that breaks :attr:`rule`.

    The message never repeats the value itself, so the error is safe to log even for a My
    Number. For a check-digit mismatch, ``actual`` and ``expected`` are the check digits found
    and required.
    """

    def __init__(
        self,
        message_ja: str,
        message_en: str,
        *,
        field: str,
        rule: Rule,
        kind: IdentifierKind | None = None,
        actual: int | None = None,
        expected: int | None = None,
    ) -> None:
        super().__init__(message_ja, message_en, field=field, code=f"kiban.identifier.{rule}")
        self.rule = rule
        self.kind = kind
        self.actual = actual
        self.expected = expected


# Separators people type between digit groups: ASCII hyphen (which NFKC also produces from the
# full-width one), the Unicode hyphens and dashes, the minus sign, the katakana prolonged sound
# mark that Japanese input methods often produce for "-", and any whitespace.
_SEPARATORS: Final = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\uff70]")


def normalize(value: str) -> str:
    """``value`` in NFKC with digit-group separators (hyphens, dashes, spaces) removed.

    ``"１２３４－５６７８－９０１８"`` becomes ``"123456789018"``. The result is not checked.
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit alone also accepts other scripts' digits (for example Arabic-Indic ones),
    # which NFKC leaves as they are; only 0-9 make an identifier.
    return value.isascii() and value.isdigit()


# --- check digits -------------------------------------------------------------------------


def _my_number_check(base: str) -> int:
    # Pn is the n-th digit counting leftwards from the digit just left of the check digit;
    # Qn = n + 1 for 1 <= n <= 6 and n - 5 for 7 <= n <= 11 (総務省令第85号 第5条).
    total = sum(
        int(digit) * (n + 1 if n <= 6 else n - 5) for n, digit in enumerate(reversed(base), start=1)
    )
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def _corporate_number_check(base: str) -> int:
    # Pn is the n-th digit of the 12-digit base counting from the lowest (rightmost) one;
    # Qn = 1 when n is odd and 2 when n is even (財務省令第70号 第2条). See the docstring of
    # compute_corporate_number_check_digit for how the brackets of the formula are read.
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base), start=1))
    return 9 - total % 9


def _lg_code_check(base: str) -> int:
    # The five digits are weighted 6, 5, 4, 3, 2 from the left; the check digit is the last
    # digit of 11 minus the remainder modulo 11.
    total = sum(int(digit) * weight for digit, weight in zip(base, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


@dataclass(frozen=True, slots=True)
class _Scheme:
    kind: IdentifierKind
    name_ja: str
    name_en: str
    length: int
    check_first: bool  # The corporate number carries its check digit in front.
    check: Callable[[str], int]

    def split(self, digits: str) -> tuple[str, int]:
        """The base and the check digit of a full-length digit string."""
        if self.check_first:
            return digits[1:], int(digits[0])
        return digits[:-1], int(digits[-1])

    def join(self, base: str, check: int) -> str:
        return f"{check}{base}" if self.check_first else f"{base}{check}"


_SCHEMES: Final = {
    IdentifierKind.MY_NUMBER: _Scheme(
        IdentifierKind.MY_NUMBER, "個人番号", "My Number", 12, False, _my_number_check
    ),
    IdentifierKind.CORPORATE_NUMBER: _Scheme(
        IdentifierKind.CORPORATE_NUMBER,
        "法人番号",
        "corporate number",
        13,
        True,
        _corporate_number_check,
    ),
    IdentifierKind.LG_CODE: _Scheme(
        IdentifierKind.LG_CODE,
        "地方公共団体コード",
        "local government code",
        6,
        False,
        _lg_code_check,
    ),
}

_KIND_BY_LENGTH: Final = {scheme.length: kind for kind, scheme in _SCHEMES.items()}


def _require_digits(value: str, *, field: str, what_ja: str, what_en: str) -> str:
    digits = normalize(value)
    if not _is_ascii_digits(digits):
        raise InvalidIdentifier(
            f"{what_ja}は数字だけで入力してください（ハイフンと空白は使えます）。",
            f"The {what_en} must contain only digits (hyphens and spaces are allowed).",
            field=field,
            rule=Rule.NOT_DIGITS,
        )
    return digits


def _require_length(
    digits: str, length: int, *, field: str, what_ja: str, what_en: str, kind: IdentifierKind
) -> None:
    if len(digits) != length:
        raise InvalidIdentifier(
            f"{what_ja}は{length}桁です（入力は{len(digits)}桁）。",
            f"The {what_en} must have {length} digits, not {len(digits)}.",
            field=field,
            rule=Rule.WRONG_LENGTH,
            kind=kind,
        )


def _compute(kind: IdentifierKind, base: str, field: str) -> int:
    scheme = _SCHEMES[kind]
    what_ja, what_en = f"{scheme.name_ja}の基礎番号", f"base of the {scheme.name_en}"
    digits = _require_digits(base, field=field, what_ja=what_ja, what_en=what_en)
    _require_length(
        digits, scheme.length - 1, field=field, what_ja=what_ja, what_en=what_en, kind=kind
    )
    return scheme.check(digits)


def validate(kind: IdentifierKind, value: str, *, field: str | None = None) -> str:
    """The canonical digits of ``value`` as an identifier of ``kind``.

    Raises :class:`InvalidIdentifier` with ``field`` (default: the kind's name) and the rule
    that failed, checked in this order: ``kiban.identifier.not_digits``,
    ``kiban.identifier.wrong_length``, ``kiban.identifier.check_digit_mismatch``.
    """
    scheme = _SCHEMES[kind]
    field = field or kind.value
    what_ja, what_en = scheme.name_ja, scheme.name_en
    digits = _require_digits(value, field=field, what_ja=what_ja, what_en=what_en)
    _require_length(digits, scheme.length, field=field, what_ja=what_ja, what_en=what_en, kind=kind)
    base, actual = scheme.split(digits)
    expected = scheme.check(base)
    if actual != expected:
        raise InvalidIdentifier(
            f"{what_ja}の検査用数字が{actual}ですが、正しくは{expected}です。"
            "入力に誤りがないか確かめてください。",
            f"The check digit of the {what_en} is {actual}, expected {expected}; "
            "please check the number for a typing error.",
            field=field,
            rule=Rule.CHECK_DIGIT_MISMATCH,
            kind=kind,
            actual=actual,
            expected=expected,
        )
    return digits


def is_valid(kind: IdentifierKind, value: str) -> bool:
    """Whether ``value`` is a valid identifier of ``kind``."""
    try:
        validate(kind, value)
    except InvalidIdentifier:
        return False
    return True


def classify(value: str, *, field: str = "identifier") -> IdentifierKind:
    """Which kind of identifier ``value`` is, by its length after :func:`normalize`.

    12 digits is a My Number, 13 a corporate number, 6 a local government code. The check
    digit is not looked at; use :func:`validate` for that. Raises :class:`InvalidIdentifier`
    (``not_digits`` or ``wrong_length``) for anything else.
    """
    what_ja, what_en = "番号", "identifier"
    digits = _require_digits(value, field=field, what_ja=what_ja, what_en=what_en)
    kind = _KIND_BY_LENGTH.get(len(digits))
    if kind is None:
        raise InvalidIdentifier(
            f"番号の桁数が{len(digits)}桁です。個人番号は12桁、法人番号は13桁、"
            "地方公共団体コードは6桁です。",
            f"The identifier has {len(digits)} digits; a My Number has 12, a corporate number"
            " 13 and a local government code 6.",
            field=field,
            rule=Rule.WRONG_LENGTH,
        )
    return kind


def _generate(kind: IdentifierKind, base: str) -> str:
    scheme = _SCHEMES[kind]
    return scheme.join(base, scheme.check(base))


def _random_digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


# --- My Number ----------------------------------------------------------------------------


def compute_my_number_check_digit(base: str) -> int:
    """The check digit (0–9) for the first 11 digits of a My Number.

    With Pn the n-th digit counting leftwards from the last digit of ``base`` and Qn = n + 1
    for n ≤ 6, n − 5 for n ≥ 7: r = Σ Pn·Qn mod 11, check = 0 when r ≤ 1, else 11 − r
    (平成26年総務省令第85号 第5条).
    """
    return _compute(IdentifierKind.MY_NUMBER, base, "my_number")


def validate_my_number(value: str, *, field: str = "my_number") -> str:
    """The 12 canonical digits of a My Number, or :class:`InvalidIdentifier`."""
    return validate(IdentifierKind.MY_NUMBER, value, field=field)


def is_valid_my_number(value: str) -> bool:
    """Whether ``value`` is a valid My Number."""
    return is_valid(IdentifierKind.MY_NUMBER, value)


def generate_my_number(rng: random.Random) -> str:
    """A valid, random My Number drawn from ``rng`` (deterministic for a seeded ``rng``)."""
    return _generate(IdentifierKind.MY_NUMBER, _random_digits(rng, 11))


# --- corporate number ---------------------------------------------------------------------


def compute_corporate_number_check_digit(base: str) -> int:
    """The check digit (1–9) for the 12-digit base of a corporate number.

    The ordinance (平成26年財務省令第70号 第2条) gives the formula as
    ``9 − (Σ Pn × Qn を9で除した余り)`` with Pn the n-th digit of the base counting from the
    lowest (rightmost) digit, Qn = 1 for odd n and 2 for even n. kiban reads it as

        check = 9 − ((Σ Pn·Qn) mod 9)

    — the sum is taken first, its remainder modulo 9 (0–8) is subtracted from 9, so the check
    digit is always 1–9 and never 0. This is the only reading consistent with the numbers
    actually issued: a corporate number never starts with 0, and 4011001098993 checks.

    The other readings are wrong:

    * Taking the remainder of each term inside the sum, Σ (Pn·Qn mod 9), as the printed
      brackets suggest, gives a sum of up to 12 × 8 = 96, so 9 minus it is usually negative and
      is not a digit at all.
    * Reducing after the subtraction, (9 − Σ Pn·Qn) mod 9, gives 0–8: it agrees except when
      the sum is a multiple of 9, where it yields 0 instead of 9 and so rejects every valid
      corporate number with check digit 9 (and accepts the same base with a leading 0).
    """
    return _compute(IdentifierKind.CORPORATE_NUMBER, base, "corporate_number")


def validate_corporate_number(value: str, *, field: str = "corporate_number") -> str:
    """The 13 canonical digits of a corporate number, or :class:`InvalidIdentifier`."""
    return validate(IdentifierKind.CORPORATE_NUMBER, value, field=field)


def is_valid_corporate_number(value: str) -> bool:
    """Whether ``value`` is a valid corporate number."""
    return is_valid(IdentifierKind.CORPORATE_NUMBER, value)


def generate_corporate_number(rng: random.Random) -> str:
    """A valid, random corporate number drawn from ``rng``."""
    return _generate(IdentifierKind.CORPORATE_NUMBER, _random_digits(rng, 12))


# --- local government code ----------------------------------------------------------------


def compute_lg_code_check_digit(base: str) -> int:
    """The check digit for the first 5 digits of a local government code.

    check = (11 − Σ(6, 5, 4, 3, 2)·d mod 11) mod 10, so remainders 0 and 10 both give 1.
    """
    return _compute(IdentifierKind.LG_CODE, base, "lg_code")


def validate_lg_code(value: str, *, field: str = "lg_code") -> str:
    """The 6 canonical digits of a local government code, or :class:`InvalidIdentifier`.

    Only the form and the check digit are checked, not that the code is assigned.
    """
    return validate(IdentifierKind.LG_CODE, value, field=field)


def is_valid_lg_code(value: str) -> bool:
    """Whether ``value`` is a well-formed local government code with a correct check digit."""
    return is_valid(IdentifierKind.LG_CODE, value)


def generate_lg_code(rng: random.Random) -> str:
    """A valid, random local government code drawn from ``rng``.

    The first two digits are a prefecture code (01–47), as in real codes; the next three are
    random, so the code need not name an existing municipality.
    """
    prefecture = rng.randint(1, 47)
    return _generate(IdentifierKind.LG_CODE, f"{prefecture:02d}{_random_digits(rng, 3)}")


# --- value types --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class MyNumber:
    """A valid My Number. ``repr`` and ``str`` mask all but the last four digits.

    The number must never reach a log (ARCHITECTURE.md §1, rule 1), so formatting the value
    shows ``MyNumber(****-****-9018)``; the digits themselves are in :attr:`digits`, which a
    reviewer can search for.
    """

    digits: str

    def __post_init__(self) -> None:
        # Frozen dataclasses are set through object.__setattr__ to store the canonical form.
        object.__setattr__(self, "digits", validate_my_number(self.digits))

    @property
    def masked(self) -> str:
        return f"****-****-{self.digits[-4:]}"

    def __repr__(self) -> str:
        return f"MyNumber({self.masked})"

    def __str__(self) -> str:
        return self.masked


@dataclass(frozen=True, slots=True)
class CorporateNumber:
    """A valid corporate number. Corporate numbers are published, so nothing is masked."""

    digits: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "digits", validate_corporate_number(self.digits))

    def __str__(self) -> str:
        return self.digits


@dataclass(frozen=True, slots=True)
class LgCode:
    """A well-formed local government code with a correct check digit."""

    digits: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "digits", validate_lg_code(self.digits))

    @property
    def pref_code(self) -> str:
        """The first two digits: the prefecture (都道府県コード)."""
        return self.digits[:2]

    def __str__(self) -> str:
        return self.digits
