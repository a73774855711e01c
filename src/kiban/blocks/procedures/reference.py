"""The reference number a resident reads, writes down or says on the phone: ``K7Q2M-9XZ4H-R``.

Ten characters of Douglas Crockford's base 32 (digits and upper-case letters without I, L, O
and U, so nothing is mistaken for 1 or 0) from the first 50 bits of the application's id, then
one check symbol: the value modulo 37 in Crockford's check alphabet, which catches every
single wrong character and every swap of two neighbouring ones. Read back, the code is
upper-cased, hyphens and spaces are dropped, and I/L read as 1 and O as 0.
"""

from __future__ import annotations

import uuid
from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET: Final = ALPHABET + "*~$=U"
_LENGTH: Final = 10
_ALIASES: Final = str.maketrans({"I": "1", "L": "1", "O": "0"})


def _check_symbol(value: int) -> str:
    return CHECK_ALPHABET[value % 37]


def reference_of(application_id: uuid.UUID) -> str:
    """The application's reference, with its check symbol: ``K7Q2M-9XZ4H-R``."""
    value = application_id.int >> (128 - 5 * _LENGTH)
    symbols = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(_LENGTH)))
    return f"{symbols[:5]}-{symbols[5:]}-{_check_symbol(value)}"


def is_valid_reference(text: str) -> bool:
    """Whether ``text`` is a well-formed reference whose check symbol matches."""
    code = text.upper().replace("-", "").replace(" ", "")
    if len(code) != _LENGTH + 1:
        return False
    body, check = code[:_LENGTH].translate(_ALIASES), code[_LENGTH]
    if any(c not in ALPHABET for c in body):
        return False
    value = 0
    for c in body:
        value = value * 32 + ALPHABET.index(c)
    return _check_symbol(value) == check
