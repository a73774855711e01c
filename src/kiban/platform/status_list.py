"""Token Status List (IETF OAuth Status List), the bit array and its compressed form.

A status list is a byte array in which each referenced token owns ``bits`` bits at its index:
with ``bits = 1`` token ``i`` is bit ``i % 8`` (least significant first) of byte ``i // 8``.
The published ``lst`` is the array DEFLATE-compressed in the ZLIB format (RFC 1950) at the best
compression, then base64url-encoded. Status values: 0 valid, 1 invalid, 2 suspended.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Final

from kiban.platform.sdjwt import SdJwtError, b64url, b64url_decode

VALID: Final = 0
INVALID: Final = 1
SUSPENDED: Final = 2
TYP: Final = "statuslist+jwt"


def encode(
    size: int, statuses: Mapping[int, int] | Iterable[tuple[int, int]], bits: int = 1
) -> str:
    """``lst`` for a list of ``size`` tokens, every one valid except those in ``statuses``."""
    if bits not in (1, 2, 4, 8):
        raise ValueError("bits must be 1, 2, 4 or 8")
    per_byte = 8 // bits
    array = bytearray(-(-size // per_byte))
    items = statuses.items() if isinstance(statuses, Mapping) else statuses
    for index, value in items:
        if not 0 <= index < size or not 0 <= value < (1 << bits):
            raise ValueError(f"status {value} at {index} does not fit")
        array[index // per_byte] |= value << ((index % per_byte) * bits)
    return b64url(zlib.compress(bytes(array), 9))


def decode(lst: str) -> bytes:
    """The uncompressed byte array of ``lst``."""
    try:
        return zlib.decompress(b64url_decode(lst))
    except zlib.error as exc:
        raise SdJwtError("status_unavailable", "the status list does not decompress") from exc


def status_at(array: bytes, index: int, bits: int = 1) -> int:
    """The status of the token at ``index``."""
    per_byte = 8 // bits
    if not 0 <= index < len(array) * per_byte:
        raise SdJwtError("status_unavailable", "the index is outside the status list")
    return (array[index // per_byte] >> ((index % per_byte) * bits)) & ((1 << bits) - 1)
