"""Errors of the inheritance block, with stable codes.

==============================  ======  ====================================================
code                            status  raised by
==============================  ======  ====================================================
``inheritance.invalid_family``  422     parse_family and compute_heirs: a family that is not
                                        well formed (unknown person ids, a cycle of parents,
                                        a missing date the rules need, contradictory dates,
                                        two living spouses, a disinherited sibling); ``field``
                                        names the input at fault, e.g. ``relations[3].child``
==============================  ======  ====================================================
"""

from __future__ import annotations

from kiban.kernel.errors import ValidationFailed


class InvalidFamily(ValidationFailed):
    """The family given as data cannot be read or breaks a rule of the register."""

    code = "inheritance.invalid_family"
