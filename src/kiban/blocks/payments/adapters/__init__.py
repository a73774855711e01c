"""Where a batch's transfer file goes: a bank behind the :class:`TransferBank` Protocol.

The default is the reference bank of the synthetic country (``kiban.agencies.bank``,
``ReferenceBank``), which answers each line in a result file of the same 総合振込 layout. A real
deployment plugs in its bank's file channel (a file drop, an API) behind the same Protocol.
"""

from __future__ import annotations

from typing import Protocol


class TransferBank(Protocol):
    """A bank that takes a Zengin 総合振込 file and returns the result of each line."""

    def transfer(self, data: bytes) -> bytes:
        """The result file for the transfer file ``data`` (same layout, a result per line)."""
        ...
