"""Errors of the address block, with stable codes.

They subclass the kernel's :class:`~kiban.kernel.errors.NotFound` and
:class:`~kiban.kernel.errors.ValidationFailed`, so callers may catch either level.

=================================  ======  =============================================
code                               status  raised by
=================================  ======  =============================================
``kiban.identifier.*``             422     a malformed lg_code (the kernel's
                                           ``validate_lg_code``): get_municipality,
                                           list_towns, find_town, load_registry
``address.invalid_pref_code``      422     list_municipalities, load_registry
``address.invalid_address``        422     format_address (``chome``, ``block_number``)
``address.municipality_not_found`` 404     get_municipality, list_towns, find_town,
                                           load_registry (``lg_codes`` unknown to the source)
``address.town_not_found``         404     get_town, find_town, get_abr_town and
                                           get_town_versions (``machiaza_id``)
``address.abr_invalid_file``       422     do_load_abr: a missing column (line 1), a line
                                           with a bad value or a wrong number of values;
                                           ``field`` names the column (``file`` when the
                                           line as a whole is wrong), the message the line
``address.batch_too_large``        422     POST /api/v1/address/normalize with too many
                                           addresses (``body``)
=================================  ======  =============================================
"""

from __future__ import annotations

from kiban.kernel.errors import NotFound, ValidationFailed


class InvalidPrefCode(ValidationFailed):
    code = "address.invalid_pref_code"


class InvalidAddress(ValidationFailed):
    code = "address.invalid_address"


class MunicipalityNotFound(NotFound):
    code = "address.municipality_not_found"


class TownNotFound(NotFound):
    code = "address.town_not_found"


class AbrFileInvalid(ValidationFailed):
    code = "address.abr_invalid_file"


class BatchTooLarge(ValidationFailed):
    code = "address.batch_too_large"
