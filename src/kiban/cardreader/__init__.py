"""The virtual card reader: a separate local component that holds software My Number cards,
asks for the PIN and signs, like the client software that talks to a real card.

- :class:`CardStore` (``kiban.cardreader.store``): the card files, PINs and retry counters.
- :func:`sign_challenge` (``kiban.cardreader.client``): the sign page's work as a function.
- ``kiban.cardreader.app.create_reader_app``: the reader's web pages (``kiban card-reader
  serve``).

It never imports kiban's blocks or web layer; see docs/adr/0006-virtual-card-reader.md.
"""

from kiban.cardreader.client import sign_challenge
from kiban.cardreader.errors import (
    CardExists,
    CardFileDamaged,
    CardNotFound,
    CertificateMismatch,
    InvalidCardNumber,
    InvalidKind,
    InvalidPin,
    PinLocked,
    UnlockRejected,
    WrongPin,
)
from kiban.cardreader.store import (
    AUTH,
    KINDS,
    MAX_TRIES,
    SIGNING,
    CardInfo,
    CardStore,
    NewCardKeys,
    PinStatus,
    check_pin,
    new_private_key,
)

__all__ = [
    "AUTH",
    "KINDS",
    "MAX_TRIES",
    "SIGNING",
    "CardExists",
    "CardFileDamaged",
    "CardInfo",
    "CardNotFound",
    "CardStore",
    "CertificateMismatch",
    "InvalidCardNumber",
    "InvalidKind",
    "InvalidPin",
    "NewCardKeys",
    "PinLocked",
    "PinStatus",
    "UnlockRejected",
    "WrongPin",
    "check_pin",
    "new_private_key",
    "sign_challenge",
]
